"""One synthetic session, written in the normalised corpus layout.

A session is a short spoken story: latent state -> words -> speech -> face video ->
annotator ratings -> segment labels. Files (relative to the session folder):
audio.wav, video.mp4, transcript.txt, words.csv, ratings.csv, gold.csv, latent.csv,
segments.csv.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from metrics.regression import leave_one_out_ccc
from synthetic.annotators import gold_standard, rate_track, sample_annotator
from synthetic.face_video import render_face_video
from synthetic.labels import SIX_EMOTIONS, four_class_label, six_emotion_intensities
from synthetic.latent import DIMENSIONS, LatentState, sample_latent_state
from synthetic.speech import SpeechTrack, Voice, prosody_for
from synthetic.story import compose_sentence, load_lexicon

CLAUSE_S = 1.4  # a clause ("and the room felt <word>") lasts about this long when spoken

# espeak-ng voice variants that stand in for different speakers
VOICES = ("en-us+m1", "en-us+f2", "en-gb+m3", "en-us+f4", "en-gb-x-rp+m5", "en-us+f1",
          "en-029+m2", "en-gb-scotland+f3")


@dataclass(frozen=True)
class SynthConfig:
    sample_rate: int
    rating_hz: float
    video_fps: float
    video_size: int
    annotators_min: int
    annotators_max: int
    latent_smoothing_s: float
    mood_sd: float
    word_valence_spread: float
    lexicon_max_rank: int
    noise_floor_db: float


@dataclass(frozen=True)
class SessionSpec:
    session_id: str
    speaker: str
    speaker_index: int
    split: str
    seconds: float
    seed: tuple[int, ...]  # entropy for np.random.SeedSequence: (corpus seed, session index)
    group: str | None = None  # the speaker's group (a label only: generation does not depend on it)


def speaker_voice(speaker_index: int) -> Voice:
    """Speakers beyond the voice list reuse a voice at another resting pitch."""
    rng = np.random.default_rng(speaker_index)
    cycle = speaker_index // len(VOICES)
    return Voice(VOICES[speaker_index % len(VOICES)], base_pitch=int(35 + 12 * cycle + rng.integers(0, 15)),
                 base_rate_wpm=int(rng.integers(150, 180)))


def speak_story(rng: np.random.Generator, latent: LatentState, voice: Voice, seconds: float,
                cfg: SynthConfig) -> tuple[np.ndarray, pd.DataFrame]:
    """Sentences until the session is full; returns audio and ground-truth word timings."""
    lexicon = load_lexicon(cfg.lexicon_max_rank)

    def prosody_at(t: float):
        return prosody_for(voice, latent.at("valence", t), latent.at("arousal", t))

    with SpeechTrack(seconds, cfg.sample_rate, voice) as track:
        t, sentence = float(rng.uniform(0.3, 0.8)), 0
        while True:
            words = compose_sentence(rng, lexicon, lambda k: latent.at("valence", t + CLAUSE_S * k),
                                     cfg.word_valence_spread)
            gaps = rng.uniform(0.04, 0.12, size=len(words))
            end = track.place_sentence(words, t, sentence, prosody_at, gaps, latest_end=seconds - 0.3)
            if end is None:
                break
            t, sentence = end + float(rng.uniform(0.35, 0.8)), sentence + 1
        audio = track.finish(rng, cfg.noise_floor_db)
        timings = pd.DataFrame([vars(w) for w in track.words], columns=["word", "start", "end", "sentence"])
    if timings.empty:
        raise RuntimeError(f"session too short for a single sentence ({seconds} s)")
    return audio, timings


def mouth_opening(audio: np.ndarray, sample_rate: int, fps: float, n_frames: int) -> np.ndarray:
    """Speech envelope per video frame, in [0, 1] (RMS over the frame, relative to loud speech)."""
    hop = sample_rate / fps
    rms = np.array([np.sqrt(np.mean(audio[int(i * hop):int((i + 1) * hop)] ** 2) + 1e-12)
                    for i in range(n_frames)])
    return np.clip(rms / (np.percentile(rms, 95) + 1e-9), 0.0, 1.0)


def segment_table(timings: pd.DataFrame, latent: LatentState) -> pd.DataFrame:
    rows = []
    for sentence, words in timings.groupby("sentence", sort=True):
        start, end = float(words.start.min()), float(words.end.max())
        valence = latent.mean_between("valence", start, end)
        arousal = latent.mean_between("arousal", start, end)
        rows.append({"segment": int(sentence), "start": start, "end": end, "text": " ".join(words.word),
                     **six_emotion_intensities(valence, arousal), "class": four_class_label(valence, arousal)})
    return pd.DataFrame(rows, columns=["segment", "start", "end", "text", *SIX_EMOTIONS, "class"])


def generate_session(spec: SessionSpec, cfg: SynthConfig, root: Path) -> dict:
    """Writes the session under root/sessions/<id>/ and returns its manifest entry."""
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed))
    folder = root / "sessions" / spec.session_id
    folder.mkdir(parents=True, exist_ok=True)
    latent = sample_latent_state(rng, spec.seconds, cfg.rating_hz, cfg.latent_smoothing_s, cfg.mood_sd)

    audio, timings = speak_story(rng, latent, speaker_voice(spec.speaker_index), spec.seconds, cfg)
    sf.write(folder / "audio.wav", audio, cfg.sample_rate, subtype="PCM_16")
    timings.to_csv(folder / "words.csv", index=False, float_format="%.4f")
    sentences = timings.groupby("sentence", sort=True).word.apply(" ".join)
    (folder / "transcript.txt").write_text("\n".join(sentences) + "\n")

    n_frames = int(spec.seconds * cfg.video_fps)
    frame_times = np.arange(n_frames) / cfg.video_fps
    render_face_video(folder / "video.mp4", latent.at("valence", frame_times), latent.at("arousal", frame_times),
                      mouth_opening(audio, cfg.sample_rate, cfg.video_fps, n_frames), cfg.video_fps,
                      cfg.video_size)

    annotators = [sample_annotator(rng) for _ in range(int(rng.integers(cfg.annotators_min,
                                                                         cfg.annotators_max + 1)))]
    ratings = {dim: np.stack([rate_track(rng, a, getattr(latent, dim), cfg.rating_hz) for a in annotators])
               for dim in DIMENSIONS}  # dim -> (annotators, T)
    times = latent.times
    long_form = pd.concat([pd.DataFrame({"time": times, "annotator": k,
                                         **{dim: ratings[dim][k] for dim in DIMENSIONS}})
                           for k in range(len(annotators))])
    long_form.to_csv(folder / "ratings.csv", index=False, float_format="%.4f")
    pd.DataFrame({"time": times, **{dim: gold_standard(ratings[dim]) for dim in DIMENSIONS}}).to_csv(
        folder / "gold.csv", index=False, float_format="%.4f")
    pd.DataFrame({"time": times, **{dim: getattr(latent, dim) for dim in DIMENSIONS}}).to_csv(
        folder / "latent.csv", index=False, float_format="%.4f")
    segment_table(timings, latent).to_csv(folder / "segments.csv", index=False, float_format="%.4f")

    session_label = four_class_label(float(latent.valence.mean()), float(latent.arousal.mean()))
    rel = f"sessions/{spec.session_id}"
    return {
        "id": spec.session_id, "speaker": spec.speaker, "split": spec.split, "duration_s": spec.seconds,
        "audio": f"{rel}/audio.wav", "video": f"{rel}/video.mp4", "transcript": f"{rel}/transcript.txt",
        "reference_words": f"{rel}/words.csv", "ratings": f"{rel}/ratings.csv", "gold": f"{rel}/gold.csv",
        "latent": f"{rel}/latent.csv", "segments": f"{rel}/segments.csv", "class": session_label,
        **({"group": spec.group} if spec.group else {}), "annotators": len(annotators),
        "agreement_ccc": {dim: [float(c) for c in leave_one_out_ccc(ratings[dim])] for dim in DIMENSIONS},
    }
