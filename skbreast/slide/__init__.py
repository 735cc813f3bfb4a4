"""Whole-slide images: reading, tissue detection, tiling and slide-level prediction.

Open a slide with :func:`open_slide` (SVS, pyramidal TIFF, OME-TIFF through the
pip-installable ``tiffslide``; OpenSlide for other formats when installed),
find its tissue with :func:`tissue_mask`, lay tiles over it with
:func:`tile_grid` and predict them with any fitted classifier through
:func:`predict_slide`, which returns per-tile probabilities, a heatmap and
slide-level scores. :class:`TilePooling` turns the tiles of many slides into
slide-level features for a scikit-learn classifier.
"""

from skbreast.slide._heatmap import tile_heatmap
from skbreast.slide._pooling import TilePooling
from skbreast.slide._predict import SlidePrediction, predict_slide
from skbreast.slide._reader import Level, Slide, SlideReadError, open_slide
from skbreast.slide._tiles import SlideTiles, TileGrid, tile_grid
from skbreast.slide._tissue import TissueMask, tissue_mask

__all__ = [
    "Level",
    "Slide",
    "SlidePrediction",
    "SlideReadError",
    "SlideTiles",
    "TileGrid",
    "TilePooling",
    "TissueMask",
    "open_slide",
    "predict_slide",
    "tile_grid",
    "tile_heatmap",
    "tissue_mask",
]
