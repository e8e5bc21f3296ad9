"""What every importer shares: its problem report (every problem with its path and line, raised
at once before anything is written, as the manifest validator does), the manifest it writes,
and the end of its command line."""
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml


@dataclass
class Problem:
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}{f', line {self.line}' if self.line else ''}: {self.message}"


class ImportProblems(ValueError):
    """The folder has problems; the message lists each with its path and line."""

    def __init__(self, problems: list[Problem], corpus: str):
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the {corpus} folder:\n" +
                         "\n".join(f"  {p}" for p in problems))


def write_manifest(out: Path, rows: list[dict], declaration: dict) -> pd.DataFrame:
    """sessions.csv from `rows` and corpus.yaml (`declaration` and the sessions file) in `out`."""
    table = pd.DataFrame(rows)
    table.to_csv(out / "sessions.csv", index=False)
    (out / "corpus.yaml").write_text(yaml.safe_dump({**declaration, "sessions": "sessions.csv"}, sort_keys=False))
    return table


def run_import(do_import: Callable[[], dict], out: Path, outside_root: bool) -> None:
    """An importer's command-line ending: what it found, as YAML, and the params.yaml entry to
    add; or its problems, and exit status 1."""
    try:
        found = do_import()
    except ImportProblems as err:
        sys.exit(str(err))
    print(yaml.safe_dump(found, sort_keys=False), end="")
    entry = "{source: manifest, allow_outside_root: true}" if outside_root else "{source: manifest}"
    print(f"wrote {out}; add `{out.name}: {entry}` under `corpora` in params.yaml")
