"""Invariants of the generated corpus, checked against what the generator knows (latent state,
word timings) and against independent tools (the VADER lexicon, MediaPipe FaceMesh)."""
import json

import cv2
import mediapipe as mp
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from metrics.regression import ccc
from pipeline.config import ParamsError, load_params
from pipeline.corpus import corpus_report, speaker_splits, synthetic_specs
from pipeline.sessions import load_corpus
from metrics.regression import leave_one_out_ccc
from synthetic.labels import FOUR_CLASSES, SIX_EMOTIONS
from synthetic.session import SessionSpec, SynthConfig, generate_session
from synthetic.story import load_lexicon

PARAMS = load_params()
CFG = SynthConfig(**{k: PARAMS["synthetic"][k] for k in SynthConfig.__dataclass_fields__})
DATA_FILES = ("audio.wav", "words.csv", "transcript.txt", "ratings.csv", "gold.csv", "latent.csv", "segments.csv")


def spec(seed: int, seconds: float = 40.0) -> SessionSpec:
    return SessionSpec("spk01_s01", "spk01", 0, "train", seconds, (seed, 0))


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    return root, generate_session(spec(7), CFG, root)


def read(root, entry, kind):
    return pd.read_csv(root / entry[kind])


def test_same_seed_same_session_different_seed_different(session, tmp_path):
    root, entry = session
    again = generate_session(spec(7), CFG, tmp_path / "a")
    other = generate_session(spec(8), CFG, tmp_path / "b")
    folder = "sessions/spk01_s01"
    for name in DATA_FILES:
        assert (root / folder / name).read_bytes() == (tmp_path / "a" / folder / name).read_bytes(), name
    assert (root / folder / "audio.wav").read_bytes() != (tmp_path / "b" / folder / "audio.wav").read_bytes()
    assert again["agreement_ccc"] == entry["agreement_ccc"] and other["agreement_ccc"] != entry["agreement_ccc"]


def test_label_ranges(session):
    root, entry = session
    for kind in ("ratings", "gold", "latent"):
        values = read(root, entry, kind)[["valence", "arousal", "liking"]].to_numpy()
        assert np.isfinite(values).all() and values.min() >= -1 and values.max() <= 1, kind
    ratings = read(root, entry, "ratings")
    assert CFG.annotators_min <= ratings.annotator.nunique() <= CFG.annotators_max
    segments = read(root, entry, "segments")
    intensities = segments[list(SIX_EMOTIONS)].to_numpy()
    assert intensities.min() >= 0 and intensities.max() <= 3
    np.testing.assert_allclose(intensities * 3, np.round(intensities * 3), atol=1e-3)  # multiples of 1/3
    assert set(segments["class"]) <= set(FOUR_CLASSES) and entry["class"] in FOUR_CLASSES


def test_generated_class_and_group_reach_the_session(session):
    """The generator writes the session's class under `class`, the key the pipeline reads."""
    root, entry = session
    manifest = {"corpus": "x", "dimensions": ["valence"], "sessions": [entry, {**entry, "id": "b", "group": "g2"}]}
    (root / "manifest.json").write_text(json.dumps(manifest))
    loaded, other = load_corpus(root).sessions
    assert loaded.label == entry["class"] in FOUR_CLASSES and other.label == entry["class"]
    assert loaded.group is None and other.group == "g2"


def test_word_timings_are_ordered_and_carry_speech(session):
    root, entry = session
    words = read(root, entry, "reference_words")
    audio, rate = sf.read(root / entry["audio"])
    assert len(audio) == int(entry["duration_s"] * rate)
    assert (words.end > words.start).all() and (words.start.iloc[1:].to_numpy() >= words.end.iloc[:-1].to_numpy()).all()
    assert words.end.max() <= entry["duration_s"]
    inside = np.concatenate([audio[int(s * rate):int(e * rate)] for s, e in zip(words.start, words.end)])
    gaps = np.concatenate([audio[int(e * rate):int(s * rate)] for e, s in zip(words.end[:-1], words.start[1:])])
    # gaps hold only the noise floor (-45 dB re peak), >20 dB below speech
    assert np.sqrt(np.mean(inside ** 2)) > 10 * np.sqrt(np.mean(gaps ** 2))


def test_words_and_prosody_follow_the_latent_state(session):
    root, entry = session
    words, latent = read(root, entry, "reference_words"), read(root, entry, "latent")
    lexicon = load_lexicon(CFG.lexicon_max_rank)
    lexicon = dict(zip(lexicon.words, lexicon.valence))
    sentiment = words[words.word.isin(lexicon) & (words.word != "and")]
    mid = (sentiment.start + sentiment.end) / 2
    lexicon_valence = sentiment.word.map(lexicon).to_numpy()
    assert np.corrcoef(lexicon_valence, np.interp(mid, latent.time, latent.valence))[0, 1] > 0.5
    audio, rate = sf.read(root / entry["audio"])
    loudness = [np.sqrt(np.mean(audio[int(s * rate):int(e * rate)] ** 2)) for s, e in zip(words.start, words.end)]
    arousal = np.interp((words.start + words.end) / 2, latent.time, latent.arousal)
    assert np.corrcoef(loudness, arousal)[0, 1] > 0.5


def test_face_detected_in_generated_video(session):
    root, entry = session
    capture = cv2.VideoCapture(str(root / entry["video"]))
    found = total = 0
    with mp.solutions.face_mesh.FaceMesh(static_image_mode=False, max_num_faces=1) as mesh:
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % 4 == 0:
                total += 1
                found += mesh.process(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)).multi_face_landmarks is not None
            index += 1
    capture.release()
    assert index == int(entry["duration_s"] * CFG.video_fps)
    assert found / total >= 0.95


def test_gold_standard_is_mean_and_agreement_is_leave_one_out(session):
    root, entry = session
    ratings, gold = read(root, entry, "ratings"), read(root, entry, "gold")
    tracks = np.stack([g.valence.to_numpy() for _, g in ratings.groupby("annotator")])
    np.testing.assert_allclose(tracks.mean(axis=0), gold.valence, atol=1e-3)
    by_hand = [ccc(tracks[k], np.delete(tracks, k, axis=0).mean(axis=0)) for k in range(len(tracks))]
    np.testing.assert_allclose(leave_one_out_ccc(tracks), by_hand, atol=1e-12)
    np.testing.assert_allclose(entry["agreement_ccc"]["valence"], by_hand, atol=1e-3)  # csv rounding


def test_splits_are_speaker_independent():
    specs = synthetic_specs(7, PARAMS["corpora"]["default"])
    split_of = {}
    for s in specs:
        assert split_of.setdefault(s.speaker, s.split) == s.split
    assert {s.split for s in specs} == {"train", "dev", "test"}
    assert len(specs) >= 30 and len(split_of) == 8
    report = corpus_report("x", "synthetic", [{"speaker": s.speaker, "split": s.split, "duration_s": s.seconds,
                                                "agreement_ccc": {d: [0.5] for d in ("valence", "arousal", "liking")}}
                                               for s in specs], ["valence", "arousal", "liking"], ["audio"])
    assert report["hours"] == pytest.approx(len(specs) * 60 / 3600, abs=1e-3)
    assert sum(report["splits"][s]["speakers"] for s in ("train", "dev", "test")) == 8


def test_speaker_groups_leave_the_splits_as_they_were():
    for name in ("default", "tiny"):
        spec = PARAMS["corpora"][name]
        specs = synthetic_specs(7, spec)
        splits = speaker_splits(np.random.default_rng(7), spec["speakers"], spec["split_speakers"])
        assert {s.speaker: s.split for s in specs} == splits  # the same rng draws as without groups
        group_of = {s.speaker: s.group for s in specs}
        assert set(group_of.values()) == {"culture_a", "culture_b"}
        for split in ("train", "dev", "test"):
            speakers = [k for k in splits if splits[k] == split]
            if len(speakers) >= 2:
                assert {group_of[k] for k in speakers} == {"culture_a", "culture_b"}, (name, split)
    report = corpus_report("x", "synthetic", [{"speaker": s.speaker, "split": s.split, "duration_s": s.seconds,
                                                "group": s.group} for s in specs], [], ["audio"])
    assert report["groups"]["test"] == {"culture_a": {"sessions": 2, "speakers": 1, "hours": 0.0111},
                                        "culture_b": {"sessions": 0, "speakers": 0, "hours": 0.0}}  # tiny
    assert sum(g["sessions"] for g in report["groups"]["all"].values()) == len(specs)


def test_bad_split_params_are_rejected():
    with pytest.raises(ParamsError, match="split_speakers"):
        synthetic_specs(7, {"speakers": 3, "sessions_per_speaker": 1, "session_seconds": 10,
                            "split_speakers": {"train": 3, "dev": 0, "test": 0}})
