"""The registered model names, read from the source of models/*.py without importing it.

Importing the registry imports torch (2-4 s), which the params checks of the first stage and of
the report stage do not otherwise need: they run on every `dvc exp run`. A name counts when its
factory carries `@register_model` or `@register_model(...)`, which is how models/registry.py
registers one; tests/test_registry.py checks that this list equals the registry's.
"""
import ast
from functools import cache
from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


def _is_registration(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return (isinstance(target, ast.Name) and target.id == "register_model") or \
        (isinstance(target, ast.Attribute) and target.attr == "register_model")


@cache
def registered_model_names() -> tuple[str, ...]:
    names = []
    for path in sorted(MODELS_DIR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef) and any(map(_is_registration, node.decorator_list)):
                names.append(node.name)
    return tuple(sorted(names))
