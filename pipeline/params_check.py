"""Declarative checks of params.yaml: one schema per params group, every problem reported at once;
also the DAG's first stage, `check_params`.

Each stage checks the groups it reads before any work, e.g. `check(params, "seed", "train")`,
and `check_params(params)` checks every group and that `model` and every benchmark run's
model are registered (the `validate` stage), so a bad value stops with

    params.yaml: train.epochs = 0: must be an integer >= 1

instead of a library's message from deep inside a stage. The rules are those of
pipeline/params_rules.py. Choices that also live in code (extractors, losses, controls,
backbones, face backends, openSMILE sets) are kept in step with it by tests/test_params.py;
this module imports nothing heavy (model names are read from models/*.py: pipeline/model_names.py).

Longer than the project's other modules because it holds every group's schema in one place,
beside the cross-group rules (inputs that name stages, units that name presets).

Stage `check_params` (the first stage: `validate` depends on its output, so DVC runs it first):
Reads:  every params group; models/ (the registry)
Writes: data/params_checked.json, always the same bytes: the stage orders the DAG and stops it
        (`dvc exp run -S model=<unknown>` fails here, listing the registered models, before any
        work); re-running it after a params change re-runs nothing downstream
Run:    python -m pipeline.params_check
"""
from typing import Any, Callable

from features.worker_pool import ENGINES
from pipeline.layout import DEFAULT_UNIT
from pipeline.model_inputs import PER
from pipeline.params_rules import (ANY, OPEN, Rule, Schema, device, either, flag, format_value, integer, is_int,
                                   list_of, nullable, number, one_of, optional, problems_of, raise_if, text)

LOSSES = ("ccc", "mse", "mae", "cross_entropy")  # training/tasks.py: each task accepts some of them
CONTROLS = ("none", "shuffled_words")
REFITS = ("none", "train_dev")  # train.refit: after the selection on dev, train again on train + dev
ON_NO_FACE = ("error", "mask")
FACE_BACKENDS = ("mediapipe", "pyfeat")
BACKBONES = ("efficientnet_lite0", "vgg16", "alexnet", "densenet121", "densenet201", "resnet50")
OPENSMILE_SETS = ("eGeMAPSv02", "eGeMAPSv01b", "GeMAPSv01b")  # the GeMAPS family of opensmile.FeatureSet
SPLIT_RULES = ("speaker_ratio", "speaker_kfold")
SOURCES = ("synthetic", "manifest")  # of a corpus


# ---------------------------------------------------------------- schemas

WORKERS = optional(integer(1))  # pipeline/features.py defaults to 1
SAMPLE_RATE = integer(8000)
AUDIO = {"sample_rate": SAMPLE_RATE, "workers": WORKERS}
BAG_OF_WORDS = {"codebook_size": integer(1), "assignments": integer(1, "codebook_size"), "log_weighting": flag(),
                "max_fit_frames": integer("codebook_size"), "seed": integer(0), "workers": WORKERS}
CNN = {"backbone": one_of(*BACKBONES), "weights_path": nullable(text()), "batch_size": integer(1), "device": device(),
       "workers": WORKERS}

FEATURES: dict[str, Schema] = {
    "egemaps": {"feature_set": one_of(*OPENSMILE_SETS), **AUDIO},
    "egemaps_lld": {"feature_set": one_of(*OPENSMILE_SETS), **AUDIO},
    "mfcc": {"n_mfcc": integer(1, 40), **AUDIO},  # at most the 40 mel bands of features/lld.py
    "boaw": {"lld": one_of("egemaps", "mfcc"), **BAG_OF_WORDS, "sample_rate": SAMPLE_RATE},
    "deep_spectrum": {**CNN, "n_mels": integer(8), "colour_map": text(), "sample_rate": SAMPLE_RATE},
    "frame34": AUDIO,
    "glove": {"vectors": text(), "max_words": integer(1), "oov": one_of("zero", "mean"),
              "words": optional(one_of("alignment", "recognised")), "workers": WORKERS},
    "botw": {"min_count": integer(1), "log_weighting": flag(), "idf": flag(), "workers": WORKERS},
    "word_onehot": {"min_count": integer(1), "max_vocabulary": integer(1), "workers": WORKERS},
    # features/face_frames.py has defaults for these
    "face": {"min_face_fraction": optional(number(0, 1)), "min_detection_confidence": optional(number(0, 1)),
             "backend": optional(one_of(*FACE_BACKENDS)), "pyfeat_batch_size": optional(integer(1)),
             "device": optional(device()), "on_no_face": optional(one_of(*ON_NO_FACE)), "head_pose": optional(flag()),
             "workers": WORKERS},
    "face_deep": {**CNN, "sample_fps": number(above=0), "min_detection_confidence": number(0, 1),
                  "on_no_face": optional(one_of(*ON_NO_FACE))},
    "face_crops": {"size": integer(32, 224), "sample_fps": number(above=0), "min_detection_confidence": number(0, 1),
                   "on_no_face": optional(one_of(*ON_NO_FACE)), "workers": WORKERS},
    "waveform": AUDIO,
    "contextual_words": {"model": text(), "max_tokens": integer(16), "batch_size": integer(1), "device": device(),
                         "workers": WORKERS},
}
STAGE_ENABLED = optional(flag())  # pipeline/features.py: false = the stage computes nothing (a base config)
# a features@ stage may also be `auto`: it computes when a run reads it (pipeline/feature_demand.py)
FEATURE_ENABLED = optional(either(flag(), one_of("auto")))
# derived extractors read another feature stage's per-frame table (`source`)
DERIVED: dict[str, Schema] = {"face_boaw": {"source": one_of("face"), **BAG_OF_WORDS}}

TRAIN: Schema = {"epochs": integer(1), "patience": integer(1), "batch_size": integer(1),
                 "chunk_windows": integer(0), "lr": number(above=0), "seed": integer(0), "device": device(),
                 "control": one_of(*CONTROLS), "refit": optional(one_of(*REFITS))}
TRAIN_OVERRIDES = Rule(lambda g: f"a mapping of train settings ({', '.join(TRAIN)}) to values the train group accepts",
                       lambda v, g: isinstance(v, dict) and all(k in TRAIN and TRAIN[k].accepts(x, v)
                                                                for k, x in v.items()))
ALIGN: Schema = {"sample_rate": SAMPLE_RATE, "chunk_s": number(10), "workers": integer(1)}
RECOGNISE: Schema = {"enabled": flag(), **ALIGN}  # pipeline/recognise.py
ENGINE: Schema = {"kind": one_of(*ENGINES), "scheduler": optional(nullable(text()))}  # features/worker_pool.py
WINDOW_PRESET: Schema = {"length_s": number(above=0), "hop_s": number(above=0), "label_shift_s": number(),
                         "label_aggregation": one_of("mean", "center")}
SYNTHETIC: Schema = {"sample_rate": SAMPLE_RATE, "rating_hz": number(above=0), "video_fps": number(above=0),
                     "video_size": integer(64), "annotators_min": integer(2),  # a leave-one-out baseline needs 2
                     "annotators_max": integer("annotators_min"), "latent_smoothing_s": number(above=0),
                     "mood_sd": number(0), "word_valence_spread": number(0), "lexicon_max_rank": integer(1),
                     "noise_floor_db": number(high=0), "workers": optional(integer(0))}  # 0: one per core
SYNTHETIC_CORPUS: Schema = {"source": one_of("synthetic"), "speakers": integer(3),
                            "sessions_per_speaker": integer(1), "session_seconds": number(above=0),
                            "split_speakers": Rule(lambda g: "a mapping of train, dev and test to integers >= 1 "
                                                             f"adding up to speakers = {format_value(g.get('speakers'))}",
                                                   lambda v, g: _speaker_counts_fit(v, g.get("speakers")))}
MANIFEST_CORPUS: Schema = {"source": one_of("manifest"), "split": optional(ANY),  # see split_rule_problems
                           "sample_rate": optional(SAMPLE_RATE), "video_fps": optional(number(above=0)),
                           "allow_outside_root": optional(flag()), "workers": WORKERS,
                           "av_tolerance_s": optional(number(above=0)),  # pipeline/manifest.py: av_problem
                           "text_word_s": optional(number(above=0))}  # text-only sessions: pipeline/text_only.py
SPLIT_RULE: dict[str, Schema] = {
    "speaker_ratio": {"rule": one_of(*SPLIT_RULES), "dev": optional(number(above=0, high=0.5)),
                      "test": optional(number(above=0, high=0.5)), "seed": optional(integer(0))},
    "speaker_kfold": {"rule": one_of(*SPLIT_RULES), "folds": optional(integer(3)),
                      "fold": optional(integer(0, below="folds")), "seed": optional(integer(0))},
}
TASKS = ("continuous", "categorical", "intensity", "utterance")  # training/tasks.py
FOLDS = either(integer(3), one_of(0, "speakers"))  # pipeline/protocols.py: 0 = the corpus's split
MODEL_SPEC: Schema = {"targets": either(one_of("corpus"), list_of(text())), "loss": one_of(*LOSSES),
                      "lr": optional(number(above=0)), "hidden": optional(integer(1)), "layers": optional(integer(1)),
                      "dropout": optional(number(0, 0.99)), "class_weights": optional(flag()),
                      "task": optional(one_of(*TASKS)), "folds": optional(FOLDS),
                      "train": optional(TRAIN_OVERRIDES), OPEN: ANY}
UNIT_KINDS = ("window", "segment", "session")
UNIT_ENABLED = optional(either(flag(), one_of("auto")))  # pipeline/units.py: auto = when a run trains on it
UNIT: dict[str, Schema] = {  # pipeline/units.py
    "window": {"kind": one_of(*UNIT_KINDS), "enabled": UNIT_ENABLED, **WINDOW_PRESET,
               "words": optional(one_of("window", "sentence"))},  # pipeline/window.py
    "segment": {"kind": one_of(*UNIT_KINDS), "enabled": UNIT_ENABLED, "values": optional(one_of("intensity", "utterance")),
                "sequence": optional(one_of("session", "independent")), "classes": optional(list_of(text()))},
    "session": {"kind": one_of(*UNIT_KINDS), "enabled": UNIT_ENABLED},
}


def _speaker_counts_fit(value, speakers) -> bool:
    return (isinstance(value, dict) and set(value) == {"train", "dev", "test"}
            and all(is_int(n) and n >= 1 for n in value.values()) and sum(value.values()) == speakers)


def split_rule_problems(rule, where: str) -> list[str]:
    """A manifest corpus's `split`: "column" (the sessions CSV says) or a speaker-independent rule."""
    if rule in (None, "column"):
        return []
    kind = rule.get("rule") if isinstance(rule, dict) else None
    if kind not in SPLIT_RULE:
        return [f"{where} = {format_value(rule)}: must be column or a mapping with rule: one of "
                f"{', '.join(SPLIT_RULES)}"]
    return problems_of(rule, SPLIT_RULE[kind], where)


# ---------------------------------------------------------------- groups

def registered_models() -> tuple[str, ...]:
    from pipeline.model_names import registered_model_names  # from the source: no torch import
    return registered_model_names()


def has_named_inputs(model: str) -> bool:
    from pipeline import model_names
    return model_names.has_named_inputs(model)


REGISTERED_MODEL = Rule(lambda g: f"a registered model: {', '.join(registered_models())}",
                        lambda v, g: v in registered_models())


def _entry(params: dict, head: str, name: str) -> tuple[Any, list[str]]:
    """params[head][name], or a problem naming the known entries."""
    entries = params.get(head)
    if isinstance(entries, dict) and name in entries:
        return entries[name], []
    known = ", ".join(entries) if isinstance(entries, dict) else "none"
    return None, [f"{head}.{name} is missing (known: {known})"]


def _top_level(params: dict, key: str) -> list[str]:
    rules = {"seed": integer(0), "corpus": one_of(*(params.get("corpora") or {})),
             "model": REGISTERED_MODEL}
    return problems_of({key: params[key]} if key in params else {}, {key: rules[key]}, "")


def _fixed(schema: Schema) -> Callable[[dict, str, str], list[str]]:
    return lambda params, head, name: problems_of(params.get(head), schema, head)


def _extractor(params: dict, head: str, name: str) -> list[str]:
    cfg, missing = _entry(params, head, name)
    schemas = FEATURES if head == "features" else DERIVED
    if missing:
        return missing
    if name not in schemas:
        return [f"{head}.{name}: unknown extractor (known: {', '.join(schemas)})"]
    enabled = FEATURE_ENABLED if head == "features" else STAGE_ENABLED
    return problems_of(cfg, {**schemas[name], "enabled": enabled}, f"{head}.{name}")


def _derived(params: dict, head: str, name: str) -> list[str]:
    """A derived stage: `extractor` (e.g. face_boaw), optional `unit` (default: the window stage's
    windows) and the extractor's params, e.g. face_boaw on Raju et al.'s windows."""
    entry, missing = _entry(params, head, name)
    if missing:
        return missing
    if not isinstance(entry, dict):
        return [f"{head}.{name} = {format_value(entry)}: must be a mapping of the extractor's params"]
    where = f"{head}.{name}"
    found = problems_of({k: entry[k] for k in ("extractor", "unit") if k in entry},
                        {"extractor": one_of(*DERIVED),
                         "unit": optional(one_of(DEFAULT_UNIT, *(params.get("units") or {})))}, where)
    if found:
        return found
    extractor = entry["extractor"]
    cfg = {k: v for k, v in entry.items() if k not in ("extractor", "unit")}
    return [p.replace(f"{head}.{extractor}", where) for p in _extractor({head: {extractor: cfg}}, head, extractor)]


def feature_stage_keys(params: dict) -> list[str]:
    """What a model's `features` may name: the keys of features, derived_features, unit_features."""
    return [k for head in ("features", "derived_features", "unit_features") for k in (params.get(head) or {})]


def input_rules(params: dict) -> Schema:
    """`features` and `unit` of a model spec or a benchmark run: the stages and units params defines.
    `features` is a list (one input) or a mapping of input names to a stage or a list of stages,
    or to the frames or words inside each unit of one stage."""
    stages = list_of(one_of(*feature_stage_keys(params)))
    inner = {"stage": one_of(*feature_stage_keys(params)), "per": one_of(*PER)}  # pipeline/inner_sequences.py

    def one_input(x) -> bool:
        if isinstance(x, dict):
            return set(x) == set(inner) and all(inner[k].accepts(x[k], {}) for k in inner)
        return stages.accepts(x, {}) or stages.accepts([x], {})

    named = Rule(lambda g: f"a mapping of input names (no dots) to {stages.describe(g)}, or to "
                           f"{{stage: one of them, per: {' | '.join(PER)}}}",
                 lambda v, g: isinstance(v, dict) and bool(v) and all(
                     isinstance(k, str) and "." not in k and one_input(x) for k, x in v.items()))
    return {"features": either(stages, named), "unit": optional(one_of(DEFAULT_UNIT, *(params.get("units") or {})))}


def input_form_problems(model: Any, features: Any, where: str) -> list[str]:
    """A named-input model needs a mapping of inputs, a one-input model a list (models/registry.py)."""
    if features is None or model not in registered_models():
        return []
    named = has_named_inputs(model)
    if isinstance(features, dict) == named:
        return []
    return [f"{where}.features = {format_value(features)}: model {model} reads "
            f"{'named inputs: give a mapping such as {audio: [egemaps], video: [face]}' if named else 'one input: give a list of feature stages'}"]


def input_times(model: str) -> dict[str, str]:
    from pipeline import model_names
    return model_names.input_times(model)


def timed_input_problems(model: Any, features: Any, where: str) -> list[str]:
    """A model that reads some inputs' times (`timed_inputs`, models/registry.py) needs each of them it is
    given at the granularity whose times it reads (`{stage, per: word}`: each word's start and end); an
    input left out is the model's own check, when it is built."""
    if not isinstance(features, dict) or model not in registered_models():
        return []
    return [f"{where}.features.{name} = {format_value(features[name])}: model {model} reads the times of its "
            f"{name} input: give {{stage: <feature stage>, per: {per}}} (a matrix per unit, such as "
            f"glove_sentences_asr's recognised words, has no times)"
            for name, per in input_times(model).items() if name in features
            and not (isinstance(features[name], dict) and features[name].get("per") == per)]


def _model_spec(params: dict, head: str, name: str) -> list[str]:
    spec, missing = _entry(params, head, name)
    if missing:
        return missing
    found = problems_of(spec, {**MODEL_SPEC, **input_rules(params)}, f"models.{name}")
    return (found or input_form_problems(name, spec.get("features"), f"models.{name}")
            or timed_input_problems(name, spec.get("features"), f"models.{name}")
            or init_from_problems(params, name, spec.get("init_from"))
            or frozen_network_problems(name, spec))


def frozen_network_problems(model: str, spec: dict) -> list[str]:
    """`freeze_networks: true` (models/tzirakis.py) keeps the networks init_from copies: every input's
    network needs a run to copy, or it would stay random."""
    if spec.get("freeze_networks") is not True or not isinstance(spec.get("features"), dict):
        return []
    random = sorted(set(spec["features"]) - set(spec.get("init_from") or {}))
    return [f"models.{model}.freeze_networks = true: init_from names no run for the network(s) {', '.join(random)}, "
            f"which would stay random"] if random else []


def init_from_problems(params: dict, model: str, init_from: Any) -> list[str]:
    """`init_from`: network name -> a `pretrain` run whose `for` lists this model (pipeline/pretrain.py)."""
    if init_from is None:
        return []
    where = f"models.{model}.init_from"
    runs = params.get("pretrain") or {}
    if not isinstance(init_from, dict) or not init_from:
        return [f"{where} = {format_value(init_from)}: must map network names (e.g. audio) to `pretrain` runs"]
    found = []
    for network, run in init_from.items():
        if run not in runs:
            found.append(f"{where}.{network} = {format_value(run)}: not a `pretrain` run (known: "
                         f"{', '.join(runs) or 'none'})")
        elif model not in ((runs[run] or {}).get("for") or []):
            found.append(f"{where}.{network} = {run}: pretrain.{run}.for must list {model}, or DVC will not "
                         f"train it before {model} (pipeline/pretrain.py)")
    return found


def _unit(params: dict, head: str, name: str) -> list[str]:
    spec, missing = _entry(params, head, name)
    if missing:
        return missing
    where = f"units.{name}"
    if name == DEFAULT_UNIT:
        return [f"{where}: the name {name!r} is the window stage's unit (window.preset): choose another"]
    kind = spec.get("kind") if isinstance(spec, dict) else None
    if kind not in UNIT:
        return [f"{where}.kind = {format_value(kind)}: must be one of {', '.join(UNIT_KINDS)}"]
    return problems_of(spec, UNIT[kind], where)


def _unit_feature(params: dict, head: str, name: str) -> list[str]:
    spec, missing = _entry(params, head, name)
    if missing:
        return missing
    where = f"unit_features.{name}"
    extractors = tuple(params.get("features") or {})  # derived extractors: not yet on other units
    schema = {"extractor": one_of(*extractors), "unit": one_of(*(params.get("units") or {})),
              "config": optional(Rule(lambda g: "a mapping of the extractor's params to override",
                                      lambda v, g: isinstance(v, dict)))}
    found = problems_of(spec, schema, where)
    if not found and (spec.get("config") or {}).get("enabled") == "auto":
        found.append(f"{where}.config.enabled = auto: `auto` is for the features@ stages; a stage on a named "
                     f"unit computes when its unit is cut (units.{spec['unit']}.enabled: auto)")
    if not found and name in extractors:
        found.append(f"{where}: the key {name!r} is already a feature stage of the window unit: choose another")
    if not found:
        cfg = {**params["features"][spec["extractor"]], **(spec.get("config") or {})}
        found += _extractor({"features": {spec["extractor"]: cfg}}, "features", spec["extractor"])
    return found


HYPERPARAMETERS = Rule(lambda g: "a mapping of the model's hyperparameters to values",
                       lambda v, g: isinstance(v, dict) and all(isinstance(k, str) for k in v))


def _benchmark_run(params: dict, head: str, name: str) -> list[str]:
    if not name:  # the whole table (the report stage)
        runs = params.get(head)
        if head == "pretrain" and runs is None:
            return []
        if not isinstance(runs, dict) or (not runs and head == "benchmark"):
            return [f"{head} = {format_value(runs)}: must be a mapping of run names to {{model, loss}}"]
        return [p for run in runs for p in _benchmark_run(params, head, run)]
    entry, missing = _entry(params, head, name)
    schema = {"model": REGISTERED_MODEL, "loss": optional(one_of(*LOSSES)), "control": optional(one_of(*CONTROLS)),
              "hparams": optional(HYPERPARAMETERS),  # overrides of the model's hyperparameters
              # overrides of the model's inputs, unit, task, targets, protocol (pipeline/model_spec.py RUN_OVERRIDES)
              "features": optional(input_rules(params)["features"]), "unit": input_rules(params)["unit"],
              "task": optional(one_of(*TASKS)), "targets": optional(MODEL_SPEC["targets"]),
              "folds": optional(FOLDS), "train": optional(TRAIN_OVERRIDES)}  # overrides of the `train` group for this run
    if head == "pretrain":
        schema["for"] = list_of(REGISTERED_MODEL)
    if missing:
        return missing
    found = (problems_of(entry, schema, f"{head}.{name}")
             or input_form_problems(entry.get("model"), entry.get("features"), f"{head}.{name}")
             or timed_input_problems(entry.get("model"), entry.get("features"), f"{head}.{name}"))
    starts_from = ((params.get("models") or {}).get(entry.get("model")) or {}).get("init_from")
    if not found and starts_from:
        found.append(f"{head}.{name}: model {entry['model']} starts from other runs (init_from), which only the "
                     f"`train` stage orders after them: dvc exp run -S model={entry['model']}")
    return found


def _corpus(params: dict, head: str, name: str) -> list[str]:
    spec, missing = _entry(params, head, name)
    if missing:
        return missing
    where = f"corpora.{name}"
    if not isinstance(spec, dict) or spec.get("source") not in SOURCES:
        source = spec.get("source") if isinstance(spec, dict) else spec
        return [f"{where}.source = {format_value(source)}: must be one of {', '.join(SOURCES)}"]
    if spec["source"] == "synthetic":
        return problems_of(spec, SYNTHETIC_CORPUS, where)
    return problems_of(spec, MANIFEST_CORPUS, where) + split_rule_problems(spec.get("split"), f"{where}.split")


def _window(params: dict, head: str, name: str) -> list[str]:
    """`window.preset` and the preset it names; `check_params` checks every preset (name "*")."""
    cfg = params.get("window")
    presets = cfg.get("presets") if isinstance(cfg, dict) else None
    if not isinstance(presets, dict) or not presets:
        return [f"window.presets = {format_value(presets)}: must be a mapping of preset names to window settings"]
    found = problems_of(cfg, {"preset": one_of(*presets), "presets": ANY}, "window")
    chosen = presets if name == "*" else [cfg.get("preset")] if cfg.get("preset") in presets else []
    return found + [p for preset in chosen for p in problems_of(presets[preset], WINDOW_PRESET,
                                                                 f"window.presets.{preset}")]


def _story(params: dict, head: str, name: str) -> list[str]:
    schema = {"run": one_of(*(params.get("benchmark") or {})), "text_file": text(), "marked_turns": integer(0)}
    return problems_of(params.get("story"), schema, "story")


def _engine(params: dict, head: str, name: str) -> list[str]:
    """The `engine` section may be absent (a project's older params): the local pool then."""
    return [] if params.get("engine") is None else problems_of(params["engine"], ENGINE, "engine")


GROUPS: dict[str, Callable[[dict, str, str], list[str]]] = {
    "train": _fixed(TRAIN), "align": _fixed(ALIGN), "recognise": _fixed(RECOGNISE), "synthetic": _fixed(SYNTHETIC), "window": _window,
    "engine": _engine,
    "story": _story, "features": _extractor, "derived_features": _derived, "models": _model_spec,
    "benchmark": _benchmark_run, "pretrain": _benchmark_run, "corpora": _corpus, "units": _unit, "unit_features": _unit_feature,
}


def group_problems(params: dict, group: str) -> list[str]:
    """Problems of one group: "seed", "train", "features.mfcc", "models.lstm", "benchmark.lstm_ccc", ..."""
    head, _, name = group.partition(".")
    if head in ("seed", "corpus", "model"):
        return _top_level(params, head)
    if head not in GROUPS:
        raise KeyError(f"no params schema for {group!r}")
    return GROUPS[head](params, head, name)


def check(params: dict, *groups: str) -> None:
    """Raises ParamsError listing every problem of these groups (a stage's first call)."""
    raise_if([problem for group in groups for problem in group_problems(params, group)])


def check_extractor(name: str, cfg: dict) -> None:
    """One extractor's config, e.g. from code that calls an extractor directly."""
    head = "derived_features" if name in DERIVED else "features"
    raise_if(_extractor({head: {name: cfg}}, head, name))


def check_params(params: dict) -> None:
    """Every group of params.yaml, and that `model` and every benchmark run's model are registered."""
    groups = ["seed", "corpus", "model", "train", "align", "recognise", "synthetic", "window.*", "story", "benchmark",
              "pretrain", "engine"]
    groups += [f"{head}.{name}" for head in ("corpora", "features", "derived_features", "units", "unit_features",
                                             "models")
               for name in (params.get(head) or {})]
    top = {key: ANY for key in ("seed", "corpus", "model", *GROUPS)}  # a misspelt group is never read
    raise_if([p for p in problems_of(params, top, "") if "unknown key" in p] +
             [problem for group in groups for problem in group_problems(params, group)])


def main() -> None:
    from pipeline import layout
    from pipeline.config import load_params

    check_params(load_params())
    layout.PARAMS_CHECKED.parent.mkdir(parents=True, exist_ok=True)
    layout.PARAMS_CHECKED.write_text('{"params": "valid"}\n')


if __name__ == "__main__":
    from pipeline.config import run_stage

    run_stage(main)
