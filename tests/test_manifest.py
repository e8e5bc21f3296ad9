"""Manifest corpora (issues 8, 13): every validation problem is reported at once with its
file and row (truncated videos, audio/video length mismatches and speakers in two splits
among them), split rules are speaker-independent, and ingestion converts media to the
pipeline's rates with the original files' checksums and repository-relative paths recorded."""
import copy
import hashlib
import json
import subprocess

import cv2
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml

from pipeline import corpus as corpus_stage, layout
from pipeline.ingest import ingest_session
from pipeline import validate as validate_stage
from pipeline.manifest import ManifestError, validate
from pipeline.sessions import load_corpus
from pipeline.splits import assign_splits

RATE = 22050


def tone(seconds: float, freq: float = 220.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_video(path, seconds: float, fps: int = 10, size: int = 64) -> None:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (size, size))
    for i in range(int(seconds * fps)):
        writer.write(np.full((size, size, 3), (i * 7) % 255, np.uint8))
    writer.release()


def track(seconds: float, rate: float, offset: float = 0.0) -> pd.DataFrame:
    times = np.round(np.arange(0, seconds, 1 / rate), 4)
    return pd.DataFrame({"time": times, "valence": np.sin(times) + offset, "arousal": np.cos(times) - offset})


@pytest.fixture
def corpus_dir(tmp_path, monkeypatch):
    """corpora/good/: 4 speakers x 1 session, audio + video + transcript + two annotators."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "corpora" / "good"
    (folder / "media").mkdir(parents=True)
    (folder / "corpus.yaml").write_text(yaml.safe_dump({"task": "continuous", "dimensions": ["valence", "arousal"],
                                                        "sessions": "sessions.csv"}))
    rows = []
    for k, split in enumerate(("train", "train", "dev", "test")):
        sid = f"s{k}"
        sf.write(folder / "media" / f"{sid}.wav", np.stack([tone(3.0), tone(3.0, 330)], axis=1), RATE)
        write_video(folder / "media" / f"{sid}.mp4", 3.0)
        (folder / "media" / f"{sid}.txt").write_text("hello there\n")
        track(3.0, 10).to_csv(folder / "media" / f"{sid}_a.csv", index=False)
        track(3.0, 4, 0.1).to_csv(folder / "media" / f"{sid}_b.csv", index=False)
        rows.append({"id": sid, "speaker": f"p{k}", "split": split, "audio": f"media/{sid}.wav",
                     "video": f"media/{sid}.mp4", "transcript": f"media/{sid}.txt",
                     "labels": f"media/{sid}_a.csv;media/{sid}_b.csv"})
    pd.DataFrame(rows).to_csv(folder / "sessions.csv", index=False)
    return folder


def edit_rows(folder, change) -> None:
    table = pd.read_csv(folder / "sessions.csv", dtype=str, keep_default_na=False)
    change(table)
    table.to_csv(folder / "sessions.csv", index=False)


def problems_of(name: str = "good", **kwargs) -> list:
    with pytest.raises(ManifestError) as caught:
        validate(name, **kwargs)
    return caught.value.problems


def test_a_valid_manifest_passes(corpus_dir):
    valid = validate("good")
    assert [s.id for s in valid.sessions] == ["s0", "s1", "s2", "s3"]
    assert valid.sessions[0].duration_s == pytest.approx(3.0, abs=1e-3)
    assert valid.modalities == ["audio", "video", "transcript", "labels"]


def test_every_problem_is_reported_at_once_with_row_and_file(corpus_dir):
    (corpus_dir / "media" / "s1.wav").write_bytes(b"RIFF this is not audio")
    (corpus_dir / "media" / "s1.mp4").write_bytes(b"not a video either")
    nan_track = track(3.0, 10)
    nan_track.loc[5, "valence"] = np.nan
    nan_track.to_csv(corpus_dir / "media" / "s2_a.csv", index=False)
    late = track(3.0, 10)
    late.loc[len(late)] = [9.0, 0.0, 0.0]  # 9 s into 3 s of media
    late.to_csv(corpus_dir / "media" / "s3_a.csv", index=False)
    shuffled = track(3.0, 4)
    shuffled.loc[[1, 2], "time"] = [0.5, 0.25]
    shuffled.to_csv(corpus_dir / "media" / "s3_b.csv", index=False)

    def change(t):
        t.loc[0, "audio"] = "media/gone.wav"
        t.loc[2, "id"] = "s0"
        t.loc[3, "speaker"] = "p0"  # p0 is also in train on row 1
        t.loc[3, "transcript"] = "../../outside.txt"
    (corpus_dir.parent.parent / "outside.txt").write_text("x")
    edit_rows(corpus_dir, change)
    found = [str(p) for p in problems_of()]
    sessions_csv = "corpora/good/sessions.csv"

    def expect(fragment: str, file: str, row: int) -> None:
        assert any(fragment in p and p.split(", row ")[0].endswith(file) and f", row {row}: " in p
                   for p in found), (fragment, found)

    expect("audio: media/gone.wav does not exist", sessions_csv, 1)
    expect("unreadable audio", "good/media/s1.wav", 2)
    expect("unreadable video", "good/media/s1.mp4", 2)
    expect("duplicate id 's0' (also row 1)", sessions_csv, 3)
    expect("NaN or non-numeric label values", "good/media/s2_a.csv", 3)
    expect("outside the media duration", "good/media/s3_a.csv", 4)
    expect("not increasing", "good/media/s3_b.csv", 4)
    expect("outside the corpus folder", sessions_csv, 4)
    expect("speaker 'p0' is in test here and in train on row 1", sessions_csv, 4)
    assert len(found) == 9, found


def test_speaker_in_two_splits_is_listed_with_the_other_problems(corpus_dir):
    def change(t):
        t["speaker"] = ["p0", "p0", "p2", "p3"]
        t.loc[1, "split"] = "test"
        t.loc[2, "audio"] = "media/gone.wav"
    edit_rows(corpus_dir, change)
    found = [str(p) for p in problems_of()]
    assert found == ["corpora/good/sessions.csv, row 2: speaker 'p0' is in test here and in train on row 1: "
                     "splits must be speaker-independent",
                     "corpora/good/sessions.csv, row 3: audio: media/gone.wav does not exist"], found


def test_group_column_reaches_the_corpus_and_a_speaker_has_one_group(corpus_dir, tmp_path):
    edit_rows(corpus_dir, lambda t: t.insert(2, "group", ["de", "hu", "de", "hu"]))
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"seed": 1, "corpus": "good", "corpora": {
        "good": {"source": "manifest", "workers": 1}}}))
    corpus_stage.main()
    assert [s.group for s in load_corpus().sessions] == ["de", "hu", "de", "hu"]

    def change(t):
        t["speaker"] = ["p0", "p0", "p2", "p3"]
        t["split"] = ["train", "train", "dev", "test"]
        t.loc[3, "group"] = ""
    edit_rows(corpus_dir, change)
    found = [str(p) for p in problems_of()]
    assert found == ["corpora/good/sessions.csv, row 2: speaker 'p0' is in group 'hu' here and in 'de' on row 1",
                     "corpora/good/sessions.csv, row 4: empty group while other sessions have one"], found


def test_unknown_class(corpus_dir):
    (corpus_dir / "corpus.yaml").write_text(yaml.safe_dump({"task": "categorical", "classes": ["calm", "angry"],
                                                            "sessions": "sessions.csv"}))
    edit_rows(corpus_dir, lambda t: t.__setitem__("class", ["calm", "angry", "joyful", ""]))
    found = [str(p) for p in problems_of()]
    assert any("row 3: unknown class 'joyful' (classes: calm, angry)" in p for p in found), found
    assert any("row 4: empty class" in p for p in found), found


def test_outside_root_allowed_by_param(corpus_dir):
    (corpus_dir.parent.parent / "shared.txt").write_text("hello\n")
    edit_rows(corpus_dir, lambda t: t.loc.__setitem__((0, "transcript"), "../../shared.txt"))
    assert any("outside the corpus folder" in str(p) for p in problems_of())
    assert validate("good", {"allow_outside_root": True}).sessions[0].files["transcript"][0].name == "shared.txt"


def faststart_video(path, seconds: float, fps: int = 10) -> None:
    """An h264 mp4 with its index (moov atom) at the front: cut short, its header still
    declares the full length."""
    subprocess.run(["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"testsrc2=size=64x64:rate={fps}:duration={seconds}", "-c:v", "libx264", "-g", str(fps),
                    "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)], check=True)


def test_truncated_video_is_refused_naming_declared_and_decoded_length(corpus_dir):
    video = corpus_dir / "media" / "s1.mp4"
    faststart_video(video, 3.0)
    assert validate("good").sessions[1].duration_s == pytest.approx(3.0)  # whole, it passes
    data = video.read_bytes()
    video.write_bytes(data[:len(data) // 2])
    found = [str(p) for p in problems_of()]
    assert len(found) == 1 and found[0].startswith("corpora/good/media/s1.mp4, row 2: unreadable video: is truncated: "
                                                   "its header declares 3.00 s (30 frames) but only "), found
    decoded = int(found[0].split("but only ")[1].split(" frames")[0])
    assert 5 <= decoded <= 25 and f"({decoded / 10:.2f} s at 10 fps) decode" in found[0], found


def test_video_much_shorter_than_audio_is_reported_with_both_lengths(corpus_dir):
    write_video(corpus_dir / "media" / "s2.mp4", 1.0)
    found = [str(p) for p in problems_of()]
    assert found == ["corpora/good/sessions.csv, row 3: audio lasts 3.00 s and video 1.00 s: they differ by more "
                     "than 1 s (corpora.good.av_tolerance_s)"], found
    assert validate("good", {"av_tolerance_s": 2.5}).sessions[2].duration_s == pytest.approx(3.0, abs=1e-3)


def test_sources_are_recorded_without_the_clone_s_location(corpus_dir, tmp_path):
    outside = tmp_path.parent / f"{tmp_path.name}_outside.txt"  # outside the repository (tmp_path)
    outside.write_text("hello\n")
    edit_rows(corpus_dir, lambda t: t.loc.__setitem__((0, "transcript"), f"../../../{outside.name}"))
    valid = validate("good", {"allow_outside_root": True})
    entry = ingest_session(valid.sessions[0], valid, layout.CORPUS, 16000, 25)
    assert entry["sources"]["transcript"] == [{"path": f"../../../{outside.name}", "outside_repository": True,
                                               "sha256": hashlib.sha256(b"hello\n").hexdigest()}]
    assert entry["sources"]["video"][0]["path"] == "corpora/good/media/s0.mp4"
    assert str(tmp_path) not in json.dumps(entry)


def test_validate_stage_writes_a_function_of_its_inputs(corpus_dir, tmp_path):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"seed": 1, "corpus": "good", "corpora": {
        "good": {"source": "manifest"}}}))
    validate_stage.main()
    first = layout.VALIDATED.read_bytes()
    summary = json.loads(first)
    assert [(s["id"], s["split"]) for s in summary["sessions"]] == [("s0", "train"), ("s1", "train"),
                                                                   ("s2", "dev"), ("s3", "test")]
    assert str(tmp_path) not in first.decode()
    validate_stage.main()
    assert layout.VALIDATED.read_bytes() == first
    edit_rows(corpus_dir, lambda t: t.loc.__setitem__((0, "audio"), "media/gone.wav"))
    with pytest.raises(ManifestError, match="row 1: audio: media/gone.wav does not exist"):
        validate_stage.main()


def test_validate_stage_checks_a_synthetic_corpus_s_params():
    from pipeline.config import ParamsError, load_params
    params = load_params()
    params["corpus"] = "tiny"
    summary = validate_stage.check(params)
    assert summary["source"] == "synthetic" and len(summary["sessions"]) == 6
    params["corpora"]["tiny"]["split_speakers"] = {"train": 2, "dev": 1, "test": 1}  # 4 speakers, of 3
    with pytest.raises(ParamsError, match="split_speakers"):
        validate_stage.check(params)
    params["corpora"]["tiny"]["session_seconds"] = 0
    with pytest.raises(ParamsError, match="corpora.tiny.session_seconds must be a positive number"):
        validate_stage.check(params)


def test_missing_modality_in_one_row_and_no_media(corpus_dir):
    def change(t):
        t.loc[1, "video"] = ""
        t.loc[2, "audio"] = ""
        t.loc[2, "video"] = ""
    edit_rows(corpus_dir, change)
    found = [str(p) for p in problems_of()]
    assert any("row 2: no video while other sessions have it" in p for p in found), found
    # with neither, row 3 reads as text only, where labels have no time axis
    assert any("row 3: no audio while other sessions have it" in p for p in found), found
    assert any("row 3: a text-only session has no time axis for `labels`" in p for p in found), found


def test_speaker_independent_split_rules(corpus_dir):
    extra = pd.read_csv(corpus_dir / "sessions.csv", dtype=str, keep_default_na=False)
    more = pd.concat([extra.assign(id=extra.id + f"_{r}", speaker=extra.speaker + f"_{r}", video="")
                      for r in range(3)])
    more.to_csv(corpus_dir / "sessions.csv", index=False)  # 12 speakers, no video (probing it costs time)
    for rule in ({"rule": "speaker_ratio", "dev": 0.25, "test": 0.25, "seed": 3},
                 {"rule": "speaker_kfold", "folds": 4, "fold": 1, "seed": 3}):
        sessions = validate("good", {"split": rule}).sessions
        by_speaker = {}
        for s in sessions:
            assert by_speaker.setdefault(s.speaker, s.split) == s.split
        counts = {name: sum(1 for v in by_speaker.values() if v == name) for name in ("train", "dev", "test")}
        assert counts == {"train": 6, "dev": 3, "test": 3}, (rule, counts)
    folds, valid = [], validate("good").sessions
    for fold in range(4):
        sessions = copy.deepcopy(valid)
        assert assign_splits(sessions, {"rule": "speaker_kfold", "folds": 4, "fold": fold, "seed": 3}) == []
        folds.append({s.speaker for s in sessions if s.split == "test"})
    assert set().union(*folds) == {s.speaker for s in sessions} and sum(map(len, folds)) == 12


def test_ingest_converts_media_and_records_sources(corpus_dir):
    valid = validate("good")
    entry = ingest_session(valid.sessions[0], valid, layout.CORPUS, 16000, 25)
    audio, rate = sf.read(layout.CORPUS / entry["audio"])
    assert rate == 16000 and audio.ndim == 1 and len(audio) == pytest.approx(3.0 * 16000, abs=2)
    capture = cv2.VideoCapture(str(layout.CORPUS / entry["video"]))
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(25)
    capture.release()
    source = corpus_dir / "media" / "s0.wav"
    assert entry["sources"]["audio"][0]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert entry["sources"]["audio"][0]["path"] == "corpora/good/media/s0.wav"  # the same in every clone
    # gold = mean of the two annotators on the first one's 10 Hz grid; the 4 Hz one interpolated
    gold = pd.read_csv(layout.CORPUS / entry["gold"])
    a, b = track(3.0, 10), track(3.0, 4, 0.1)
    expected = (a.valence + np.interp(a.time, b.time, b.valence)) / 2
    np.testing.assert_allclose(gold.valence, expected, atol=1e-5)
    assert len(entry["agreement_ccc"]["valence"]) == 2


def test_malformed_manifest_writes_nothing(corpus_dir, tmp_path):
    edit_rows(corpus_dir, lambda t: t.loc.__setitem__((0, "audio"), "media/gone.wav"))
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"seed": 1, "corpus": "good", "corpora": {
        "good": {"source": "manifest"}}}))
    with pytest.raises(ManifestError, match="row 1: audio: media/gone.wav does not exist"):
        corpus_stage.main()
    assert not layout.CORPUS.exists() and not layout.CORPUS_REPORT.exists()


def test_corpus_stage_writes_the_normalised_layout(corpus_dir, tmp_path):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"seed": 1, "corpus": "good", "corpora": {
        "good": {"source": "manifest", "workers": 1}}}))
    corpus_stage.main()
    corpus = load_corpus()
    assert corpus.task == "continuous" and corpus.modalities == ["audio", "video", "transcript"]
    assert [s.split for s in corpus.sessions] == ["train", "train", "dev", "test"]
    report = json.loads(layout.CORPUS_REPORT.read_text())
    assert set(report["human_baseline"]) == {"valence", "arousal"}
    assert corpus.sessions[0].path("transcript").read_text() == "hello there\n"


def write_openface(path, seconds: float, fps: float = 10.0, drop: str | None = None) -> None:
    """A minimal OpenFace 2.x CSV (", " separated, as OpenFace writes it)."""
    from features.openface_import import REQUIRED
    n = int(seconds * fps)
    table = pd.DataFrame({name: np.zeros(n) for name in REQUIRED if name != drop})
    table["timestamp"] = np.arange(n) / fps
    table["success"], table["confidence"] = 1, 0.9
    if "AU12_r" in table:
        table["AU12_r"] = np.linspace(0, 3, n)
    path.write_text(", ".join(table.columns) + "\n" + "\n".join(", ".join(f"{v:g}" for v in row)
                                                                for row in table.to_numpy()) + "\n")


def test_openface_csvs_stand_in_for_video(corpus_dir):
    def change(t):
        t["video"] = ""
        t["openface"] = [f"media/s{k}_of.csv" for k in range(4)]
    for k in range(4):
        write_openface(corpus_dir / "media" / f"s{k}_of.csv", 3.0, drop="pose_Rz" if k == 2 else None)
    edit_rows(corpus_dir, change)
    found = [str(p) for p in problems_of()]
    assert len(found) == 1 and "s2_of.csv, row 3: " in found[0] and "pose_Rz" in found[0], found

    write_openface(corpus_dir / "media" / "s2_of.csv", 3.0)
    valid = validate("good")
    assert "openface" in valid.modalities and "video" not in valid.modalities
    entry = ingest_session(valid.sessions[0], valid, layout.CORPUS, 16000, 25)
    from features import face
    from features.face_frames import FRAME_COLUMNS
    from features.openface_import import window_features
    from pipeline.sessions import Session
    session = Session("s0", "p0", "train", 3.0, {"openface": entry["openface"]}, layout.CORPUS)
    windows = pd.DataFrame({"start": [0.0, 1.0], "end": [1.0, 2.0]})
    out = face.extract(session, windows, {})  # no video: the CSV is summarised instead
    reference = window_features(corpus_dir / "media" / "s0_of.csv", windows, {}, "s0")
    np.testing.assert_array_equal(out.arrays["features"], reference.arrays["features"])
    assert out.arrays["frames"].shape == (30, len(FRAME_COLUMNS))


def test_stages_skip_only_when_no_modality_can_feed_them():
    from pipeline.features import missing_modality
    from pipeline.sessions import Corpus
    audio_only = Corpus("a", [], [], modalities=["audio"])
    with_openface = Corpus("b", [], [], modalities=["audio", "openface"])
    assert missing_modality(audio_only, ("audio",)) is None
    assert "has none of video, openface" in missing_modality(audio_only, ("video", "openface"))
    assert missing_modality(with_openface, ("video", "openface")) is None
    assert missing_modality(with_openface, ("face_frames",)) is None
    assert "has no transcript" in missing_modality(with_openface, ("alignment", "segments"))


def test_speaker_rules_stratify_by_group():
    from types import SimpleNamespace
    # 8 speakers: 6 in group a, 2 in group b; without stratification a seed may put both b speakers in train
    sessions = [SimpleNamespace(row=k + 1, speaker=f"p{k}", split="", group="b" if k in (3, 6) else "a")
                for k in range(8)]
    for seed in range(10):
        assert assign_splits(sessions, {"rule": "speaker_kfold", "folds": 4, "fold": 0, "seed": seed}) == []
        per_split = {split: {s.group for s in sessions if s.split == split} for split in ("train", "dev", "test")}
        assert per_split["test"] | per_split["dev"] >= {"b"} and "a" in per_split["test"], (seed, per_split)
        assert assign_splits(sessions, {"rule": "speaker_ratio", "dev": 0.25, "test": 0.25, "seed": seed}) == []
        assert {s.group for s in sessions if s.split == "test"} == {"a", "b"}  # 2 test speakers: one of each


def test_a_segments_task_needs_segments_files_and_no_dimensions(corpus_dir):
    (corpus_dir / "corpus.yaml").write_text(yaml.safe_dump({"task": "segments", "dimensions": ["valence"],
                                                            "sessions": "sessions.csv"}))
    assert any("a segments task takes its labels from the segments files" in str(p) for p in problems_of())
    (corpus_dir / "corpus.yaml").write_text(yaml.safe_dump({"task": "segments", "sessions": "sessions.csv"}))
    found = [str(p) for p in problems_of()]
    assert any("row 1: no segments file (the task is segments" in p for p in found), found
