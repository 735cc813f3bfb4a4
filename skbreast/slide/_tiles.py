"""Tiling a slide: a grid of tile positions, and reading its tiles in batches."""

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from skbreast.datasets._imageio import resize_image
from skbreast.slide._tissue import TissueMask, tissue_mask

__all__ = ["SlideTiles", "TileGrid", "tile_grid"]

# Tile positions tested against the tissue mask at once (about 20 MB of them
# and the mask's temporaries).
_BLOCK_POSITIONS = 1 << 18
# Neighbouring tiles are read as one region (each read decodes whole TIFF
# tiles: 0.57 ms for a 50-pixel tile alone, 14 ms for a row of 96) when the
# region holds at most this many times their own pixels.
_REGION_DENSITY = 4


@dataclass(frozen=True)
class TileGrid:
    """Tile positions over a slide, and how to read each tile.

    Made by :func:`tile_grid`. A tile covers ``extent`` level-0 pixels from
    its corner in ``coords``; it is read from ``level`` as ``read_size``
    pixels and resized to ``tile_size``.

    Parameters
    ----------
    coords : ndarray of shape (n_tiles, 2), dtype int64
        ``(x, y)`` of each tile's top-left corner, level-0 pixels, in row-major
        order (top row first).
    tile_size : tuple of (int, int)
        ``(width, height)`` of a tile as the model sees it.
    extent : tuple of (int, int)
        ``(width, height)`` of a tile in level-0 pixels.
    stride : tuple of (int, int)
        Level-0 pixels between neighbouring tiles.
    level : int
        The slide level tiles are read from.
    read_size : tuple of (int, int)
        ``(width, height)`` read from ``level``, before resizing.
    downsample : float
        Level-0 pixels per tile pixel.
    tissue : ndarray of shape (n_tiles,) or None
        Each tile's share of tissue, when a mask was used.

    Examples
    --------
    >>> import numpy as np
    >>> from skbreast.slide import TileGrid
    >>> grid = TileGrid(np.array([[0, 0], [64, 0]]), (64, 64), (64, 64), (64, 64),
    ...                 0, (64, 64), 1.0)
    >>> len(grid), grid.boxes()[1].tolist()
    (2, [64, 0, 64, 64])
    """

    coords: np.ndarray
    tile_size: tuple
    extent: tuple
    stride: tuple
    level: int
    read_size: tuple
    downsample: float
    tissue: np.ndarray | None = None

    def __len__(self):
        return len(self.coords)

    def boxes(self):
        """Return ``(x, y, width, height)`` of every tile, level-0 pixels.

        Returns
        -------
        boxes : ndarray of shape (n_tiles, 4), dtype int64

        Examples
        --------
        >>> import numpy as np
        >>> from skbreast.slide import TileGrid
        >>> TileGrid(np.array([[8, 16]]), (4, 4), (8, 8), (8, 8), 0, (8, 8),
        ...          2.0).boxes()
        array([[ 8, 16,  8,  8]])
        """
        sizes = np.broadcast_to(np.asarray(self.extent, dtype=np.int64), (len(self), 2))
        return np.hstack([self.coords, sizes])


def _pair(value, name):
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise ValueError(
            f"{name} must be an int or (width, height) ints, got {value!r}."
        )
    return tuple(int(v) for v in pair)


def tile_grid(
    slide,
    tile_size,
    *,
    mpp=None,
    magnification=None,
    level=None,
    overlap=0,
    mask="auto",
    min_tissue=0.5,
):
    """Lay a grid of tiles over a slide's tissue.

    Only whole tiles are laid: a strip narrower than a tile at the right and
    bottom edges is left out.

    Parameters
    ----------
    slide : Slide
        An open slide.
    tile_size : int or tuple of (int, int)
        Tile ``(width, height)`` in pixels at the asked resolution.
    mpp, magnification : float, default=None
        The resolution of the tiles (microns per pixel, or objective power).
    level : int, default=None
        Or the level whose pixels the tiles are made of; with none of the three,
        level 0. Give at most one of ``mpp``, ``magnification`` and ``level``.
    overlap : int, default=0
        Pixels (at the tiles' resolution) shared by neighbouring tiles.
    mask : "auto", TissueMask or None, default="auto"
        Keep tiles over tissue: ``"auto"`` computes :func:`tissue_mask`, None
        keeps every tile.
    min_tissue : float, default=0.5
        The least share of a tile that must be tissue, in [0, 1].

    Returns
    -------
    grid : TileGrid
        Level-0 ``coords`` of the kept tiles, the read ``level`` and
        ``read_size``, and each tile's ``tissue`` share.

    Examples
    --------
    >>> import numpy as np, tifffile, tempfile, os
    >>> from skbreast.slide import open_slide, tile_grid
    >>> image = np.full((256, 256, 3), 235, dtype=np.uint8)
    >>> image[:128, :128] = (180, 90, 160)  # tissue in the top-left quarter
    >>> path = os.path.join(tempfile.mkdtemp(), "quarter.tif")
    >>> tifffile.imwrite(path, image, tile=(128, 128), photometric="rgb")
    >>> with open_slide(path) as slide:
    ...     grid = tile_grid(slide, 64)
    >>> grid.coords.tolist()
    [[0, 0], [64, 0], [0, 64], [64, 64]]
    """
    tile_w, tile_h = _pair(tile_size, "tile_size")
    if tile_w < 1 or tile_h < 1:
        raise ValueError(f"tile_size must be positive, got {tile_size!r}.")
    overlap = int(overlap)
    if not 0 <= overlap < min(tile_w, tile_h):
        raise ValueError(
            f"overlap must be in [0, {min(tile_w, tile_h)}) for tiles of "
            f"{tile_w}x{tile_h}, got {overlap}."
        )
    if not 0 <= min_tissue <= 1:
        raise ValueError(f"min_tissue must be in [0, 1], got {min_tissue!r}.")
    if sum(v is not None for v in (mpp, magnification, level)) > 1:
        raise ValueError("Give at most one of mpp, magnification and level.")
    if level is not None:
        level = slide._check_level(level)
        downsample = slide.levels[level].downsample
    elif mpp is None and magnification is None:
        level, downsample = 0, 1.0
    else:
        downsample = slide.downsample_for(mpp=mpp, magnification=magnification)
        level = slide.level_for(downsample)
    scale = downsample / slide.levels[level].downsample
    read_size = (max(1, round(tile_w * scale)), max(1, round(tile_h * scale)))
    extent = (round(tile_w * downsample), round(tile_h * downsample))
    stride = (
        max(1, round((tile_w - overlap) * downsample)),
        max(1, round((tile_h - overlap) * downsample)),
    )
    width, height = slide.dimensions
    xs = np.arange(0, width - extent[0] + 1, stride[0], dtype=np.int64)
    ys = np.arange(0, height - extent[1] + 1, stride[1], dtype=np.int64)
    if isinstance(mask, str) and mask == "auto":
        mask = tissue_mask(slide)
    if mask is not None and not isinstance(mask, TissueMask):
        raise TypeError(
            f"mask must be 'auto', a TissueMask or None, got {type(mask).__name__}."
        )
    # A block of rows at a time: a 100,000-pixel slide has 4 million positions
    # of 50-pixel tiles, and testing them all at once peaked at 431 MiB of
    # positions and temporaries (tracemalloc), 31 MiB in blocks.
    rows_per_block = max(1, _BLOCK_POSITIONS // max(1, len(xs)))
    coord_blocks, tissue_blocks = [np.empty((0, 2), np.int64)], [np.empty(0)]
    for start in range(0, len(ys), rows_per_block):
        gx, gy = np.meshgrid(xs, ys[start : start + rows_per_block])
        coords = np.stack([gx.ravel(), gy.ravel()], axis=1)
        if mask is not None:
            tissue = mask.fraction(coords, extent)
            # A tile with no tissue at all never passes, even with min_tissue=0.
            keep = (tissue > 0) & (tissue >= min_tissue)
            coords = coords[keep]
            tissue_blocks.append(tissue[keep])
        coord_blocks.append(coords)
    coords = np.concatenate(coord_blocks)
    tissue = None if mask is None else np.concatenate(tissue_blocks)
    return TileGrid(
        coords=coords,
        tile_size=(tile_w, tile_h),
        extent=extent,
        stride=stride,
        level=level,
        read_size=read_size,
        downsample=float(downsample),
        tissue=tissue,
    )


class SlideTiles:
    """The tiles of a grid as images, read on demand in batches.

    Only the tiles asked for are decoded, so a slide of any size costs the
    memory of one or two batches. Neighbouring tiles of a batch are read as
    one region (a region at most four times their pixels) and cut, which
    decodes each of the file's own tiles once instead of once per tile over
    it; the pixels are the same as reading each tile alone. Larger batches
    of dense tissue therefore decode faster. Hand a batch to any fitted
    classifier's ``predict_proba`` (or an ``ImageEmbedder``'s ``transform``).

    Parameters
    ----------
    slide : Slide
        An open slide.
    grid : TileGrid
        The tiles, from :func:`tile_grid`.

    Examples
    --------
    >>> import numpy as np, tifffile, tempfile, os
    >>> from skbreast.slide import SlideTiles, open_slide, tile_grid
    >>> image = np.zeros((128, 128, 3), dtype=np.uint8)
    >>> image[:, 64:] = 200
    >>> path = os.path.join(tempfile.mkdtemp(), "halves.tif")
    >>> tifffile.imwrite(path, image, tile=(64, 64), photometric="rgb")
    >>> with open_slide(path) as slide:
    ...     tiles = SlideTiles(slide, tile_grid(slide, 64, mask=None))
    ...     batches = list(tiles.batches(batch_size=3))
    >>> [b.shape for b in batches]
    [(3, 64, 64, 3), (1, 64, 64, 3)]
    >>> [int(t.mean()) for t in batches[0]]
    [0, 200, 0]
    """

    def __init__(self, slide, grid):
        self.slide = slide
        self.grid = grid

    def __len__(self):
        return len(self.grid)

    def read(self, index):
        """Read one tile.

        Parameters
        ----------
        index : int
            The tile's row in ``grid.coords``.

        Returns
        -------
        tile : ndarray of shape (height, width, 3), dtype uint8

        Examples
        --------
        >>> from skbreast.slide import SlideTiles  # doctest: +SKIP
        >>> SlideTiles(slide, grid).read(0).shape  # doctest: +SKIP
        (224, 224, 3)
        """
        grid = self.grid
        tile = self.slide.read_region(grid.coords[index], grid.level, grid.read_size)
        if tuple(grid.read_size) != tuple(grid.tile_size):
            tile = resize_image(tile, grid.tile_size[::-1])
        return tile

    def take(self, indices, n_jobs=1):
        """Read the tiles ``indices`` into one array, in their order.

        Parameters
        ----------
        indices : array-like of int
            Rows of ``grid.coords``.
        n_jobs : int, default=1
            Threads decoding tiles; -1 or None means one per CPU.

        Returns
        -------
        tiles : ndarray of shape (len(indices), height, width, 3), dtype uint8

        Examples
        --------
        >>> from skbreast.slide import SlideTiles  # doctest: +SKIP
        >>> SlideTiles(slide, grid).take([0, 5, 9], n_jobs=2).shape  # doctest: +SKIP
        (3, 224, 224, 3)
        """
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        workers = _n_threads(n_jobs, len(indices))
        if workers == 1:
            return self._take(indices, None)
        with ThreadPoolExecutor(workers) as pool:
            return self._take(indices, pool)

    def _take(self, indices, pool):
        grid = self.grid
        width, height = grid.tile_size
        read_w, read_h = grid.read_size
        out = np.empty((len(indices), height, width, 3), dtype=np.uint8)
        origins = None
        if len(indices) > 1:
            origins = self.slide._level_origins(grid.coords[indices], grid.level)
        if origins is None:
            groups = [np.array([k]) for k in range(len(indices))]
        else:
            groups = _region_groups(origins, grid.read_size)

        def fill(group):
            # Each tile lands in its own row: the batch is the same whatever
            # the number of threads, the grouping or the order reads finish in.
            if len(group) == 1:
                out[group[0]] = self.read(indices[group[0]])
                return
            first = origins[group].min(axis=0)
            span = origins[group].max(axis=0) - first + (read_w, read_h)
            corner = grid.coords[indices[group]].min(axis=0)
            region = self.slide.read_region(corner, grid.level, tuple(span))
            for k in group:
                x, y = origins[k] - first
                tile = region[y : y + read_h, x : x + read_w]
                if (read_w, read_h) != tuple(grid.tile_size):
                    tile = resize_image(tile, grid.tile_size[::-1])
                out[k] = tile

        if pool is None:
            for group in groups:
                fill(group)
        else:
            for _ in pool.map(fill, groups):
                pass
        return out

    def batches(self, batch_size=64, n_jobs=1):
        """Yield the tiles in grid order, ``batch_size`` at a time.

        While one batch is being used, the next is decoded in the background,
        so decoding overlaps with prediction; at most two batches are held.

        Parameters
        ----------
        batch_size : int, default=64
            Tiles per batch (the last may be smaller).
        n_jobs : int, default=1
            Threads decoding tiles; -1 or None means one per CPU.

        Yields
        ------
        tiles : ndarray of shape (n, height, width, 3), dtype uint8

        Examples
        --------
        >>> from skbreast.slide import SlideTiles  # doctest: +SKIP
        >>> tiles = SlideTiles(slide, grid)  # doctest: +SKIP
        >>> for batch in tiles.batches(128, n_jobs=4):  # doctest: +SKIP
        ...     proba = model.predict_proba(batch)
        """
        batch_size = int(batch_size)
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        starts = range(0, len(self), batch_size)
        if not len(starts):
            return
        workers = _n_threads(n_jobs, min(batch_size, len(self)))
        # One pool for the whole pass (the slide keeps one file handle per
        # concurrent read), and one thread reading the next batch ahead.
        with (
            ThreadPoolExecutor(1) as ahead,
            ThreadPoolExecutor(workers) if workers > 1 else _no_pool() as pool,
        ):

            def load(start):
                stop = min(start + batch_size, len(self))
                return self._take(np.arange(start, stop), pool)

            pending = ahead.submit(load, starts[0])
            for nxt in [*starts[1:], None]:
                batch = pending.result()
                if nxt is not None:
                    pending = ahead.submit(load, nxt)
                yield batch


def _region_groups(origins, size):
    """Split tiles into groups read as one region each.

    ``origins`` are the tiles' level-pixel corners in grid (row-major) order,
    so halving a group keeps each half together on the slide. A group is kept
    when its bounding region holds at most ``_REGION_DENSITY`` times its
    tiles' pixels, which bounds the memory of a read by the batch's. Dense
    tissue gives one group a batch; threads then share only sparse batches'
    groups, because halving a dense region between two threads decodes the
    TIFF tiles on the cut twice: 16,500 tiles/s against 27,100 for one thread
    (50x50 tiles in batches of 512, 2 CPU cores).
    """
    width, height = size
    todo, groups = [np.arange(len(origins))], []
    while todo:
        group = todo.pop()
        spread = np.ptp(origins[group], axis=0)
        area = (int(spread[0]) + width) * (int(spread[1]) + height)
        if len(group) == 1 or area <= _REGION_DENSITY * len(group) * width * height:
            groups.append(group)
        else:
            todo += [group[: len(group) // 2], group[len(group) // 2 :]]
    return groups


@contextlib.contextmanager
def _no_pool():
    yield None


def _n_threads(n_jobs, n_items):
    if n_jobs is None or n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    n_jobs = int(n_jobs)
    if n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive int, -1 or None, got {n_jobs}.")
    return max(1, min(n_jobs, n_items))
