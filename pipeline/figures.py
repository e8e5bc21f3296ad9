"""Figures that stages write as PNG files (no display; `dvc plots show` needs a CDN offline)."""
from pathlib import Path


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend, imported when a stage first draws."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path) -> None:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    pyplot().close(fig)
