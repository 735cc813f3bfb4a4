"""Opening a slide file with a reader library, and what only the file says.

tiffslide first (pure wheels; a truncated or corrupt file is refused here rather
than opened with levels missing), OpenSlide when installed; microns per pixel
from OME-XML, which tiffslide does not read.
"""

import logging
import math
import os
from xml.etree import ElementTree

import numpy as np


class SlideReadError(ValueError):
    """A slide file exists but cannot be read (not a slide, truncated, corrupt).

    The message names the file. It subclasses :class:`ValueError`, like
    :class:`skbreast.datasets` image errors, because the problem is the file's
    content, not the file system.

    Examples
    --------
    >>> from skbreast.slide import SlideReadError
    >>> issubclass(SlideReadError, ValueError)
    True
    """


class _LogCollector(logging.Handler):
    """Collects tifffile's error records while a file is opened."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def open_tiffslide(path):
    import tiffslide

    # tifffile logs a corrupt or truncated IFD and goes on without the levels
    # behind it; such a slide would look valid with fewer levels, so it is
    # refused here instead.
    logger = logging.getLogger("tifffile")
    collector = _LogCollector()
    logger.addHandler(collector)
    try:
        handle = tiffslide.TiffSlide(path)
        properties = handle.properties
    finally:
        logger.removeHandler(collector)
    if collector.messages:
        handle.close()
        raise SlideReadError(
            f"Slide {path!r} is corrupt or truncated: {collector.messages[0]}"
        )
    _check_tile_data(handle, path, properties)
    return handle, properties


def _check_tile_data(handle, path, properties):
    """Refuse a file whose tiles point past its end (a truncated download)."""
    try:
        series = handle.ts_tifffile.series[properties["tiffslide.series-index"]]
    except Exception:  # not backed by a local TIFF file: nothing to check
        return
    size = os.path.getsize(path)
    for level in series.levels:
        for page in level.pages:
            if page is None or not hasattr(page, "dataoffsets"):
                continue
            offsets = np.asarray(page.dataoffsets, dtype=np.int64)
            counts = np.asarray(page.databytecounts, dtype=np.int64)
            end = int((offsets + counts).max()) if len(offsets) else 0
            if end > size:
                raise SlideReadError(
                    f"Slide {path!r} is truncated: its image data runs to byte "
                    f"{end} but the file has {size} bytes."
                )


def open_openslide(path):
    import openslide

    handle = openslide.OpenSlide(path)
    return handle, dict(handle.properties)


# OME pixel sizes are in microns unless the file says otherwise.
_MICRONS_PER_UNIT = {"µm": 1.0, "um": 1.0, "nm": 1e-3, "mm": 1e3, "cm": 1e4, "m": 1e6}


def ome_mpp(handle):
    """Microns per pixel from OME-XML ``PhysicalSizeX/Y``, or None."""
    try:
        xml = handle.ts_tifffile.ome_metadata
    except Exception:  # not a local TIFF file
        return None
    if not xml:
        return None
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError:
        return None
    for element in root.iter():
        if element.tag.rpartition("}")[2] != "Pixels":
            continue
        sizes = []
        for axis in ("X", "Y"):
            size = float_or_none(element.get(f"PhysicalSize{axis}"))
            unit = _MICRONS_PER_UNIT.get(element.get(f"PhysicalSize{axis}Unit", "µm"))
            if size is not None and unit is not None:
                sizes.append(size * unit)
        return float(np.mean(sizes)) if sizes else None
    return None


def float_or_none(value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value > 0 else None
