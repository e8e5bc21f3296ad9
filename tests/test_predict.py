"""`predict`'s parts that need no trained run: finding recordings in a folder, refusing what a run
cannot read, cutting a recording into sentences, and the bundle file. The end-to-end checks
(predictions equal to the pipeline's own on a test session, a fresh recording, a bundle used in
another folder) are in tests/test_pipeline_e2e.py."""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from features.audio_io import BadAudioError
from pipeline.bundle import Bundle
from pipeline.recordings import Recording, in_folder, missing_inputs, segment_units, transcript_sentences
from pipeline.sessions import Session

REPO = Path(__file__).resolve().parents[1]
FACE_AND_TEXT = {"face": ("video", "openface"), "glove": ("alignment", "segments"), "egemaps": ("audio",)}


def test_a_folder_pairs_each_audio_file_with_its_same_stem_files(tmp_path):
    for name in ("b.wav", "b.mp4", "b.txt", "b.segments.csv", "a.flac", "a.words.csv", "notes.md"):
        (tmp_path / name).write_text("x")
    a, b = in_folder(tmp_path)
    assert (a.id, a.audio.name, a.words.name, a.video, a.transcript) == ("a", "a.flac", "a.words.csv", None, None)
    assert (b.video.name, b.transcript.name, b.segments.name, b.words) == ("b.mp4", "b.txt", "b.segments.csv", None)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no audio file"):
        in_folder(tmp_path / "empty")


def test_a_run_needing_a_modality_names_the_option_and_the_stages_that_read_it(tmp_path):
    audio_only = Recording("talk", tmp_path / "talk.wav")
    problems = missing_inputs(audio_only, FACE_AND_TEXT)
    assert problems == ["--video or --openface (read by features face)",
                        "--transcript or --words (read by features glove)"]
    # face reads a video or an OpenFace CSV: either will do; word timings stand in for a transcript
    given = Recording("talk", tmp_path / "talk.wav", openface=tmp_path / "f.csv", words=tmp_path / "w.csv")
    assert missing_inputs(given, FACE_AND_TEXT) == []
    assert missing_inputs(audio_only, {"egemaps": ("audio",)}) == []


def aligned(*sentences: list[tuple[float, float]]) -> pd.DataFrame:
    rows = [(f"w{i}", s, e) for i, (s, e) in enumerate(span for sentence in sentences for span in sentence)]
    return pd.DataFrame(rows, columns=["word", "start", "end"])


def session_with(tmp_path, transcript: str | None, duration_s: float = 20.0) -> Session:
    files = {}
    if transcript is not None:
        (tmp_path / "transcript.txt").write_text(transcript)
        files["transcript"] = "transcript.txt"
    return Session("talk", "unknown", "test", duration_s, files, tmp_path)


def test_sentences_come_from_the_transcript_punctuation_else_from_pauses(tmp_path):
    # three sentences without pauses between them: only the punctuation can tell them apart
    words = aligned([(0.0, 0.3), (0.3, 0.6)], [(0.6, 0.9), (0.9, 1.2), (1.2, 1.5)], [(1.5, 1.8)])
    spans = transcript_sentences(session_with(tmp_path, "Good day. Fine by me!\nYes"), words)
    np.testing.assert_allclose(spans, [[0.0, 0.6], [0.6, 1.5], [1.5, 1.8]])
    # no punctuation: the words cut where a pause is longer than half a second
    paused = aligned([(0.0, 0.3), (0.3, 0.6)], [(1.5, 1.8), (1.8, 2.0), (2.1, 2.4)], [(3.0, 3.5)])
    spans = transcript_sentences(session_with(tmp_path, "good day fine by me yes"), paused)
    np.testing.assert_allclose(spans, [[0.0, 0.6], [1.5, 2.4], [3.0, 3.5]])
    # punctuation that does not account for the aligned words (a word the aligner split): pauses
    spans = transcript_sentences(session_with(tmp_path, "Good day. Fine by me yes please"), paused)
    assert len(spans) == 3


def test_segments_file_units_get_their_words_and_bad_segments_are_refused(tmp_path):
    words = aligned([(0.0, 0.3), (0.3, 0.6)], [(1.5, 1.8), (1.8, 2.0)])
    (tmp_path / "segments.csv").write_text("start,end\n0.0,1.0\n1.2,2.5\n")
    session = Session("talk", "unknown", "test", 3.0, {"segments": "segments.csv"}, tmp_path)
    units = segment_units(session, words)
    assert units[["word_first", "word_last"]].to_numpy().tolist() == [[0, 2], [2, 4]]
    (tmp_path / "segments.csv").write_text("start,end\n0.0,1.0\n1.2,9.0\n")
    with pytest.raises(ValueError, match="run outside the session"):
        segment_units(session, words)


RATE = 16000


def bursts(spans: list[tuple[float, float]], duration_s: float) -> np.ndarray:
    """Harmonic bursts (a 150 Hz voice's first harmonics) at `spans`, over a -50 dB noise floor."""
    rng = np.random.default_rng(0)
    t = np.arange(int(duration_s * RATE)) / RATE
    audio = rng.normal(0, 10 ** (-50 / 20), len(t))
    for start, end in spans:
        inside = (t >= start) & (t < end)
        audio[inside] += 0.3 * sum(np.sin(2 * np.pi * 150 * k * t[inside]) / k for k in (1, 2, 3))
    return audio.astype(np.float32)


def test_a_recording_without_words_is_cut_at_its_voice_activity(tmp_path):
    import soundfile
    # two bursts 0.3 s apart (one sentence: the pause is under 0.5 s), a third after 1.2 s, a 0.1 s click
    spans = [(0.5, 1.5), (1.8, 2.6), (3.8, 5.0), (6.0, 6.1)]
    soundfile.write(tmp_path / "audio.wav", bursts(spans, 7.0), RATE)
    session = Session("talk", "unknown", "test", 7.0, {"audio": "audio.wav"}, tmp_path)
    units = segment_units(session, aligned())
    # a frame of 64 ms reaches a burst before it starts and after it ends: 0.1 s either side
    np.testing.assert_allclose(units[["start", "end"]].to_numpy(), [[0.5, 2.6], [3.8, 5.0]], atol=0.1)
    assert (units.word_first == units.word_last).all()  # no words: each unit's word range is empty
    for no_voice in (bursts([(1.0, 1.1)], 3.0),  # a click only
                     bursts([], 3.0)):  # a room's noise alone: under the level floor
        soundfile.write(tmp_path / "audio.wav", no_voice, RATE)
        with pytest.raises(ValueError, match="recording talk: no voice activity"):
            segment_units(session, aligned())
    soundfile.write(tmp_path / "audio.wav", np.zeros(3 * RATE, np.float32), RATE)
    with pytest.raises(BadAudioError, match="session talk: audio .*audio.wav is silent"):
        segment_units(session, aligned())
    # a transcript that aligned to no word: an error, not voice activity in its place
    (tmp_path / "transcript.txt").write_text("hello there")
    with pytest.raises(ValueError, match="no words to make sentences of"):
        segment_units(Session("talk", "unknown", "test", 7.0, {"audio": "audio.wav", "transcript": "transcript.txt"},
                              tmp_path), aligned())


def test_a_bundle_file_round_trips_and_anything_else_is_refused(tmp_path):
    bundle = Bundle(bytes(range(256)) * 3, {"run": "r", "stages": [{"key": "egemaps", "fitted": None}]})
    bundle.save(tmp_path / "b.pt")
    loaded = Bundle.load(tmp_path / "b.pt")
    assert loaded.checkpoint == bundle.checkpoint and loaded.spec == bundle.spec
    torch.save({"state_dict": {}}, tmp_path / "model.pt")
    with pytest.raises(ValueError, match="not a prediction bundle"):
        Bundle.load(tmp_path / "model.pt")
    with pytest.raises(FileNotFoundError, match="python -m pipeline.bundle"):
        Bundle.load(tmp_path / "none.pt")


def test_a_bundle_takes_a_derived_stage_s_source_first_and_refuses_stale_outputs(tmp_path, monkeypatch):
    from pipeline.bundle import stage_entries
    from pipeline.features import feature_stage
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    for key in ("face", "face_boaw"):
        stage = feature_stage(params, key)
        (tmp_path / "data/features" / key).mkdir(parents=True)
        (tmp_path / "data/features" / key / "meta.json").write_text(json.dumps({"extractor": stage.extractor,
                                                                               "config": stage.config}))
    (tmp_path / "data/features/face_boaw/fitted.json").write_text('{"codebook": [[0.5]]}')
    entries = stage_entries({"bags": ["face_boaw"]}, params)
    assert [(e["key"], e["fitted"]) for e in entries] == [("face", None), ("face_boaw", {"codebook": [[0.5]]})]
    params["features"]["face"]["min_face_fraction"] = 0.8  # params changed, the stage not re-run
    with pytest.raises(ValueError, match="feature stage 'face'.*run `dvc repro`"):
        stage_entries(["face_boaw"], params)


def test_the_unit_spec_is_the_one_the_unit_stage_cut(tmp_path, monkeypatch):
    from pipeline.bundle import check_unit, unit_spec
    monkeypatch.chdir(tmp_path)
    window = {"preset": "p", "presets": {"p": {"length_s": 4.0, "hop_s": 1.0, "label_shift_s": 2.0,
                                               "label_aggregation": "mean"}}}
    params = {"window": window, "units": {"sentences": {"kind": "segment", "values": "intensity"}}}
    spec = unit_spec(params, None, "continuous")
    assert spec == {"name": "windows", "kind": "window", **window["presets"]["p"]}
    assert unit_spec(params, None, "categorical") == {"name": "windows", "kind": "session"}  # one per utterance
    assert unit_spec(params, "sentences", "continuous")["kind"] == "segment"
    (tmp_path / "data/windows").mkdir(parents=True)
    manifest = {"sessions": [{"id": "s", "duration_s": 10.0}]}
    # 10 s, 4 s windows at a 1 s hop, labels 2 s later: starts 0-4, five windows
    pd.DataFrame({"session": ["s"] * 5}).to_csv(tmp_path / "data/windows/windows.csv", index=False)
    check_unit(spec, manifest)
    window["presets"]["p"]["label_shift_s"] = 0.0  # changed in params.yaml since the window stage ran
    with pytest.raises(ValueError, match="cut 7 windows from session s"):
        check_unit(unit_spec(params, None, "continuous"), manifest)


def test_only_the_paths_a_config_names_are_made_absolute(tmp_path, monkeypatch):
    from pipeline.bundle import with_absolute_paths
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small_vectors.txt").write_text("a 1.0\n")
    (tmp_path / "alignment").mkdir()  # a folder that shares a name with a config value
    config = {"vectors": "small_vectors.txt", "words": "alignment", "weights_path": None, "model": "packaged"}
    assert with_absolute_paths(config) == {**config, "vectors": str(tmp_path / "small_vectors.txt")}
