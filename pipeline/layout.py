"""Where each stage writes: the paths dvc.yaml declares and other tools read."""
from pathlib import Path

DATA = Path("data")
PARAMS_CHECKED = DATA / "params_checked.json"  # written once params.yaml passes pipeline/params_check.py
VALIDATED = DATA / "validated.json"  # the corpus as the `validate` stage passed it
CORPUS = DATA / "corpus"  # manifest.json + sessions/<id>/...
ALIGNMENT = DATA / "alignment"  # <session>.csv: word, start, end, pronunciation, score
RECOGNISED = DATA / "recognised"  # <session>.csv: word, start, end (speech recognition, pipeline/recognise.py)
WINDOWS = DATA / "windows"  # windows.csv + task.json: the default unit (the `window` stage)
UNITS = DATA / "units"  # <unit spec>/windows.csv + task.json (stages units@<name>)
DEFAULT_UNIT = "windows"  # the unit a model reads when its spec names none
FEATURES = DATA / "features"  # <extractor>/<session>.npy + meta.json
FEATURE_DEMAND = DATA / "feature_demand"  # <key>.json: whether features@<key> computes (pipeline/feature_demand.py)
TRAIN = DATA / "train"  # model.pt + history.csv
PRETRAIN = DATA / "pretrain"  # <run>/model.pt: runs other models start from (pipeline/pretrain.py)
REPORTS = Path("reports")
CORPUS_REPORT = REPORTS / "corpus.json"
METRICS = REPORTS / "metrics.json"
ALIGNMENT_REPORT = REPORTS / "alignment.json"
RECOGNITION_REPORT = REPORTS / "recognition.json"
FEATURES_REPORT = REPORTS / "features.json"
REPORT_PLOTS = REPORTS / "plots" / "report"  # the figures the report stage draws for reports/report.md


def feature_demand_file(key: str) -> Path:
    """Whether the stage features@<key> computes (pipeline/feature_demand.py writes it)."""
    return FEATURE_DEMAND / f"{key}.json"


def unit_dir(unit: str | None) -> Path:
    """The folder of a unit spec's windows.csv and task.json (the window stage's for the default)."""
    return WINDOWS if unit in (None, DEFAULT_UNIT) else UNITS / unit
