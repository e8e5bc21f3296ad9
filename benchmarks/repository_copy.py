"""A copy of the repository's files, for commands that must run apart from the workspace:
the benchmarks that train in a scratch copy (benchmarks/golden_seeds.py) and the tests that
run DVC on a copy (tests/dvc_project.py)."""
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def copy_repository(dest: Path, repo: Path = REPO) -> Path:
    """The files git would commit (tracked, and untracked ones it does not ignore), copied to dest;
    a tracked file deleted from the worktree (e.g. a plot a stage no longer draws) is left out."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=repo,
                            capture_output=True, text=True, check=True).stdout.split()
    for name in listed:
        if (repo / name).is_dir() or not (repo / name).exists():  # is_dir: a worktree's .venv symlink,
            continue                                                # which `.venv/` does not ignore
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / name, dest / name)
    return dest
