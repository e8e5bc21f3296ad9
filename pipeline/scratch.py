"""Scratch state that is not a DVC output: the scratch cache and the run log.

Scratch cache: `$EMOREPRO_CACHE_DIR`, else `$XDG_CACHE_HOME/emorepro`, else `~/.cache/emorepro`
    features/<extractor>/sessions/<session>/<key>/   per-session feature tensors (pipeline/feature_cache.py);
                                                     face/.../frames-<key>/: a video's per-frame face table
    features/<extractor>/fitted/<key>.json           state learned on the train split
    train/<run key>.pt                               training state after each epoch (pipeline/trainer.py)
Every entry is named by a checksum of everything it is a function of, so one cache can be
shared by every workspace on the machine: clones, `dvc exp run --temp` and the temporary
copies `dvc queue start` runs in (under .dvc/tmp/exps/, where a path relative to the
workspace would give each experiment an empty cache). It lies outside the repository, so
git and DVC never see it: a `dvc pull` never shows it deleted and DVC never removes it.
Entries are never replaced by newer ones (switching a param back and forth recomputes
nothing); `prune` bounds the size:

    python -m pipeline.scratch info                    # where it is, size per part
    python -m pipeline.scratch prune --max-gb 5        # drop least recently used entries
    python -m pipeline.scratch prune --older-than-days 30

Run log: data/run_log/<stage>.json (git-ignored, not a DVC output): wall-clock seconds,
speed and cache counts of a stage's last run in this workspace. Nothing depends on it;
`python -m benchmarks.stage_speeds` prints it.
"""
import argparse
import json
import os
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

from pipeline import layout

ENV = "EMOREPRO_CACHE_DIR"
RUN_LOG = layout.DATA / "run_log"
STAGING_PREFIX = ".incomplete-"  # entries being written; a killed run may leave one behind


def scratch_root() -> Path:
    """The scratch cache folder (read at each call, so a test or a shell can point it elsewhere)."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser().absolute()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser().absolute() / "emorepro"


def write_run_log(stage: str, **fields) -> None:
    """Records this run's timings and counts; a failure to write never fails the stage."""
    record = {"stage": stage, "finished_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"), **fields}
    try:
        RUN_LOG.mkdir(parents=True, exist_ok=True)
        (RUN_LOG / f"{stage}.json").write_text(json.dumps(record, indent=1) + "\n")
    except OSError:
        pass


def read_run_logs(folder: Path = RUN_LOG) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


# -- clean-up ---------------------------------------------------------------------------------
def entries(root: Path) -> list[Path]:
    """The prunable units: one folder per feature session entry, one file per fitted state or
    training run."""
    found = [*root.glob("features/*/sessions/*/*"), *root.glob("features/*/fitted/*.json"), *root.glob("train/*.pt")]
    return [p for p in found if not p.name.startswith(STAGING_PREFIX)]


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def last_used(path: Path) -> float:
    """Loading an entry touches it (feature_cache.FeatureCache.load), so this is its last use."""
    return (path / "entry.json" if path.is_dir() else path).stat().st_mtime


def remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def prune(root: Path, max_bytes: int | None = None, older_than_s: float | None = None) -> tuple[int, int]:
    """Removes entries unused for longer than `older_than_s`, then the least recently used ones
    until the rest fit in `max_bytes`, and staging folders older than an hour (left by a
    killed run). Returns (entries removed, bytes freed)."""
    now, removed, freed = time.time(), 0, 0
    stagings = [f"features/*/sessions/*/{STAGING_PREFIX}*", f"features/*/fitted/{STAGING_PREFIX}*",
                f"train/{STAGING_PREFIX}*"]
    for staging in (path for pattern in stagings for path in root.glob(pattern)):
        if now - staging.stat().st_mtime > 3600:  # younger ones may belong to a running stage
            freed += size_of(staging)
            remove(staging)
    listed = []
    for path in entries(root):
        try:
            listed.append((last_used(path), size_of(path), path))
        except OSError:  # half-removed by a concurrent prune, or unreadable: drop it
            remove(path)
    listed.sort(key=lambda item: item[0])
    total = sum(size for _, size, _ in listed)
    for used, size, path in listed:
        too_old = older_than_s is not None and now - used > older_than_s
        too_big = max_bytes is not None and total > max_bytes
        if not (too_old or too_big):
            continue
        remove(path)
        removed, freed, total = removed + 1, freed + size, total - size
    for empty in sorted(root.glob("features/*/sessions/*"), reverse=True):
        if empty.is_dir() and not any(empty.iterdir()):
            empty.rmdir()
    return removed, freed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pipeline.scratch", description="The scratch cache: "
                                     "per-session features and training progress outside DVC's outputs.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("info", help="where the cache is and how much it holds")
    pruning = commands.add_parser("prune", help="remove least recently used entries")
    pruning.add_argument("--max-gb", type=float, help="keep at most this many GB")
    pruning.add_argument("--older-than-days", type=float, help="remove entries unused for this many days")
    args = parser.parse_args(argv)
    root = scratch_root()
    if args.command == "prune":
        if args.max_gb is None and args.older_than_days is None:
            parser.error("prune needs --max-gb and/or --older-than-days")
        removed, freed = prune(root, None if args.max_gb is None else int(args.max_gb * 1e9),
                               None if args.older_than_days is None else args.older_than_days * 86400)
        print(f"removed {removed} entries ({freed / 1e9:.2f} GB) from {root}")
    parts = {"features": root / "features", "train": root / "train"}
    print(f"scratch cache: {root} (set {ENV} to move it)")
    for name, folder in parts.items():
        print(f"  {name:<9}{size_of(folder) / 1e9 if folder.exists() else 0:>8.2f} GB")


if __name__ == "__main__":
    main()
