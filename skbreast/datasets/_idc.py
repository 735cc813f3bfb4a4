"""Loader for the IDC (invasive ductal carcinoma) patch data set."""

import os
import re
import warnings
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from skbreast.datasets._base import (
    check_on_error,
    check_root,
    filenames_array,
    load_pixels,
)

# 10253_idx5_x1001_y1001_class0.png: patient, patch origin x and y in the
# whole-slide image (pixels), label.
_NAME_RE = re.compile(
    r"^(?P<patient>\d+)_idx5_x(?P<x>\d+)_y(?P<y>\d+)_class(?P<label>[01])\.png$",
    re.IGNORECASE,
)
_LAYOUT = "<patient>/<0|1>/<patient>_idx5_x<X>_y<Y>_class<0|1>.png"

DESCR = """\
.. _idc_dataset:

IDC: invasive ductal carcinoma patches (IDC_regular_ps50_idx5)
--------------------------------------------------------------

**Data set characteristics (full data set):**

    :Number of patches: 277,524 (198,738 IDC-negative, 78,786 IDC-positive)
    :Number of patients: 279
    :Patch size: 50 x 50 pixels, RGB PNG (a few patches at slide edges are
                 smaller and are resized)
    :Source: whole-slide images of breast cancer specimens scanned at 40X,
             patches extracted at 2.5X downsampling

Files are named ``<patient>_idx5_x<X>_y<Y>_class<k>.png``: the patient, the
patch's top-left corner in the slide (``x``, ``y``) and the label (1: the patch
lies in an invasive ductal carcinoma region). Neighbouring patches of one
patient overlap in content: split by ``groups``, never patch by patch.

**References:**

    Janowczyk, A. and Madabhushi, A. (2016). "Deep learning for digital
    pathology image analysis: A comprehensive tutorial with selected use
    cases". Journal of Pathology Informatics, 7:29.
    doi:10.4103/2153-3539.186902

    Cruz-Roa, A. et al. (2014). "Automatic detection of invasive ductal
    carcinoma in whole slide images with convolutional neural networks".
    Proc. SPIE 9041, Medical Imaging 2014: Digital Pathology.
"""


def _list_idc_files(root):
    """IDC patch files under ``root``, each file name once, sorted."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            match = _NAME_RE.match(name)
            # The Kaggle archive stores every patch twice (at the top level and
            # again under IDC_regular_ps50_idx5/); names are unique per patch,
            # so the first copy in walk order is kept.
            if match is not None and name not in found:
                found[name] = (Path(dirpath, name), match)
    return sorted(found.values(), key=lambda item: str(item[0]))


def load_idc(
    root,
    image_size=None,
    return_paths=False,
    *,
    on_error="raise",
    n_jobs=None,
):
    """Load the IDC breast-cancer patch data set from its folder layout.

    Expects ``<patient>/<0|1>/<patient>_idx5_x<X>_y<Y>_class<k>.png`` anywhere
    under ``root`` (e.g. the extracted ``IDC_regular_ps50_idx5`` folder or the
    folder above it). Labels, patients and coordinates come from the file names;
    other files are ignored.

    Parameters
    ----------
    root : str or path-like
        Folder holding the patient folders, or any folder above them.
    image_size : tuple of (int, int), default=None
        ``(height, width)`` to resize every patch to. None keeps the native
        size, resizing only the patches that differ from the most common size
        (50x50 in the official data, whose slide-edge patches are smaller).
    return_paths : bool, default=False
        Return ``filenames`` instead of decoded ``images``.
    on_error : {"raise", "skip"}, default="raise"
        Raise on a corrupt image (naming it) or skip it with a warning.
    n_jobs : int, default=None
        Decoding threads; None means ``min(8, os.cpu_count())``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        images : ndarray of shape (n_patches, height, width, 3), dtype uint8
            Only when ``return_paths=False``.
        filenames : ndarray of shape (n_patches,), dtype str
            Only when ``return_paths=True``.
        target : ndarray of shape (n_patches,), dtype int
            1 for IDC-positive patches, 0 otherwise.
        target_names : ndarray of str
            ``["non_idc", "idc"]``.
        groups : ndarray of shape (n_patches,), dtype str
            Patient id of every patch.
        x, y : ndarray of shape (n_patches,), dtype int
            Patch origin in the patient's whole-slide image, in pixels.
        DESCR : str
            Description of the data set, with its citations.

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist.
    ValueError
        If no file named in the IDC convention is found under ``root``.

    Examples
    --------
    >>> from skbreast.datasets import load_idc  # doctest: +SKIP
    >>> data = load_idc("IDC_regular_ps50_idx5", return_paths=True)  # doctest: +SKIP
    >>> len(data.filenames), len(set(data.groups))  # doctest: +SKIP
    (277524, 279)
    """
    check_on_error(on_error)
    root = check_root(root)
    entries = _list_idc_files(root)
    if not entries:
        raise ValueError(
            f"No IDC patches found under {str(root)!r}. Expected files laid out "
            f"as {_LAYOUT}."
        )
    mismatched = [
        path
        for path, match in entries
        if path.parent.name in ("0", "1") and path.parent.name != match["label"]
    ]
    if mismatched:
        # The file name is the data set's own record of the label; a folder
        # that disagrees was most likely moved by hand.
        warnings.warn(
            f"{len(mismatched)} IDC file(s) sit in a class folder that differs "
            f"from the class in their name (the name is used), e.g. "
            f"{str(mismatched[0])!r}.",
            UserWarning,
            stacklevel=2,
        )
    paths = [path for path, _ in entries]
    bunch = Bunch(
        target=np.array([int(m["label"]) for _, m in entries], dtype=np.int64),
        target_names=np.array(["non_idc", "idc"]),
        groups=np.array([m["patient"] for _, m in entries], dtype=str),
        x=np.array([int(m["x"]) for _, m in entries], dtype=np.int64),
        y=np.array([int(m["y"]) for _, m in entries], dtype=np.int64),
        DESCR=DESCR,
    )
    if return_paths:
        bunch.filenames = filenames_array(paths)
        return bunch
    images, kept = load_pixels(paths, image_size, on_error, n_jobs)
    for key in ("target", "groups", "x", "y"):
        bunch[key] = bunch[key][kept]
    bunch.images = images
    return bunch
