"""Benchmark: what DVC pays in dvc.lock bookkeeping after each stage it runs, at two commits.

After every stage, DVC parses the whole dvc.lock round-trip (ruamel, comments kept) and writes
it back (dvc/dvcfile.py, Lockfile.dump_stages); a no-op `dvc repro` parses it too (safe loader).
This reads dvc.lock as committed at each revision (`git show REV:dvc.lock`) and times those
three operations with DVC's own functions in this process (best of `--repeat`), then prints
the sizes, the dependency entries and each time with its ratio new / old.
Run:  .venv/bin/python -m benchmarks.lock_bookkeeping [--old REV] [--new REV] [--repeat N]
      (defaults: HEAD~1 and the working tree's dvc.lock)
"""
import argparse
import io
import subprocess
from pathlib import Path

from dvc.utils.serialize._yaml import _get_yaml, parse_yaml, parse_yaml_for_update

from benchmarks.measure import best_seconds

REPO = Path(__file__).resolve().parents[1]


def lock_text(rev: str | None) -> str:
    if rev is None:
        return (REPO / "dvc.lock").read_text()
    return subprocess.run(["git", "show", f"{rev}:dvc.lock"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout


def measure(text: str, repeat: int) -> dict:
    data = parse_yaml(text, "dvc.lock")
    stages = data.get("stages", {})
    round_trip = parse_yaml_for_update(text, "dvc.lock")
    return {"kB": len(text.encode()) / 1000, "stages": len(stages),
            "dependency entries": sum(len(s.get("deps", [])) for s in stages.values()),
            "round-trip parse s": best_seconds(lambda: parse_yaml_for_update(text, "dvc.lock"), repeat),
            "round-trip write s": best_seconds(lambda: _get_yaml().dump(round_trip, io.StringIO()), repeat),
            "safe parse s (no-op)": best_seconds(lambda: parse_yaml(text, "dvc.lock"), repeat)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default="HEAD~1", help="a commit (default HEAD~1)")
    parser.add_argument("--new", default=None, help="a commit (default: the working tree's dvc.lock)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    old, new = measure(lock_text(args.old), args.repeat), measure(lock_text(args.new), args.repeat)
    print(f"{'':24} {args.old:>12} {args.new or 'worktree':>12}  new/old")
    for key in old:
        print(f"{key:24} {old[key]:12.3f} {new[key]:12.3f}  {new[key] / old[key]:.2f}")
    per_stage = (new["round-trip parse s"] + new["round-trip write s"],
                 old["round-trip parse s"] + old["round-trip write s"])
    print(f"per stage DVC runs: {per_stage[0]:.2f} s vs {per_stage[1]:.2f} s; over {new['stages']} stages: "
          f"{new['stages'] * (per_stage[1] - per_stage[0]):.0f} s less")


if __name__ == "__main__":
    main()
