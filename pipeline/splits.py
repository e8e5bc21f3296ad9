"""Speaker-independent train/dev/test splits of a manifest corpus (`corpora.<name>.split`).

- `column` (the default): the `split` column of sessions.csv; a speaker in two splits is
  a problem, reported with the manifest's other problems;
- `{rule: speaker_ratio, dev: 0.2, test: 0.2, seed: 7}`: shares of the speakers, shuffled;
- `{rule: speaker_kfold, folds: 5, fold: 0, seed: 7}`: test = fold `fold` of the shuffled
  speakers, dev = the next fold, train = the rest.
With a `group` column (e.g. culture) the rules are stratified by group: the shuffled
speakers are dealt round-robin from each group, so every split draws from every group
that has enough speakers.
"""
from itertools import chain, zip_longest
from typing import Protocol

import numpy as np

from pipeline.config import require
from pipeline.sessions import SPLITS

SPLIT_RULES = ("column", "speaker_ratio", "speaker_kfold")


class HasSplit(Protocol):
    row: int
    speaker: str
    split: str


def split_rule(rule, key: str = "corpora.<name>.split") -> dict:
    """The rule as a dict, checked; a bad rule is a params problem (naming `key`), found
    before any media is read."""
    rule = {"rule": "column"} if rule in (None, "column") else dict(rule)
    require(rule.get("rule") in SPLIT_RULES, f"{key}: rule must be one of {SPLIT_RULES} (got {rule.get('rule')!r})")
    if rule["rule"] == "speaker_kfold":
        folds, fold = int(rule.get("folds", 5)), int(rule.get("fold", 0))
        require(folds >= 3 and 0 <= fold < folds,
                f"{key}: speaker_kfold needs folds >= 3 and 0 <= fold < folds (got folds={folds}, fold={fold})")
    return rule


def column_problems(sessions: list[HasSplit]) -> list[tuple[int | None, str]]:
    """(row, message) for each session whose `split` cell is unusable or splits its speaker."""
    found, first_seen = [], {}
    for s in sessions:
        if s.split not in SPLITS:
            found.append((s.row, f"split {s.split!r} must be one of {SPLITS} (or give corpora.<name>.split a rule)"))
        elif s.speaker and first_seen.setdefault(s.speaker, (s.split, s.row))[0] != s.split:
            split, row = first_seen[s.speaker]
            found.append((s.row, f"speaker {s.speaker!r} is in {s.split} here and in {split} on row {row}: "
                                 "splits must be speaker-independent"))
    if not found:
        present = {s.split for s in sessions}
        found += [(None, f"no session in the {name} split") for name in SPLITS if name not in present]
    return found


def stratified(order: list[str], group_of: dict[str, str | None]) -> list[str]:
    """`order` dealt round-robin over the speakers' groups (each group in its order in `order`)."""
    by_group: dict[str | None, list[str]] = {}
    for speaker in order:
        by_group.setdefault(group_of.get(speaker), []).append(speaker)
    return [sp for sp in chain.from_iterable(zip_longest(*by_group.values())) if sp is not None]


def speaker_groups(speakers: list[str], rule: dict, group_of: dict[str, str | None] | None = None
                   ) -> dict[str, list[str]]:
    order = [speakers[i] for i in np.random.default_rng(int(rule.get("seed", 0))).permutation(len(speakers))]
    order = stratified(order, group_of or {})
    if rule["rule"] == "speaker_ratio":
        n_test = max(1, round(float(rule.get("test", 0.2)) * len(order)))
        n_dev = max(1, round(float(rule.get("dev", 0.2)) * len(order)))
        return {"test": order[:n_test], "dev": order[n_test:n_test + n_dev], "train": order[n_test + n_dev:]}
    folds, fold = int(rule.get("folds", 5)), int(rule.get("fold", 0))
    parts = [order[i::folds] for i in range(folds)]
    return {"test": parts[fold], "dev": parts[(fold + 1) % folds],
            "train": [sp for i, p in enumerate(parts) if i not in (fold, (fold + 1) % folds) for sp in p]}


def assign_splits(sessions: list[HasSplit], rule) -> list[tuple[int | None, str]]:
    """Sets each session's split by `rule`; returns the problems as (row in sessions.csv or
    None for the whole file, message)."""
    rule = split_rule(rule)
    if rule["rule"] == "column":
        return column_problems(sessions)
    speakers = sorted({s.speaker for s in sessions})
    groups = speaker_groups(speakers, rule, {s.speaker: getattr(s, "group", None) for s in sessions})
    empty = [name for name, members in groups.items() if not members]
    if empty:
        return [(None, f"{len(speakers)} speakers are too few for rule {rule}: no speaker left for {empty}")]
    split_of = {sp: name for name, members in groups.items() for sp in members}
    for s in sessions:
        s.split = split_of[s.speaker]
    return []
