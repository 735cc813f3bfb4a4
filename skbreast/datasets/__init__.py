"""Loaders for breast histopathology image data sets, and synthetic sample data.

Every loader returns a :class:`~sklearn.utils.Bunch` with ``images`` (or
``filenames``), ``target``, ``target_names`` and, where the data set records
them, ``groups``: the patient of every image, to pass to group-aware splitters
such as :class:`~sklearn.model_selection.GroupKFold` so that no patient ends up
on both sides of a split.
"""

from skbreast.datasets._breakhis import load_breakhis
from skbreast.datasets._fetch import fetch_breakhis, fetch_idc, get_data_home
from skbreast.datasets._folder import load_image_folder
from skbreast.datasets._idc import load_idc
from skbreast.datasets._image_cache import get_image_cache, image_cache, set_image_cache
from skbreast.datasets._imageio import read_images
from skbreast.datasets._synthetic import make_patches

__all__ = [
    "fetch_breakhis",
    "fetch_idc",
    "get_data_home",
    "get_image_cache",
    "image_cache",
    "load_breakhis",
    "load_idc",
    "load_image_folder",
    "make_patches",
    "read_images",
    "set_image_cache",
]
