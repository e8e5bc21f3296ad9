"""The report's table of each run beside its k-fold twin (pipeline/protocol_table.py)."""
from pipeline.protocol_table import protocol_table, twins


def fold_metrics(run: str, pooled: float, mean: float, sd: float) -> dict:
    return {"run": run, "model": "svm", "task": "categorical", "features": ["egemaps_sentences"],
            "class": {"wa": pooled, "ua": pooled - 0.1}, "protocol": {"folds": 4},
            "fold_mean": {"class": {"wa": mean, "ua": mean - 0.1}}, "fold_sd": {"class": {"wa": sd, "ua": sd}}}


BENCHMARK = {
    "svm_class": {"model": "svm", "unit": "sentences", "task": "categorical"},
    "svm_class_folds": {"model": "svm", "unit": "sentences", "task": "categorical", "folds": 4},
    "svm_class_folds_mfcc": {"model": "svm", "unit": "sentences", "task": "categorical", "features": ["mfcc"], "folds": 4},
    "xu": {"model": "xu_text", "folds": 0},  # folds 0: the corpus split, although the model's default is k-fold
    "xu_folds": {"model": "xu_text", "folds": 4},
    "xu_default": {"model": "xu_text"},  # k-fold from the model's own `folds`
}
SPLIT = {"run": "svm_class", "model": "svm", "task": "categorical", "features": ["egemaps_sentences"],
         "class": {"wa": 0.5, "ua": 0.4}}


def test_twins_are_entries_equal_but_for_folds_one_per_protocol():
    metrics = {"svm_class": SPLIT, "svm_class_folds": fold_metrics("svm_class_folds", 0.6, 0.55, 0.05),
               "svm_class_folds_mfcc": fold_metrics("svm_class_folds_mfcc", 0.3, 0.3, 0.1),
               "xu": {**SPLIT, "run": "xu"}, "xu_folds": fold_metrics("xu_folds", 0.7, 0.7, 0.0),
               "xu_default": fold_metrics("xu_default", 0.7, 0.7, 0.0)}
    # the mfcc run differs in features; xu_default's entry lacks `folds` but trained with k folds
    assert twins(BENCHMARK, metrics) == [("svm_class", "svm_class_folds"), ("xu", "xu_folds"), ("xu", "xu_default")]
    assert twins(BENCHMARK, {**metrics, "xu": {**metrics["xu"], "skipped": "no text"}}) == [
        ("svm_class", "svm_class_folds")]


def test_each_headline_score_under_both_protocols():
    runs = [SPLIT, fold_metrics("svm_class_folds", 0.6, 0.55, 0.05)]
    lines = protocol_table(BENCHMARK, runs)
    rows = [line for line in lines if line.startswith("| svm_class |")]
    assert rows == ["| svm_class | svm_class_folds (4 folds) | svm | egemaps_sentences | class.wa | 0.500 | 0.600 | "
                    "0.550 +- 0.050 |",
                    "| svm_class | svm_class_folds (4 folds) | svm | egemaps_sentences | class.ua | 0.400 | 0.500 | "
                    "0.450 +- 0.050 |"]
    assert protocol_table(BENCHMARK, [SPLIT]) == []  # no twin: no section
