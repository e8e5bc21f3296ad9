"""What a model's `features` param names: its inputs and the feature stages they read.

`features` is a list of stages (one input, named `x`, the stages' vectors concatenated per
unit) or a mapping of input names to a stage, a list of stages, or `{stage, per: frame | word |
sample | image}` (the frames, words, raw samples or face crops inside each unit:
pipeline/inner_sequences.py).
Torch-free, so the params check and the report read inputs the way training does.
"""
DEFAULT_INPUT = "x"  # the input of a one-input model
PER = ("frame", "word", "sample", "image")  # the granularities inside a unit


def model_inputs(features: list[str] | dict) -> dict[str, list[str] | dict]:
    """Input name -> the feature stages concatenated into it per unit, or {stage, per} for the
    frames or words inside each unit; a list is the one input."""
    if not isinstance(features, dict):
        return {DEFAULT_INPUT: list(features)}
    inputs = {}
    for name, keys in features.items():
        if isinstance(keys, dict):
            if set(keys) != {"stage", "per"} or keys["per"] not in PER:
                raise ValueError(f"input {name!r}: {keys}: give {{stage: <feature stage>, per: {' | '.join(PER)}}}")
            inputs[name] = {"stage": keys["stage"], "per": keys["per"]}
        else:
            inputs[name] = [keys] if isinstance(keys, str) else list(keys)
    return inputs


def feature_stages(features: list[str] | dict) -> list[str]:
    """Every feature stage a model reads, in the order its inputs name them."""
    return [key for keys in model_inputs(features).values()
            for key in ([keys["stage"]] if isinstance(keys, dict) else keys)]
