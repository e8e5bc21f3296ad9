"""The per-session feature cache (issues 4, 6 and 13): a feature stage run on a small corpus
built here computes only new or changed sessions, gives the same tensors as a fresh run,
resumes after a failure, treats a changed config, vectors file or train split as new, keeps
every key it has seen, and writes outputs that do not depend on what came from the cache."""
import json
import shutil

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml

from pipeline import feature_cache, features as stage, scratch

RATE = 16000
MFCC = {"n_mfcc": 13, "sample_rate": RATE, "workers": 1}
BOAW = {"lld": "mfcc", "codebook_size": 8, "assignments": 2, "log_weighting": True, "max_fit_frames": 5000,
        "seed": 3, "sample_rate": RATE, "workers": 1}


def chirp(seed: int, seconds: float = 3.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    f0 = 150 + 100 * rng.random()
    return (0.3 * np.sin(2 * np.pi * (f0 + 40 * t) * t) + 0.02 * rng.standard_normal(t.size)).astype(np.float32)


class Corpus:
    """data/corpus + data/windows + data/alignment + params.yaml in a temporary repository."""

    def __init__(self, root, params: dict):
        self.root, self.entries, self.windows = root, [], []
        (root / "data/corpus/sessions").mkdir(parents=True)
        (root / "data/windows").mkdir(parents=True)
        (root / "data/alignment").mkdir(parents=True)
        (root / "params.yaml").write_text(yaml.safe_dump(params))

    def add(self, session_id: str, split: str, audio: np.ndarray, words=(("good", 0.2, 0.6), ("day", 1.0, 1.5))):
        sf.write(self.root / f"data/corpus/sessions/{session_id}.wav", audio, RATE)
        pd.DataFrame(list(words), columns=["word", "start", "end"]).to_csv(
            self.root / f"data/alignment/{session_id}.csv", index=False)
        self.entries.append({"id": session_id, "speaker": session_id, "split": split,
                             "duration_s": len(audio) / RATE, "audio": f"sessions/{session_id}.wav"})
        self.windows += [{"session": session_id, "split": split, "index": i, "start": float(i), "end": i + 2.0,
                          "word_first": 0, "word_last": 2, "valence": 0.0} for i in range(2)]
        self.write()

    def write(self):
        (self.root / "data/corpus/manifest.json").write_text(json.dumps(
            {"corpus": "t", "dimensions": ["valence"], "sessions": self.entries}))
        pd.DataFrame(self.windows).to_csv(self.root / "data/windows/windows.csv", index=False)

    def set_params(self, name: str, cfg: dict):
        params = yaml.safe_load((self.root / "params.yaml").read_text())
        params["features"][name] = cfg
        (self.root / "params.yaml").write_text(yaml.safe_dump(params))


def run(name: str) -> dict:
    """The stage's meta.json with its run log (seconds, cache counts) under "cache"."""
    stage.main([name])
    meta = json.loads((stage.layout.FEATURES / name / "meta.json").read_text())
    log = scratch.read_run_logs()[f"features@{name}"]
    return {**meta, "cache": {k: log[k] for k in ("sessions_reused", "sessions_computed")}}


def cache_dir(name: str):
    return scratch.scratch_root() / "features" / name


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(scratch.ENV, str(tmp_path / "scratch"))  # an empty cache per test
    made = Corpus(tmp_path, {"features": {"mfcc": dict(MFCC), "boaw": dict(BOAW)}})
    made.add("a", "train", chirp(1))
    made.add("b", "train", chirp(2))
    return made


def arrays(name: str, session_id: str) -> np.ndarray:
    return np.load(stage.layout.FEATURES / name / f"{session_id}.npy")


def test_adding_a_session_computes_only_that_session(corpus):
    first = run("mfcc")
    assert first["cache"] == {"sessions_reused": 0, "sessions_computed": 2}
    before = {s: arrays("mfcc", s) for s in "ab"}
    corpus.add("c", "test", chirp(3))
    second = run("mfcc")
    assert second["cache"] == {"sessions_reused": 2, "sessions_computed": 1}
    for s in "ab":
        np.testing.assert_array_equal(arrays("mfcc", s), before[s])
    # the cached tensors are those a fresh run computes
    fresh = stage.extract_session("mfcc", stage.load_corpus().sessions[2],
                                  pd.read_csv("data/windows/windows.csv").query("session == 'c'"), MFCC, None)
    np.testing.assert_array_equal(arrays("mfcc", "c"), fresh.arrays["features"])
    entry = json.loads((stage.layout.FEATURES / "mfcc" / "c.json").read_text())
    assert entry["shapes"]["features"] == [2, 78] and entry["versions"]["librosa"]
    assert entry["config_hash"] == stage.config_hash(MFCC)


def test_changed_audio_or_config_recomputes(corpus):
    run("mfcc")
    corpus_audio = corpus.root / "data/corpus/sessions/b.wav"
    sf.write(corpus_audio, chirp(9), RATE)
    assert run("mfcc")["cache"] == {"sessions_reused": 1, "sessions_computed": 1}
    corpus.set_params("mfcc", {**MFCC, "workers": 2})  # workers change no number
    assert run("mfcc")["cache"]["sessions_reused"] == 2
    corpus.set_params("mfcc", {**MFCC, "n_mfcc": 12})
    meta = run("mfcc")
    assert meta["cache"]["sessions_computed"] == 2 and meta["shape"] == [72]
    corpus.set_params("mfcc", dict(MFCC))  # and back: every key seen is kept
    assert run("mfcc")["cache"] == {"sessions_reused": 2, "sessions_computed": 0}


def test_switching_windows_back_and_forth_calls_no_extractor_the_second_time(corpus):
    """A preset switch (other window boundaries) and back: the way back computes no session;
    the other windows computed on a dask LocalCluster are served from the same cache."""
    default_windows = list(corpus.windows)
    shifted = [{**w, "start": w["start"] + 0.25, "end": w["end"] - 0.5} for w in default_windows]
    assert run("mfcc")["cache"] == {"sessions_reused": 0, "sessions_computed": 2}
    params = yaml.safe_load((corpus.root / "params.yaml").read_text())
    (corpus.root / "params.yaml").write_text(yaml.safe_dump({**params, "engine": {"kind": "dask", "scheduler": None}}))
    corpus.windows = shifted
    corpus.write()
    assert run("mfcc")["cache"] == {"sessions_reused": 0, "sessions_computed": 2}
    other = {s: arrays("mfcc", s) for s in "ab"}
    (corpus.root / "params.yaml").write_text(yaml.safe_dump(params))  # the local engine again
    corpus.windows = default_windows
    corpus.write()
    assert run("mfcc")["cache"] == {"sessions_reused": 2, "sessions_computed": 0}
    corpus.windows = shifted
    corpus.write()
    assert run("mfcc")["cache"] == {"sessions_reused": 2, "sessions_computed": 0}
    for s in "ab":
        np.testing.assert_array_equal(arrays("mfcc", s), other[s])


def test_a_failed_run_resumes_with_the_sessions_it_had_not_finished(corpus):
    corpus.add("c", "test", np.zeros(RATE * 3, dtype=np.float32))  # silent: this session fails
    with pytest.raises(RuntimeError, match="1 of 3 sessions failed:\n  c: .*silent"):
        run("mfcc")
    sf.write(corpus.root / "data/corpus/sessions/c.wav", chirp(3), RATE)
    assert run("mfcc")["cache"] == {"sessions_reused": 2, "sessions_computed": 1}


def test_a_half_written_entry_is_not_read(corpus):
    run("mfcc")
    entry = next((cache_dir("mfcc") / "sessions" / "a").iterdir())
    (entry / "features.npy").write_bytes(b"truncated")
    assert run("mfcc")["cache"] == {"sessions_reused": 1, "sessions_computed": 1}
    assert len(list((cache_dir("mfcc") / "sessions" / "a").iterdir())) == 1  # the damaged entry replaced


def test_codebook_refit_only_when_the_train_split_changes(corpus):
    run("boaw")
    fitted = json.loads((stage.layout.FEATURES / "boaw" / "fitted.json").read_text())
    corpus.add("t", "test", chirp(4))
    meta = run("boaw")
    assert meta["cache"] == {"sessions_reused": 2, "sessions_computed": 1}
    assert json.loads((stage.layout.FEATURES / "boaw" / "fitted.json").read_text()) == fitted
    corpus.add("n", "train", chirp(5))  # a new train session changes the codebook: all recomputed
    meta = run("boaw")
    assert meta["cache"] == {"sessions_reused": 0, "sessions_computed": 4}
    assert json.loads((stage.layout.FEATURES / "boaw" / "fitted.json").read_text())["train_sessions"] == ["a", "b", "n"]


def test_vectors_file_checksum_is_part_of_the_key(corpus):
    vectors = corpus.root / "vectors.txt"
    vectors.write_text("good 0.1 0.2 0.3\nday 0.4 0.5 0.6\n")
    corpus.set_params("glove", {"vectors": str(vectors), "max_words": 4, "oov": "zero", "workers": 1})
    run("glove")
    assert run("glove")["cache"]["sessions_reused"] == 2
    vectors.write_text("good 1.1 0.2 0.3\nday 0.4 0.5 0.6\n")  # same path, new content
    assert run("glove")["cache"]["sessions_computed"] == 2
    assert arrays("glove", "a")[0, 0, 0] == pytest.approx(1.1)


def test_key_covers_the_extractor_code_and_the_modules_it_imports():
    sources = feature_cache.module_sources("boaw")
    assert {"features/boaw.py", "features/lld.py", "features/audio_io.py", "features/__init__.py"} <= set(sources)
    assert "features/face.py" not in sources


def output_bytes(name: str) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((stage.layout.FEATURES / name).iterdir())}


def test_outputs_are_the_same_bytes_from_the_cache_or_computed(corpus):
    cold = (run("boaw"), output_bytes("boaw"))
    assert cold[0]["cache"]["sessions_computed"] == 2
    corpus.set_params("boaw", {**BOAW, "workers": 2})  # from the cache, under another `workers`
    assert run("boaw")["cache"]["sessions_reused"] == 2
    corpus.set_params("boaw", dict(BOAW))
    shutil.rmtree(cache_dir("boaw") / "sessions" / "b")  # one session resumed, one recomputed
    assert run("boaw")["cache"] == {"sessions_reused": 1, "sessions_computed": 1}
    assert output_bytes("boaw") == cold[1]


def test_prune_drops_the_least_recently_used_entries(corpus):
    run("mfcc")
    corpus.set_params("mfcc", {**MFCC, "n_mfcc": 12})
    run("mfcc")
    entries = scratch.entries(scratch.scratch_root())
    assert len(entries) == 4  # two sessions under two configs
    recent = [p for p in entries if json.loads((p / "entry.json").read_text())["shapes"]["features"] == [2, 72]]
    sizes = {p: scratch.size_of(p) for p in entries}
    removed, _ = scratch.prune(scratch.scratch_root(), max_bytes=sum(sizes[p] for p in recent))
    assert removed == 2 and sorted(scratch.entries(scratch.scratch_root())) == sorted(recent)
    scratch.prune(scratch.scratch_root(), older_than_s=0)
    assert not scratch.entries(scratch.scratch_root())
