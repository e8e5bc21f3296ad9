"""Reading params.yaml: each stage asks for its own section and gets a clear error if it is wrong."""
import logging
import os
import sys
from pathlib import Path
from typing import Any, Callable

import yaml

PARAMS_FILE = Path("params.yaml")


class ParamsError(ValueError):
    """params.yaml is missing a key or holds a value a stage cannot use."""


def load_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    if not path.exists():
        raise ParamsError(f"{path} not found: run stages from the repository root")
    with open(path) as f:
        params = yaml.safe_load(f)
    if not isinstance(params, dict):
        raise ParamsError(f"{path} must be a mapping of parameter groups")
    return params


def section(params: dict, dotted: str) -> Any:
    """`section(p, "corpora.tiny")` -> p["corpora"]["tiny"], naming the missing key on failure."""
    node: Any = params
    walked = []
    for key in dotted.split("."):
        walked.append(key)
        if not isinstance(node, dict) or key not in node:
            choices = f" (known: {', '.join(map(str, node))})" if isinstance(node, dict) else ""
            raise ParamsError(f"params.yaml has no '{'.'.join(walked)}'{choices}")
        node = node[key]
    return node


def require(condition: bool, message: str) -> None:
    if not condition:
        raise ParamsError(f"params.yaml: {message}")


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        datefmt="%H:%M:%S")


def run_stage(main: Callable[[], None]) -> None:
    """Run a stage's main(); expected failures print one clear line instead of a traceback
    (set EMOREPRO_DEBUG=1 to see it)."""
    setup_logging()
    try:
        main()
    except (ParamsError, KeyError, ValueError, RuntimeError, FileNotFoundError) as err:
        if os.environ.get("EMOREPRO_DEBUG"):
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"error: {message}", file=sys.stderr)
        sys.exit(1)
