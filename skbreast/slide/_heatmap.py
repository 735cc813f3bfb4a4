"""Painting tile values into a map of the slide."""

import numpy as np

__all__ = ["tile_heatmap"]


def _pixel_span(start, stop, downsample):
    """Map pixels whose centre lies in level-0 ``[start, stop)``."""
    # Deciding by pixel centre leaves neither gaps nor double counts between
    # tiles that touch, at any downsample.
    first = np.ceil(np.asarray(start) / downsample - 0.5).astype(np.int64)
    last = np.ceil(np.asarray(stop) / downsample - 0.5).astype(np.int64)
    return first, last


def tile_heatmap(coords, values, extent, *, downsample=1.0, shape=None):
    """Paint each tile's value where the tile is; NaN where there is none.

    Works for a :class:`SlidePrediction`'s tiles and for any patches with
    known positions, e.g. IDC patches from their ``x``, ``y`` file names.
    Where tiles overlap, the map holds the mean of their values.

    Parameters
    ----------
    coords : array-like of shape (n_tiles, 2)
        ``(x, y)`` of each tile's top-left corner, level-0 pixels.
    values : array-like of shape (n_tiles,)
        The value of each tile (e.g. a probability).
    extent : int or tuple of (int, int)
        ``(width, height)`` of a tile, level-0 pixels.
    downsample : float, default=1.0
        Level-0 pixels per map pixel (a slide level's downsample, say).
    shape : tuple of (int, int), default=None
        ``(height, width)`` of the map; None fits the tiles.

    Returns
    -------
    heatmap : ndarray of shape ``shape``, dtype float64
        A map pixel takes the tiles whose area holds its centre.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.slide import tile_heatmap
    >>> heat = tile_heatmap([[0, 0], [50, 0]], [0.2, 0.9], 50, downsample=25)
    >>> heat
    array([[0.2, 0.2, 0.9, 0.9],
           [0.2, 0.2, 0.9, 0.9]])
    """
    coords = np.asarray(coords, dtype=float).reshape(-1, 2)
    values = np.asarray(values, dtype=float).reshape(-1)
    if len(values) != len(coords):
        raise ValueError(
            f"values has {len(values)} entries for {len(coords)} tile coordinates."
        )
    extent_w, extent_h = (extent, extent) if np.isscalar(extent) else extent
    if not downsample > 0:
        raise ValueError(f"downsample must be positive, got {downsample!r}.")
    x0, x1 = _pixel_span(coords[:, 0], coords[:, 0] + extent_w, downsample)
    y0, y1 = _pixel_span(coords[:, 1], coords[:, 1] + extent_h, downsample)
    if shape is None:
        shape = (int(y1.max(initial=0)), int(x1.max(initial=0)))
    height, width = (int(v) for v in shape)
    x0, x1 = np.clip(x0, 0, width), np.clip(x1, 0, width)
    y0, y1 = np.clip(y0, 0, height), np.clip(y1, 0, height)
    total = np.zeros((height, width))
    count = np.zeros((height, width), dtype=np.int64)
    # A plain loop keeps each painted value exact (a tile alone in its area
    # reads back bit for bit), which cumulative-sum tricks would not.
    for value, top, bottom, left, right in zip(values, y0, y1, x0, x1):
        total[top:bottom, left:right] += value
        count[top:bottom, left:right] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)
