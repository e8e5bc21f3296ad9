"""What an importer found wrong in a corpus folder: every problem with its path and line, raised
at once before anything is written (as the manifest validator does)."""
from dataclasses import dataclass
from pathlib import Path


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
