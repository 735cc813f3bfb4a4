"""Predicting a whole slide tile by tile, and what the prediction holds."""

import csv
import os
from dataclasses import dataclass

import numpy as np

from skbreast._fileio import atomic_write
from skbreast.slide._heatmap import tile_heatmap
from skbreast.slide._reader import Slide, open_slide
from skbreast.slide._tiles import SlideTiles, tile_grid
from skbreast.slide._tissue import TissueMask, tissue_mask

__all__ = ["SlidePrediction", "predict_slide"]

# batch_size="auto": about this many bytes of tiles a batch, in multiples of
# 128 tiles (skbreast estimators predict in batches of 128, padding the last:
# 64 tiles a call cost as much as 128). Decoding whole regions of many tiles
# is what keeps up with the model: 2,176 50x50 tiles a batch predicted 0.84x
# as fast as the same tiles from memory, 128 a batch 0.61x and 64 0.32x
# (benchmarks/bench_slide.py, default CNN, 2 CPU cores).
_AUTO_BATCH_BYTES = 16 * 2**20
_BATCH_MULTIPLE = 128


@dataclass
class SlidePrediction:
    """Per-tile probabilities of a slide, its heatmap and slide-level scores.

    Made by :func:`predict_slide`.

    Parameters
    ----------
    path : str
        The slide file.
    coords : ndarray of shape (n_tiles, 2), dtype int64
        ``(x, y)`` of each tile's top-left corner, level-0 pixels.
    proba : ndarray of shape (n_tiles, n_classes)
        The estimator's ``predict_proba`` of every tile.
    classes : ndarray of shape (n_classes,)
        The estimator's ``classes_``.
    pos_label : object
        The class whose probability is the tile *score* (heatmap, aggregates).
    extent : tuple of (int, int)
        ``(width, height)`` of a tile, level-0 pixels.
    dimensions : tuple of (int, int)
        ``(width, height)`` of the slide's level 0.
    level_downsamples : tuple of float
        The slide's levels, for :meth:`heatmap`.
    mask : TissueMask or None
        The tissue mask the tiles were chosen with.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.slide import SlidePrediction
    >>> pred = SlidePrediction("a.tif", np.array([[0, 0], [64, 0]]),
    ...                        np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([0, 1]),
    ...                        1, (64, 64), (128, 64), (1.0,))
    >>> pred.scores
    array([0.1, 0.8])
    >>> pred.summary(top_k=1)["top_k_mean"]
    0.8
    """

    path: str
    coords: np.ndarray
    proba: np.ndarray
    classes: np.ndarray
    pos_label: object
    extent: tuple
    dimensions: tuple
    level_downsamples: tuple
    mask: TissueMask | None = None

    @property
    def scores(self):
        """The probability of ``pos_label`` of every tile, shape (n_tiles,)."""
        column = int(np.flatnonzero(np.asarray(self.classes) == self.pos_label)[0])
        return self.proba[:, column]

    def __len__(self):
        return len(self.coords)

    def heatmap(self, level=None, *, downsample=None):
        """Return the tile scores as a map of one level of the slide.

        Parameters
        ----------
        level : int, default=None
            The level the map is aligned with (its shape is the level's);
            None takes the coarsest.
        downsample : float, default=None
            Or any level-0 pixels per map pixel (e.g. a tissue mask's).

        Returns
        -------
        heatmap : ndarray of shape (height, width), dtype float64
            Each tile's score where the tile is (the mean where tiles
            overlap); NaN where no tile was predicted.

        Examples
        --------
        >>> import numpy as np
        >>> from skbreast.slide import SlidePrediction
        >>> pred = SlidePrediction("a.tif", np.array([[0, 0]]), np.array([[0.3, 0.7]]),
        ...                        np.array([0, 1]), 1, (4, 4), (8, 4), (1.0, 4.0))
        >>> pred.heatmap()
        array([[0.7, nan]])
        """
        if downsample is None:
            if level is None:
                level = len(self.level_downsamples) - 1
            downsample = float(self.level_downsamples[level])
        elif level is not None:
            raise ValueError("Give level or downsample, not both.")
        width, height = self.dimensions
        shape = (max(1, round(height / downsample)), max(1, round(width / downsample)))
        return tile_heatmap(
            self.coords, self.scores, self.extent, downsample=downsample, shape=shape
        )

    def summary(self, *, threshold=0.5, top_k=10):
        """Return slide-level aggregates of the tile scores.

        Parameters
        ----------
        threshold : float, default=0.5
            Tiles scoring at least this count as positive.
        top_k : int, default=10
            Tiles averaged for ``top_k_mean`` (all of them if fewer).

        Returns
        -------
        summary : dict
            ``n_tiles``; ``mean``, ``max`` and ``top_k_mean`` of the scores;
            ``fraction_positive``, the share of tissue tiles at or above
            ``threshold``; ``threshold``, ``top_k`` and ``pos_label``. Scores
            are NaN for a slide without tiles.

        Examples
        --------
        >>> import numpy as np
        >>> from skbreast.slide import SlidePrediction
        >>> pred = SlidePrediction("a.tif", np.zeros((4, 2), int),
        ...                        np.array([[.9, .1], [.8, .2], [.4, .6], [.1, .9]]),
        ...                        np.array(["benign", "malignant"]), "malignant",
        ...                        (8, 8), (8, 8), (1.0,))
        >>> s = pred.summary(top_k=2)
        >>> s["max"], s["top_k_mean"], s["fraction_positive"]
        (0.9, 0.75, 0.5)
        """
        top_k = int(top_k)
        if top_k < 1:
            raise ValueError(f"top_k must be at least 1, got {top_k}.")
        scores = self.scores
        label = self.pos_label
        out = {
            "path": self.path,
            "n_tiles": len(scores),
            "pos_label": label.item() if isinstance(label, np.generic) else label,
            "threshold": float(threshold),
            "top_k": top_k,
        }
        if len(scores) == 0:
            nan = float("nan")
            out.update(mean=nan, max=nan, top_k_mean=nan, fraction_positive=nan)
            return out
        top = np.sort(scores)[::-1][:top_k]
        out.update(
            mean=float(np.mean(scores)),
            max=float(np.max(scores)),
            top_k_mean=float(np.mean(top)),
            fraction_positive=float(np.mean(scores >= threshold)),
        )
        return out

    def to_dict(self):
        """Return the tiles as a dict of columns (``x``, ``y``, ``proba_<class>``).

        Returns
        -------
        columns : dict of str to ndarray
            ``pandas.DataFrame(pred.to_dict())`` makes a table of it.

        Examples
        --------
        >>> import numpy as np
        >>> from skbreast.slide import SlidePrediction
        >>> pred = SlidePrediction("a.tif", np.array([[0, 0]]),
        ...                        np.array([[0.3, 0.7]]), np.array(["no", "yes"]),
        ...                        "yes", (4, 4), (4, 4), (1.0,))
        >>> sorted(pred.to_dict())
        ['proba_no', 'proba_yes', 'x', 'y']
        """
        columns = {"x": self.coords[:, 0], "y": self.coords[:, 1]}
        for j, label in enumerate(self.classes):
            columns[f"proba_{label}"] = self.proba[:, j]
        return columns

    def write_csv(self, file):
        """Write one row per tile: ``x``, ``y``, ``width``, ``height``, probabilities.

        Parameters
        ----------
        file : str, path-like or file object
            Where to write (a file object opened with ``newline=""``).

        Examples
        --------
        >>> import io
        >>> import numpy as np
        >>> from skbreast.slide import SlidePrediction
        >>> pred = SlidePrediction("a.tif", np.array([[0, 0]]), np.array([[0.3, 0.7]]),
        ...                        np.array([0, 1]), 1, (4, 4), (4, 4), (1.0,))
        >>> out = io.StringIO()
        >>> pred.write_csv(out)
        >>> print(out.getvalue().strip())
        x,y,width,height,proba_0,proba_1
        0,0,4,4,0.300000,0.700000
        """
        if isinstance(file, (str, os.PathLike)):
            # Whole or not at all: the package's atomic writer.
            with atomic_write(file, "w", newline="", encoding="utf-8") as f:
                return self.write_csv(f)
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(
            ["x", "y", "width", "height"] + [f"proba_{c}" for c in self.classes]
        )
        width, height = self.extent
        for (x, y), row in zip(self.coords, self.proba):
            writer.writerow([int(x), int(y), width, height] + [f"{p:.6f}" for p in row])
        return None


def _default_tile_size(estimator):
    shape = getattr(estimator, "image_shape_", None)
    if shape is None:
        raise ValueError(
            f"tile_size is needed: {type(estimator).__name__} has no image_shape_ "
            "to take it from."
        )
    return (int(shape[1]), int(shape[0]))


def predict_slide(
    estimator,
    slide,
    *,
    tile_size=None,
    mpp=None,
    magnification=None,
    level=None,
    overlap=0,
    mask="auto",
    min_tissue=0.5,
    batch_size="auto",
    n_jobs=None,
    pos_label=None,
    callback=None,
):
    """Predict every tissue tile of a slide with a fitted classifier.

    Tiles are read in batches (decoded by ``n_jobs`` threads, the next batch
    while the model predicts the current one) and passed to
    ``estimator.predict_proba``, so memory holds two batches, not the slide.
    The result is the same whatever ``batch_size`` and ``n_jobs``, for an
    estimator whose predictions do not depend on the batch.

    Parameters
    ----------
    estimator : fitted classifier
        Anything with ``predict_proba`` on ``(n, height, width, 3)`` uint8
        images and ``classes_``: every skbreast classifier, a pipeline ending
        in one.
    slide : Slide, str or path-like
        An open slide or its file (opened and closed here).
    tile_size : int or tuple of (int, int), default=None
        Tile ``(width, height)`` in pixels; None takes the estimator's
        ``image_shape_``.
    mpp, magnification : float, default=None
        The resolution of the tiles; it should be the resolution the model was
        trained at (e.g. about ``mpp=4.0`` for IDC's patches: 40x scans
        downsampled 16 to 1).
    level : int, default=None
        Or a slide level; none of the three means level 0.
    overlap : int, default=0
        Pixels shared by neighbouring tiles.
    mask : "auto", TissueMask or None, default="auto"
        Which tiles to predict: over tissue found by :func:`tissue_mask`,
        over a given mask, or all.
    min_tissue : float, default=0.5
        The least tissue share of a predicted tile.
    batch_size : int or "auto", default="auto"
        Tiles decoded and passed to ``predict_proba`` at once. ``"auto"``
        takes a multiple of 128 tiles holding about 16 MB of pixels (2,176
        tiles of 50x50, 128 of 224x224): large batches let neighbouring
        tiles be decoded together, and skbreast estimators predict in padded
        batches of 128.
    n_jobs : int, default=None
        Tile-decoding threads; None means ``min(4, os.cpu_count())``, -1 all.
    pos_label : object, default=None
        The class scored by the heatmap and the aggregates; None takes the
        last of ``classes_`` (the positive class of a binary problem).
    callback : callable, default=None
        Called as ``callback(n_done, n_tiles)`` after every batch (for
        progress bars).

    Returns
    -------
    prediction : SlidePrediction
        Tile coordinates and probabilities, ``heatmap()``, ``summary()``,
        ``write_csv()``.

    Examples
    --------
    >>> import numpy as np, tifffile, tempfile, os
    >>> from skbreast.slide import predict_slide
    >>> class Redness:  # a stand-in classifier: the mean red value
    ...     classes_ = np.array([0, 1])
    ...     def predict_proba(self, X):
    ...         red = X[..., 0].mean(axis=(1, 2)) / 255
    ...         return np.column_stack([1 - red, red])
    >>> image = np.full((128, 256, 3), 240, dtype=np.uint8)
    >>> image[:, :128] = (204, 60, 150)  # tissue on the left half
    >>> path = os.path.join(tempfile.mkdtemp(), "half.tif")
    >>> tifffile.imwrite(path, image, tile=(128, 128), photometric="rgb")
    >>> pred = predict_slide(Redness(), path, tile_size=64)
    >>> pred.coords.tolist(), pred.scores.round(2).tolist()
    ([[0, 0], [64, 0], [0, 64], [64, 64]], [0.8, 0.8, 0.8, 0.8])
    >>> pred.summary()["mean"]
    0.8
    """
    if not hasattr(estimator, "predict_proba"):
        raise TypeError(f"{type(estimator).__name__} has no predict_proba method.")
    classes = np.asarray(getattr(estimator, "classes_", []))
    if classes.size == 0:
        raise ValueError(f"{type(estimator).__name__} is not fitted (no classes_).")
    if pos_label is None:
        pos_label = classes[-1]
    elif pos_label not in list(classes):
        raise ValueError(f"pos_label={pos_label!r} is not one of {list(classes)}.")
    if tile_size is None:
        tile_size = _default_tile_size(estimator)
    if not (isinstance(batch_size, str) and batch_size == "auto"):
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(
                f"batch_size must be a positive int or 'auto', got {batch_size!r}."
            )
    if n_jobs is None:
        n_jobs = min(4, os.cpu_count() or 1)
    if isinstance(slide, Slide):
        return _predict_open(
            estimator, slide, classes, pos_label, tile_size, mpp, magnification,
            level, overlap, mask, min_tissue, batch_size, n_jobs, callback,
        )  # fmt: skip
    with open_slide(slide) as opened:
        return _predict_open(
            estimator, opened, classes, pos_label, tile_size, mpp, magnification,
            level, overlap, mask, min_tissue, batch_size, n_jobs, callback,
        )  # fmt: skip


def _predict_open(
    estimator, slide, classes, pos_label, tile_size, mpp, magnification, level,
    overlap, mask, min_tissue, batch_size, n_jobs, callback,
):  # fmt: skip
    if isinstance(mask, str) and mask == "auto":
        mask = tissue_mask(slide)
    grid = tile_grid(
        slide,
        tile_size,
        mpp=mpp,
        magnification=magnification,
        level=level,
        overlap=overlap,
        mask=mask,
        min_tissue=min_tissue,
    )
    if isinstance(batch_size, str):
        width, height = grid.tile_size
        fits = _AUTO_BATCH_BYTES // (width * height * 3)
        batch_size = max(_BATCH_MULTIPLE, fits // _BATCH_MULTIPLE * _BATCH_MULTIPLE)
    proba = np.empty((len(grid), len(classes)), dtype=np.float64)
    done = 0
    for batch in SlideTiles(slide, grid).batches(batch_size, n_jobs=n_jobs):
        proba[done : done + len(batch)] = estimator.predict_proba(batch)
        done += len(batch)
        if callback is not None:
            callback(done, len(grid))
    return SlidePrediction(
        path=slide.path,
        coords=grid.coords,
        proba=proba,
        classes=classes,
        pos_label=pos_label,
        extent=grid.extent,
        dimensions=slide.dimensions,
        level_downsamples=tuple(lv.downsample for lv in slide.levels),
        mask=mask,
    )
