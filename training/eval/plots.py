"""Figures for training and evaluation reports, written as PNG files.

Matplotlib is imported inside the functions (it is a training dependency only) and used through
its object-oriented API with the Agg canvas, so no window is opened and pyplot's global state is
left alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["plot_embedding_scatter", "plot_loss", "plot_roc", "project_2d"]


def plot_loss(history: Sequence[Mapping[str, float]], path: str | Path) -> Path:
    """Plot the loss per epoch, and every other numeric key of the history too.

    ``history`` has one dict per epoch, e.g. ``{"epoch": 1, "loss": 0.9, "val_loss": 1.1,
    "lfw_accuracy": 0.8}``; the x axis is ``epoch`` when present, else 1, 2, ... Keys with "loss"
    in their name share the left axis; the others (accuracies and the like, on another scale) get
    a right axis. An epoch without a key leaves a gap.
    """
    if not history:
        raise ValueError("the history is empty")
    epochs = [row.get("epoch", i + 1) for i, row in enumerate(history)]
    keys = sorted({key for row in history for key in row if key != "epoch"})
    if not keys:
        raise ValueError("the history has no values to plot")
    fig, ax = _figure()
    other_ax = None
    for key in keys:
        values = [float(row[key]) if key in row else np.nan for row in history]
        if "loss" in key:
            target = ax
        else:
            if other_ax is None:
                other_ax = ax.twinx()
            target = other_ax
        style = "-" if target is ax else "--"
        target.plot(epochs, values, style, marker="o", markersize=3, label=key)
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    handles, labels = ax.get_legend_handles_labels()
    if other_ax is not None:
        other_ax.set_ylabel("other metrics")
        more_handles, more_labels = other_ax.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    ax.legend(handles, labels, loc="best", fontsize="small")
    ax.set_title("Training history")
    ax.grid(alpha=0.3)
    return _save(fig, path)


def plot_roc(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]], path: str | Path
) -> Path:
    """Plot ROC curves (TAR against FAR, FAR on a log axis), one per label: ``{label: (far, tar)}``.

    Points with FAR = 0 cannot be shown on a log axis; the axis starts at the smallest positive
    FAR of all curves.
    """
    if not curves:
        raise ValueError("no ROC curves to plot")
    fig, ax = _figure()
    smallest = 1.0
    for label, (far, tar) in curves.items():
        far, tar = np.asarray(far, dtype=float), np.asarray(tar, dtype=float)
        if far.shape != tar.shape:
            raise ValueError(f"{label}: far and tar differ in length")
        positive = far > 0
        if positive.any():
            smallest = min(smallest, float(far[positive].min()))
        ax.step(far, tar, where="post", label=label)
    ax.set_xscale("log")
    ax.set_xlim(min(smallest, 1e-3), 1.0)
    ax.set_ylim(0.0, 1.01)
    ax.set_xlabel("false accept rate (log)")
    ax.set_ylabel("true accept rate")
    ax.set_title("ROC")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right", fontsize="small")
    return _save(fig, path)


def plot_embedding_scatter(emb, labels, path: str | Path, method: str = "pca") -> Path:
    """Scatter the embeddings in 2-D, coloured by identity, with a legend.

    Meant for the embeddings of a handful of identities. ``method`` is "pca" (NumPy SVD) or
    "tsne" (scikit-learn; when it is not installed, PCA is used and the title says so).
    """
    labels = np.asarray(labels)
    points, description = project_2d(emb, method)
    if labels.shape != (len(points),):
        raise ValueError("there must be one label per embedding")
    import matplotlib

    fig, ax = _figure()
    identities = list(dict.fromkeys(labels.tolist()))  # first-appearance order, for the legend
    colours = matplotlib.colormaps["tab20"].resampled(max(len(identities), 1))
    for i, identity in enumerate(identities):
        mine = labels == identity
        ax.scatter(points[mine, 0], points[mine, 1], s=14, color=colours(i), label=str(identity))
    ax.set_title(f"Embeddings of {len(identities)} identities: {description}", fontsize="medium")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="x-small")
    return _save(fig, path)


def project_2d(emb, method: str = "pca") -> tuple[np.ndarray, str]:
    """Project embeddings ``(n, d)`` to 2-D; returns the points and a description for a title."""
    emb = np.asarray(emb, dtype=np.float64)
    if emb.ndim != 2 or len(emb) < 2:
        raise ValueError(f"need at least two embeddings as an (n, d) array, got shape {emb.shape}")
    if method == "tsne":
        try:
            from sklearn.manifold import TSNE
        except ImportError:
            points, description = _pca_2d(emb)
            return points, f"{description} (t-SNE unavailable: scikit-learn is not installed)"
        perplexity = min(30.0, (len(emb) - 1) / 3)  # t-SNE needs perplexity < n
        points = TSNE(n_components=2, perplexity=perplexity, random_state=0).fit_transform(emb)
        return points, "t-SNE"
    if method == "pca":
        return _pca_2d(emb)
    raise ValueError(f"unknown projection method {method!r}: use 'pca' or 'tsne'")


# --- helpers ---------------------------------------------------------------------------------


def _pca_2d(emb: np.ndarray) -> tuple[np.ndarray, str]:
    centred = emb - emb.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)
    points = centred @ vt[:2].T
    if points.shape[1] < 2:  # one-dimensional embeddings: pad so the scatter still works
        points = np.pad(points, ((0, 0), (0, 2 - points.shape[1])))
    variance = singular**2
    explained = variance[:2].sum() / variance.sum() if variance.sum() > 0 else 0.0
    return points, f"PCA ({explained:.0%} of the variance)"


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 5), dpi=100)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", bbox_inches="tight")
    return path
