"""Small manifest corpora made from espeak-ng speech: worked examples of the format in
pipeline/manifest.py, and the corpora the tests run the DAG on (no third-party data).

- `categorical`: audio-only utterances, one emotion class each. Each class is spoken with
  its own prosody (pitch, speed, loudness), so the class is in the audio and not in the
  words (every class uses the same sentences). Split given in the `split` column.
- `continuous`: audio + plain transcripts + valence/arousal tracks from two annotators
  at different rates (10 Hz and 4 Hz). Valence follows the sentiment of each sentence,
  arousal its speaking rate.
- `text`: text only (no audio, no video): per-session sentences with their valence and arousal
  in a segments CSV (`text,valence,arousal`). Valence follows the sentence's sentiment, arousal
  the clause appended to it (an excited or a calm one), so both are in the words.

Run:  python -m synthetic.manifest_example categorical corpora/my_example
      (then add `my_example: {source: manifest}` under `corpora` in params.yaml)
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf
import yaml

from synthetic.speech import ESPEAK_RATE_HZ, require_espeak

# class -> espeak-ng (pitch 0-99, words per minute, amplitude 0-200)
CLASS_PROSODY = {"neutral": (45, 160, 100), "happy": (85, 200, 130), "sad": (15, 110, 60), "angry": (60, 230, 190)}
SENTENCES = ("the meeting starts after lunch", "we walked home along the river", "she opened the letter slowly",
             "they painted the kitchen again")
POSITIVE = ("what a wonderful happy day", "i love this great gift", "the party was fun and lovely")
NEGATIVE = ("this is a terrible awful mess", "i hate the sad cold rain", "the news was bad and painful")
AROUSING = ("and everyone shouted with excitement", "so we ran and jumped around", "and the crowd cheered loudly")
CALM = ("and then we rested quietly", "so we sat down and slept", "and the evening was slow and still")
VOICES = ("en-us+m1", "en-us+f2", "en-us+m3", "en-us+f4", "en-us+m2", "en-us+f1")


def speak(text: str, voice: str, pitch: int, speed: int, amplitude: int) -> np.ndarray:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.wav"
        subprocess.run([require_espeak(), "-v", voice, "-p", str(pitch), "-s", str(speed), "-a", str(amplitude),
                        "-w", str(path), text], check=True, capture_output=True)
        audio, _ = sf.read(path, dtype="float32")
    return audio


def speaker_split(k: int, speakers: int) -> str:
    """Speaker k of n (from 0): the last tests, the one before it is dev, the others train."""
    return "test" if k == speakers - 1 else "dev" if k == speakers - 2 else "train"


def declaration(folder: Path, task: str, **fields) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus.yaml").write_text(yaml.safe_dump({"task": task, **fields, "sessions": "sessions.csv"},
                                                       sort_keys=False))


def write_categorical(folder: Path, speakers: int = 4, repeats: int = 1) -> Path:
    """Audio-only utterances, `repeats` x 4 sentences per class and speaker; speakers 1..n-2
    train, n-1 dev, n test. Returns the folder."""
    declaration(folder, "categorical", classes=list(CLASS_PROSODY))
    (folder / "audio").mkdir(exist_ok=True)
    rows = []
    for k in range(speakers):
        split = speaker_split(k, speakers)
        for label, (pitch, speed, amplitude) in CLASS_PROSODY.items():
            for r in range(repeats):
                for j, sentence in enumerate(SENTENCES):
                    session_id = f"spk{k + 1}_{label}_{r}{j}"
                    audio = speak(sentence, VOICES[k % len(VOICES)], pitch, speed, amplitude)
                    sf.write(folder / "audio" / f"{session_id}.wav", audio, ESPEAK_RATE_HZ)
                    rows.append({"id": session_id, "speaker": f"spk{k + 1}", "split": split,
                                 "audio": f"audio/{session_id}.wav", "class": label})
    pd.DataFrame(rows).to_csv(folder / "sessions.csv", index=False)
    return folder


def annotator_track(times: np.ndarray, spans: list[tuple[float, float, float]], rng, noise: float) -> np.ndarray:
    """A step track through (start, end, value) spans, smoothed over 1 s, plus annotator noise."""
    track = np.zeros(len(times))
    for start, end, value in spans:
        track[(times >= start) & (times < end)] = value
    kernel = np.ones(max(1, int(len(times) / times[-1]))) if times[-1] > 0 else np.ones(1)
    smooth = np.convolve(track, kernel / kernel.sum(), mode="same")
    return np.clip(smooth + noise * rng.standard_normal(len(times)), -1, 1)


def write_continuous(folder: Path, speakers: int = 4, sessions_per_speaker: int = 2, seed: int = 0) -> Path:
    """Audio + transcripts + two annotators' valence/arousal tracks per session."""
    declaration(folder, "continuous", dimensions=["valence", "arousal"])
    for sub in ("audio", "text", "labels"):
        (folder / sub).mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(speakers):
        split = speaker_split(k, speakers)
        for s in range(sessions_per_speaker):
            session_id = f"spk{k + 1}_s{s + 1}"
            pieces, spans, texts, clock = [], [], [], 0.0
            for _ in range(4):
                positive = bool(rng.integers(2))
                text = (POSITIVE if positive else NEGATIVE)[int(rng.integers(3))]
                speed = int(rng.choice([130, 190]))
                audio = speak(text, VOICES[k % len(VOICES)], 50, speed, 100)
                pause = np.zeros(int(0.4 * ESPEAK_RATE_HZ), np.float32)
                pieces += [audio, pause]
                seconds = (len(audio) + len(pause)) / ESPEAK_RATE_HZ
                spans.append((clock, clock + seconds, 0.6 if positive else -0.6, 0.6 if speed > 160 else -0.6))
                texts.append(text)
                clock += seconds
            sf.write(folder / "audio" / f"{session_id}.wav", np.concatenate(pieces), ESPEAK_RATE_HZ)
            (folder / "text" / f"{session_id}.txt").write_text(". ".join(texts) + ".\n")
            label_files = []
            for annotator, rate in enumerate((10.0, 4.0)):
                times = np.arange(0, clock, 1 / rate)
                table = pd.DataFrame({"time": np.round(times, 3)})
                for j, dim in enumerate(("valence", "arousal")):
                    table[dim] = annotator_track(times, [(a, b, v[j]) for a, b, *v in spans], rng, 0.05)
                name = f"labels/{session_id}_a{annotator + 1}.csv"
                table.to_csv(folder / name, index=False, float_format="%.4f")
                label_files.append(name)
            rows.append({"id": session_id, "speaker": f"spk{k + 1}", "split": split,
                         "audio": f"audio/{session_id}.wav", "transcript": f"text/{session_id}.txt",
                         "labels": ";".join(label_files)})
    pd.DataFrame(rows).to_csv(folder / "sessions.csv", index=False)
    return folder


def write_text(folder: Path, speakers: int = 4, sessions_per_speaker: int = 2, sentences: int = 6,
               seed: int = 0) -> Path:
    """Text-only sessions: a segments CSV per session, one sentence per row with its valence
    (+-0.6 by sentiment) and arousal (+-0.6 by the appended clause)."""
    declaration(folder, "continuous", dimensions=["valence", "arousal"])
    (folder / "segments").mkdir(exist_ok=True)
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(speakers):
        split = speaker_split(k, speakers)
        for s in range(sessions_per_speaker):
            session_id = f"writer{k + 1}_s{s + 1}"
            positive, aroused = rng.integers(2, size=sentences).astype(bool), rng.integers(2, size=sentences)
            table = pd.DataFrame({
                "text": [f"{(POSITIVE if p else NEGATIVE)[rng.integers(3)]} {(AROUSING if a else CALM)[rng.integers(3)]}"
                         for p, a in zip(positive, aroused)],
                "valence": np.where(positive, 0.6, -0.6), "arousal": np.where(aroused, 0.6, -0.6)})
            table.to_csv(folder / "segments" / f"{session_id}.csv", index=False)
            rows.append({"id": session_id, "speaker": f"writer{k + 1}", "split": split,
                         "segments": f"segments/{session_id}.csv"})
    pd.DataFrame(rows).to_csv(folder / "sessions.csv", index=False)
    return folder


if __name__ == "__main__":
    kinds = {"categorical": write_categorical, "continuous": write_continuous, "text": write_text}
    if len(sys.argv) != 3 or sys.argv[1] not in kinds:
        sys.exit("usage: python -m synthetic.manifest_example categorical|continuous|text FOLDER")
    print(kinds[sys.argv[1]](Path(sys.argv[2])))
