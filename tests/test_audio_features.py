"""Audio extractors (issue 4) against references computed independently in the test:
openSMILE and librosa called directly on the file, formulas on a pure tone, the codebook's
distance to frames it must not have seen, and clear errors for unusable audio."""
import json
import subprocess
from math import gcd

import librosa
import numpy as np
import opensmile
import pandas as pd
import pytest
import soundfile as sf
from scipy.signal import resample_poly

from features import boaw, egemaps, egemaps_lld, frame34, mfcc
from features.audio_io import BadAudioError
from features.lld import EmptyWindowError
from pipeline.sessions import Session
from synthetic.speech import ESPEAK_RATE_HZ, require_espeak

RATE = 16000
SENTENCES = ("the quick brown fox jumps over the lazy dog", "she sells sea shells by the sea shore today")


def write_session(root, session_id: str, audio: np.ndarray, split: str = "train") -> Session:
    sf.write(root / f"{session_id}.wav", audio, RATE, subtype="FLOAT")
    return Session(session_id, "spk", split, len(audio) / RATE, {"audio": f"{session_id}.wav"}, root=root)


def espeak_speech(text: str, path) -> np.ndarray:
    subprocess.run([require_espeak(), "-w", str(path), text], check=True, capture_output=True)
    audio, rate = sf.read(path, dtype="float32")
    assert rate == ESPEAK_RATE_HZ
    factor = gcd(RATE, rate)
    return resample_poly(audio, RATE // factor, rate // factor).astype(np.float32)


def tone(freq_hz: float, seconds: float, amplitude: float = 0.3, phase: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq_hz * t + phase)).astype(np.float32)


def windows_table(session_id: str, spans) -> pd.DataFrame:
    return pd.DataFrame({"session": session_id, "start": [s for s, _ in spans], "end": [e for _, e in spans]})


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> np.ndarray:
    root = tmp_path_factory.mktemp("espeak")
    return np.concatenate([espeak_speech(text, root / f"{i}.wav") for i, text in enumerate(SENTENCES)])


def frames_in(times: np.ndarray, start: float, end: float) -> np.ndarray:
    return (times >= start) & (times < end)


def test_egemaps_single_pass_matches_opensmile_per_window(tmp_path, speech):
    """One openSMILE pass with a frame list against openSMILE run on each window's audio:
    median relative difference <= 1 % per functional (<= 5 % for those that depend on the
    voicing decision near the window edges); windows the single pass cannot give (short, or
    touching the end) equal the per-window call exactly."""
    audio = np.concatenate([speech, speech[::-1] * 0.7, speech])  # ~20 s of varied speech
    session = write_session(tmp_path, "s1", audio)
    duration = len(audio) / RATE
    starts = np.arange(0.0, duration - 4.0, 0.5)
    spans = [(s, s + 4.0) for s in starts] + [(duration - 3.0, duration), (5.0, 5.4)]
    order = np.random.default_rng(0).permutation(len(spans))  # windows need not come in time order
    spans = [spans[i] for i in order]
    cfg = {"feature_set": "eGeMAPSv02", "sample_rate": RATE}
    rows = egemaps.extract(session, windows_table("s1", spans), cfg).arrays["features"]
    reference = egemaps.per_window(audio, RATE, [s for s, _ in spans], [e for _, e in spans], cfg)
    assert rows.shape == reference.shape == (len(spans), 88)
    eligible = egemaps.single_pass_eligible(np.array([s for s, _ in spans]), np.array([e for _, e in spans]),
                                            duration)
    assert (~eligible).sum() == 2  # the window ending at the end and the 0.4 s one
    np.testing.assert_array_equal(rows[~eligible], reference[~eligible])
    relative = np.abs(rows[eligible] - reference[eligible]) / (np.abs(reference[eligible]) + 1e-6)
    median = dict(zip(egemaps.feature_names(cfg), np.median(relative, axis=0)))
    limit = {name: 0.05 if egemaps.voicing_dependent(name) else 0.01 for name in median}
    assert all(median[name] <= limit[name] for name in median), \
        {name: value for name, value in median.items() if value > limit[name]}
    assert np.isfinite(rows).all()


def test_egemaps_lld_summary_equals_opensmile_run_directly(tmp_path, speech):
    session = write_session(tmp_path, "s1", speech)
    spans = [(0.0, 2.0), (1.0, 3.0), (2.5, 4.5)]
    cfg = {"feature_set": "eGeMAPSv02", "sample_rate": RATE}
    arrays = egemaps_lld.extract(session, windows_table("s1", spans), cfg).arrays
    rows = arrays["features"]
    reference = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                                feature_level=opensmile.FeatureLevel.LowLevelDescriptors).process_file(
        str(tmp_path / "s1.wav"))
    centres = ((reference.index.get_level_values("start") + reference.index.get_level_values("end")) / 2
               ).total_seconds().to_numpy()
    assert rows.shape == (3, 50) and reference.shape[1] == 25
    for row, (start, end) in zip(rows, spans):
        selected = reference.to_numpy()[frames_in(centres, start, end)]
        np.testing.assert_allclose(row[:25], selected.mean(axis=0), rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(row[25:], selected.std(axis=0), rtol=1e-3, atol=1e-4)
    assert len(egemaps_lld.feature_names(cfg)) == 50
    # the frames are kept for models that read them (pipeline/inner_sequences.py): openSMILE's own
    np.testing.assert_allclose(arrays["frames"], reference.to_numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(arrays["frame_times"], centres, atol=1e-6)


def test_mfcc_summary_equals_librosa_run_directly(tmp_path, speech):
    session = write_session(tmp_path, "s1", speech)
    spans = [(0.0, 2.0), (1.5, 4.0)]
    rows = mfcc.extract(session, windows_table("s1", spans), {"n_mfcc": 13, "sample_rate": RATE}).arrays["features"]
    y, rate = librosa.load(tmp_path / "s1.wav", sr=None)
    coefficients = librosa.feature.mfcc(y=y, sr=rate, n_mfcc=13, n_fft=512, win_length=400, hop_length=160, n_mels=40)
    stacked = np.vstack([coefficients, librosa.feature.delta(coefficients),
                         librosa.feature.delta(coefficients, order=2)]).T
    centres = np.arange(len(stacked)) * 0.010
    assert rows.shape == (2, 78)
    for row, (start, end) in zip(rows, spans):
        selected = stacked[frames_in(centres, start, end)]
        np.testing.assert_allclose(row[:39], selected.mean(axis=0), rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(row[39:], selected.std(axis=0), rtol=1e-3, atol=1e-3)


def test_window_without_frames_fails_naming_the_session(tmp_path):
    session = write_session(tmp_path, "short_one", tone(300, 2.0))
    with pytest.raises(EmptyWindowError, match="session short_one"):
        mfcc.extract(session, windows_table("short_one", [(0.0, 1.0), (5.0, 6.0)]),
                     {"n_mfcc": 13, "sample_rate": RATE})


def test_frame34_matches_formulas_on_a_pure_tone(tmp_path):
    audio = tone(1000.0, 3.0)
    session = write_session(tmp_path, "tone", audio)
    out = frame34.extract(session, windows_table("tone", [(0.0, 1.5), (1.0, 3.0)]), {"sample_rate": RATE})
    frames, times = out.arrays["frames"], out.arrays["frame_times"]
    names = frame34.FEATURE_NAMES
    assert frames.shape == (len(times), 34) and out.arrays["features"].shape == (2, 34)
    # 20 ms frames at a 10 ms hop, computed independently here
    normalised = (audio - audio.mean()) / np.abs(audio).max()
    starts = np.arange(0, len(audio) - 320 + 1, 160)
    np.testing.assert_allclose(times, (starts + 160) / RATE)
    raw = np.stack([normalised[s:s + 320] for s in starts])
    energy = (raw ** 2).mean(axis=1)
    zcr = np.array([np.count_nonzero(np.diff(np.signbit(f))) for f in raw]) / 319
    np.testing.assert_allclose(frames[:, names.index("energy")], energy, rtol=1e-4)
    np.testing.assert_allclose(frames[:, names.index("zcr")], zcr, rtol=1e-4)
    assert abs(frames[:, names.index("zcr")].mean() - 2 * 1000 / RATE) < 0.05 * 2 * 1000 / RATE
    centroid_hz = frames[:, names.index("spectral_centroid")] * RATE / 2
    np.testing.assert_allclose(centroid_hz, 1000.0, atol=10.0)
    in_first = (times >= 0.0) & (times < 1.5)
    np.testing.assert_allclose(out.arrays["features"][0], frames[in_first].mean(axis=0), rtol=1e-4, atol=1e-5)


def test_frame34_chroma_of_a4_peaks_at_pitch_class_a(tmp_path):
    session = write_session(tmp_path, "a4", tone(440.0, 1.0))
    row = frame34.extract(session, windows_table("a4", [(0.0, 1.0)]), {"sample_rate": RATE}).arrays["features"][0]
    chroma = row[frame34.FEATURE_NAMES.index("chroma_1"):][:12]
    assert int(np.argmax(chroma)) == 9  # C, C#, D, D#, E, F, F#, G, G#, A


def boaw_cfg(**changes) -> dict:
    cfg = {"lld": "mfcc", "codebook_size": 16, "assignments": 3, "log_weighting": False,
           "max_fit_frames": 1500, "seed": 3, "sample_rate": RATE, "workers": 1}
    return {**cfg, **changes}


def low_voice(freq_hz: float, seconds: float, seed: int) -> np.ndarray:
    """A low harmonic tone with a little noise (so frames are not all identical)."""
    rng = np.random.default_rng(seed)
    audio = sum(tone(freq_hz * k, seconds, 0.2 / k, phase=k) for k in (1, 2, 3))
    return (audio + 0.002 * rng.standard_normal(len(audio))).astype(np.float32)


def nearest_codeword_distance(session: Session, fitted: dict, cfg: dict) -> np.ndarray:
    frames = boaw.session_frames(session, cfg).values
    standardised = (frames - np.asarray(fitted["mean"])) / np.asarray(fitted["scale"])
    codebook = np.asarray(fitted["codebook"])
    return np.sqrt(((standardised[:, None, :] - codebook[None]) ** 2).sum(axis=2)).min(axis=1)


def test_boaw_codebook_is_learned_from_train_frames_only(tmp_path):
    train = [write_session(tmp_path, f"train{i}", low_voice(f, 3.0, i)) for i, f in enumerate((120.0, 180.0))]
    rng = np.random.default_rng(9)
    dev = write_session(tmp_path, "dev", (0.3 * rng.standard_normal(3 * RATE)).astype(np.float32), split="dev")
    # the pipeline passes the whole windows table, dev rows included
    windows = pd.concat([windows_table(s.id, [(0.0, 2.0), (1.0, 3.0)]) for s in (*train, dev)])
    cfg = boaw_cfg(lld="egemaps")
    fitted = json.loads(json.dumps(boaw.fit(train, windows, cfg)))  # must survive fitted.json
    assert fitted["train_sessions"] == ["train0", "train1"]
    train_distance = np.concatenate([nearest_codeword_distance(s, fitted, cfg) for s in train])
    dev_distance = nearest_codeword_distance(dev, fitted, cfg)
    near = np.percentile(train_distance, 95)  # how close a codeword is to frames it was learned from
    # no codeword was placed among the noise frames: hardly any has a word that near...
    assert np.mean(dev_distance < near) < 0.05
    # ...whereas a codebook that had seen them (a leak) has words right beside most of them
    leaked = boaw.fit([*train, dev], windows, cfg)
    assert np.mean(nearest_codeword_distance(dev, leaked, cfg) < near) > 0.5


@pytest.mark.parametrize("lld", ["egemaps", "mfcc"])
def test_boaw_soft_assignment_counts_and_log_weighting(tmp_path, lld):
    sessions = [write_session(tmp_path, f"t{i}", low_voice(f, 3.0, i)) for i, f in enumerate((110.0, 220.0))]
    spans = [(0.0, 1.0), (0.5, 2.5), (1.0, 3.0)]
    windows = pd.concat([windows_table(s.id, spans) for s in sessions])
    cfg = boaw_cfg(lld=lld, assignments=4)
    fitted = boaw.fit(sessions, windows, cfg)
    assert np.asarray(fitted["codebook"]).shape[0] == 16
    raw = boaw.extract(sessions[1], windows_table("t1", spans), cfg, fitted).arrays["features"]
    times = boaw.session_frames(sessions[1], cfg).times
    frames_per_window = np.array([np.count_nonzero((times >= s) & (times < e)) for s, e in spans])
    np.testing.assert_array_equal(raw.sum(axis=1), 4 * frames_per_window)
    assert raw.max() <= frames_per_window.max()  # one frame counts a codeword at most once
    logged = boaw.extract(sessions[1], windows_table("t1", spans), {**cfg, "log_weighting": True}, fitted)
    np.testing.assert_allclose(logged.arrays["features"], np.log1p(raw), rtol=1e-6)


def test_boaw_fit_is_deterministic_and_bounded_by_max_fit_frames(tmp_path):
    sessions = [write_session(tmp_path, f"t{i}", low_voice(f, 3.0, i)) for i, f in enumerate((110.0, 220.0))]
    windows = pd.concat([windows_table(s.id, [(0.0, 3.0)]) for s in sessions])
    first = boaw.fit(sessions, windows, boaw_cfg(max_fit_frames=200))
    assert first["fit_frames"] == 200
    assert first == boaw.fit(sessions, windows, boaw_cfg(max_fit_frames=200))


def corrupt_and_silent_sessions(root) -> list[Session]:
    (root / "broken.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEthis is not audio")
    broken = Session("broken_session", "spk", "train", 1.0, {"audio": "broken.wav"}, root=root)
    silent = write_session(root, "silent_session", np.zeros(RATE, dtype=np.float32))
    return [broken, silent]


def test_corrupt_and_silent_audio_fail_naming_the_session(tmp_path):
    windows = {sid: windows_table(sid, [(0.0, 1.0)]) for sid in ("broken_session", "silent_session")}
    fitted = boaw.fit([write_session(tmp_path, "ok", low_voice(150.0, 2.0, 0))], windows_table("ok", [(0, 2)]),
                      boaw_cfg())
    calls = [(mfcc, {"n_mfcc": 13, "sample_rate": RATE}, None),
             (egemaps_lld, {"feature_set": "eGeMAPSv02", "sample_rate": RATE}, None),
             (boaw, boaw_cfg(), fitted),
             (frame34, {"sample_rate": RATE}, None)]
    for session in corrupt_and_silent_sessions(tmp_path):
        for module, cfg, state in calls:
            with pytest.raises(BadAudioError, match=f"session {session.id}"):
                module.extract(session, windows[session.id], cfg, state)
        with pytest.raises(BadAudioError, match=f"session {session.id}"):
            boaw.fit([session], windows[session.id], boaw_cfg())
