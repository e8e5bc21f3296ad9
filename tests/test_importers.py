"""Importers of the papers' corpora (importers/): a small folder in each corpus's distributed
layout, imported and passed through the manifest validator; malformed files named with their line.

The IEMOCAP fixture follows the release's layout (IEMOCAP_full_release/SessionN/dialog/
EmoEvaluation/<dialog>.txt, sentences/wav/<dialog>/<utterance>.wav, sentences/ForcedAlignment/
<dialog>/<utterance>.wdseg) and its file formats: the EmoEvaluation header and utterance lines
(`[6.2901 - 8.2357]<TAB>Ses01F_impro01_F000<TAB>neu<TAB>[2.5000, 2.5000, 2.5000]`) followed by
the evaluators' `C-E2:` and `A-E3:` lines, and Sphinx's wdseg table (` SFrm  EFrm    SegAScr Word`,
frames of 10 ms, `<s>`/`</s>`/`<sil>`, variants like `ME(2)`, a closing ` Total score:` line).

The SENDv1 fixture follows the feature-and-ratings release as the dataset's own loaders read it:
features/{train,valid,test}/linguistic/ID<n>_vid<m>_aligned.tsv (tab-separated `time-onset`,
`time-offset`, `word`) and ratings/{split}/observer_EWE/results_<n>_<m>.csv (`time`,
`evaluatorWeightedEstimate` on 0-100, every 0.5 s).

The CMU-MOSEI fixture follows the CMU Multimodal SDK's computational sequences as h5py reads
them (a root group, e.g. `All Labels`, holding `data/<video>/features` and `intervals` and
`metadata/dimension names`; labels as sentiment, happy, sad, anger, surprise, disgust, fear),
the download's `Raw/Audio/Full/WAV_16000/<video>.wav` and `Raw/Videos/Full/Combined/<video>.mp4`
(the raw archive's folders, as public MOSEI loaders read them), and the SDK's
`cmu_mosei_std_folds.py` (`standard_train_fold`, `standard_valid_fold`, `standard_test_fold`).

The AVEC 2019 CES fixture follows the challenge folder as the AVEC2019 baseline scripts read it
(github.com/AudioVisualEmotionChallenge/AVEC2019: Baseline_systems/CES/CES_data.py reads
labels/<Partition>_<DE|HU>_<NN>.csv with sep=';' and the columns arousal, valence, liking by
name; Low-Level-Descriptors/ reads audio/*.wav and video/*.avi and reduces OpenFace to
`name;frameTime;confidence;AU01_r;...;AU45_r` in visual_features/): a header line
`name;timestamp;arousal;valence;liking` and quoted names `'Train_DE_01'` as in the baseline's
prediction files (baseline_predictions/, written "in the labels' format"; no label file itself
was seen). Its OpenFace 2.x CSVs are tests/test_manifest.py's (py-feat's OpenFace_Test.csv
lacks gaze_angle_x/y, which the face stage reads).

The SEWA (AVEC 2017) fixture follows AVEC2017_SEWA/ as public loaders read it (no AVEC 2017
baseline repository was found): audio/<Train|Devel|Test>_<NN>.wav (34/14/16 recordings),
labels/<recording>.csv without a header, `name;time;arousal;valence;liking` per 100 ms (fields
2-4 read as floats from every line), transcriptions/<recording>.csv `start;end;'text'` per turn
(the text in single quotes, `<filler>` turns)."""
import json

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import yaml

from importers import avec2019, mosei, send, sewa
from importers.iemocap import import_corpus, read_wdseg
from importers.common import ImportProblems
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


SEND_STORY = "time-onset\ttime-offset\tword\n0.2\t0.6\tI\n0.7\t1.1\tReally\n1.2\t1.9\tloved\n2.0\t2.6\tit\n"


def write_send(root, videos=(("101", "1", "train"), ("102", "3", "train"), ("103", "2", "valid"),
                             ("104", "1", "test")), story: str = SEND_STORY, ratings=np.linspace(50, 90, 9)):
    """SENDv1_featuresRatings_pw with one story per video (`story`: the aligned TSV; default 4 s,
    four words) and its ratings every 0.5 s (default nine)."""
    for person, video, split in videos:
        linguistic = root / "features" / split / "linguistic"
        observer = root / "ratings" / split / "observer_EWE"
        linguistic.mkdir(parents=True, exist_ok=True)
        observer.mkdir(parents=True, exist_ok=True)
        (linguistic / f"ID{person}_vid{video}_aligned.tsv").write_text(story)
        pd.DataFrame({"time": np.arange(len(ratings)) * 0.5, "evaluatorWeightedEstimate": ratings}).to_csv(
            observer / f"results_{person}_{video}.csv", index=False)
    return root


def test_send_imports_timed_words_and_rescaled_ratings_and_validates(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    found = send.import_corpus(write_send(tmp_path / "SENDv1_featuresRatings_pw"), tmp_path / "corpora/send")
    assert found["videos"] == 4 and found["per_split"] == {"train": 2, "dev": 1, "test": 1} and found["speakers"] == 4
    sessions = pd.read_csv(tmp_path / "corpora/send/sessions.csv")
    assert sessions.set_index("id").loc["ID103_vid2"].split == "dev"  # SEND's valid
    words = pd.read_csv(tmp_path / "corpora/send/words/ID101_vid1.csv")
    assert words.word.tolist() == ["i", "really", "loved", "it"] and words.end.tolist() == [0.6, 1.1, 1.9, 2.6]
    labels = pd.read_csv(tmp_path / "corpora/send/labels/ID101_vid1.csv")
    np.testing.assert_allclose(labels.valence, np.linspace(50, 90, 9) / 50 - 1, atol=1e-4)  # 0-100 to -1..1
    valid = validate("send")
    assert valid.modalities == ["words", "labels"] and [s.duration_s for s in valid.sessions] == [4.0] * 4


def test_malformed_send_lines_and_missing_ratings_are_named(tmp_path):
    root = write_send(tmp_path / "SENDv1_featuresRatings_pw")
    transcript = root / "features/train/linguistic/ID101_vid1_aligned.tsv"
    transcript.write_text(transcript.read_text().replace("1.2\t1.9", "1.2 1.9"))
    (root / "ratings/test/observer_EWE/results_104_1.csv").unlink()
    ratings = root / "ratings/train/observer_EWE/results_102_3.csv"
    ratings.write_text(ratings.read_text().replace("2.0,", "two,", 1))
    with pytest.raises(ImportProblems) as caught:
        send.import_corpus(root, tmp_path / "corpora/send")
    found = [str(p) for p in caught.value.problems]
    assert found == [f"{transcript}, line 4: not `time-onset<TAB>time-offset<TAB>word`: '1.2 1.9\\tloved'",
                     f"{ratings}, line 6: time or evaluatorWeightedEstimate is not a number",
                     f"{root}/ratings/test/observer_EWE/results_104_1.csv: missing: the ratings of "
                     "ID104_vid1_aligned.tsv"]
    assert not (tmp_path / "corpora/send").exists()


MOSEI_VIDEOS = {"-3g5yACwYnA": "train", "03bSnISJMiM": "train", "0eTibWQdO7k": "valid", "1DmNV9C1hbY": "test",
                "zz_not_in_a_fold": None}


def write_mosei(root):
    """Five videos of 6 s: two labelled segments each (the second later in the table than the
    first, as the SDK need not order them), words with `sp` pauses, 16 kHz audio."""
    import h5py

    (root / "Raw/Audio/Full/WAV_16000").mkdir(parents=True)
    with h5py.File(root / "CMU_MOSEI_Labels.csd", "w") as labels, \
            h5py.File(root / "CMU_MOSEI_TimestampedWords.csd", "w") as words:
        lroot, wroot = labels.create_group("All Labels"), words.create_group("words")
        lroot.create_group("metadata").create_dataset("dimension names", data=[json.dumps(
            ["sentiment", "happy", "sad", "anger", "surprise", "disgust", "fear"])])
        for k, video in enumerate(MOSEI_VIDEOS):
            group = lroot.create_group(f"data/{video}")
            group["features"] = np.array([[-1.0, 0, 2.0, 1.0 + k / 3, 0, 0.333, 0],
                                          [2.0, 3.0, 0, 0, 0.666, 0, 0]], np.float32)[::-1]
            group["intervals"] = np.array([[0.5, 2.5], [3.0, 5.5]])[::-1]
            group = wroot.create_group(f"data/{video}")
            group["features"] = np.array([[b"sp"], [b"I"], [b"am"], [b"sad"], [b"sp"], [b"so"], [b"happy"]])
            group["intervals"] = np.array([[0, .5], [.5, 1], [1, 1.5], [1.5, 2.4], [2.5, 3], [3, 4], [4, 5.4]])
            t = np.arange(6 * RATE) / RATE
            sf.write(root / f"Raw/Audio/Full/WAV_16000/{video}.wav", 0.1 * np.sin(2 * np.pi * 220 * t), RATE)
    folds = {"standard_train_fold": [v for v, s in MOSEI_VIDEOS.items() if s == "train"],
             "standard_valid_fold": [v for v, s in MOSEI_VIDEOS.items() if s == "valid"],
             "standard_test_fold": [v for v, s in MOSEI_VIDEOS.items() if s == "test"]}
    (root / "cmu_mosei_std_folds.py").write_text("".join(f"{k}={v!r}\n" for k, v in folds.items()))
    return root


def test_mosei_imports_segments_with_six_intensities_by_the_standard_folds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = write_mosei(tmp_path / "CMU_MOSEI")
    found = mosei.import_corpus(root, tmp_path / "corpora/mosei", root / "cmu_mosei_std_folds.py")
    assert found == {"videos": 4, "segments": 8, "per_split": {"train": 2, "dev": 1, "test": 1},
                     "left_out_in_no_fold": 1,
                     "video": "none: no Raw/Videos/Full/Combined folder (drop the face inputs)"}
    segments = pd.read_csv(tmp_path / "corpora/mosei/segments/03bSnISJMiM.csv")
    assert segments.columns.tolist() == ["start", "end", "happiness", "sadness", "anger", "surprise", "disgust",
                                         "fear"]  # sentiment left out
    assert segments.start.tolist() == [0.5, 3.0]  # in time order
    assert segments.sadness.tolist() == [2.0, 0.0] and segments.anger.tolist() == pytest.approx([1 + 1 / 3, 0], abs=1e-3)
    words = pd.read_csv(tmp_path / "corpora/mosei/words/03bSnISJMiM.csv")
    assert words.word.tolist() == ["i", "am", "sad", "so", "happy"]  # no `sp`
    valid = validate("mosei", {"allow_outside_root": True})
    assert valid.declaration.task == "segments" and valid.modalities == ["audio", "words", "segments"]


def test_mosei_problems_are_named(tmp_path):
    import h5py

    root = write_mosei(tmp_path / "CMU_MOSEI")
    (root / "Raw/Audio/Full/WAV_16000/1DmNV9C1hbY.wav").unlink()
    with h5py.File(root / "CMU_MOSEI_Labels.csd", "a") as labels:
        labels["All Labels/data/-3g5yACwYnA/intervals"][...] = np.array([[3.0, 5.5], [2.0, 4.0]])
    with pytest.raises(ImportProblems) as caught:
        mosei.import_corpus(root, tmp_path / "corpora/mosei", root / "cmu_mosei_std_folds.py")
    assert [str(p) for p in caught.value.problems] == [
        f"{root}/CMU_MOSEI_Labels.csd: video -3g5yACwYnA: overlapping segment intervals",
        f"{root}/Raw/Audio/Full/WAV_16000/1DmNV9C1hbY.wav: missing: the audio of labelled video 1DmNV9C1hbY"]
    (root / "cmu_mosei_std_folds.py").write_text("standard_train_fold = ['a']\n")
    with pytest.raises(ImportProblems, match="not the SDK's fold file: lacks"):
        mosei.import_corpus(root, tmp_path / "corpora/mosei", root / "cmu_mosei_std_folds.py")


def test_mosei_videos_are_imported_when_the_raw_video_folder_is_there(tmp_path, monkeypatch):
    from tests.test_manifest import write_video

    monkeypatch.chdir(tmp_path)
    root = write_mosei(tmp_path / "CMU_MOSEI")
    videos = root / "Raw/Videos/Full/Combined"
    videos.mkdir(parents=True)
    for video in list(MOSEI_VIDEOS)[1:]:  # the first labelled video lacks its mp4
        write_video(videos / f"{video}.mp4", 6.0)
    with pytest.raises(ImportProblems) as caught:
        mosei.import_corpus(root, tmp_path / "corpora/mosei", root / "cmu_mosei_std_folds.py")
    assert [str(p) for p in caught.value.problems] == [
        f"{videos}/-3g5yACwYnA.mp4: missing: the video of labelled video -3g5yACwYnA (with a "
        "Raw/Videos/Full/Combined folder every labelled video of the folds needs one)"]
    assert not (tmp_path / "corpora/mosei").exists()
    write_video(videos / "-3g5yACwYnA.mp4", 6.0)
    found = mosei.import_corpus(root, tmp_path / "corpora/mosei", root / "cmu_mosei_std_folds.py")
    assert found["videos"] == 4 and found["video"] == "Raw/Videos/Full/Combined/<video>.mp4"
    sessions = pd.read_csv(tmp_path / "corpora/mosei/sessions.csv")
    assert sessions.video.tolist() == [str((videos / f"{v}.mp4").resolve()) for v in sessions.id]
    valid = validate("mosei", {"allow_outside_root": True})
    assert valid.modalities == ["audio", "video", "words", "segments"]


AVEC2019_RECORDINGS = ["Train_DE_01", "Train_DE_02", "Train_DE_03", "Train_DE_04", "Train_HU_01", "Train_HU_02",
                       "Train_HU_03", "Train_HU_04", "Devel_DE_01", "Devel_DE_02", "Devel_HU_01", "Devel_HU_02",
                       "Test_DE_01", "Test_CN_01"]
STEPS = np.arange(30) / 10  # 3 s of 100 ms label steps


def avec2019_values(name: str, t: float) -> tuple[float, float, float]:
    """Arousal, valence and liking of a fixture recording at time t: each recording its own."""
    number, hungarian = int(name[-2:]), "_HU_" in name
    return t / 10 - 0.1, -t / 10 + (0.3 if hungarian else 0.0), number / 100


def write_wav(path, seconds: float = 3.0):
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * RATE)) / RATE
    sf.write(path, 0.1 * np.sin(2 * np.pi * 180 * t), RATE)


def write_avec2019(root, test_labels: bool = False):
    """AVEC2019_CES_traindeveltest: 3 s recordings, labels for Train and Devel (and Test when
    asked), and OpenFace 2.x CSVs in openface/ (what FeatureExtraction writes for each video)."""
    from tests.test_manifest import write_openface

    for folder in ("labels", "openface"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name in AVEC2019_RECORDINGS:
        write_wav(root / "audio" / f"{name}.wav")
        write_openface(root / "openface" / f"{name}.csv", 3.0)
        if name.startswith("Test") and not test_labels:
            continue
        lines = ["name;timestamp;arousal;valence;liking"]
        lines += [f"'{name}';{t:.6f};" + ";".join(f"{v:.6f}" for v in avec2019_values(name, t)) for t in STEPS]
        (root / "labels" / f"{name}.csv").write_text("\n".join(lines) + "\n")
    return root


def test_avec2019_imports_cultures_with_devel_as_test_and_validates(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = write_avec2019(tmp_path / "AVEC2019_CES_traindeveltest")
    found = avec2019.import_corpus(root, tmp_path / "corpora/avec2019", openface=root / "openface", dev_share=0.25)
    assert found["per_split"] == {"train": 6, "dev": 2, "test": 4} and found["recordings"] == 12
    assert found["dev_carved_from_train"] == ["Train_DE_04", "Train_HU_04"]  # the last quarter of each culture
    assert found["per_culture"]["test"] == {"German": 2, "Hungarian": 2}
    assert found["left_out_without_labels"] == {"Test": 2} and found["hours"] == pytest.approx(12 * 3 / 3600, abs=1e-3)
    sessions = pd.read_csv(tmp_path / "corpora/avec2019/sessions.csv").set_index("id")
    assert sessions.loc["Devel_HU_01"].split == "test" and sessions.loc["Devel_HU_01"].group == "Hungarian"
    assert sessions.loc["Train_DE_03"].split == "train" and sessions.loc["Train_DE_03"].speaker == "Train_DE_03"
    assert not any(name.startswith("Test") for name in sessions.index)
    labels = pd.read_csv(tmp_path / "corpora/avec2019" / sessions.loc["Train_HU_02"].labels).set_index("time")
    assert tuple(labels.loc[1.5]) == pytest.approx(avec2019_values("Train_HU_02", 1.5))
    assert len(labels) == 30
    declared = yaml.safe_load((tmp_path / "corpora/avec2019/corpus.yaml").read_text())
    assert declared["dimensions"] == ["arousal", "valence", "liking"]
    valid = validate("avec2019", {"allow_outside_root": True})
    assert valid.modalities == ["audio", "labels", "openface"]
    assert {s.group for s in valid.sessions} == {"German", "Hungarian"}


def test_avec2019_test_partition_needs_its_labels(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = write_avec2019(tmp_path / "AVEC2019_CES_traindeveltest")
    with pytest.raises(ImportProblems) as caught:
        avec2019.import_corpus(root, tmp_path / "corpora/avec2019", test="avec")
    assert [str(p).split(" (")[0] for p in caught.value.problems] == [
        f"{root}/labels/Test_CN_01.csv: missing: the labels of Test_CN_01",
        f"{root}/labels/Test_DE_01.csv: missing: the labels of Test_DE_01"]
    assert "--test devel uses Devel as the test split" in str(caught.value)
    write_avec2019(root, test_labels=True)
    found = avec2019.import_corpus(root, tmp_path / "corpora/avec2019", test="avec")
    assert found["per_split"] == {"train": 8, "dev": 4, "test": 2} and found["dev_carved_from_train"] == []
    assert found["per_culture"]["test"] == {"Chinese": 1, "German": 1}
    assert validate("avec2019", {"allow_outside_root": True}).modalities == ["audio", "labels"]


def test_malformed_avec2019_lists_every_problem_with_path_and_line(tmp_path):
    root = write_avec2019(tmp_path / "AVEC2019_CES_traindeveltest")
    bad_line = root / "labels/Train_DE_01.csv"
    bad_line.write_text(bad_line.read_text().replace("0.300000;", "n/a;", 1))
    no_liking = root / "labels/Train_HU_03.csv"
    no_liking.write_text(no_liking.read_text().replace(";liking", "", 1))
    (root / "labels/Devel_HU_02.csv").unlink()
    (root / "visual_features").mkdir()
    for name in AVEC2019_RECORDINGS:  # what AVEC ships: AU intensities only, `;`-separated
        (root / "visual_features" / f"{name}.csv").write_text(
            "name;frameTime;confidence;AU01_r;AU02_r\n'" + name + "';0.000;0.980;0.120;0.000\n")
    (root / "video").mkdir()
    (root / "video/Train_DE_02.avi").write_bytes(b"")
    with pytest.raises(ImportProblems) as caught:
        avec2019.import_corpus(root, tmp_path / "corpora/avec2019", openface=root / "visual_features")
    found = [str(p) for p in caught.value.problems]
    assert any(p.startswith(f"{bad_line}, line 5: not a `name;timestamp;arousal;valence;liking` line") for p in found)
    assert f"{no_liking}, line 1: the header lacks ['liking'] (has ['name', 'timestamp', 'arousal', 'valence'])" \
        in found
    assert f"{root}/labels/Devel_HU_02.csv: missing: the labels of Devel_HU_02" in found
    assert any(p.startswith(f"{root}/visual_features/Devel_DE_01.csv, line 1: not OpenFace 2.x FeatureExtraction "
                            "output: lacks timestamp, confidence, success") for p in found), found
    assert f"{root}/video/Train_DE_01.avi: missing: the video of Train_DE_01 (video/ holds other recordings' " \
           "videos)" in found
    assert not any("Train_DE_02.avi" in p for p in found)
    assert not (tmp_path / "corpora/avec2019").exists()


SEWA_RECORDINGS = ["Train_01", "Train_02", "Train_03", "Train_04", "Devel_01", "Devel_02", "Test_01", "Test_02"]
# (start, end, text) of each recording's turns, as AVEC 2017's transcriptions give them
TURNS = [(0.2, 1.4, "'Hallo wie geht es dir'"), (1.5, 1.9, "'<filler>'"), (2.0, 2.6, "'Gut <laughter> danke'")]


def sewa_values(name: str, t: float) -> tuple[float, float, float]:
    """Arousal, valence and liking of a fixture recording at time t."""
    return t / 10 - 0.1 + int(name[-2:]) / 100, 0.2 - t / 10, 0.5


def write_sewa(root):
    """AVEC2017_SEWA: 3 s recordings, header-less labels for Train and Devel, transcriptions."""
    for folder in ("labels", "transcriptions"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for name in SEWA_RECORDINGS:
        write_wav(root / "audio" / f"{name}.wav")
        (root / "transcriptions" / f"{name}.csv").write_text(
            "".join(f"{start:.2f};{end:.2f};{text}\n" for start, end, text in TURNS))
        if not name.startswith("Test"):
            (root / "labels" / f"{name}.csv").write_text("".join(
                f"'{name}';{t:.6f};" + ";".join(f"{v:.6f}" for v in sewa_values(name, t)) + "\n" for t in STEPS))
    return root


def test_sewa_imports_turn_words_with_devel_as_test_and_validates(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    found = sewa.import_corpus(write_sewa(tmp_path / "AVEC2017_SEWA"), tmp_path / "corpora/sewa", dev_share=0.25)
    assert found["per_split"] == {"train": 3, "dev": 1, "test": 2} and found["dev_carved_from_train"] == ["Train_04"]
    assert found["left_out_without_labels"] == {"Test": 2} and found["words"] == 6 * 7
    sessions = pd.read_csv(tmp_path / "corpora/sewa/sessions.csv").set_index("id")
    assert sessions.loc["Devel_02"].split == "test" and "group" not in sessions.columns
    words = pd.read_csv(tmp_path / "corpora/sewa/words/Train_02.csv")
    assert words.word.tolist() == ["hallo", "wie", "geht", "es", "dir", "gut", "danke"]  # no <filler>, <laughter>
    np.testing.assert_allclose(words.start, [0.2, 0.44, 0.68, 0.92, 1.16, 2.0, 2.3], atol=1e-3)  # each turn shared
    np.testing.assert_allclose(words.end, [0.44, 0.68, 0.92, 1.16, 1.4, 2.3, 2.6], atol=1e-3)
    labels = pd.read_csv(tmp_path / "corpora/sewa/labels/Train_03.csv").set_index("time")
    assert labels.columns.tolist() == ["arousal", "valence"]  # liking left out
    assert tuple(labels.loc[2.2]) == pytest.approx(sewa_values("Train_03", 2.2)[:2])
    valid = validate("sewa", {"allow_outside_root": True})
    assert valid.modalities == ["audio", "words", "labels"] and len(valid.sessions) == 6


def test_malformed_sewa_lists_every_problem_with_path_and_line(tmp_path):
    root = write_sewa(tmp_path / "AVEC2017_SEWA")
    turns = root / "transcriptions/Train_02.csv"
    turns.write_text(turns.read_text().replace("1.50;1.90;", "1.50 1.90 "))
    labels = root / "labels/Devel_01.csv"
    labels.write_text(labels.read_text().replace(";0.300000;", ";0.300000", 1))  # a field lost on line 4
    late = root / "labels/Train_01.csv"
    lines = late.read_text().splitlines()
    late.write_text("\n".join(lines[:10] + [lines[8]] + lines[10:]) + "\n")  # line 11 repeats 0.8 s
    (root / "transcriptions/Train_04.csv").unlink()
    with pytest.raises(ImportProblems) as caught:
        sewa.import_corpus(root, tmp_path / "corpora/sewa", test="avec")
    found = [str(p) for p in caught.value.problems]
    assert f"{turns}, line 2: not a `start;end;'text'` turn: \"1.50 1.90 '<filler>'\"" in found
    assert any(p.startswith(f"{labels}, line 4: not a `name;timestamp;arousal;valence;liking` line") for p in found)
    assert f"{late}, line 11: time 0.8 does not follow 0.9" in found
    assert f"{root}/transcriptions/Train_04.csv: missing: the transcription of Train_04" in found
    assert any(p.startswith(f"{root}/labels/Test_02.csv: missing: the labels of Test_02 (--test avec needs AVEC's")
               for p in found)
    assert len(found) == 6  # and Test_01's labels
    assert not (tmp_path / "corpora/sewa").exists()
