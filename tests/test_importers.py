"""Importers of the papers' corpora (importers/): a small folder in each corpus's distributed
layout, imported and passed through the manifest validator; malformed files named with their line.

The IEMOCAP fixture follows the release's layout (IEMOCAP_full_release/SessionN/dialog/
EmoEvaluation/<dialog>.txt, sentences/wav/<dialog>/<utterance>.wav, sentences/ForcedAlignment/
<dialog>/<utterance>.wdseg) and its file formats: the EmoEvaluation header and utterance lines
(`[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]`) followed by
the evaluators' `C-E2:` and `A-E3:` lines, and Sphinx's wdseg table (` SFrm  EFrm    SegAScr Word`,
frames of 10 ms, `<s>`/`</s>`/`<sil>`, variants like `ME(2)`, a closing ` Total score:` line)."""
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml

from importers.iemocap import ImportProblems, import_corpus, read_wdseg
from pipeline.manifest import validate

RATE = 16000
# per session: (utterance suffix, category, words with their frames)
UTTERANCES = [("F000", "neu", [("EXCUSE", 23, 51), ("ME(2)", 52, 80)]),
              ("M000", "hap", [("HELLO", 10, 40), ("THERE", 41, 70)]),
              ("F001", "exc", [("WOW", 5, 30)]),
              ("M001", "fru", [("NO", 5, 20)]),
              ("F002", "sad", [("OH", 5, 25), ("DEAR", 26, 60)]),
              ("M002", "ang", [("STOP", 5, 35), ("IT", 36, 50)])]


def wdseg(words) -> str:
    lines = [" SFrm  EFrm    SegAScr Word", "     0     4     -12345 <s>"]
    lines += [f"{a:6d}{b:6d}    -{100000 + a:d} {w}" for w, a, b in words]
    end = words[-1][2]
    lines += [f"{end + 1:6d}{end + 9:6d}     -54321 <sil>", f"{end + 10:6d}{end + 14:6d}     -1111 </s>",
              " Total score:   -2345678"]
    return "\n".join(lines) + "\n"


def write_release(root):
    """IEMOCAP_full_release with one improvised dialog per session, six utterances each."""
    for session in range(1, 6):
        dialog = f"Ses0{session}F_impro01"
        base = root / f"Session{session}"
        labels = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
        for k, (suffix, category, words) in enumerate(UTTERANCES):
            utterance = f"{dialog}_{suffix}"
            (base / "sentences/wav" / dialog).mkdir(parents=True, exist_ok=True)
            (base / "sentences/ForcedAlignment" / dialog).mkdir(parents=True, exist_ok=True)
            seconds = (words[-1][2] + 20) / 100
            t = np.arange(int(seconds * RATE)) / RATE
            sf.write(base / "sentences/wav" / dialog / f"{utterance}.wav", 0.1 * np.sin(2 * np.pi * 200 * t), RATE)
            (base / "sentences/ForcedAlignment" / dialog / f"{utterance}.wdseg").write_text(wdseg(words))
            labels += [f"[{10.0 * k:.4f} - {10.0 * k + seconds:.4f}]\t{utterance}\t{category}\t[2.5000, 3.0000, 2.0000]",
                       "C-E2:\tNeutral;\t()", "C-E3:\tNeutral;\t()", "A-E3:\tval 3; act 2; dom  2;\t()", ""]
        (base / "dialog/EmoEvaluation").mkdir(parents=True)
        (base / "dialog/EmoEvaluation" / f"{dialog}.txt").write_text("\n".join(labels))
    return root


@pytest.fixture
def release(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return write_release(tmp_path / "IEMOCAP_full_release")


def test_wdseg_words_in_seconds_without_silences_or_variants(tmp_path):
    path = tmp_path / "u.wdseg"
    path.write_text(wdseg([("EXCUSE", 23, 51), ("ME(2)", 52, 80), ("++BREATHING++", 81, 90)]))
    table, bad = read_wdseg(path)
    assert bad == []
    assert table.word.tolist() == ["excuse", "me"]
    np.testing.assert_allclose(table.start, [0.23, 0.52])
    np.testing.assert_allclose(table.end, [0.52, 0.81])  # frame 51 ends at 0.52 s


def test_iemocap_imports_four_classes_by_session_and_validates(release, tmp_path):
    found = import_corpus(release, tmp_path / "corpora/iemocap")
    sessions = pd.read_csv(tmp_path / "corpora/iemocap/sessions.csv")
    # neu, hap, sad, ang kept; exc (not merged) and fru dropped: 4 a session
    assert found["utterances"] == len(sessions) == 20
    assert found["per_split"] == {"train": 12, "dev": 4, "test": 4}
    assert set(sessions[sessions.split == "test"].speaker) == {"Ses05F", "Ses05M"}
    assert set(sessions[sessions.split == "dev"].speaker) == {"Ses04F", "Ses04M"}
    row = sessions.set_index("id").loc["Ses01F_impro01_M002"]
    assert row["class"] == "angry" and row.speaker == "Ses01M"
    words = pd.read_csv(tmp_path / "corpora/iemocap" / row.words)
    assert words.word.tolist() == ["stop", "it"] and words.end.iloc[-1] == pytest.approx(0.51)
    declared = yaml.safe_load((tmp_path / "corpora/iemocap/corpus.yaml").read_text())
    assert declared == {"task": "categorical", "classes": ["neutral", "happy", "sad", "angry"],
                        "sessions": "sessions.csv"}
    valid = validate("iemocap", {"allow_outside_root": True})
    assert len(valid.sessions) == 20 and valid.modalities == ["audio", "words"]


def test_excited_merged_into_happy_and_another_test_session(release, tmp_path):
    found = import_corpus(release, tmp_path / "corpora/iemocap", merge_excited=True, test_session=1, dev_session=2)
    assert found["utterances"] == 25 and found["per_class"]["test"] == {"happy": 2, "neutral": 1, "sad": 1, "angry": 1}
    sessions = pd.read_csv(tmp_path / "corpora/iemocap/sessions.csv")
    assert set(sessions[sessions.split == "test"].speaker) == {"Ses01F", "Ses01M"}


def test_malformed_release_lists_every_problem_with_path_and_line(release, tmp_path):
    labels = release / "Session2/dialog/EmoEvaluation/Ses02F_impro01.txt"
    lines = labels.read_text().splitlines()
    lines[2] = "[5.1 - 7.2] Ses02F_impro01_F000 neu [2.5, 2.5, 2.5]"  # spaces, not tabs
    labels.write_text("\n".join(lines))
    (release / "Session3/dialog/EmoEvaluation/Ses03F_impro01.txt").unlink()
    (release / "Session4/sentences/wav/Ses04F_impro01/Ses04F_impro01_M000.wav").unlink()
    wdseg_file = release / "Session5/sentences/ForcedAlignment/Ses05F_impro01/Ses05F_impro01_F002.wdseg"
    wdseg_file.write_text(wdseg_file.read_text().replace("    26    60", "    26  sixty"))
    with pytest.raises(ImportProblems) as caught:
        import_corpus(release, tmp_path / "corpora/iemocap")
    found = [str(p) for p in caught.value.problems]
    assert any(p.startswith(f"{labels}, line 3: not an utterance line") for p in found), found
    assert any(p.startswith(f"{release}/Session3/dialog/EmoEvaluation/Ses03F_impro01.txt: missing") for p in found)
    assert any("Ses04F_impro01_M000.wav: missing: the audio of Ses04F_impro01_M000" in p for p in found), found
    assert any(p.startswith(f"{wdseg_file}, line 4: not a `SFrm EFrm SegAScr Word` row") for p in found), found
    assert not (tmp_path / "corpora/iemocap").exists()  # nothing written
