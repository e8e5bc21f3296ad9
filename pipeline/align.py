"""Stage `align`: word start/end times for every session's transcript.

Reads:  data/corpus (audio + transcript, or word timings the corpus already has);
        params `align`
Writes: data/alignment/<session>.csv (word, start, end, pronunciation, score) and
        reports/alignment.json (median/p95 absolute boundary error against reference
        timings where the corpus has them, words, OOV rate: a function of the inputs only);
        data/run_log/align.json (not a DVC output): seconds and x real time of this run
Run:    python -m pipeline.align   (or `dvc repro align`)

Transcripts are normalised (alignment/text.py) and force-aligned with pocketsphinx;
words missing from its dictionary are pronounced by espeak-ng (pronunciation "g2p"),
and their share is the reported `oov_rate`. Sessions whose corpus gives word timings
are not aligned (pronunciation "given"). A session with an empty transcript gets an
empty word list and is listed under `empty_transcripts`; a session that cannot be
aligned stops the stage with its id and file. A corpus without transcripts gets empty
word lists and a report that says the stage was skipped.
"""
import json
import logging
import time

import numpy as np
import pandas as pd

from alignment.aligner import Aligner
from alignment.text import normalise_transcript
from features.audio_io import load_audio
from features.worker_pool import map_sessions
from pipeline import layout
from pipeline.config import load_params, run_stage, section
from pipeline.params_check import check
from pipeline.scratch import write_run_log
from pipeline.sessions import Session, load_corpus

log = logging.getLogger("align")
COLUMNS = ["word", "start", "end", "pronunciation", "score"]
_aligner: Aligner | None = None  # one per worker process: loading the model takes a while


def align_session(session: Session, cfg: dict) -> pd.DataFrame:
    global _aligner
    if session.files.get("words"):
        given = pd.read_csv(session.path("words"))
        return given.assign(pronunciation="given", score=np.nan)[COLUMNS]
    words = normalise_transcript(session.path("transcript").read_text())
    if not words:
        return pd.DataFrame(columns=COLUMNS)
    if _aligner is None:
        _aligner = Aligner(int(cfg["sample_rate"]), float(cfg["chunk_s"]))
    pcm = (np.clip(load_audio(session, int(cfg["sample_rate"])), -1, 1) * 32767).astype(np.int16)
    try:
        aligned = _aligner.align(pcm, words)
    except RuntimeError as err:
        raise RuntimeError(f"session {session.id}: aligning {session.path('transcript')} "
                           f"to {session.path('audio')} failed: {err}") from err
    return pd.DataFrame([vars(w) for w in aligned], columns=COLUMNS)


def boundary_errors(aligned: pd.DataFrame, reference: pd.DataFrame) -> np.ndarray | None:
    """|start - ref start| and |end - ref end| per word, or None if the word lists differ."""
    if list(aligned.word) != [w.lower() for w in reference.word]:
        return None
    return np.abs(np.r_[aligned.start.to_numpy() - reference.start.to_numpy(),
                        aligned.end.to_numpy() - reference.end.to_numpy()])


def alignment_report(results: dict[str, pd.DataFrame], sessions: list[Session]) -> dict:
    errors, scored = [], 0
    for session in sessions:
        if session.files.get("reference_words") and len(results[session.id]):
            e = boundary_errors(results[session.id], pd.read_csv(session.path("reference_words")))
            if e is not None:
                errors.append(e)
                scored += 1
    words = pd.concat(results.values())
    errors = np.concatenate(errors) if errors else np.empty(0)
    return {
        "sessions": len(sessions), "sessions_scored": scored, "words": int(len(words)),
        "median_abs_error_s": round(float(np.median(errors)), 4) if errors.size else None,
        "p95_abs_error_s": round(float(np.percentile(errors, 95)), 4) if errors.size else None,
        "oov_rate": round(float((words.pronunciation == "g2p").mean()), 4) if len(words) else 0.0,
        "oov_words": sorted(set(words.word[words.pronunciation == "g2p"])),
        "given_timings_sessions": sorted(s.id for s in sessions if s.files.get("words")),
        "empty_transcripts": sorted(sid for sid, table in results.items() if table.empty),
    }


def main() -> None:
    params = load_params()
    check(params, "align")
    cfg = section(params, "align")
    corpus = load_corpus()
    out = layout.ALIGNMENT
    out.mkdir(parents=True, exist_ok=True)
    if reason := corpus.lacks("transcript"):
        # later stages read a (here empty) word list per session; text models refuse to train
        for session in corpus.sessions:
            pd.DataFrame(columns=COLUMNS).to_csv(out / f"{session.id}.csv", index=False)
        layout.REPORTS.mkdir(exist_ok=True)
        layout.ALIGNMENT_REPORT.write_text(json.dumps({"skipped": reason, "sessions": len(corpus.sessions)},
                                                      indent=2) + "\n")
        log.warning("align skipped: %s", reason)
        return
    began = time.perf_counter()
    # failures the aligner reports (no speech, unknown words, a missing file) are listed per session
    results = map_sessions(align_session, {s.id: (s, cfg) for s in corpus.sessions}, int(cfg["workers"]), "align",
                           errors=(RuntimeError, ValueError, FileNotFoundError))
    for session_id, table in results.items():
        table.to_csv(out / f"{session_id}.csv", index=False)
    report = alignment_report(results, corpus.sessions)
    layout.REPORTS.mkdir(exist_ok=True)
    layout.ALIGNMENT_REPORT.write_text(json.dumps(report, indent=2) + "\n")
    seconds = time.perf_counter() - began
    x_realtime = round(sum(s.duration_s for s in corpus.sessions) / seconds, 1)
    write_run_log("align", seconds=round(seconds, 2), x_realtime=x_realtime, sessions=len(corpus.sessions),
                  workers=int(cfg["workers"]))
    if report["empty_transcripts"]:
        log.warning("sessions with an empty transcript (no words): %s", ", ".join(report["empty_transcripts"]))
    log.info("aligned %d words in %d sessions: median error %s s, p95 %s s, OOV rate %.3f, %.1fx real time",
             report["words"], report["sessions"], report["median_abs_error_s"], report["p95_abs_error_s"],
             report["oov_rate"], x_realtime)


if __name__ == "__main__":
    run_stage(main)
