"""The vocabulary of params.yaml's schemas (pipeline/params_check.py): rules and how a group is checked.

A Schema maps each key of a params group to a Rule: what the value must be, as a phrase
that follows "must be" (`describe`), and whether a value is one (`accepts`). Both see the
whole group, so a bound may name another key of it: `integer(1, "codebook_size")` reads
"an integer in [1, codebook_size = 100]". `problems_of` reports every problem of a group at
once, as `<dotted.key> = <value>: must be <allowed>`.
"""
import json
import math
from dataclasses import dataclass
from typing import Any, Callable

from pipeline.config import require

Bound = float | str | None  # a number, or the name of another key of the same group


@dataclass(frozen=True)
class Rule:
    describe: Callable[[dict], str]  # what the value must be, given its group: "an integer >= 1"
    accepts: Callable[[Any, dict], bool]
    required: bool = True


Schema = dict[str, Rule]
OPEN = "*"  # a schema holding this key accepts keys it does not name (a model's hyperparameters)
ANY = Rule(lambda g: "anything", lambda v, g: True)


# ---------------------------------------------------------------- rules

def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_number(value) -> float | None:
    """The value as a finite float; PyYAML reads `1e-3` (no dot) as a string, so numeric strings count."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _bound(bound: Bound, group: dict) -> float | None:
    return _as_number(group.get(bound)) if isinstance(bound, str) else bound


def _bound_text(bound: Bound, group: dict) -> str:
    return f"{bound} = {format_value(group.get(bound))}" if isinstance(bound, str) else f"{bound:g}"


def _ranged(kind: str, convert: Callable[[Any], float | None], low: Bound = None, high: Bound = None,
            above: Bound = None, below: Bound = None) -> Rule:
    """`low`/`high` are inclusive bounds, `above`/`below` exclusive ones."""
    lower = (">", above) if above is not None else (">=", low) if low is not None else None
    upper = ("<", below) if below is not None else ("<=", high) if high is not None else None

    def describe(group: dict) -> str:
        if lower and upper:
            return (f"{kind} in {'(' if lower[0] == '>' else '['}{_bound_text(lower[1], group)}, "
                    f"{_bound_text(upper[1], group)}{')' if upper[0] == '<' else ']'}")
        side = lower or upper
        return f"{kind} {side[0]} {_bound_text(side[1], group)}" if side else kind

    def accepts(value, group: dict) -> bool:
        x = convert(value)
        if x is None:
            return False
        # a bound naming a key that is itself bad is skipped: that key's own rule reports it
        lo, hi, gt, lt = (_bound(b, group) for b in (low, high, above, below))
        return ((lo is None or x >= lo) and (hi is None or x <= hi) and (gt is None or x > gt)
                and (lt is None or x < lt))

    return Rule(describe, accepts)


def integer(low: Bound = None, high: Bound = None, *, below: Bound = None) -> Rule:
    return _ranged("an integer", lambda v: float(v) if is_int(v) else None, low, high, below=below)


def number(low: Bound = None, high: Bound = None, *, above: Bound = None) -> Rule:
    return _ranged("a number", _as_number, low, high, above=above)


def one_of(*choices) -> Rule:
    return Rule(lambda g: f"one of {', '.join(map(str, choices))}", lambda v, g: v in choices)


def flag() -> Rule:
    return Rule(lambda g: "true or false", lambda v, g: isinstance(v, bool))


def text() -> Rule:
    return Rule(lambda g: "a non-empty string", lambda v, g: isinstance(v, str) and bool(v.strip()))


def device() -> Rule:
    return Rule(lambda g: "auto, cpu, cuda or cuda:<index>",
                lambda v, g: v in ("auto", "cpu", "cuda") or (isinstance(v, str) and v.startswith("cuda:")
                                                               and v[5:].isdigit()))


def nullable(rule: Rule) -> Rule:
    return Rule(lambda g: f"{rule.describe(g)}, or null", lambda v, g: v is None or rule.accepts(v, g), rule.required)


def optional(rule: Rule) -> Rule:
    """The key may be absent (the code has a default)."""
    return Rule(rule.describe, rule.accepts, required=False)


def either(*rules: Rule) -> Rule:
    return Rule(lambda g: " or ".join(r.describe(g) for r in rules), lambda v, g: any(r.accepts(v, g) for r in rules))


def list_of(item: Rule) -> Rule:
    return Rule(lambda g: f"a non-empty list, each {item.describe(g)}",
                lambda v, g: isinstance(v, list) and bool(v) and all(item.accepts(x, g) for x in v))


# ---------------------------------------------------------------- checking

def format_value(value) -> str:
    """YAML-like: strings quoted, null, true/false."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def problems_of(group: Any, schema: Schema, where: str) -> list[str]:
    """Every problem of one group: missing keys, bad values, unknown keys (typos)."""
    if not isinstance(group, dict):
        return [f"{where} = {format_value(group)}: must be a mapping of {', '.join(k for k in schema if k != OPEN)}"]
    found, prefix = [], f"{where}." if where else ""
    for key, rule in schema.items():
        if key == OPEN:
            continue
        if key not in group:
            if rule.required:
                found.append(f"{prefix}{key} is missing: must be {rule.describe(group)}")
        elif not rule.accepts(group[key], group):
            found.append(f"{prefix}{key} = {format_value(group[key])}: must be {rule.describe(group)}")
    if OPEN not in schema:
        found += [f"{prefix}{key} = {format_value(group[key])}: unknown key (known: {', '.join(schema)})"
                  for key in group if key not in schema]
    return found


def raise_if(found: list[str]) -> None:
    """ParamsError with one line per problem, each with config.require's `params.yaml: ` prefix."""
    require(not found, "\nparams.yaml: ".join(found))
