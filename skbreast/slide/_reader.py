"""Opening whole-slide images: levels, resolution and region reads.

Slides are read with ``tiffslide`` (pure Python wheels on tifffile and
imagecodecs: SVS, generic pyramidal TIFF, OME-TIFF and the other TIFF-based
formats), so no system library has to be installed. OpenSlide is used only for
files tiffslide cannot open (e.g. MRXS, NDPI variants) and only when the
``openslide`` module imports.
"""

import contextlib
import math
import os
import threading
from collections import namedtuple

import numpy as np

from skbreast.datasets._imageio import resize_image
from skbreast.slide._backends import (
    SlideReadError,
    float_or_none,
    ome_mpp,
    open_openslide,
    open_tiffslide,
)

__all__ = ["Level", "Slide", "SlideReadError", "open_slide"]

#: One pyramid level: its size in pixels and its downsample factor from level 0.
Level = namedtuple("Level", ["width", "height", "downsample"])
Level.__doc__ = """One level of a slide's pyramid.

Parameters
----------
width, height : int
    Size of the level in pixels.
downsample : float
    Level-0 pixels per pixel of this level (1.0 for level 0).

Examples
--------
>>> from skbreast.slide import Level
>>> Level(1024, 768, 4.0).downsample
4.0
"""

# Scanners store downsamples such as 4.0002 for a nominal 4: a level within this
# relative distance of the asked resolution counts as fine enough.
_LEVEL_TOLERANCE = 1e-2


class Slide:
    """A whole-slide image opened for reading; made by :func:`open_slide`.

    Reads are thread-safe: concurrent reads go through separate file handles,
    so tiles can be decoded in parallel. Close the slide (or use it in a ``with``
    block) to release the handles.

    Parameters
    ----------
    path : str or path-like
        The slide file.
    backend : {"auto", "tiffslide", "openslide"}, default="auto"
        The reader; ``"auto"`` tries tiffslide, then OpenSlide when installed.

    Attributes
    ----------
    path : str
        The slide file.
    backend : str
        The reader in use.
    levels : tuple of Level
        ``(width, height, downsample)`` of every pyramid level, finest first.
    dimensions : tuple of (int, int)
        ``(width, height)`` of level 0.
    mpp : float or None
        Microns per pixel of level 0 (the mean of x and y), from the TIFF
        resolution tags or the vendor's metadata (SVS, OME); None when the file
        does not record it.
    magnification : float or None
        The objective power the slide was scanned at, when the file records it.
    properties : dict
        The reader's metadata, as it gives it.

    Examples
    --------
    >>> import numpy as np, tifffile, tempfile, os
    >>> from skbreast.slide import open_slide
    >>> path = os.path.join(tempfile.mkdtemp(), "slide.tif")
    >>> image = np.full((512, 768, 3), 240, dtype=np.uint8)
    >>> with tifffile.TiffWriter(path) as tif:  # 0.5 microns per pixel, 2 levels
    ...     tif.write(image, tile=(256, 256), subifds=1, photometric="rgb",
    ...               resolution=(20000, 20000), resolutionunit="CENTIMETER")
    ...     tif.write(image[::2, ::2], tile=(256, 256), subfiletype=1,
    ...               photometric="rgb")
    >>> with open_slide(path) as slide:
    ...     print(slide.dimensions, slide.mpp, [lv.downsample for lv in slide.levels])
    ...     region = slide.read_region((0, 0), 1, (64, 32))
    (768, 512) 0.5 [1.0, 2.0]
    >>> region.shape, region.dtype
    ((32, 64, 3), dtype('uint8'))
    """

    def __init__(self, path, backend="auto"):
        if backend not in ("auto", "tiffslide", "openslide"):
            raise ValueError(
                f"backend must be 'auto', 'tiffslide' or 'openslide', got {backend!r}."
            )
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"Slide file not found: {path!r}")
        if os.path.isdir(path):
            raise IsADirectoryError(f"Expected a slide file, got a folder: {path!r}")
        self.path = path
        self._lock = threading.Lock()
        self._handles = []
        self._closed = False
        handle, self.properties, self.backend = self._open_first(backend)
        self._handles.append(handle)
        self._free = [handle]
        try:
            dims = [tuple(int(v) for v in d) for d in handle.level_dimensions]
            downsamples = [float(d) for d in handle.level_downsamples]
        except Exception as exc:
            self.close()
            raise SlideReadError(
                f"Slide {path!r} has no readable levels: {exc}"
            ) from None
        if not dims or min(min(d) for d in dims) < 1:
            self.close()
            raise SlideReadError(f"Slide {path!r} has an empty image.")
        self.levels = tuple(
            Level(w, h, ds) for (w, h), ds in zip(dims, downsamples, strict=True)
        )
        self.dimensions = dims[0]
        self.mpp, self.magnification = self._resolution()
        if self.mpp is None and self.backend == "tiffslide":
            self.mpp = ome_mpp(handle)

    def _open_first(self, backend):
        openers = {"tiffslide": open_tiffslide, "openslide": open_openslide}
        names = ["tiffslide", "openslide"] if backend == "auto" else [backend]
        first_error = None
        for name in names:
            try:
                handle, properties = openers[name](self.path)
            except ImportError:
                if backend != "auto":
                    raise ImportError(
                        f"backend={name!r} needs the {name!r} package, which is "
                        "not installed."
                    ) from None
                continue
            except SlideReadError as exc:
                # Truncation is a fact of the file: another reader would only
                # fail later, in the middle of a prediction.
                raise exc from None
            except Exception as exc:  # every reader has its own error types
                first_error = first_error or exc
                continue
            return handle, properties, name
        reason = str(first_error).strip().splitlines()
        raise SlideReadError(
            f"Cannot read slide {self.path!r}: "
            f"{reason[0] if reason else type(first_error).__name__}"
        ) from None

    def _resolution(self):
        prefix = "tiffslide" if self.backend == "tiffslide" else "openslide"
        mpp_x = float_or_none(self.properties.get(f"{prefix}.mpp-x"))
        mpp_y = float_or_none(self.properties.get(f"{prefix}.mpp-y"))
        mpps = [m for m in (mpp_x, mpp_y) if m is not None]
        mpp = float(np.mean(mpps)) if mpps else None
        power = float_or_none(self.properties.get(f"{prefix}.objective-power"))
        return mpp, power

    def __repr__(self):
        width, height = self.dimensions
        mpp = "unknown" if self.mpp is None else f"{self.mpp:g}"
        return (
            f"Slide({self.path!r}, {width}x{height}, {len(self.levels)} levels, "
            f"mpp={mpp})"
        )

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        """Close every file handle of the slide.

        Examples
        --------
        >>> from skbreast.slide import open_slide  # doctest: +SKIP
        >>> open_slide("slide.svs").close()  # doctest: +SKIP
        """
        with self._lock:
            handles, self._handles, self._free = self._handles, [], []
            self._closed = True
        for handle in handles:
            try:
                handle.close()
            except Exception:  # pragma: no cover - closing twice or a gone file
                pass

    @contextlib.contextmanager
    def _borrow(self):
        """Lend a file handle no other thread is using; open one if none is free.

        The readers' handles are not safe to share between threads; lending
        them out keeps as many open as there were concurrent reads at most.
        """
        with self._lock:
            if self._closed:
                raise ValueError(f"Slide {self.path!r} is closed.")
            handle = self._free.pop() if self._free else None
        if handle is None:
            opener = open_tiffslide if self.backend == "tiffslide" else open_openslide
            handle = opener(self.path)[0]
            with self._lock:
                self._handles.append(handle)
        try:
            yield handle
        finally:
            with self._lock:
                if not self._closed:
                    self._free.append(handle)

    # ------------------------------------------------------------ resolution
    def downsample_for(self, *, mpp=None, magnification=None):
        """Return the level-0 pixels per output pixel at a resolution.

        Parameters
        ----------
        mpp : float, default=None
            Microns per pixel wanted; needs the slide's :attr:`mpp`.
        magnification : float, default=None
            Objective power wanted (e.g. 10 for "10x"); needs the slide's
            :attr:`magnification`. Give exactly one of ``mpp`` and
            ``magnification``.

        Returns
        -------
        downsample : float
            E.g. 4.0 for ``mpp=1.0`` on a 0.25 microns-per-pixel slide.

        Examples
        --------
        >>> from skbreast.slide import open_slide  # doctest: +SKIP
        >>> open_slide("slide.svs").downsample_for(mpp=1.0)  # doctest: +SKIP
        4.0
        """
        if (mpp is None) == (magnification is None):
            raise ValueError("Give exactly one of mpp and magnification.")
        if mpp is not None:
            if not mpp > 0:
                raise ValueError(f"mpp must be positive, got {mpp!r}.")
            if self.mpp is None:
                raise ValueError(
                    f"Slide {self.path!r} does not record its microns per pixel; "
                    "ask for a level (or a magnification) instead."
                )
            return float(mpp) / self.mpp
        if not magnification > 0:
            raise ValueError(f"magnification must be positive, got {magnification!r}.")
        if self.magnification is None:
            raise ValueError(
                f"Slide {self.path!r} does not record its magnification; ask for "
                "a level (or mpp) instead."
            )
        return self.magnification / float(magnification)

    def level_for(self, downsample):
        """Return the cheapest level at least as fine as ``downsample``.

        Parameters
        ----------
        downsample : float
            Level-0 pixels per output pixel.

        Returns
        -------
        level : int
            The coarsest level whose downsample does not exceed ``downsample``
            (within 1 %, as scanners store 4.0002 for 4); level 0 if none.

        Examples
        --------
        >>> from skbreast.slide import open_slide  # doctest: +SKIP
        >>> open_slide("slide.svs").level_for(6.0)  # levels 1, 4, 16  # doctest: +SKIP
        1
        """
        limit = float(downsample) * (1 + _LEVEL_TOLERANCE)
        fine = [i for i, lv in enumerate(self.levels) if lv.downsample <= limit]
        return max(fine, key=lambda i: self.levels[i].downsample) if fine else 0

    def _check_level(self, level):
        if not isinstance(level, (int, np.integer)) or not (
            0 <= level < len(self.levels)
        ):
            raise ValueError(
                f"level must be an int in [0, {len(self.levels) - 1}] for slide "
                f"{self.path!r}, got {level!r}."
            )
        return int(level)

    def _level_origins(self, locations, level):
        """Return the level pixels where reads at level-0 ``locations`` start.

        tiffslide starts a read of ``level`` at ``int(x / downsample)``, so a
        region read once and cut gives exactly the pixels of reading each part
        on its own. OpenSlide draws sub-pixel offsets above level 0 with
        interpolation; there (and for any other reader) this returns None.
        """
        downsample = self.levels[level].downsample
        if self.backend != "tiffslide" and downsample != 1.0:
            return None
        locations = np.asarray(locations, dtype=np.int64).reshape(-1, 2)
        # float64 division then truncation: tiffslide's int(x / downsample).
        return (locations / downsample).astype(np.int64)

    # ----------------------------------------------------------------- reads
    def read_region(self, location, level, size):
        """Read a region of one level as RGB pixels.

        Parameters
        ----------
        location : tuple of (int, int)
            ``(x, y)`` of the region's top-left corner in **level-0** pixels
            (the OpenSlide convention).
        level : int
            The level to read from.
        size : tuple of (int, int)
            ``(width, height)`` in pixels of ``level``.

        Returns
        -------
        region : ndarray of shape (height, width, 3), dtype uint8
            Parts outside the slide are black.

        Raises
        ------
        SlideReadError
            If the file's data cannot be decoded (the message names the file).

        Examples
        --------
        >>> from skbreast.slide import open_slide  # doctest: +SKIP
        >>> slide = open_slide("slide.svs")  # doctest: +SKIP
        >>> slide.read_region((0, 0), 0, (256, 256)).shape  # doctest: +SKIP
        (256, 256, 3)
        """
        level = self._check_level(level)
        x, y = (int(v) for v in location)
        width, height = (int(v) for v in size)
        if width < 1 or height < 1:
            raise ValueError(f"size must be positive (width, height), got {size!r}.")
        if self._closed:
            raise ValueError(f"Slide {self.path!r} is closed.")
        level_w, level_h, downsample = self.levels[level]
        left, top = x / downsample, y / downsample
        if left >= level_w or top >= level_h or left + width <= 0 or top + height <= 0:
            # Wholly outside: tiffslide would warn (warnings filters are
            # process-wide, so they cannot be silenced per read in threads).
            return np.zeros((height, width, 3), dtype=np.uint8)
        try:
            with self._borrow() as handle:
                if self.backend == "tiffslide":
                    region = handle.read_region(
                        (x, y), level, (width, height), as_array=True
                    )
                else:
                    region = np.asarray(
                        handle.read_region((x, y), level, (width, height))
                    )
        except Exception as exc:  # the readers' codecs raise all kinds
            message = str(exc).strip().splitlines()
            raise SlideReadError(
                f"Cannot read region {(x, y)} at level {level} of slide "
                f"{self.path!r} (corrupt or truncated?): "
                f"{message[0] if message else type(exc).__name__}"
            ) from None
        return _as_rgb(region)

    def read_region_at(self, location, size, *, mpp=None, magnification=None):
        """Read a region at a resolution, from the cheapest sufficient level.

        The level read is the coarsest one at least as fine as asked; its
        pixels are resized (bilinear, as the image decoder resizes) to ``size``.

        Parameters
        ----------
        location : tuple of (int, int)
            ``(x, y)`` of the top-left corner in level-0 pixels.
        size : tuple of (int, int)
            ``(width, height)`` of the output at the asked resolution.
        mpp : float, default=None
            Microns per pixel of the output.
        magnification : float, default=None
            Objective power of the output; give exactly one of the two.

        Returns
        -------
        region : ndarray of shape (height, width, 3), dtype uint8

        Examples
        --------
        >>> from skbreast.slide import open_slide  # doctest: +SKIP
        >>> slide = open_slide("slide.svs")  # doctest: +SKIP
        >>> slide.read_region_at((0, 0), (224, 224), mpp=0.5).shape  # doctest: +SKIP
        (224, 224, 3)
        """
        downsample = self.downsample_for(mpp=mpp, magnification=magnification)
        width, height = (int(v) for v in size)
        level = self.level_for(downsample)
        scale = downsample / self.levels[level].downsample
        read_size = (max(1, round(width * scale)), max(1, round(height * scale)))
        region = self.read_region(location, level, read_size)
        if read_size != (width, height):
            region = resize_image(region, (height, width))
        return region

    def read_thumbnail(self, max_size=2048, level=None):
        """Read a whole level, reduced to at most ``max_size`` pixels a side.

        The level is read in strips and each strip is reduced by an integer
        factor (the mean of ``f x f`` blocks) as it arrives, so memory stays
        small even for a one-level slide of 100,000 pixels a side.

        Parameters
        ----------
        max_size : int, default=2048
            Longest side of the thumbnail, at most.
        level : int, default=None
            The level to read; None takes the coarsest.

        Returns
        -------
        thumbnail : ndarray of shape (h, w, 3), dtype uint8
            Trailing rows and columns that do not fill a block are left out.
        downsample : float
            Level-0 pixels per thumbnail pixel.

        Examples
        --------
        >>> from skbreast.slide import open_slide  # doctest: +SKIP
        >>> slide = open_slide("slide.svs")  # doctest: +SKIP
        >>> image, downsample = slide.read_thumbnail(1024)  # doctest: +SKIP
        """
        level = len(self.levels) - 1 if level is None else self._check_level(level)
        width, height, level_downsample = self.levels[level]
        factor = max(1, math.ceil(max(width, height) / int(max_size)))
        # A long thin level keeps at least one pixel across.
        factor = min(factor, width, height)
        out_w, out_h = width // factor, height // factor
        # Strips of about 16 million pixels, a whole number of blocks high.
        rows = max(1, (16_000_000 // max(width, 1)) // factor) * factor
        strips = []
        for top in range(0, out_h * factor, rows):
            strip_h = min(rows, out_h * factor - top)
            y0 = round(top * level_downsample)
            strip = self.read_region((0, y0), level, (out_w * factor, strip_h))
            if factor > 1:
                blocks = strip.reshape(
                    strip_h // factor, factor, out_w, factor, 3
                ).mean(axis=(1, 3))
                strip = np.round(blocks).astype(np.uint8)
            strips.append(strip)
        thumbnail = np.concatenate(strips, axis=0)
        return thumbnail, level_downsample * factor


def _as_rgb(region):
    region = np.asarray(region)
    if region.ndim == 2:
        region = region[:, :, None]
    if region.dtype != np.uint8:
        if region.dtype == np.uint16:
            region = (region >> 8).astype(np.uint8)
        else:
            region = np.clip(region, 0, 255).astype(np.uint8)
    if region.shape[2] == 1:
        return np.repeat(region, 3, axis=2)
    # RGBA (OpenSlide): outside the scanned area is transparent, i.e. no tissue.
    return np.ascontiguousarray(region[:, :, :3])


def open_slide(path, *, backend="auto"):
    """Open a whole-slide image (SVS, pyramidal TIFF, OME-TIFF, ...).

    Parameters
    ----------
    path : str or path-like
        The slide file.
    backend : {"auto", "tiffslide", "openslide"}, default="auto"
        ``"auto"`` reads with tiffslide (pip-installable, no system library)
        and falls back to OpenSlide, when installed, for other formats.

    Returns
    -------
    slide : Slide
        Its ``levels``, ``mpp``, ``magnification``, ``read_region`` and
        ``read_region_at``. Use it in a ``with`` block or call ``close()``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    SlideReadError
        If the file is not a readable slide, or is truncated (its tiles point
        past its end).

    Examples
    --------
    >>> import os, tempfile
    >>> from skbreast.slide import SlideReadError, open_slide
    >>> path = os.path.join(tempfile.mkdtemp(), "notes.tif")
    >>> with open(path, "w") as f:
    ...     _ = f.write("not a slide")
    >>> try:
    ...     open_slide(path)
    ... except SlideReadError as exc:
    ...     print("refused")
    refused
    """
    return Slide(path, backend=backend)
