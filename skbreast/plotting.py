"""Plots for comparing classifiers: ROC curves, confusion matrices, training curves.

Also the map of a whole slide's tile probabilities, and the map of one patient's
patches laid back out where they were cut from the slide.

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
    "plot_slide_map",
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


def _slide_map_array(coords, values, patch_size=50):
    """Return ``(grid, (col0, row0))``: ``values`` laid out on the patch grid.

    Cell ``(y // patch_size - row0, x // patch_size - col0)`` holds the value of
    the patch at ``(x, y)``; cells without a patch are NaN. Positions off the
    grid are rounded down to it.

    Examples
    --------
    >>> from skbreast.plotting import _slide_map_array
    >>> grid, origin = _slide_map_array([[100, 50], [150, 100]], [0.2, 0.9])
    >>> grid
    array([[0.2, nan],
           [nan, 0.9]])
    >>> origin
    (2, 1)
    """
    coords = np.asarray(coords)
    values = np.asarray(values, dtype=float)
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise ValueError(
            f"coords must have shape (n_patches, 2) of (x, y) positions, got "
            f"shape {coords.shape}."
        )
    if values.ndim != 1 or len(values) != len(coords):
        raise ValueError(
            f"Expected one value per patch: {len(coords)} positions in coords, "
            f"values of shape {values.shape}."
        )
    if not len(coords):
        raise ValueError("coords holds no patch: nothing to map.")
    if not np.issubdtype(coords.dtype, np.number) or not np.all(np.isfinite(coords)):
        raise ValueError("coords must hold finite numbers (pixel positions).")
    if np.any(coords < 0):
        raise ValueError("coords must be non-negative pixel positions.")
    if patch_size is None or patch_size <= 0:
        raise ValueError(f"patch_size must be positive, got {patch_size!r}.")
    cells = np.floor_divide(coords, patch_size).astype(np.int64)
    col0, row0 = (int(v) for v in cells.min(axis=0))
    cols, rows = cells[:, 0] - col0, cells[:, 1] - row0
    flat = rows * (cols.max() + 1) + cols
    unique, counts = np.unique(flat, return_counts=True)
    if np.any(counts > 1):
        first = unique[counts > 1][0]
        i = int(np.flatnonzero(flat == first)[0])
        raise ValueError(
            f"Two or more patches fall in the same cell of the map (row "
            f"{int(rows[i])}, column {int(cols[i])}: x={coords[i, 0]}, "
            f"y={coords[i, 1]} with patch_size={patch_size}); give each "
            "patch once, and the patients one at a time."
        )
    grid = np.full((rows.max() + 1, cols.max() + 1), np.nan)
    grid[rows, cols] = values
    return grid, (col0, row0)


def plot_slide_map(
    coords,
    proba,
    y_true=None,
    *,
    patch_size=50,
    axes=None,
    cmap="viridis",
    vmin=0.0,
    vmax=1.0,
    title=None,
    label="positive probability",
):
    """Lay one patient's patches back out as a map of the slide.

    Every patch is a cell of a grid at its position in the slide; cells without
    a patch (background, or patches not predicted) are shown light grey. With
    ``y_true`` the ground truth (0 or 1, on the same colour scale) is drawn left
    of the predicted probabilities, with one colour bar for both.

    Parameters
    ----------
    coords : array-like of shape (n_patches, 2)
        The ``(x, y)`` pixel position of each patch's top-left corner in the
        slide (``x`` and ``y`` of :func:`skbreast.datasets.load_idc`); positions
        off the ``patch_size`` grid are rounded down to it.
    proba : array-like of shape (n_patches,)
        Predicted probability of the positive class per patch.
    y_true : array-like of shape (n_patches,), default=None
        True labels as 0/1 (1 = positive); adds the ground-truth panel.
    patch_size : int, default=50
        Side of a patch, in pixels: the grid's step.
    axes : matplotlib Axes or sequence of 2 Axes, default=None
        Where to draw: one axes, or two with ``y_true`` (ground truth, then
        probabilities); None creates a figure.
    cmap : str or Colormap, default="viridis"
        Colour map of the probabilities.
    vmin, vmax : float, default=0.0, 1.0
        Values at the ends of the colour bar.
    title : str, default=None
        Title of the figure.
    label : str, default="positive probability"
        Label of the colour bar (e.g. ``"IDC probability"``).

    Returns
    -------
    fig : matplotlib Figure
        The figure holding the map(s) and the colour bar.

    Raises
    ------
    ValueError
        If the shapes disagree, a position is negative or not finite, ``y_true``
        holds other values than 0 and 1, or two patches fall in one cell (the
        error names the cell).

    See Also
    --------
    plot_slide_heatmap : A whole slide's tile scores over its thumbnail.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.plotting import plot_slide_map
    >>> coords = np.array([[0, 0], [50, 0], [0, 100]])
    >>> fig = plot_slide_map(coords, [0.1, 0.7, 0.9], y_true=[0, 1, 1])
    >>> fig.axes[1].images[0].get_array()[0]
    masked_array(data=[0.1, 0.7],
                 mask=[False, False],
           fill_value=1e+20)
    >>> fig.axes[-1].get_ylabel()
    'positive probability'
    """
    import matplotlib

    coords = np.asarray(coords)
    grid, _ = _slide_map_array(coords, proba, patch_size)
    panels = [grid]
    titles = ["predicted probability"]
    if y_true is not None:
        truth = np.asarray(y_true)
        if truth.shape != (len(coords),):
            raise ValueError(
                f"y_true must have shape ({len(coords)},), one label per patch; "
                f"got shape {truth.shape}."
            )
        if not np.isin(truth, (0, 1)).all():
            raise ValueError("y_true must hold 0 and 1 only (1 = positive).")
        panels.insert(0, _slide_map_array(coords, truth, patch_size)[0])
        titles.insert(0, "ground truth")
    colours = matplotlib.colormaps[cmap] if isinstance(cmap, str) else cmap
    colours = colours.with_extremes(bad="#d9d9d9")
    height, width = grid.shape
    if axes is None:
        side = 4.2
        fig, axes = _pyplot().subplots(
            1,
            len(panels),
            figsize=(side * len(panels) + 1, side * height / max(width, height) + 1),
            squeeze=False,
        )
        axes = axes[0]
    else:
        axes = np.atleast_1d(axes)
        if len(axes) != len(panels):
            raise ValueError(
                f"Expected {len(panels)} axes (one per panel), got {len(axes)}."
            )
        fig = axes[0].figure
    for ax, panel, name in zip(axes, panels, titles):
        image = ax.imshow(
            np.ma.masked_invalid(panel),
            cmap=colours,
            vmin=vmin,
            vmax=vmax,
            interpolation="nearest",
        )
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
    colorbar = fig.colorbar(image, ax=list(axes), fraction=0.046, pad=0.04)
    colorbar.set_label(label)
    if title:
        fig.suptitle(title)
    return fig
