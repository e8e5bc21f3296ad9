"""Text features: GloVe vectors against the published values, window matrices against the
words' timings, and the bag-of-text-words against counts done by hand."""
import numpy as np
import pandas as pd
import pytest

from features import botw, glove, word_onehot
from features.glove import PACKAGED, load_word_vectors
from pipeline.sessions import Session
from pipeline.window import assign_words

# first ten values of 'the' and of 'happy' in glove.6B.50d.txt as published by Stanford NLP
PUBLISHED_THE = [0.418, 0.24968, -0.41242, 0.1217, 0.34527, -0.044457, -0.49688, -0.17862, -0.00066023, -0.6566]


def test_packaged_vectors_are_the_published_glove_values():
    vectors = load_word_vectors(PACKAGED)
    assert vectors.vectors.shape == (400000, 50)
    np.testing.assert_allclose(vectors.vectors[vectors.index["the"]][:10], PUBLISHED_THE, rtol=1e-5)
    # the published file lists words by frequency: ',' '.' 'of' 'to' follow 'the'
    assert [w for w, i in sorted(vectors.index.items(), key=lambda x: x[1])[:5]] == ["the", ",", ".", "of", "to"]


@pytest.fixture
def small_vectors(tmp_path):
    rows = {"good": [1.0, 0.0, 0.5], "day": [0.0, 1.0, -0.5], "bad": [-1.0, 0.0, 0.25]}
    glove_txt = tmp_path / "tiny.glove.txt"
    glove_txt.write_text("".join(f"{w} {' '.join(map(str, v))}\n" for w, v in rows.items()))
    w2v_txt = tmp_path / "tiny.w2v.txt"
    w2v_txt.write_text(f"{len(rows)} 3\n" + glove_txt.read_text())
    return rows, glove_txt, w2v_txt


def test_vectors_file_by_path_glove_or_word2vec(small_vectors):
    rows, glove_txt, w2v_txt = small_vectors
    for path in (glove_txt, w2v_txt):
        vectors = load_word_vectors(str(path))
        assert vectors.vectors.shape[1] == 3
        for word, values in rows.items():
            np.testing.assert_allclose(vectors.vectors[vectors.index[word]], values)
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        load_word_vectors("nope.txt")


def write_session(tmp_path, monkeypatch, words: list[tuple[str, float, float]]) -> Session:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "alignment").mkdir(parents=True)
    pd.DataFrame(words, columns=["word", "start", "end"]).to_csv(tmp_path / "data/alignment/s1.csv", index=False)
    return Session("s1", "spk", "train", 10.0, {}, tmp_path)


def windows_for(words, starts, length):
    table = pd.DataFrame(words, columns=["word", "start", "end"])
    first, last = assign_words(table, np.asarray(starts), length)
    return pd.DataFrame({"session": "s1", "start": starts, "word_first": first, "word_last": last})


def test_window_matrix_holds_exactly_its_words_in_order(tmp_path, monkeypatch, small_vectors):
    rows, glove_txt, _ = small_vectors
    words = [("good", 0.1, 0.5), ("day", 0.8, 1.4), ("bad", 1.9, 2.3), ("zzz", 2.4, 2.6), ("good", 3.5, 3.9)]
    session = write_session(tmp_path, monkeypatch, words)
    # midpoints 0.3, 1.1, 2.1, 2.5, 3.7 -> [0,2): good day; [1,3): day bad zzz; [2,4): bad zzz good
    windows = windows_for(words, [0.0, 1.0, 2.0], 2.0)
    for oov, filler in (("zero", np.zeros(3)), ("mean", np.mean(list(rows.values()), axis=0))):
        out = glove.extract(session, windows, {"vectors": str(glove_txt), "max_words": 4, "oov": oov})
        matrix, mask = out.arrays["features"], out.arrays["mask"]
        assert matrix.shape == (3, 4, 3)
        np.testing.assert_array_equal(mask.sum(axis=1), [2, 3, 3])
        np.testing.assert_allclose(matrix[0, :2], [rows["good"], rows["day"]])
        np.testing.assert_allclose(matrix[1, :3], [rows["day"], rows["bad"], filler], atol=1e-6)
        np.testing.assert_allclose(matrix[2, :3], [rows["bad"], filler, rows["good"]], atol=1e-6)
        assert not matrix[~mask].any()  # padding is zero
        assert out.counts == {"words": 5, "oov_words": 1, "truncated_windows": 0}
    out = glove.extract(session, windows, {"vectors": str(glove_txt), "max_words": 2, "oov": "zero"})
    assert out.counts["truncated_windows"] == 2


def test_word_sequences_per_utterance(tmp_path, monkeypatch, small_vectors):
    _, glove_txt, _ = small_vectors
    words = [("good", 0.1, 0.5), ("day", 0.8, 1.4), ("bad", 1.9, 2.3), ("zzz", 4.4, 4.6)]
    session = write_session(tmp_path, monkeypatch, words)
    pd.DataFrame({"start": [0.0, 1.8], "end": [1.5, 2.5]}).to_csv(tmp_path / "segments.csv", index=False)
    session = Session("s1", "spk", "train", 10.0, {"segments": "segments.csv"}, tmp_path)
    out = glove.extract(session, windows_for(words, [0.0], 5.0), {"vectors": str(glove_txt), "max_words": 4,
                                                                  "oov": "zero"})
    np.testing.assert_array_equal(out.arrays["word_utterance"], [0, 0, 1, -1])  # 'zzz' in no utterance
    np.testing.assert_allclose(out.arrays["word_times"], [[s, e] for _, s, e in words])
    assert out.arrays["words"].shape == (4, 3)


def test_bag_of_text_words_fit_on_train_only_and_weighted(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "alignment").mkdir(parents=True)
    texts = {"train1": "good good day bad", "train2": "good night day", "dev1": "secretword good"}
    sessions, frames = [], []
    for sid, text in texts.items():
        words = [(w, i, i + 0.5) for i, w in enumerate(text.split())]
        pd.DataFrame(words, columns=["word", "start", "end"]).to_csv(f"data/alignment/{sid}.csv", index=False)
        sessions.append(Session(sid, sid, sid.rstrip("12"), 10.0, {}, tmp_path))
        frames.append(windows_for(words, [0.0], 10.0).assign(session=sid))
    windows = pd.concat(frames, ignore_index=True)
    train = [s for s in sessions if s.split == "train"]
    fitted = botw.fit(train, windows, {"min_count": 2})
    assert fitted["vocabulary"] == ["day", "good"]  # 'secretword' (dev only) and singletons excluded
    # idf over 2 train windows, both containing day and good: log(3/3) + 1 = 1
    np.testing.assert_allclose(fitted["idf"], [1.0, 1.0])
    cfg = {"min_count": 2, "log_weighting": True, "idf": True}
    out = botw.extract(sessions[0], windows[windows.session == "train1"], cfg, fitted)
    np.testing.assert_allclose(out.arrays["features"], [[np.log(2), np.log(3)]], rtol=1e-6)
    assert out.counts == {"words": 4, "oov_words": 1}
    raw = botw.extract(sessions[2], windows[windows.session == "dev1"], {**cfg, "log_weighting": False}, fitted)
    np.testing.assert_allclose(raw.arrays["features"], [[0.0, 1.0]])


def test_one_hot_words_from_a_train_vocabulary_with_a_size_cap(tmp_path, monkeypatch):
    """Williams et al.'s one-hot words: the vocabulary is the train split's most frequent words
    (ties alphabetical); each word's row is its column's 1, a word outside it all zeros; a
    window's row counts its words."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "alignment").mkdir(parents=True)
    texts = {"train1": "good good day bad bad", "train2": "good night day bad", "dev1": "secretword good night"}
    sessions, frames = [], []
    for sid, text in texts.items():
        words = [(w, i, i + 0.5) for i, w in enumerate(text.split())]
        pd.DataFrame(words, columns=["word", "start", "end"]).to_csv(f"data/alignment/{sid}.csv", index=False)
        sessions.append(Session(sid, sid, sid.rstrip("12"), 10.0, {}, tmp_path))
        frames.append(windows_for(words, [0.0, 2.0], 2.0).assign(session=sid))
    windows = pd.concat(frames, ignore_index=True)
    train = [s for s in sessions if s.split == "train"]
    # train counts: good 3, bad 3, day 2, night 1; the cap keeps the two most frequent
    assert word_onehot.fit(train, windows, {"min_count": 1, "max_vocabulary": 2})["vocabulary"] == ["bad", "good"]
    fitted = word_onehot.fit(train, windows, {"min_count": 2, "max_vocabulary": 10})
    assert fitted["vocabulary"] == ["bad", "day", "good"]  # 'night' once, 'secretword' not in train
    out = word_onehot.extract(sessions[2], windows[windows.session == "dev1"], {}, fitted)
    np.testing.assert_array_equal(out.arrays["words"], [[0, 0, 0], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_allclose(out.arrays["word_times"], [[0, 0.5], [1, 1.5], [2, 2.5]])
    np.testing.assert_array_equal(out.arrays["features"], [[0, 0, 1], [0, 0, 0]])  # windows [0, 2) and [2, 4)
    assert out.counts == {"words": 3, "oov_words": 2}
    first = word_onehot.extract(sessions[0], windows[windows.session == "train1"], {}, fitted)
    np.testing.assert_array_equal(first.arrays["features"], [[0, 0, 2], [1, 1, 0]])  # good good | day bad
    with pytest.raises(ValueError, match="no word occurs 9 times"):
        word_onehot.fit(train, windows, {"min_count": 9, "max_vocabulary": 10})
