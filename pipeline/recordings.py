"""New recordings for `predict` (pipeline/predict.py): found on the command line or in a folder,
checked against what a run reads, and written into a workspace's corpus layout the way the
`corpus` and `align` stages write a session.

A recording is an audio file with, as the run needs them, a video (or an OpenFace CSV), a
transcript (or word timings) and segments. In a folder, a recording's other files share the
audio file's stem: `talk.wav` with `talk.mp4`, `talk.txt`, `talk.words.csv` (word, start, end),
`talk.segments.csv` (start, end) and `talk.openface.csv`.
"""
import logging
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile

from alignment.text import normalise_transcript
from features.audio_io import load_audio
from features.session_words import SENTENCE_GAP_S, word_sentences
from pipeline import layout
from pipeline.align import COLUMNS as ALIGNED_COLUMNS, align_session
from pipeline.ingest import convert_audio, convert_video
from pipeline.media_probe import audio_duration, probe_video, video_duration
from pipeline.recognise import recognise_session
from pipeline.sessions import Session
from pipeline.units import segment_table
from pipeline.voice_activity import voice_segments
from pipeline.window import assign_words

log = logging.getLogger("recordings")
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".m4a")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm")
AV_TOLERANCE_S = 1.0  # audio and video may differ in length by this much (the manifest's default)
# the files an extractor input needs (pipeline/feature_cache.py's kinds), as predict's options name them
NEEDS = {"video": ("video",), "openface": ("openface",), "face_frames": ("video", "openface"),
         "alignment": ("transcript", "words")}


@dataclass(frozen=True)
class Recording:
    id: str
    audio: Path
    video: Path | None = None
    openface: Path | None = None
    transcript: Path | None = None
    words: Path | None = None  # word, start, end: timings instead of forced alignment
    segments: Path | None = None  # start, end: the units of a run on segments

    def given(self) -> list[str]:
        return ["audio", *(kind for kind in COMPANIONS if getattr(self, kind) is not None)]


COMPANIONS = ("video", "openface", "transcript", "words", "segments")  # a recording's files beside its audio


def recording_id(path: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", path.stem)


def in_folder(folder: Path) -> list[Recording]:
    """Every audio file of `folder` with its same-stem companions."""
    audio = sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    if not audio:
        raise FileNotFoundError(f"{folder} holds no audio file ({', '.join(AUDIO_SUFFIXES)})")

    def companion(path: Path, *suffixes: str) -> Path | None:
        return next((path.with_name(path.stem + s) for s in suffixes if path.with_name(path.stem + s).exists()), None)

    recordings = [Recording(recording_id(p), p, companion(p, *VIDEO_SUFFIXES), companion(p, ".openface.csv"),
                            companion(p, ".txt"), companion(p, ".words.csv"), companion(p, ".segments.csv"))
                  for p in audio]
    ids = [r.id for r in recordings]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{folder}: several audio files share a name: {sorted({i for i in ids if ids.count(i) > 1})}")
    return recordings


def missing_inputs(recording: Recording, stage_inputs: dict[str, tuple[str, ...]]) -> list[str]:
    """What the run needs that this recording lacks (stage_inputs: feature stage -> its extractor's
    inputs; a stage runs on any one of the files its inputs can come from, as the feature stages
    run on a corpus with any of them: face on a video or an OpenFace CSV)."""
    lacking: dict[tuple[str, ...], list[str]] = {}
    for stage, kinds in stage_inputs.items():
        options = tuple(dict.fromkeys(o for kind in kinds for o in NEEDS.get(kind, ())))
        if options and not any(getattr(recording, o) for o in options):
            lacking.setdefault(options, []).append(stage)
    problems = [f"{' or '.join('--' + o for o in options)} (read by features {', '.join(stages)})"
                for options, stages in lacking.items()]
    return problems


def ingest(recording: Recording, sample_rate: int, video_fps: float, reencode: bool) -> Session:
    """The recording as a session of the workspace's data/corpus, as the corpus stage makes one:
    audio at the run's rate; a video re-encoded by ffmpeg at the run's frame rate (`reencode`:
    always, as for a manifest corpus; else only when not at it, as the generated corpus's videos
    are written at it), its length checked against the audio's."""
    folder = (layout.CORPUS / "sessions" / recording.id).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    files = {"audio": "audio.wav"}
    try:
        convert_audio(recording.audio, folder / "audio.wav", sample_rate)
    except Exception as err:  # soundfile raises several types for unreadable files
        raise ValueError(f"recording {recording.id}: cannot read audio {recording.audio}: {err}") from err
    duration = round(audio_duration(folder / "audio.wav"), 4)  # as the manifest records it
    if recording.video:
        try:
            fps = probe_video(recording.video).fps
            if not reencode and abs(fps - video_fps) < 1e-3:
                shutil.copyfile(recording.video, folder / "video.mp4")
            else:
                convert_video(recording.video, folder / "video.mp4", video_fps)
            video_s = video_duration(folder / "video.mp4")
        except (ValueError, RuntimeError) as err:
            raise ValueError(f"recording {recording.id}: video {recording.video}: {err}") from err
        if abs(video_s - duration) > AV_TOLERANCE_S:
            raise ValueError(f"recording {recording.id}: audio {recording.audio} lasts {duration:.2f} s but video "
                             f"{recording.video} {video_s:.2f} s (more than {AV_TOLERANCE_S} s apart)")
        files["video"] = "video.mp4"
    for kind in COMPANIONS[1:]:  # found in a folder, or checked when given (pipeline/predict.py)
        if source := getattr(recording, kind):
            shutil.copyfile(source, folder / f"{kind}{''.join(source.suffixes[-1:])}")
            files[kind] = f"{kind}{''.join(source.suffixes[-1:])}"
    return Session(recording.id, "unknown", "test", duration, {k: f"sessions/{recording.id}/{v}" for k, v in files.items()},
                   layout.CORPUS.resolve())


def write_words(session: Session, align_cfg: dict, recognise_cfg: dict | None) -> pd.DataFrame:
    """data/alignment/<id>.csv as the align stage writes it (the transcript force-aligned, the
    given timings, or no words), and data/recognised/<id>.csv when a stage reads ASR words."""
    layout.ALIGNMENT.mkdir(parents=True, exist_ok=True)
    if session.files.get("transcript") or session.files.get("words"):
        words = align_session(session, align_cfg)
    else:
        words = pd.DataFrame(columns=ALIGNED_COLUMNS)
    words.to_csv(layout.ALIGNMENT / f"{session.id}.csv", index=False)
    if recognise_cfg is not None:
        layout.RECOGNISED.mkdir(parents=True, exist_ok=True)
        recognise_session(session, recognise_cfg).to_csv(layout.RECOGNISED / f"{session.id}.csv", index=False,
                                                         float_format="%.2f")  # as the recognise stage writes
    return pd.read_csv(layout.ALIGNMENT / f"{session.id}.csv", keep_default_na=False, dtype={"word": str})


def transcript_sentences(session: Session, words: pd.DataFrame) -> np.ndarray:
    """(S, 2) start and end of each sentence: the transcript's (ended by . ! ? or a line break)
    when it has several and they account for every aligned word; else the words cut at pauses
    longer than SENTENCE_GAP_S, the project's sentences where no segments file says."""
    spans = words[["start", "end"]].to_numpy(float).reshape(-1, 2)
    if not len(spans):
        raise ValueError(f"recording {session.id}: no words to make sentences of; give --segments")
    counts = []
    if session.files.get("transcript"):
        pieces = re.split(r"(?<=[.!?])\s+|\n+", session.path("transcript").read_text())
        counts = [n for n in (len(normalise_transcript(p)) for p in pieces) if n]
    if len(counts) > 1 and sum(counts) == len(spans):
        sentence = np.repeat(np.arange(len(counts)), counts)
    else:
        sentence = word_sentences(session, spans, SENTENCE_GAP_S)
    return np.array([[spans[sentence == k, 0].min(), spans[sentence == k, 1].max()] for k in np.unique(sentence)])


def segment_units(session: Session, words: pd.DataFrame) -> pd.DataFrame:
    """The recording's segments as units: its segments file, else its transcript's sentences,
    else (no words at all) its voice-activity segments (pipeline/voice_activity.py)."""
    if session.files.get("segments"):
        bounds = segment_table(session)[["start", "end"]].to_numpy(float)  # checked as the units stage checks it
    elif session.files.get("transcript") or session.files.get("words"):
        bounds = transcript_sentences(session, words)  # no aligned word: an error, not a silent fallback
    else:
        rate = int(soundfile.info(session.path("audio")).samplerate)
        bounds = voice_segments(load_audio(session, rate), rate, session.id)  # silent audio: an error naming it
        log.info("recording %s: %d voice-activity segments (no segments file, no transcript)", session.id,
                 len(bounds))
    first, last = assign_words(words, bounds[:, 0], bounds[:, 1])
    return pd.DataFrame({"session": session.id, "split": session.split, "index": np.arange(len(bounds)),
                         "start": bounds[:, 0], "end": bounds[:, 1], "word_first": first, "word_last": last})
