"""Forced alignment against ground truth the test makes itself: espeak-ng speech whose word
placement is known, with out-of-dictionary words, long silences and empty transcripts."""
import numpy as np
import pandas as pd
import pytest

from alignment.aligner import Aligner
from alignment.pronunciations import cmudict_path, dictionary_words, espeak_pronunciation
from alignment.text import normalise_transcript, number_to_words
from pipeline.align import align_session, alignment_report, boundary_errors
from pipeline.sessions import Session
from synthetic.speech import Prosody, SpeechTrack, Voice

RATE = 16000
VOICE = Voice("en-us+m1", base_pitch=45, base_rate_wpm=165)


def speak(sentences: list[list[str]], seconds: float, pauses: dict[int, float] | None = None):
    """int16 audio and the true word timings; `pauses[i]` adds silence before sentence i."""
    rng = np.random.default_rng(0)
    with SpeechTrack(seconds, RATE, VOICE) as track:
        t = 0.5
        for i, words in enumerate(sentences):
            t += (pauses or {}).get(i, 0.0)
            end = track.place_sentence(words, t, i, lambda _: Prosody(45, 165, 100),
                                       rng.uniform(0.04, 0.12, len(words)), seconds)
            assert end is not None, "test audio too short"
            t = end + 0.5
        audio = track.finish(rng, -45.0)
    truth = pd.DataFrame([vars(w) for w in track.words])
    return (audio * 32767).astype(np.int16), truth


def errors(aligned, truth) -> np.ndarray:
    return np.abs(np.r_[[w.start for w in aligned] - truth.start.to_numpy(),
                        [w.end for w in aligned] - truth.end.to_numpy()])


@pytest.mark.parametrize("text, words", [
    ("Hello, World!", ["hello", "world"]),
    ("It's 2024 -- we're well-known.", ["it's", "two", "thousand", "twenty", "four", "we're", "well", "known"]),
    ("3.5 cats/dogs", ["three", "point", "five", "cats", "dogs"]),
    ("  ... ", []),
])
def test_normalise_transcript(text, words):
    assert normalise_transcript(text) == words


def test_number_to_words():
    assert number_to_words(0) == ["zero"]
    assert number_to_words(115) == ["one", "hundred", "fifteen"]
    assert number_to_words(1_000_001) == ["one", "million", "one"]


@pytest.mark.parametrize("word", ["judgement", "smartphone", "cheerful", "thinking", "measure"])
def test_espeak_pronunciation_agrees_with_the_cmu_dictionary(word):
    entries = {}
    for line in cmudict_path().read_text(encoding="utf-8").splitlines():
        head, *phones = line.split()
        entries.setdefault(head.split("(")[0], []).append(phones)
    assert espeak_pronunciation(word) in entries[word]


def test_alignment_accuracy_with_oov_words():
    sentences = [["the", "blorptastic", "weather", "was", "wonderful"],
                 ["we", "met", "zibberfloon", "near", "the", "old", "station"],
                 ["everyone", "felt", "happy", "and", "calm"]]
    pcm, truth = speak(sentences, 20.0)
    oov = {"blorptastic", "zibberfloon"}
    assert oov.isdisjoint(dictionary_words())
    aligned = Aligner(RATE).align(pcm, [w for s in sentences for w in s])
    assert [w.word for w in aligned] == list(truth.word)
    assert {w.word for w in aligned if w.pronunciation == "g2p"} == oov
    e = errors(aligned, truth)
    assert np.median(e) <= 0.05 and np.percentile(e, 95) <= 0.2


def test_long_silence_is_aligned_around():
    sentences = [["the", "morning", "was", "bright"], ["then", "the", "evening", "came", "slowly"]]
    pcm, truth = speak(sentences, 25.0, pauses={1: 12.0})
    aligned = Aligner(RATE).align(pcm, [w for s in sentences for w in s])
    e = errors(aligned, truth)
    assert np.median(e) <= 0.05 and e.max() <= 0.25
    assert aligned[4].start > 12.0  # 'then' after the silence


def test_chunked_alignment_matches_whole():
    sentences = [["it", "was", "a", "lovely", "day"], ["we", "walked", "along", "the", "river"],
                 ["the", "birds", "were", "singing", "loudly"], ["and", "nobody", "felt", "sad"]] * 3
    pcm, truth = speak(sentences, 48.0)
    words = [w for s in sentences for w in s]
    chunked = Aligner(RATE, chunk_s=12.0).align(pcm, words)
    assert [w.word for w in chunked] == words
    e = errors(chunked, truth)
    assert np.median(e) <= 0.05 and np.percentile(e, 95) <= 0.2


def test_an_alignment_does_not_depend_on_what_the_aligner_aligned_before():
    # a worker process keeps one aligner for all its sessions, and which sessions it gets
    # depends on the pool's scheduling: a session's word times must not
    sentences = [["the", "morning", "was", "bright"], ["then", "the", "evening", "came", "slowly"],
                 ["and", "nobody", "felt", "sad"]]
    pcm, _ = speak(sentences, 14.0)
    words = [w for s in sentences for w in s]
    rng = np.random.default_rng(1)
    session = np.clip(pcm + rng.normal(0, 300, len(pcm)), -32768, 32767).astype(np.int16)
    earlier_session = np.clip(pcm * 2.0 + rng.normal(0, 1000, len(pcm)), -32768, 32767).astype(np.int16)
    fresh = Aligner(RATE).align(session, words)
    used = Aligner(RATE)
    used.align(earlier_session, words)
    assert used.align(session, words) == fresh


def test_empty_transcript_is_reported_not_aligned(tmp_path):
    (tmp_path / "t.txt").write_text("  \n")
    session = Session("s1", "spk", "train", 5.0, {"transcript": "t.txt"}, tmp_path)
    table = align_session(session, {"sample_rate": RATE, "chunk_s": 120})
    assert table.empty
    report = alignment_report({"s1": table}, [session])
    assert report["empty_transcripts"] == ["s1"] and report["words"] == 0


def test_given_timings_skip_alignment(tmp_path):
    pd.DataFrame({"word": ["hi", "there"], "start": [0.1, 0.5], "end": [0.4, 0.9]}).to_csv(tmp_path / "w.csv")
    session = Session("s1", "spk", "train", 5.0, {"words": "w.csv"}, tmp_path)
    table = align_session(session, {"sample_rate": RATE, "chunk_s": 120})
    assert list(table.word) == ["hi", "there"] and set(table.pronunciation) == {"given"}


def test_boundary_errors_need_matching_words():
    a = pd.DataFrame({"word": ["a", "b"], "start": [0.0, 1.0], "end": [0.5, 1.5]})
    ref = pd.DataFrame({"word": ["A", "b"], "start": [0.1, 1.0], "end": [0.5, 1.7]})
    np.testing.assert_allclose(boundary_errors(a, ref), [0.1, 0.0, 0.0, 0.2])
    assert boundary_errors(a, ref.assign(word=["x", "b"])) is None
