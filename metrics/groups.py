"""Metrics per group of speakers (e.g. culture or language, as Raju et al. report German and
Hungarian apart): the same metric over each group's units."""
import numpy as np


def per_group(metric, groups, *arrays) -> dict:
    """{group: metric(*arrays restricted to that group's rows)} for every group, sorted by name,
    when the rows come from more than one group; {} otherwise (the overall metric says it all).
    Rows without a group (None) count only in the overall metric."""
    groups = np.asarray([None if g is None or g != g else str(g) for g in groups], dtype=object)
    names = sorted({g for g in groups if g is not None})
    if len(names) < 2:
        return {}
    return {name: metric(*(np.asarray(a)[groups == name] for a in arrays)) for name in names}
