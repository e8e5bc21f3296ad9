"""Stage `recognise`: the words a speech recogniser hears, without the transcript (Xu et al.'s
"ASR text"), and their word error rate against the transcript's words.

Reads:  data/corpus (audio), data/alignment (the reference words: the normalised transcript,
        or the corpus's own word timings); params `recognise`
Writes: data/recognised/<session>.csv (word, start, end) and reports/recognition.json (WER
        over all sessions and per split, with substitutions, deletions, insertions and the
        reference word count: a function of the inputs only); data/run_log/recognise.json
        (not a DVC output): seconds and x real time
Run:    python -m pipeline.recognise   (or `dvc repro recognise`)

The recogniser is pocketsphinx with its own packaged en-us acoustic model, language model and
dictionary (alignment/recogniser.py): offline, and far weaker than the Google recogniser
the paper used (14.7 % WER on IEMOCAP); on the synthetic corpus's espeak-ng-like speech
expect a much higher WER. Recognition is off by default (`recognise.enabled: false`: it
costs several minutes on 2 cores, and only the ASR-text runs read it); the stage then
writes an empty word list per session and a report saying it was skipped, and a feature
stage reading recognised words is skipped with that reason. A text feature stage reads the
recognised words with `config: {words: recognised}` (params `unit_features`, e.g.
`glove_sentences_asr`).
"""
import json
import logging
import time

import numpy as np
import pandas as pd

from alignment.recogniser import Recogniser, WordErrors, word_errors
from features.audio_io import load_audio
from features.session_words import aligned_words
from features.worker_pool import map_sessions
from pipeline import layout
from pipeline.config import load_params, run_stage, section
from pipeline.params_check import check
from pipeline.scratch import write_run_log
from pipeline.sessions import Session, load_corpus

log = logging.getLogger("recognise")
COLUMNS = ["word", "start", "end"]
_recogniser: Recogniser | None = None  # one per worker process: loading the models takes a while


def recognise_session(session: Session, cfg: dict) -> pd.DataFrame:
    global _recogniser
    if _recogniser is None:
        _recogniser = Recogniser(int(cfg["sample_rate"]), float(cfg["chunk_s"]))
    pcm = (np.clip(load_audio(session, int(cfg["sample_rate"])), -1, 1) * 32767).astype(np.int16)
    try:
        words = _recogniser.recognise(pcm)
    except RuntimeError as err:
        raise RuntimeError(f"session {session.id}: recognising {session.path('audio')} failed: {err}") from err
    return pd.DataFrame([vars(w) for w in words], columns=COLUMNS)


def recognition_report(results: dict[str, pd.DataFrame], sessions: list[Session]) -> dict:
    """WER of every session's recognised words against its reference words, pooled overall and per split."""
    errors: dict[str, WordErrors] = {}
    for session in sessions:
        found = word_errors(list(aligned_words(session).word.str.lower()), list(results[session.id].word))
        errors[session.split] = errors.get(session.split, WordErrors(0, 0, 0, 0)) + found
    total = sum(errors.values(), WordErrors(0, 0, 0, 0))

    def described(e: WordErrors) -> dict:
        return {"wer": round(e.wer, 4) if e.reference_words else None, **{k: getattr(e, k) for k in ("substitutions", "deletions", "insertions",
                                                                        "reference_words")}}

    return {"recogniser": "pocketsphinx en-us (its own acoustic model, language model and dictionary)",
            "sessions": len(sessions), "recognised_words": int(sum(len(t) for t in results.values())),
            **described(total), "splits": {split: described(e) for split, e in sorted(errors.items())}}


def main() -> None:
    params = load_params()
    check(params, "recognise")
    cfg = section(params, "recognise")
    corpus = load_corpus()
    out = layout.RECOGNISED
    out.mkdir(parents=True, exist_ok=True)
    reason = corpus.lacks("audio") or (None if cfg["enabled"] else "recognise.enabled is false (params.yaml)")
    if reason:
        for session in corpus.sessions:
            pd.DataFrame(columns=COLUMNS).to_csv(out / f"{session.id}.csv", index=False)
        layout.RECOGNITION_REPORT.parent.mkdir(exist_ok=True)
        layout.RECOGNITION_REPORT.write_text(json.dumps({"skipped": reason, "sessions": len(corpus.sessions)},
                                                        indent=2) + "\n")
        log.warning("recognise skipped: %s", reason)
        return
    began = time.perf_counter()
    results = map_sessions(recognise_session, {s.id: (s, cfg) for s in corpus.sessions}, int(cfg["workers"]),
                           "recognise", errors=(RuntimeError, ValueError, FileNotFoundError))
    for session_id, table in results.items():
        table.to_csv(out / f"{session_id}.csv", index=False, float_format="%.2f")
    report = recognition_report(results, corpus.sessions)
    layout.RECOGNITION_REPORT.write_text(json.dumps(report, indent=2) + "\n")
    seconds = time.perf_counter() - began
    x_realtime = round(sum(s.duration_s for s in corpus.sessions) / seconds, 2)
    write_run_log("recognise", seconds=round(seconds, 2), x_realtime=x_realtime, sessions=len(corpus.sessions),
                  workers=int(cfg["workers"]))
    log.info("recognised %d words in %d sessions: WER %.3f against the transcripts, %.1fx real time",
             report["recognised_words"], report["sessions"], report["wer"], x_realtime)


if __name__ == "__main__":
    run_stage(main)
