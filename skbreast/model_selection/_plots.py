"""Figures of a comparison: ROC curves per fold, reliability diagrams, thumbnails."""

import numpy as np

from skbreast.model_selection._calibration import calibration_summary
from skbreast.plotting import _COLORS, _pyplot


def plot_reliability(curves, skipped, pos_label, ax=None):
    """Draw reliability curves ``{name: (calibration_summary, probabilities)}``.

    With ``ax=None`` a histogram of the probabilities goes below the diagram, so
    a reader sees how many images each point stands for.
    """
    plt = _pyplot()
    hist_ax = None
    if ax is None:
        fig, (ax, hist_ax) = plt.subplots(
            2,
            1,
            figsize=(6, 7.2),
            sharex=True,
            gridspec_kw={"height_ratios": [3, 1]},
        )
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="perfectly calibrated")
    for i, (name, (cal, proba)) in enumerate(curves.items()):
        color = _COLORS[i % len(_COLORS)]
        ax.plot(
            cal.prob_pred,
            cal.prob_true,
            marker="o",
            color=color,
            lw=1.8,
            label=f"{name} (Brier {cal.brier_score:.3f}, "
            f"ECE {cal.expected_calibration_error:.3f})",
        )
        if hist_ax is not None:
            hist_ax.hist(
                proba,
                bins=cal.bin_edges,
                histtype="step",
                color=color,
                lw=1.5,
                label=name,
            )
    for name in skipped:
        ax.plot([], [], " ", label=f"{name}: no predict_proba, not shown")
    ax.set(
        xlim=(-0.02, 1.02),
        ylim=(-0.02, 1.02),
        ylabel=f"Observed share of {pos_label}",
        title="Reliability diagram (pooled out-of-fold predictions)",
    )
    ax.set_xlabel(f"Mean predicted probability of {pos_label}")
    ax.legend(loc="upper left", fontsize="small")
    if hist_ax is not None:
        # The diagram keeps its own x label and ticks, so that it reads alone.
        ax.tick_params(labelbottom=True)
        hist_ax.set(xlabel="Predicted probability (histogram)", ylabel="images")
        ax.figure.tight_layout()
    return ax


def plot_thumbnails(images, titles, *, overlays=None, suptitle=None, n_cols=6):
    """Thumbnails of ``images`` (above their ``overlays`` when given)."""
    if overlays is not None:
        from skbreast.plotting import plot_gradcam_examples

        return plot_gradcam_examples(
            images, overlays, titles, n_cols=n_cols, suptitle=suptitle
        )
    plt = _pyplot()
    images = np.asarray(images)
    n = len(images)
    n_cols = max(1, min(n_cols, n))
    n_rows = int(np.ceil(n / n_cols)) if n else 1
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(1.9 * n_cols, 2.1 * n_rows), squeeze=False
    )
    for ax in axes.ravel():
        ax.axis("off")
    for i in range(n):
        img = images[i]
        ax = axes.ravel()[i]
        ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray")
        ax.set_title(titles[i], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def roc_folds(result):
    """Return ``{model: [(is_positive, y_score), ...]}``, one pair per split.

    Splits whose test set holds one class (no ROC curve) are left out.
    """
    folds = {}
    for name in result.names:
        p = result.predictions[name]
        pairs = []
        for k in range(result.n_splits):
            mine = p["split"] == k
            positive = p["y_true"][mine] == result.pos_label
            if 0 < positive.sum() < len(positive):
                pairs.append((positive, p["y_score"][mine]))
        if pairs:
            folds[name] = pairs
    return folds


def reliability_curves(result, n_bins, strategy):
    """Return ``(curves, skipped)`` for :func:`plot_reliability`.

    ``skipped`` lists the models without probabilities.
    """
    curves, skipped = {}, []
    for name in result.names:
        if result.score_kind[name] != "predict_proba":
            skipped.append(name)
            continue
        p = result.pooled(name)
        curves[name] = (
            calibration_summary(
                p.is_positive,
                p.y_score,
                n_bins=n_bins,
                strategy=strategy,
                pos_label=True,
            ),
            p.y_score,
        )
    return curves, skipped


def plot_comparison_roc(result, ax=None):
    """Plot the ROC curves of :meth:`ComparisonResult.plot_roc`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbreast.model_selection import compare_models
    >>> rng = np.random.RandomState(0)
    >>> y = np.arange(40) % 2
    >>> X = rng.normal(size=(40, 2)) + y[:, None]
    >>> result = compare_models([LogisticRegression()], X, y,
    ...                         groups=np.arange(40) // 2, cv=4, random_state=0)
    >>> ax = result.plot_roc()
    >>> len(ax.get_lines())  # 4 folds, their mean, and the chance line
    6
    """
    from skbreast.plotting import plot_roc_comparison

    folds = roc_folds(result)
    if not folds:
        raise ValueError("No split has both classes in its test set: no ROC curve.")
    ax = plot_roc_comparison(folds, pos_label=True, ax=ax)
    ax.set_title(
        f"ROC curves of {result.n_splits} splits (thin) and their mean (±1 sd)"
    )
    return ax


def plot_comparison_calibration(result, ax=None, *, n_bins=10, strategy="uniform"):
    """Plot the reliability diagram of :meth:`ComparisonResult.plot_calibration`.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skbreast.model_selection import compare_models
    >>> rng = np.random.RandomState(0)
    >>> y = np.arange(40) % 2
    >>> X = rng.normal(size=(40, 2)) + y[:, None]
    >>> result = compare_models([LogisticRegression()], X, y,
    ...                         groups=np.arange(40) // 2, cv=4, random_state=0)
    >>> ax = result.plot_calibration()
    >>> ax.get_xlabel()
    'Mean predicted probability of 1'
    """
    with result._timed():
        curves, skipped = reliability_curves(result, n_bins, strategy)
    if not curves:
        raise ValueError(
            "No model has predict_proba: a reliability diagram needs probabilities."
        )
    return plot_reliability(curves, skipped, result.pos_label, ax=ax)
