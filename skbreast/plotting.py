"""Plots for comparing classifiers: ROC curves, confusion matrices, training curves.

Also the map of a whole slide's tile probabilities.

The inputs are plain out-of-fold predictions, so the functions work with any
classifier's cross-validation results, not only skbreast's. They draw with
matplotlib on scikit-learn's display classes where those fit.
"""

import numpy as np

__all__ = [
    "plot_confusion_matrices",
    "plot_gradcam_examples",
    "plot_roc_comparison",
    "plot_slide_heatmap",
    "plot_training_curves",
]

# One colour per model, the same in every figure.
_COLORS = ["C0", "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8", "C9"]


def _pyplot():
    import matplotlib

    # Headless by default; a backend the user already chose is kept.
    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline"):
        try:
            matplotlib.use("Agg", force=False)
        except Exception:  # pragma: no cover - a running GUI backend refuses
            pass
    import matplotlib.pyplot as plt

    return plt


def _new_axes(ax, figsize):
    plt = _pyplot()
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize)
    else:
        fig = ax.figure
    return fig, ax


def plot_roc_comparison(folds, *, pos_label=1, ax=None, n_points=101):
    """Plot the cross-validated ROC curves of several models on one axes.

    Every fold's curve is drawn thin; the mean curve (true positive rates
    interpolated on a common false positive rate grid) is drawn thick with a
    band of ±1 standard deviation. The legend gives each model's mean ± std AUC
    over folds.

    Parameters
    ----------
    folds : dict of str to list of (y_true, y_score)
        For every model name, one ``(y_true, y_score)`` pair per fold, where
        ``y_score`` is the score of ``pos_label`` (e.g. ``predict_proba(X)[:, 1]``).
    pos_label : int or str, default=1
        The positive class in ``y_true``.
    ax : matplotlib Axes, default=None
        Axes to draw on; None creates a figure.
    n_points : int, default=101
        Points of the false positive rate grid of the mean curve.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.plotting import plot_roc_comparison
    >>> rng = np.random.RandomState(0)
    >>> y = np.array([0, 1] * 20)
    >>> folds = {"cnn": [(y, y + rng.rand(40)) for _ in range(3)],
    ...          "resnet": [(y, rng.rand(40)) for _ in range(3)]}
    >>> ax = plot_roc_comparison(folds)
    >>> len(ax.get_lines())  # 3 folds + 1 mean per model, and the chance line
    9
    """
    from sklearn.metrics import RocCurveDisplay, auc, roc_curve

    fig, ax = _new_axes(ax, (6, 6))
    grid = np.linspace(0, 1, n_points)
    for i, (name, pairs) in enumerate(folds.items()):
        color = _COLORS[i % len(_COLORS)]
        tprs, aucs = [], []
        for y_true, y_score in pairs:
            fpr, tpr, _ = roc_curve(y_true, y_score, pos_label=pos_label)
            aucs.append(auc(fpr, tpr))
            _plot_roc(RocCurveDisplay(fpr=fpr, tpr=tpr), ax, color)
            interp = np.interp(grid, fpr, tpr)
            interp[0] = 0.0
            tprs.append(interp)
        mean_tpr = np.mean(tprs, axis=0)
        mean_tpr[-1] = 1.0
        std_tpr = np.std(tprs, axis=0)
        ax.plot(
            grid,
            mean_tpr,
            color=color,
            lw=2.2,
            label=f"{name} (AUC = {np.mean(aucs):.3f} ± {np.std(aucs):.3f})",
        )
        ax.fill_between(
            grid,
            np.clip(mean_tpr - std_tpr, 0, 1),
            np.clip(mean_tpr + std_tpr, 0, 1),
            color=color,
            alpha=0.15,
            lw=0,
        )
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="chance")
    ax.set(
        xlim=(-0.01, 1.01),
        ylim=(-0.01, 1.01),
        xlabel="False positive rate (1 - specificity)",
        ylabel="True positive rate (sensitivity)",
        title="ROC curves (thin: folds; band: ±1 std)",
    )
    ax.set_aspect("equal")
    ax.legend(loc="lower right")
    return ax


def _plot_roc(display, ax, color):
    """Draw one thin fold curve; scikit-learn 1.7 moved line styling to curve_kwargs."""
    import inspect
    import warnings

    style = dict(color=color, alpha=0.3, lw=0.8, label="_nolegend_")
    with warnings.catch_warnings():
        # The display's own legend finds only unlabelled lines; ours comes later.
        warnings.filterwarnings("ignore", message="No artists with labels")
        if "curve_kwargs" in inspect.signature(display.plot).parameters:
            display.plot(ax=ax, curve_kwargs=style)
        else:  # pragma: no cover - scikit-learn < 1.7
            display.plot(ax=ax, **style)


def plot_confusion_matrices(matrices, *, display_labels=None, axes=None):
    """Plot one confusion matrix per model, side by side.

    Parameters
    ----------
    matrices : dict of str to array-like of shape (n_classes, n_classes)
        For every model name, a confusion matrix (rows: true class, columns:
        predicted class), e.g. summed over cross-validation folds.
    display_labels : list of str, default=None
        Class names; None numbers them.
    axes : array of matplotlib Axes, default=None
        One axes per model; None creates a figure.

    Returns
    -------
    fig : matplotlib Figure
        The figure holding the matrices.

    Examples
    --------
    >>> from skbreast.plotting import plot_confusion_matrices
    >>> fig = plot_confusion_matrices({"cnn": [[50, 5], [8, 37]],
    ...                                "resnet": [[48, 7], [4, 41]]},
    ...                               display_labels=["benign", "malignant"])
    >>> len(fig.axes)  # two matrices and their colour bars
    4
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, axes = _model_panels(len(matrices), axes, panel_size=(4.6, 4))
    for ax, (name, cm) in zip(axes, matrices.items()):
        ConfusionMatrixDisplay(np.asarray(cm), display_labels=display_labels).plot(
            ax=ax, cmap="Blues", values_format="d", colorbar=True
        )
        ax.set_title(name)
    fig.tight_layout()
    return fig


def _model_panels(n, axes, panel_size):
    """Return ``(fig, axes)``: the caller's axes, or a new row of ``n`` panels."""
    if axes is not None:
        axes = np.atleast_1d(axes)
        return axes[0].figure, axes
    width, height = panel_size
    fig, grid = _pyplot().subplots(1, n, figsize=(width * n, height), squeeze=False)
    return fig, grid[0]


def plot_training_curves(histories, *, axes=None):
    """Plot training and validation loss per epoch, one panel per model.

    Parameters
    ----------
    histories : dict of str to list of dict
        For every model name, one Keras-style history per fold: a dict with a
        ``"loss"`` list and, when early stopping held out data, ``"val_loss"``
        (e.g. a fitted estimator's ``history_``).
    axes : array of matplotlib Axes, default=None
        One axes per model; None creates a figure.

    Returns
    -------
    fig : matplotlib Figure
        The figure; training loss is solid, validation loss dashed.

    Examples
    --------
    >>> from skbreast.plotting import plot_training_curves
    >>> h = {"loss": [0.7, 0.5, 0.4], "val_loss": [0.7, 0.6, 0.6]}
    >>> fig = plot_training_curves({"cnn": [h, h], "resnet": [h]})
    >>> [len(ax.get_lines()) for ax in fig.axes]
    [4, 2]
    """
    from matplotlib.ticker import MaxNLocator

    fig, axes = _model_panels(len(histories), axes, panel_size=(5, 3.6))
    for ax, (name, runs) in zip(axes, histories.items()):
        for k, history in enumerate(runs):
            color = _COLORS[k % len(_COLORS)]
            loss = history.get("loss", [])
            epochs = np.arange(1, len(loss) + 1)
            ax.plot(epochs, loss, color=color, lw=1.4, label=f"fold {k + 1} loss")
            if history.get("val_loss"):
                val = history["val_loss"]
                ax.plot(
                    np.arange(1, len(val) + 1),
                    val,
                    color=color,
                    lw=1.4,
                    ls="--",
                    label=f"fold {k + 1} val_loss",
                )
        ax.set(title=name, xlabel="epoch", ylabel="loss")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def plot_gradcam_examples(images, overlays, titles, *, n_cols=6, suptitle=None):
    """Show images and their Grad-CAM overlays in a grid (image above overlay).

    Parameters
    ----------
    images : ndarray of shape (n, height, width, channels)
        The original images.
    overlays : ndarray of shape (n, height, width, 3)
        Their overlays, e.g. from :func:`skbreast.inspection.overlay_gradcam`.
    titles : list of str
        One caption per image.
    n_cols : int, default=6
        Images per row.
    suptitle : str, default=None
        Title of the figure.

    Returns
    -------
    fig : matplotlib Figure
        The figure.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.plotting import plot_gradcam_examples
    >>> imgs = np.zeros((3, 8, 8, 3), dtype=np.uint8)
    >>> fig = plot_gradcam_examples(imgs, imgs, ["a", "b", "c"])
    >>> len(fig.axes)
    6
    """
    plt = _pyplot()
    images = np.asarray(images)
    n = len(images)
    n_cols = max(1, min(n_cols, n))
    n_rows = int(np.ceil(n / n_cols)) if n else 1
    fig, axes = plt.subplots(
        2 * n_rows, n_cols, figsize=(1.9 * n_cols, 3.9 * n_rows), squeeze=False
    )
    for ax in axes.ravel():
        ax.axis("off")
    for i in range(n):
        r, c = divmod(i, n_cols)
        img = images[i]
        axes[2 * r, c].imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray")
        axes[2 * r, c].set_title(titles[i], fontsize=8)
        axes[2 * r + 1, c].imshow(overlays[i])
    # Axes beyond the n images were only placeholders.
    for ax in axes.ravel():
        if not ax.images:
            fig.delaxes(ax)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_slide_heatmap(
    heatmap,
    thumbnail=None,
    *,
    ax=None,
    cmap="inferno",
    vmin=0.0,
    vmax=1.0,
    alpha=0.55,
    label="probability",
    title=None,
):
    """Draw a slide's tile heatmap over its thumbnail, with a colour bar.

    Parameters
    ----------
    heatmap : ndarray of shape (h, w)
        Tile scores, NaN where no tile was predicted (those parts show the
        thumbnail), e.g. :meth:`skbreast.slide.SlidePrediction.heatmap`.
    thumbnail : ndarray of shape (h2, w2, 3), default=None
        The slide at any scale (e.g. :meth:`skbreast.slide.Slide.read_thumbnail`);
        both images are stretched over the same axes, so both must show the
        whole slide.
    ax : matplotlib Axes, default=None
        Axes to draw on; None creates a figure.
    cmap : str, default="inferno"
        Colour map of the scores.
    vmin, vmax : float, default=0.0, 1.0
        Scores at the ends of the colour bar.
    alpha : float, default=0.55
        Opacity of the heatmap over the thumbnail.
    label : str, default="probability"
        Label of the colour bar.
    title : str, default=None
        Title of the axes.

    Returns
    -------
    ax : matplotlib Axes
        The axes drawn on.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.plotting import plot_slide_heatmap
    >>> heat = np.array([[0.1, np.nan], [0.8, 0.4]])
    >>> ax = plot_slide_heatmap(heat, np.full((20, 20, 3), 230, np.uint8))
    >>> len(ax.images), ax.figure.axes[-1].get_ylabel()
    (2, 'probability')
    """
    heatmap = np.asarray(heatmap, dtype=float)
    if heatmap.ndim != 2:
        raise ValueError(f"heatmap must be 2-D, got shape {heatmap.shape}.")
    height, width = heatmap.shape
    fig, ax = _new_axes(ax, (6, 6 * height / max(width, 1) + 0.5))
    # Both images span the same box, whatever their own pixel counts.
    box = (0, width, height, 0)
    if thumbnail is not None:
        ax.imshow(np.asarray(thumbnail), extent=box, interpolation="bilinear")
    image = ax.imshow(
        np.ma.masked_invalid(heatmap),
        extent=box,
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        alpha=alpha if thumbnail is not None else 1.0,
        interpolation="nearest",
    )
    colorbar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    colorbar.set_label(label)
    colorbar.solids.set_alpha(1.0)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax
