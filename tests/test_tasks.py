"""Tasks (training/tasks.py): each task's metrics against scikit-learn / scipy or hand values,
per-group metrics, the losses, and dev selection in both directions."""
import numpy as np
import pytest
import torch
from scipy.stats import pearsonr
from sklearn.metrics import (accuracy_score, balanced_accuracy_score, confusion_matrix, mean_absolute_error,
                             mean_squared_error, recall_score)

from metrics.groups import per_group
from metrics.intensity import binary_accuracy, four_class_accuracy, intensity_classes
from training.tasks import best_epoch, headline, improved, inverse_frequency_weights, make_task


def lin_ccc(x, y):
    """Lin's CCC from numpy's population moments."""
    return 2 * np.cov(x, y, bias=True)[0, 1] / (x.var() + y.var() + (x.mean() - y.mean()) ** 2)


@pytest.fixture
def tracks():
    rng = np.random.default_rng(0)
    gold = rng.normal(size=(60, 2))
    pred = 0.6 * gold + rng.normal(0.2, 0.5, size=(60, 2))
    return pred, gold, np.repeat(["s1", "s2", "s3"], 20)


def test_continuous_metrics_against_numpy_scipy_sklearn(tracks):
    pred, gold, units = tracks
    task = make_task("continuous", ["valence", "arousal"], "ccc")
    human = {"valence": {"test": {"ccc_mean": 0.41, "ccc_sd": 0.1}}}
    m = task.test_metrics(pred, gold, units, human)
    for j, target in enumerate(["valence", "arousal"]):
        p, g = pred[:, j], gold[:, j]
        per_session = [lin_ccc(p[units == s], g[units == s]) for s in ("s1", "s2", "s3")]
        assert m[target]["ccc"] == pytest.approx(lin_ccc(p, g), abs=1e-4)
        assert m[target]["pcc"] == pytest.approx(pearsonr(p, g)[0], abs=1e-4)
        assert m[target]["mse"] == pytest.approx(mean_squared_error(g, p), abs=1e-4)
        assert m[target]["ccc_session_mean"] == pytest.approx(np.mean(per_session), abs=1e-4)
        assert m[target]["ccc_session_std"] == pytest.approx(np.std(per_session), abs=1e-4)
    # the corpus's per-session human baseline sits beside ours; a dimension without one has none
    assert m["valence"]["human_baseline_ccc"] == 0.41 and "human_baseline_ccc" not in m["arousal"]
    dev = task.dev_scores(pred, gold)
    assert dev["dev_score"] == dev["dev_ccc_mean"] == pytest.approx(np.mean([lin_ccc(pred[:, j], gold[:, j])
                                                                              for j in range(2)]))
    assert task.maximise and task.n_outputs == 2


def test_continuous_losses():
    rng = np.random.default_rng(1)
    pred, gold = torch.tensor(rng.normal(size=(3, 20, 2))), torch.tensor(rng.normal(size=(3, 20, 2)))
    ccc_loss = make_task("continuous", ["a", "b"], "ccc").loss(pred, gold)
    # mean over chunks of the sum over targets of 1 - CCC over time
    expected = np.mean([sum(1 - lin_ccc(pred[b, :, k].numpy(), gold[b, :, k].numpy()) for k in range(2))
                        for b in range(3)])
    assert float(ccc_loss) == pytest.approx(expected, abs=1e-9)
    assert float(make_task("continuous", ["a", "b"], "mse").loss(pred, gold)) == pytest.approx(
        float(((pred - gold) ** 2).mean()))
    with pytest.raises(ValueError, match="loss"):
        make_task("continuous", ["a"], "mae")


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")  # class 3: predicted, never gold
def test_categorical_metrics_against_sklearn():
    rng = np.random.default_rng(2)
    gold = rng.integers(0, 3, 200)
    logits = rng.normal(size=(200, 4))
    logits[np.arange(200)[:120], gold[:120]] += 3  # better than chance; class 3 never in gold
    pred = logits.argmax(-1)
    task = make_task("categorical", ["class"], "ccc", ["angry", "happy", "neutral", "sad"])
    m = task.test_metrics(logits, gold[:, None].astype(np.float32), np.zeros(200))["class"]
    assert task.loss_name == "cross_entropy" and task.n_outputs == 4 and task.logits
    assert m["wa"] == pytest.approx(accuracy_score(gold, pred), abs=1e-4)
    assert m["ua"] == pytest.approx(balanced_accuracy_score(gold, pred), abs=1e-4)
    recalls = recall_score(gold, pred, labels=[0, 1, 2], average=None)
    assert [m["recall"][c] for c in ("angry", "happy", "neutral")] == pytest.approx(recalls, abs=1e-4)
    assert m["recall"]["sad"] is None and m["support"] == {"angry": (gold == 0).sum(), "happy": (gold == 1).sum(),
                                                           "neutral": (gold == 2).sum(), "sad": 0}
    assert m["confusion"]["counts"] == confusion_matrix(gold, pred, labels=range(4)).tolist()
    assert task.dev_scores(logits, gold[:, None])["dev_score"] == pytest.approx(balanced_accuracy_score(gold, pred))
    columns = task.prediction_columns(logits[:3], gold[:3, None])
    assert columns["class_pred"] == [task.classes[k] for k in pred[:3]]


def test_class_weights_off_by_default_and_equal_to_torch_weighted_cross_entropy():
    gold = np.array([0, 0, 0, 1, 2, 2])[:, None].astype(np.float32)  # train frequencies 3, 1, 2
    logits = torch.tensor(np.random.default_rng(3).normal(size=(1, 6, 3)))
    target = torch.tensor(gold[:, 0], dtype=torch.long)
    plain = make_task("categorical", ["class"], None, ["a", "b", "c"])
    plain.fit(gold)
    assert plain.weights is None
    assert float(plain.loss(logits, torch.tensor(gold)[None])) == pytest.approx(
        float(torch.nn.functional.cross_entropy(logits[0], target)))
    weighted = make_task("categorical", ["class"], None, ["a", "b", "c"], class_weights=True)
    weighted.fit(gold)
    by_hand = np.array([1 / 3, 1, 1 / 2]) * 3 / (1 / 3 + 1 + 1 / 2)  # 1/frequency, mean 1 over the classes
    np.testing.assert_allclose(weighted.weights, by_hand)
    assert float(weighted.loss(logits, torch.tensor(gold)[None])) == pytest.approx(
        float(torch.nn.functional.cross_entropy(logits[0], target, weight=torch.tensor(by_hand))))
    # class 1 absent from train: weight 0; the others 1/2 and 1/1, scaled to mean 1 over the two seen
    np.testing.assert_allclose(inverse_frequency_weights(np.array([0, 0, 2]), 3), [2 / 3, 0, 4 / 3])


def test_intensity_rounding_and_accuracies_by_hand():
    # rounding: 2.6 -> 3, 0.4 -> 0 (absent), 1.4 -> 1, -0.2 -> 0, 3.7 -> 3
    np.testing.assert_array_equal(intensity_classes(np.array([2.6, 0.4, 1.4, -0.2, 3.7, 0.6])), [3, 0, 1, 0, 3, 1])
    gold = np.array([3.0, 0.0, 1.0, 0.333, 2.0])  # classes 3, 0, 1, 0, 2
    pred = np.array([2.6, 0.4, 1.6, 0.7, 2.4])  # classes 3, 0, 2, 1, 2
    assert binary_accuracy(pred, gold) == pytest.approx(4 / 5)  # presence wrong only for 0.333 vs 0.7
    assert four_class_accuracy(pred, gold) == pytest.approx(3 / 5)  # 1 vs 2 and 0 vs 1 wrong


def test_intensity_task_metrics_against_sklearn_and_scipy():
    rng = np.random.default_rng(4)
    gold = np.round(rng.uniform(0, 3, size=(80, 3)) * 3) / 3
    pred = np.clip(gold + rng.normal(0, 0.6, size=gold.shape), 0, 3)
    task = make_task("intensity", ["happiness", "sadness", "anger"], "ccc")  # always MAE, like CE for classes
    assert task.loss_name == "mae" and not task.maximise
    m = task.test_metrics(pred, gold, np.zeros(80))
    for j, emotion in enumerate(["happiness", "sadness", "anger"]):
        g, p = np.clip(np.round(gold[:, j]), 0, 3), np.clip(np.round(pred[:, j]), 0, 3)
        assert m[emotion]["mae"] == pytest.approx(mean_absolute_error(gold[:, j], pred[:, j]), abs=1e-4)
        assert m[emotion]["pcc"] == pytest.approx(pearsonr(pred[:, j], gold[:, j])[0], abs=1e-4)
        assert m[emotion]["binary_acc"] == pytest.approx(accuracy_score(g > 0, p > 0), abs=1e-4)
        assert m[emotion]["four_class_acc"] == pytest.approx(accuracy_score(g, p), abs=1e-4)
    assert m["overall"]["mae"] == pytest.approx(mean_absolute_error(gold, pred), abs=1e-4)
    assert m["overall"]["binary_acc"] == pytest.approx(
        np.mean((np.clip(np.round(gold), 0, 3) > 0) == (np.clip(np.round(pred), 0, 3) > 0)), abs=1e-4)
    assert m["overall"]["pcc_mean"] == pytest.approx(np.mean([pearsonr(pred[:, j], gold[:, j])[0]
                                                               for j in range(3)]), abs=1e-4)
    assert task.dev_scores(pred, gold)["dev_score"] == pytest.approx(mean_absolute_error(gold, pred))
    t_pred, t_gold = torch.tensor(pred[None]), torch.tensor(gold[None])
    assert float(task.loss(t_pred, t_gold)) == pytest.approx(mean_absolute_error(gold, pred))


def test_utterance_task_metrics_and_batch_ccc_loss(tracks):
    pred, gold, units = tracks
    task = make_task("utterance", ["valence", "arousal"], "ccc")
    m = task.test_metrics(pred, gold, units)
    for j, target in enumerate(["valence", "arousal"]):
        assert m[target]["ccc"] == pytest.approx(lin_ccc(pred[:, j], gold[:, j]), abs=1e-4)
        assert m[target]["pcc"] == pytest.approx(pearsonr(pred[:, j], gold[:, j])[0], abs=1e-4)
        assert m[target]["mae"] == pytest.approx(mean_absolute_error(gold[:, j], pred[:, j]), abs=1e-4)
    # 60 utterances in batches of one unit each: CCC over the batch's units, summed over targets
    loss = task.loss(torch.tensor(pred).reshape(60, 1, 2), torch.tensor(gold).reshape(60, 1, 2))
    assert float(loss) == pytest.approx(sum(1 - lin_ccc(pred[:, j], gold[:, j]) for j in range(2)), abs=1e-9)


def test_per_group_metrics_equal_the_metric_of_each_subset(tracks):
    pred, gold, units = tracks
    groups = np.array(["de"] * 20 + ["hu"] * 40)  # s1 German, s2 and s3 Hungarian
    task = make_task("continuous", ["valence", "arousal"], "mse")
    by_group = per_group(lambda p, g, u: task.test_metrics(p, g, u), groups, pred, gold, units)
    assert list(by_group) == ["de", "hu"]
    assert by_group["de"] == task.test_metrics(pred[:20], gold[:20], units[:20])
    assert by_group["hu"] == task.test_metrics(pred[20:], gold[20:], units[20:])
    # hand-made: accuracy per group
    acc = per_group(lambda p, g: float(np.mean(p == g)), ["a", "a", "b", "b", "b"],
                    np.array([1, 0, 1, 1, 0]), np.array([1, 1, 1, 1, 1]))
    assert acc == {"a": 0.5, "b": pytest.approx(2 / 3)}
    assert per_group(lambda p: 0, ["a", "a", None], np.zeros(3)) == {}  # one group: nothing to split


def test_selection_keeps_the_best_dev_epoch_in_the_task_direction():
    history = [{"epoch": 1, "dev_score": 0.50}, {"epoch": 2, "dev_score": 0.31}, {"epoch": 3, "dev_score": 0.40},
               {"epoch": 4, "dev_score": 0.31}, {"epoch": 5, "dev_score": float("nan")}]
    minimised = make_task("intensity", ["anger"])
    assert best_epoch(history, minimised.maximise) == 2  # lowest dev MAE; the tie at epoch 4 keeps epoch 2
    assert best_epoch(history, make_task("continuous", ["valence"], "ccc").maximise) == 1
    assert improved(0.2, None, False) and improved(0.2, 0.3, False) and not improved(0.3, 0.3, False)
    assert improved(0.4, 0.3, True) and not improved(float("nan"), 0.3, True)


def test_reference_predictors_come_from_train_and_survive_the_checkpoint_metadata():
    from sklearn.dummy import DummyClassifier, DummyRegressor
    rng = np.random.default_rng(5)
    train, test = rng.uniform(0, 3, size=(40, 2)), rng.uniform(0, 3, size=(30, 2))
    task = make_task("intensity", ["happiness", "anger"])
    task.fit(train)
    rebuilt = make_task(**{k: v for k, v in task.describe().items() if k in ("task", "targets", "loss", "reference")})
    m = rebuilt.test_metrics(test, test, np.zeros(30))
    constant = DummyRegressor(strategy="mean").fit(np.zeros((40, 1)), train).predict(np.zeros((30, 1)))
    assert m["overall"]["train_mean_predictor_mae"] == pytest.approx(mean_absolute_error(test, constant), abs=1e-4)
    assert "train-mean predictor" in headline({**m, "task": "intensity"})
    # the paper's random baseline on the same units: the seeded draws' MAE, whatever the predictions
    from metrics.intensity import RANDOM_BASELINE_SEED, random_intensities
    drawn = random_intensities(30, 2, np.random.default_rng(RANDOM_BASELINE_SEED))
    assert m["overall"]["random_baseline_mae"] == pytest.approx(mean_absolute_error(test, drawn), abs=1e-4)
    assert rebuilt.test_metrics(test * 0, test, np.zeros(30))["overall"]["random_baseline_mae"] == \
        m["overall"]["random_baseline_mae"]
    # Table 1 per emotion: the draws' MAE against each emotion's gold, and the other metrics the same way
    for j, emotion in enumerate(["happiness", "anger"]):
        assert m["random_baseline"][emotion]["mae"] == pytest.approx(np.abs(drawn[:, j] - test[:, j]).mean(), abs=1e-4)
        assert m["random_baseline"][emotion]["four_class_acc"] == pytest.approx(
            np.mean(np.clip(np.round(drawn[:, j]), 0, 3) == np.clip(np.round(test[:, j]), 0, 3)), abs=1e-4)

    train_y, test_y = np.array([[0], [2], [2], [1]]), np.array([[0], [1], [2], [2], [2]])
    classes = make_task("categorical", ["class"], classes=["a", "b", "c"])
    classes.fit(train_y.astype(float))
    rebuilt = make_task("categorical", ["class"], classes=["a", "b", "c"], reference=classes.describe()["reference"])
    m = rebuilt.test_metrics(np.eye(3)[test_y[:, 0]], test_y.astype(float), np.zeros(5))
    majority = DummyClassifier(strategy="most_frequent").fit(np.zeros((4, 1)), train_y[:, 0])
    assert m["class"]["majority_class_wa"] == pytest.approx(majority.score(np.zeros((5, 1)), test_y[:, 0]))
