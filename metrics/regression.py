"""Agreement between continuous tracks: CCC (Lin, 1989), Pearson r, MSE, MAE, and the CCC loss.

The functions reduce over the last axis and work on numpy arrays and torch tensors
alike, so the metric reported by `evaluate`, the loss optimised by `train` and the
human baseline computed by `corpus` are one implementation.
"""
EPS = 1e-12


def _moments(pred, gold):
    mean_p, mean_g = pred.mean(-1), gold.mean(-1)
    dev_p, dev_g = pred - mean_p[..., None], gold - mean_g[..., None]
    # population (1/N) moments, as in the expectation form of the papers' CCC equation
    return mean_p, mean_g, (dev_p ** 2).mean(-1), (dev_g ** 2).mean(-1), (dev_p * dev_g).mean(-1)


def ccc(pred, gold):
    """2 cov / (var_p + var_g + (mean_p - mean_g)^2); 0 when both tracks are constant."""
    mean_p, mean_g, var_p, var_g, cov = _moments(pred, gold)
    return 2 * cov / (var_p + var_g + (mean_p - mean_g) ** 2 + EPS)


def pcc(pred, gold):
    """Pearson correlation; 0 when either track is constant."""
    _, _, var_p, var_g, cov = _moments(pred, gold)
    return cov / ((var_p * var_g) ** 0.5 + EPS)


def mse(pred, gold):
    return ((pred - gold) ** 2).mean(-1)


def mae(pred, gold):
    return abs(pred - gold).mean(-1)


def ccc_loss(pred, gold):
    """1 - CCC summed over everything but the last (time) axis: maximises the sum of CCCs."""
    return (1 - ccc(pred, gold)).sum()


def leave_one_out_ccc(ratings):
    """(annotators, T) -> each annotator's CCC against the mean of the other annotators
    (the human baseline of a corpus)."""
    k = ratings.shape[0]
    if k < 2:
        raise ValueError("human agreement needs at least two annotators")
    others = (ratings.sum(axis=0, keepdims=True) - ratings) / (k - 1)
    return ccc(ratings, others)
