"""Text-only manifest corpora (pipeline/text_only.py): validation, and the positional time axis
of words, sentences and labels checked against times worked out by hand."""
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from pipeline import corpus as corpus_stage, layout
from pipeline.manifest import ManifestError, validate
from pipeline.sessions import load_corpus


def write_corpus(root, task: str, rows: list[dict], files: dict[str, str], **declared):
    folder = root / "corpora" / "writing"
    folder.mkdir(parents=True)
    (folder / "corpus.yaml").write_text(yaml.safe_dump({"task": task, **declared, "sessions": "sessions.csv"}))
    for name, text in files.items():
        (folder / name).write_text(text)
    pd.DataFrame(rows).to_csv(folder / "sessions.csv", index=False)
    return folder


SPLITS = ("train", "train", "dev", "test")


@pytest.fixture
def continuous_text(tmp_path, monkeypatch):
    """Four writers, one session each: two sentences with valence and arousal."""
    monkeypatch.chdir(tmp_path)
    files = {f"w{k}.csv": "text,valence,arousal\nWhat a lovely day!,0.5,0.2\nI hate rain,-0.5,0.8\n"
             for k in range(4)}
    rows = [{"id": f"w{k}", "speaker": f"p{k}", "split": split, "segments": f"w{k}.csv"}
            for k, split in enumerate(SPLITS)]
    return write_corpus(tmp_path, "continuous", rows, files, dimensions=["valence", "arousal"])


def problems_of(spec=None) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        validate("writing", spec)
    return [str(p) for p in caught.value.problems]


def test_text_only_sessions_are_valid_and_last_their_words(continuous_text):
    valid = validate("writing", {"text_word_s": 0.5})
    assert valid.modalities == ["segments"]
    # 4 + 3 words ("what a lovely day", "i hate rain") at 0.5 s each
    assert [s.duration_s for s in valid.sessions] == [3.5] * 4


def test_positional_words_sentences_and_gold(continuous_text, tmp_path):
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"seed": 1, "corpus": "writing", "corpora": {
        "writing": {"source": "manifest", "workers": 1, "text_word_s": 0.5}}}))
    corpus_stage.main()
    corpus = load_corpus()
    assert corpus.task == "continuous" and corpus.modalities == ["transcript"]
    session = corpus.sessions[0]
    words = pd.read_csv(session.path("words"))
    assert words.word.tolist() == ["what", "a", "lovely", "day", "i", "hate", "rain"]
    np.testing.assert_allclose(words.start, np.arange(7) * 0.5)
    np.testing.assert_allclose(words.end, np.arange(1, 8) * 0.5)
    segments = pd.read_csv(session.path("segments"))
    assert segments[["start", "end"]].to_numpy().tolist() == [[0.0, 2.0], [2.0, 3.5]]
    assert segments.valence.tolist() == [0.5, -0.5] and segments.text.tolist()[1] == "I hate rain"
    gold = pd.read_csv(session.path("gold"))
    np.testing.assert_allclose(gold.time, np.arange(7) * 0.5 + 0.25)  # each word's midpoint
    np.testing.assert_allclose(gold.valence, [0.5] * 4 + [-0.5] * 3)
    np.testing.assert_allclose(gold.arousal, [0.2] * 4 + [0.8] * 3)
    entry = json.loads((layout.CORPUS / "manifest.json").read_text())["sessions"][0]
    assert entry["text_word_s"] == 0.5 and "audio" not in entry and "ratings" not in entry


def test_categorical_transcripts_label_the_whole_text(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    files = {f"t{k}.txt": "Good morning, dear friend.\n" for k in range(4)}
    rows = [{"id": f"t{k}", "speaker": f"p{k}", "split": split, "transcript": f"t{k}.txt",
             "class": "happy" if k % 2 else "sad"} for k, split in enumerate(SPLITS)]
    write_corpus(tmp_path, "categorical", rows, files, classes=["happy", "sad"])
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"seed": 1, "corpus": "writing", "corpora": {
        "writing": {"source": "manifest", "workers": 1}}}))
    corpus_stage.main()
    corpus = load_corpus()
    assert [s.label for s in corpus.sessions] == ["sad", "happy", "sad", "happy"]
    words = pd.read_csv(corpus.sessions[1].path("words"))
    assert words.word.tolist() == ["good", "morning", "dear", "friend"]
    np.testing.assert_allclose(words.start, [0.0, 0.3, 0.6, 0.9])  # the default 0.3 s per word


def test_text_only_problems_name_file_and_row(continuous_text):
    folder = continuous_text
    (folder / "w1.csv").write_text("text,start,end,valence\nhello,0,1,0.1\n,1,2,zero\n")
    (folder / "w3.txt").write_text("   \n")
    table = pd.read_csv(folder / "sessions.csv", dtype=str, keep_default_na=False)
    table.loc[2, "labels"] = "w2.csv"
    table.loc[3, "transcript"] = "w3.txt"
    table.to_csv(folder / "sessions.csv", index=False)
    found = problems_of()
    expected = [
        "w1.csv, row 2: a text-only session's segments have no times (start/end)",
        "w1.csv, row 2: lacks the dimensions ['arousal']",
        "w1.csv, row 2: sentences without a word on data lines [2]",
        "w1.csv, row 2: NaN or non-numeric segment values",
        "row 3: a text-only session has no time axis for `labels`",
        "row 4: a text-only session gives its text once",
        "row 1: no transcript while other sessions have it",
    ]
    for message in expected:
        assert any(message in p for p in found), (message, found)


def test_text_only_continuous_needs_segments_and_categorical_a_text(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = [{"id": f"t{k}", "speaker": f"p{k}", "split": split, "transcript": f"t{k}.txt"}
            for k, split in enumerate(SPLITS)]
    write_corpus(tmp_path, "continuous", rows, {f"t{k}.txt": "some words\n" for k in range(4)},
                 dimensions=["valence"])
    found = problems_of()
    assert any("row 1: a text-only session of a continuous corpus gives its sentences and their values in "
               "`segments`" in p for p in found), found
    # a session with no text at all, and a transcript with no word in it
    table = pd.read_csv(tmp_path / "corpora/writing/sessions.csv", dtype=str, keep_default_na=False)
    table.loc[0, "transcript"] = ""
    table.to_csv(tmp_path / "corpora/writing/sessions.csv", index=False)
    (tmp_path / "corpora/writing/t1.txt").write_text("... !\n")
    found = problems_of()
    assert any("row 1: has no audio, no video and no text" in p for p in found), found
    assert any("t1.txt, row 2: holds no word" in p for p in found), found


def test_mixing_text_only_and_recorded_sessions_is_refused(continuous_text):
    table = pd.read_csv(continuous_text / "sessions.csv", dtype=str, keep_default_na=False)
    table["audio"] = ""
    table.loc[0, "audio"] = "w0.wav"
    table.to_csv(continuous_text / "sessions.csv", index=False)
    found = problems_of()
    assert any("row 2: no audio while other sessions have it" in p for p in found), found


def test_text_word_s_must_be_positive(continuous_text, tmp_path):
    from pipeline.config import ParamsError
    from pipeline.params_check import check

    with pytest.raises(ParamsError, match="text_word_s"):
        check({"corpora": {"writing": {"source": "manifest", "text_word_s": 0}}}, "corpora.writing")


def test_timed_words_keep_their_clock_and_labels_are_tracks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    words = "word,start,end\nhello,0.5,0.9\nthere,1.0,1.4\n"
    labels = "time,valence\n0.0,0.1\n0.5,0.2\n1.0,0.3\n1.5,0.4\n2.0,0.5\n"
    files = {**{f"w{k}.csv": words for k in range(4)}, **{f"l{k}.csv": labels for k in range(4)}}
    rows = [{"id": f"t{k}", "speaker": f"p{k}", "split": split, "words": f"w{k}.csv", "labels": f"l{k}.csv"}
            for k, split in enumerate(SPLITS)]
    folder = write_corpus(tmp_path, "continuous", rows, files, dimensions=["valence"])
    valid = validate("writing")
    assert [s.duration_s for s in valid.sessions] == [2.0] * 4  # the last label time, after the last word's end
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"seed": 1, "corpus": "writing", "corpora": {
        "writing": {"source": "manifest", "workers": 1}}}))
    corpus_stage.main()
    session = load_corpus().sessions[0]
    assert pd.read_csv(session.path("words")).start.tolist() == [0.5, 1.0]  # as given, not by position
    np.testing.assert_allclose(pd.read_csv(session.path("gold")).valence, [0.1, 0.2, 0.3, 0.4, 0.5])
    # a word past the last label is still inside the session; a label file with a bad value is named
    (folder / "l1.csv").write_text("time,valence\n0.0,0.1\n0.5,high\n")
    assert any("l1.csv, row 2: NaN or non-numeric label values" in p for p in problems_of())
