"""Stage `corpus`: build the corpus named by the `corpus` param in the normalised layout.

Reads:  params `seed`, `corpus`, `corpora.<corpus>`, `synthetic`; corpora/<corpus>/ for a
        manifest corpus (see pipeline/manifest.py and the README)
Writes: data/corpus/manifest.json, data/corpus/sessions/<id>/...,
        reports/corpus.json (sessions, hours, splits, modalities, human-baseline CCC)
Run:    python -m pipeline.corpus   (or `dvc exp run -S corpus=<name>`)

`corpora.<name>.source` is `synthetic` (generated, see synthetic/) or `manifest` (a
researcher's recordings, validated as a whole before anything is written). Either way
data/corpus/manifest.json lists every session with its speaker, speaker-independent
split and the paths of its files, so every later stage is corpus-agnostic.
"""
import json
import logging
import os
from collections import Counter

import numpy as np

from features.worker_pool import map_sessions
from pipeline import layout
from pipeline.config import load_params, require, section, run_stage
from pipeline.ingest import ingest_session
from pipeline.manifest import in_repository, validate
from pipeline.params_check import check
from pipeline.sessions import SPLITS
from pipeline.text_only import WORD_S, is_text_only
from synthetic.latent import DIMENSIONS
from synthetic.session import SessionSpec, SynthConfig, generate_session
from synthetic.speech import require_espeak

log = logging.getLogger("corpus")


def speaker_splits(rng: np.random.Generator, n_speakers: int, split_speakers: dict) -> dict[str, str]:
    """Speaker-independent splits: each speaker's sessions all go to one split."""
    counts = [int(split_speakers.get(s, 0)) for s in SPLITS]
    require(sum(counts) == n_speakers and all(c >= 1 for c in counts),
            f"split_speakers {split_speakers} must give train/dev/test at least one speaker each "
            f"and add up to speakers={n_speakers}")
    order = rng.permutation(n_speakers)
    names = [f"spk{i + 1:02d}" for i in range(n_speakers)]
    bounds = np.cumsum(counts)
    return {names[idx]: SPLITS[int(np.searchsorted(bounds, rank, side="right"))]
            for rank, idx in enumerate(order)}


SYNTHETIC_GROUPS = ("culture_a", "culture_b")


def speaker_groups(splits: dict[str, str]) -> dict[str, str]:
    """Two speaker groups (say, two cultures) assigned after the splits, so the splits stay as
    they were: the speakers of train, then dev, then test, each split in name order, alternate
    between the groups. Every split with two or more speakers thus holds both groups, and
    the group sizes differ by at most one. The groups are labels only: the generator makes a
    speaker's sessions the same whatever their group."""
    order = [speaker for split in SPLITS for speaker in sorted(s for s in splits if splits[s] == split)]
    return {speaker: SYNTHETIC_GROUPS[rank % len(SYNTHETIC_GROUPS)] for rank, speaker in enumerate(order)}


def synthetic_specs(seed: int, spec: dict) -> list[SessionSpec]:
    rng = np.random.default_rng(seed)
    splits = speaker_splits(rng, int(spec["speakers"]), spec["split_speakers"])
    groups = speaker_groups(splits)
    sessions = []
    for speaker_index, speaker in enumerate(sorted(splits)):
        for k in range(int(spec["sessions_per_speaker"])):
            sessions.append(SessionSpec(f"{speaker}_s{k + 1:02d}", speaker, speaker_index, splits[speaker],
                                        float(spec["session_seconds"]), (seed, len(sessions)), groups[speaker]))
    return sessions


def build_sessions(build, jobs: dict[str, tuple], desc: str, workers: int) -> list[dict]:
    """build(*args) for every job, in parallel; manifest entries in job order. A failure
    stops the stage naming each failed job (its session)."""
    layout.CORPUS.mkdir(parents=True, exist_ok=True)
    return list(map_sessions(build, jobs, workers, desc).values())


def generate_corpus(specs: list[SessionSpec], cfg: SynthConfig, workers: int) -> list[dict]:
    require_espeak()
    return build_sessions(generate_session, {f"session {s.session_id}: generation failed": (s, cfg, layout.CORPUS)
                                             for s in specs}, "generating sessions", workers)


def human_baseline(entries: list[dict], dimensions: list[str]) -> dict:
    """Mean +- SD of each annotator's CCC against the mean of the others, per dimension and
    split; a dimension without two annotators anywhere has none."""
    report = {}
    for dim in dimensions:
        per_split = {}
        for split in ("all", *SPLITS):
            cccs = [c for e in entries if split in ("all", e["split"]) for c in e.get("agreement_ccc", {}).get(dim, [])]
            if cccs:
                per_split[split] = {"ccc_mean": round(float(np.mean(cccs)), 4), "ccc_sd": round(float(np.std(cccs)), 4)}
        if per_split:
            report[dim] = per_split
    return report


def corpus_report(name: str, source: str, entries: list[dict], dimensions: list[str], modalities: list[str]) -> dict:
    def summary(group: list[dict]) -> dict:
        return {"sessions": len(group), "speakers": len({e["speaker"] for e in group}),
                "hours": round(sum(e["duration_s"] for e in group) / 3600, 4)}

    report = {"corpus": name, "source": source, **summary(entries), "modalities": modalities,
              "splits": {s: summary([e for e in entries if e["split"] == s]) for s in SPLITS},
              "human_baseline": human_baseline(entries, dimensions)}
    if any("class" in e for e in entries):
        report["classes"] = {s: dict(sorted(Counter(e["class"] for e in entries if e["split"] == s).items()))
                             for s in SPLITS}
    if any(e.get("group") is not None for e in entries):  # speaker groups (e.g. cultures): sessions, speakers
        names = sorted({e["group"] for e in entries if e.get("group") is not None})
        report["groups"] = {s: {g: summary([e for e in entries if e.get("group") == g and s in ("all", e["split"])])
                                for g in names} for s in ("all", *SPLITS)}
    return report


def write_corpus(manifest: dict) -> None:
    (layout.CORPUS / "manifest.json").write_text(json.dumps(manifest, indent=1))
    layout.REPORTS.mkdir(exist_ok=True)
    report = corpus_report(manifest["corpus"], manifest["source"], manifest["sessions"], manifest["dimensions"],
                           manifest["modalities"])
    layout.CORPUS_REPORT.write_text(json.dumps(report, indent=2) + "\n")
    log.info("wrote %s: %d sessions, %.2f h, modalities %s", layout.CORPUS_REPORT, report["sessions"],
             report["hours"], ", ".join(manifest["modalities"]))


def manifest_corpus(name: str, spec: dict, workers: int) -> dict:
    """Validates corpora/<name>/ completely (again: the stage may run without `validate`),
    then converts its sessions (in parallel)."""
    valid = validate(name, spec)
    sample_rate, video_fps = int(spec.get("sample_rate", 16000)), float(spec.get("video_fps", 25))
    word_s = float(spec.get("text_word_s", WORD_S))
    entries = build_sessions(ingest_session, {f"session {s.id} (row {s.row})": (s, valid, layout.CORPUS, sample_rate,
                                                                              video_fps, word_s)
                                              for s in valid.sessions}, "ingesting sessions", workers)
    declaration = valid.declaration
    text = "words" in valid.modalities or is_text_only(valid.modalities)  # text only: segments' text or transcript
    modalities = [m for m in ("audio", "video", "transcript", "openface") if m in valid.modalities or
                  (m == "transcript" and text)]
    return {"corpus": name, "source": "manifest", "manifest": in_repository(declaration.sessions_file),
            "task": declaration.task, "classes": declaration.classes, "sample_rate": sample_rate,
            "video_fps": video_fps, "dimensions": declaration.dimensions, "modalities": modalities,
            "sessions": entries}


def main() -> None:
    params = load_params()
    check(params, "seed", "corpus")  # before anything is read or written; the corpus's name first,
    name = section(params, "corpus")
    check(params, f"corpora.{name}")  # then its entry,
    spec = section(params, f"corpora.{name}")
    source = spec.get("source")
    if source == "synthetic":
        check(params, "synthetic")  # then the generator's settings, which only it reads
    if source == "manifest":
        write_corpus(manifest_corpus(name, spec, int(spec.get("workers", 2))))
        return
    synth = section(params, "synthetic")
    cfg = SynthConfig(**{k: synth[k] for k in SynthConfig.__dataclass_fields__})
    workers = int(synth.get("workers", 0)) or os.cpu_count() or 1
    specs = synthetic_specs(int(section(params, "seed")), spec)
    log.info("generating corpus %r: %d sessions of %.0f s with %d workers", name, len(specs),
             float(spec["session_seconds"]), workers)
    entries = generate_corpus(specs, cfg, workers)
    write_corpus({"corpus": name, "source": source, "task": "continuous", "classes": [],
                  "sample_rate": cfg.sample_rate, "rating_hz": cfg.rating_hz, "video_fps": cfg.video_fps,
                  "dimensions": list(DIMENSIONS), "modalities": ["audio", "video", "transcript"], "sessions": entries})


if __name__ == "__main__":
    run_stage(main)
