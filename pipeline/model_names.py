"""The registered model names, read from the source of models/*.py without importing it.

Importing the registry imports torch (2-4 s), which the params checks of the first stage and of
the report stage do not otherwise need: they run on every `dvc exp run`. A name counts when its
factory carries `@register_model` or `@register_model(...)`, which is how models/registry.py
registers one; tests/test_registry.py checks that this list (and which models read named
inputs) equals the registry's.
"""
import ast
from functools import cache
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


def _registration(decorator: ast.expr) -> dict | None:
    """The keyword arguments of a `register_model` decorator (constants only), or None."""
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if not ((isinstance(target, ast.Name) and target.id == "register_model") or
            (isinstance(target, ast.Attribute) and target.attr == "register_model")):
        return None
    keywords = decorator.keywords if isinstance(decorator, ast.Call) else []
    return {k.arg: k.value.value for k in keywords if isinstance(k.value, ast.Constant)}


@cache
def registered_models() -> dict[str, dict]:
    """{model name: the keyword arguments of its registration, e.g. {"named_inputs": True}}."""
    found = {}
    for path in sorted(MODELS_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    if (kwargs := _registration(decorator)) is not None:
                        found[node.name] = kwargs
    return dict(sorted(found.items()))


def registered_model_names() -> tuple[str, ...]:
    return tuple(registered_models())


def has_named_inputs(name: str) -> bool:
    return bool(registered_models().get(name, {}).get("named_inputs", False))


def input_times(name: str) -> dict[str, str]:
    """{input: per} whose times the model reads (`timed_inputs="speech:frame text:word"`,
    models/registry.py)."""
    # the form is checked by models/registry.py's parse_input_times when the models are imported
    # (importing it here would import torch); tests/test_registry.py checks both readings agree
    text = str(registered_models().get(name, {}).get("timed_inputs", ""))
    return dict(item.split(":", 1) for item in text.split())
