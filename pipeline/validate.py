"""Stage `validate`: check the corpus named by `corpus` before the `corpus` stage runs.

DVC deletes a stage's outputs before running it, so a bad manifest found by `corpus`
itself would cost the last good data/corpus and reports/corpus.json. Found here, DVC
stops before `corpus`, and they stay.

Reads:  params `seed`, `corpus`, `corpora.<corpus>`, `synthetic`; corpora/<corpus>/ (a
        manifest corpus: corpus.yaml, sessions.csv and every file it names)
Writes: data/validated.json: the sessions as validated (id, speaker, split, duration),
        a function of those inputs only (no timings, no paths): when this stage re-runs
        on unchanged inputs, `corpus`, which depends on it, does not
Run:    python -m pipeline.validate
"""
import json
import logging

from pipeline import layout
from pipeline.config import load_params, require, run_stage, section
from pipeline.manifest import validate
from pipeline.params_check import SOURCES  # corpora.<name>.source

log = logging.getLogger("validate")
SYNTHETIC_SIZES = ("speakers", "sessions_per_speaker", "session_seconds")


def check_synthetic(params: dict, name: str, spec: dict) -> list[dict]:
    # imported here: the generator pulls in scipy.signal and OpenCV (seconds), which a
    # manifest corpus's validation does not need
    from pipeline.corpus import synthetic_specs
    from synthetic.session import SynthConfig

    for key in SYNTHETIC_SIZES:
        value = spec.get(key)
        require(isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0,
                f"corpora.{name}.{key} must be a positive number (got {value!r})")
    missing = [key for key in SynthConfig.__dataclass_fields__ if key not in section(params, "synthetic")]
    require(not missing, f"synthetic lacks {missing} (the generator's settings)")
    specs = synthetic_specs(int(section(params, "seed")), spec)  # checks split_speakers
    return [{"id": s.session_id, "speaker": s.speaker, "split": s.split, "duration_s": s.seconds} for s in specs]


def check_manifest(name: str, spec: dict) -> list[dict]:
    return [{"id": s.id, "speaker": s.speaker, "split": s.split, "duration_s": round(s.duration_s, 4), "row": s.row}
            for s in validate(name, spec).sessions]


def check_corpus(params: dict) -> dict:
    name = section(params, "corpus")
    spec = section(params, f"corpora.{name}")
    source = spec.get("source")
    require(source in SOURCES, f"corpora.{name}.source must be one of {SOURCES} (got {source!r})")
    sessions = check_manifest(name, spec) if source == "manifest" else check_synthetic(params, name, spec)
    return {"corpus": name, "source": source, "sessions": sessions}


def check(params: dict) -> dict:
    """Every check that must pass before the pipeline does any work; returns what
    data/validated.json records. Raises naming the problem (ParamsError, ManifestError)."""
    # the params themselves are checked by the stage before this one (pipeline/params_check.py),
    # which re-runs on any params change; this one re-runs only when the corpus's inputs change,
    # so a manifest corpus's media are not decoded again after, say, a learning-rate change
    return check_corpus(params)


def main() -> None:
    summary = check(load_params())
    layout.VALIDATED.parent.mkdir(parents=True, exist_ok=True)
    layout.VALIDATED.write_text(json.dumps(summary, indent=1) + "\n")
    log.info("corpus %r (%s) is valid: %d sessions", summary["corpus"], summary["source"], len(summary["sessions"]))


if __name__ == "__main__":
    run_stage(main)
