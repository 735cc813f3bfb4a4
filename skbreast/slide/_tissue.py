"""Tissue detection on a slide thumbnail: Otsu on saturation, cleaned up.

Stained tissue is coloured; glass, background and the black padding of some
scanners are not. Saturation separates them better than brightness, which
confuses pale fat and dark pen marks with background or tissue.
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

__all__ = ["TissueMask", "tissue_mask"]


@dataclass(frozen=True)
class TissueMask:
    """A boolean tissue map of a slide and the scale it is drawn at.

    Parameters
    ----------
    mask : ndarray of shape (h, w), dtype bool
        True where there is tissue; pixel ``(i, j)`` covers level-0 pixels
        ``[j * downsample, (j + 1) * downsample)`` across and the same down.
    downsample : float
        Level-0 pixels per mask pixel.
    level : int or None
        The slide level the mask was computed from (None when made by hand).
    threshold : float or None
        The saturation threshold used, in [0, 1].

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.slide import TissueMask
    >>> mask = TissueMask(np.eye(4, dtype=bool), downsample=16.0)
    >>> float(mask.fraction((0, 0), (32, 32)))  # the top-left 2 x 2 mask pixels
    0.5
    """

    mask: np.ndarray
    downsample: float
    level: int | None = None
    threshold: float | None = None

    def __post_init__(self):
        mask = np.asarray(self.mask)
        if mask.ndim != 2:
            raise ValueError(f"mask must be 2-D, got shape {mask.shape}.")
        if not self.downsample > 0:
            raise ValueError(f"downsample must be positive, got {self.downsample!r}.")
        object.__setattr__(self, "mask", mask.astype(bool, copy=False))
        # Summed-area table: any rectangle's tissue count in four lookups, so a
        # grid of a million tiles is filtered without a loop.
        table = np.zeros((mask.shape[0] + 1, mask.shape[1] + 1), dtype=np.int64)
        table[1:, 1:] = self.mask.cumsum(0).cumsum(1)
        object.__setattr__(self, "_table", table)

    def fraction(self, location, size):
        """Return the share of tissue inside level-0 boxes.

        A mask pixel counts when its centre lies inside the box.

        Parameters
        ----------
        location : array-like of shape (2,) or (n, 2)
            ``(x, y)`` of each box's top-left corner, level-0 pixels.
        size : tuple of (float, float)
            ``(width, height)`` of the boxes, level-0 pixels.

        Returns
        -------
        fraction : float or ndarray of shape (n,)
            Tissue pixels over mask pixels inside each box. A box that holds
            no mask pixel centre (one smaller than a mask pixel) takes the
            pixel under its own centre: 1.0 or 0.0, and 0.0 off the mask.

        Examples
        --------
        >>> import numpy as np
        >>> from skbreast.slide import TissueMask
        >>> TissueMask(np.ones((2, 2), bool), 8.0).fraction([[0, 0], [8, 8]], (8, 8))
        array([1., 1.])
        """
        loc = np.asarray(location, dtype=float)
        single = loc.ndim == 1
        loc = loc.reshape(-1, 2)
        h, w = self.mask.shape
        c0, r0 = (
            _first_centre(loc[:, 0], self.downsample),
            _first_centre(loc[:, 1], self.downsample),
        )
        c1 = _first_centre(loc[:, 0] + size[0], self.downsample)
        r1 = _first_centre(loc[:, 1] + size[1], self.downsample)
        c0, c1 = np.clip(c0, 0, w), np.clip(c1, 0, w)
        r0, r1 = np.clip(r0, 0, h), np.clip(r1, 0, h)
        t = self._table
        count = t[r1, c1] - t[r0, c1] - t[r1, c0] + t[r0, c0]
        area = (r1 - r0) * (c1 - c0)
        out = np.where(area > 0, count / np.maximum(area, 1), 0.0)
        small = np.flatnonzero(area == 0)
        if len(small):
            # A box smaller than a mask pixel (a 50-pixel tile at level 0 under
            # the 2048-pixel mask of a 100,000-pixel slide) holds a pixel centre
            # or not by chance: counted as glass, 36 % of the tissue tiles of
            # benchmarks/bench_slide.py's slides were lost.
            col = np.floor((loc[small, 0] + size[0] / 2) / self.downsample)
            row = np.floor((loc[small, 1] + size[1] / 2) / self.downsample)
            inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
            out[small[inside]] = self.mask[
                row[inside].astype(np.int64), col[inside].astype(np.int64)
            ]
        return float(out[0]) if single else out


def _first_centre(coordinate, downsample):
    """Index of the first mask pixel whose centre is at or after ``coordinate``."""
    return np.ceil(np.asarray(coordinate) / downsample - 0.5).astype(np.int64)


def _saturation(rgb):
    rgb = rgb.astype(np.float32)
    high, low = rgb.max(axis=2), rgb.min(axis=2)
    # HSV saturation; black (high == 0) has none, like white glass.
    return np.where(high > 0, (high - low) / np.maximum(high, 1.0), 0.0)


def otsu_threshold(values, bins=256):
    """Return the Otsu threshold of ``values`` in [0, 1] (between-class variance max).

    Parameters
    ----------
    values : ndarray
        Numbers in [0, 1].
    bins : int, default=256
        Histogram bins.

    Returns
    -------
    threshold : float
        Values above it form the upper class.
    """
    hist, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    centres = (edges[:-1] + edges[1:]) / 2
    weight1 = np.cumsum(hist)
    weight2 = np.cumsum(hist[::-1])[::-1]
    mean1 = np.cumsum(hist * centres) / np.maximum(weight1, 1)
    mean2 = (np.cumsum((hist * centres)[::-1]) / np.maximum(weight2[::-1], 1))[::-1]
    variance = weight1[:-1] * weight2[1:] * (mean1[:-1] - mean2[1:]) ** 2
    # Two well-separated classes (glass and stain) leave an empty gap in which
    # every cut is equally good; the middle of it is the robust one, where the
    # first (as in most implementations) sits on the edge of the glass' noise.
    best = np.flatnonzero(variance >= variance.max() * (1 - 1e-9))
    return float((centres[best[0]] + centres[best[-1]]) / 2)


def _remove_small(mask, min_size):
    """Drop the 8-connected components of ``mask`` under ``min_size`` pixels."""
    if min_size <= 1 or not mask.any():
        return mask
    labels, n = ndimage.label(mask, structure=np.ones((3, 3), dtype=bool))
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    keep = sizes >= min_size
    keep[0] = False
    return keep[labels]


def tissue_mask(
    slide,
    level=None,
    *,
    max_size=2048,
    min_saturation=0.05,
    min_object_size=None,
    max_hole_size=None,
):
    """Find the tissue of a slide on a thumbnail.

    Otsu's threshold on the HSV saturation of the thumbnail separates stained
    tissue from glass; specks smaller than ``min_object_size`` are removed and
    holes smaller than ``max_hole_size`` filled.

    Parameters
    ----------
    slide : Slide
        An open slide (:func:`open_slide`).
    level : int, default=None
        The level to read the thumbnail from; None takes the coarsest. It is
        further reduced (block mean) to at most ``max_size`` pixels a side.
    max_size : int, default=2048
        Longest side of the mask, at most.
    min_saturation : float, default=0.05
        The threshold is never below this, so that a blank slide gives an
        empty mask rather than its noise split in two.
    min_object_size : int, default=None
        Tissue pieces smaller than this many mask pixels are dropped; None
        means 0.01 % of the mask's pixels (at least 4).
    max_hole_size : int, default=None
        Holes smaller than this many mask pixels are filled; None means the
        same as ``min_object_size``.

    Returns
    -------
    mask : TissueMask
        The boolean ``mask``, its ``downsample`` (level-0 pixels per mask
        pixel), the ``level`` read and the ``threshold`` used.

    Examples
    --------
    >>> import numpy as np, tifffile, tempfile, os
    >>> from skbreast.slide import open_slide, tissue_mask
    >>> image = np.full((256, 256, 3), 235, dtype=np.uint8)  # glass
    >>> image[64:192, 64:192] = (180, 90, 160)  # a square of stained tissue
    >>> path = os.path.join(tempfile.mkdtemp(), "square.tif")
    >>> tifffile.imwrite(path, image, tile=(128, 128), photometric="rgb")
    >>> with open_slide(path) as slide:
    ...     found = tissue_mask(slide)
    >>> int(found.mask.sum()), found.downsample
    (16384, 1.0)
    """
    image, downsample = slide.read_thumbnail(max_size=max_size, level=level)
    saturation = _saturation(image)
    threshold = max(otsu_threshold(saturation), float(min_saturation))
    mask = saturation > threshold
    if min_object_size is None:
        min_object_size = max(4, int(round(mask.size * 1e-4)))
    if max_hole_size is None:
        max_hole_size = min_object_size
    mask = _remove_small(mask, min_object_size)
    mask = ~_remove_small(~mask, max_hole_size)
    used_level = len(slide.levels) - 1 if level is None else int(level)
    return TissueMask(mask, float(downsample), level=used_level, threshold=threshold)
