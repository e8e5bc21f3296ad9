"""params.yaml agrees with the code that reads it."""
from models import list_models
from pipeline.config import load_params


def test_every_registered_model_has_hyperparameters_and_vice_versa():
    # dvc.yaml's train stage reads models.${model}: a model without an entry cannot be selected
    assert sorted(load_params()["models"]) == list_models()


def test_default_corpus_is_the_size_the_design_asks_for():
    params = load_params()
    default = params["corpora"][params["corpus"]]
    assert default["speakers"] >= 8 and default["speakers"] * default["sessions_per_speaker"] >= 30
    assert default["session_seconds"] >= 60
