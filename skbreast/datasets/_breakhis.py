"""Loader for the BreakHis (BreaKHis_v1) breast histopathology data set."""

import re
import warnings

import numpy as np
from sklearn.utils import Bunch

from skbreast.datasets._base import (
    check_on_error,
    check_root,
    filenames_array,
    list_image_files,
    load_pixels,
)

#: BreakHis tumour types, in the fixed order of ``target="tumor_type"``: the four
#: benign types, then the four malignant ones (alphabetical within each class).
TUMOR_TYPES = (
    "adenosis",
    "fibroadenoma",
    "phyllodes_tumor",
    "tubular_adenoma",
    "ductal_carcinoma",
    "lobular_carcinoma",
    "mucinous_carcinoma",
    "papillary_carcinoma",
)
_TUMOR_CODES = {
    "A": "adenosis",
    "F": "fibroadenoma",
    "PT": "phyllodes_tumor",
    "TA": "tubular_adenoma",
    "DC": "ductal_carcinoma",
    "LC": "lobular_carcinoma",
    "MC": "mucinous_carcinoma",
    "PC": "papillary_carcinoma",
}
_MALIGNANT_TYPES = frozenset(TUMOR_TYPES[4:])
MAGNIFICATIONS = (40, 100, 200, 400)

# SOB_M_DC-14-13412-100-016.png: procedure, class, tumour type, year, slide
# (patient number + optional section letters), magnification, sequence number.
_NAME_RE = re.compile(
    r"^(?P<procedure>[A-Z]+)_(?P<cls>[BM])_(?P<type>[A-Z]+)-(?P<year>\d+)-"
    r"(?P<slide>(?P<patient>\d+)[A-Za-z]*)-(?P<mag>\d+)-(?P<seq>\d+)\.png$",
    re.IGNORECASE,
)

_LAYOUT = (
    "BreaKHis_v1/histology_slides/breast/{benign,malignant}/SOB/<tumor type>/"
    "<slide>/<magnification>X/SOB_<B|M>_<type>-<year>-<slide>-<mag>-<seq>.png"
)
# How far below ``root`` the layout is searched for; deep enough for
# "datasets/breakhis/BreaKHis_v1/histology_slides", shallow enough to stay fast
# on a home folder.
_MAX_SEARCH_DEPTH = 4

DESCR = """\
.. _breakhis_dataset:

BreakHis: Breast Cancer Histopathological Image Classification
--------------------------------------------------------------

**Data set characteristics (full data set):**

    :Number of images: 7,909 (2,480 benign, 5,429 malignant)
    :Number of patients: 82 (24 benign, 58 malignant)
    :Image size: 700 x 460 pixels, RGB, 8 bits per channel, PNG
    :Magnifications: 40X, 100X, 200X and 400X
    :Classes: benign (adenosis, fibroadenoma, phyllodes tumor, tubular adenoma)
              and malignant (ductal, lobular, mucinous and papillary carcinoma)
    :Acquisition: surgical open biopsy (SOB) slides stained with hematoxylin
                  and eosin, P&D Laboratory, Brazil, 2014

Every file name encodes its labels, e.g. ``SOB_M_DC-14-13412-100-016.png``:
procedure SOB, class M (malignant), tumor type DC (ductal carcinoma), year 2014,
slide 13412, magnification 100X, image 016. Letters after the slide number
(``22549AB``) mark sections of the same patient's slides, so the patient is the
number alone. Images of one patient are near-duplicates of each other: split by
``groups`` (e.g. ``GroupKFold``), never image by image, or the scores are inflated.

Note that one patient number (21998) has both fibroadenoma and phyllodes tumor
slides in the official release; this loader keeps the labels as published.

**References:**

    Spanhol, F. A., Oliveira, L. S., Petitjean, C. and Heutte, L. (2016).
    "A Dataset for Breast Cancer Histopathological Image Classification".
    IEEE Transactions on Biomedical Engineering, 63(7), 1455-1462.
    doi:10.1109/TBME.2015.2496264

The data set is distributed for research use by the VRI laboratory of the
Federal University of Parana (UFPR); cite the paper above when you use it.
"""


def parse_breakhis_filename(name):
    """Split a BreakHis file name into its fields.

    Parameters
    ----------
    name : str
        File name (not path), e.g. ``"SOB_M_DC-14-13412-100-016.png"``.

    Returns
    -------
    fields : dict or None
        Keys ``procedure``, ``malignant`` (bool), ``tumor_type`` (full name),
        ``year`` (int), ``slide`` (str), ``patient`` (str), ``magnification``
        (int) and ``seq`` (int); None if the name does not follow the convention.
    """
    match = _NAME_RE.match(name)
    if match is None:
        return None
    tumor_type = _TUMOR_CODES.get(match["type"].upper())
    if tumor_type is None:
        return None
    return {
        "procedure": match["procedure"].upper(),
        "malignant": match["cls"].upper() == "M",
        "tumor_type": tumor_type,
        "year": int(match["year"]),
        "slide": match["slide"],
        "patient": match["patient"],
        "magnification": int(match["mag"]),
        "seq": int(match["seq"]),
    }


def _find_breast_folder(root):
    """Locate ``histology_slides/breast`` at or below ``root``.

    The usual spellings (``root`` being the folder holding ``BreaKHis_v1``,
    ``BreaKHis_v1`` itself, ``histology_slides`` or ``breast``) are tried first;
    otherwise folders are searched breadth-first to a fixed depth in sorted
    order, and more than one match is an error rather than a silent pick.
    """
    for candidate in (
        root / "BreaKHis_v1" / "histology_slides" / "breast",
        root / "histology_slides" / "breast",
        root / "breast",
    ):
        if candidate.is_dir():
            return candidate
    if (root / "benign").is_dir() or (root / "malignant").is_dir():
        return root

    found = []
    level = [root]
    for _ in range(_MAX_SEARCH_DEPTH):
        next_level = []
        for folder in level:
            try:
                children = sorted(
                    p
                    for p in folder.iterdir()
                    if p.is_dir() and not p.name.startswith(".")
                )
            except OSError:
                continue
            for child in children:
                target = child / "histology_slides" / "breast"
                if target.is_dir():
                    found.append(target)
            next_level.extend(children)
        if found:
            break
        level = next_level
    if len(found) > 1:
        raise ValueError(
            f"Found several BreakHis copies under {str(root)!r}: "
            f"{[str(f) for f in found]}; pass the one to use as root."
        )
    if not found:
        raise ValueError(
            f"No BreakHis data found under {str(root)!r}. Expected the official "
            f"layout {_LAYOUT} (root may be the folder holding BreaKHis_v1, "
            f"BreaKHis_v1 itself, or histology_slides)."
        )
    return found[0]


def _check_magnification(magnification):
    if magnification is None:
        return None
    values = (
        [magnification]
        if isinstance(magnification, int | np.integer)
        else list(magnification)
    )
    for value in values:
        if isinstance(value, bool) or value not in MAGNIFICATIONS:
            raise ValueError(
                f"magnification must be None, one of {MAGNIFICATIONS} or an "
                f"iterable of them, got {magnification!r}."
            )
    if not values:
        raise ValueError("magnification must not be empty.")
    return frozenset(int(v) for v in values)


def load_breakhis(
    root,
    magnification=None,
    target="binary",
    image_size=None,
    return_paths=False,
    *,
    on_error="raise",
    n_jobs=None,
):
    """Load the BreakHis data set from its official folder layout.

    Labels and patients are parsed from the file names
    (``SOB_M_DC-14-13412-100-016.png``), so images are never mislabelled by a
    misplaced folder. Read more in the data set description, ``DESCR``.

    Parameters
    ----------
    root : str or path-like
        The folder holding ``BreaKHis_v1``, ``BreaKHis_v1`` itself, or any
        folder above ``histology_slides`` (searched up to 4 levels down, in
        sorted order; several copies found is an error).
    magnification : int or iterable of int, default=None
        Keep only these magnifications, among 40, 100, 200 and 400. None keeps
        all.
    target : {"binary", "tumor_type"}, default="binary"
        ``"binary"``: benign 0, malignant 1. ``"tumor_type"``: the 8 tumour
        types as 0..7 in the fixed order of ``target_names`` (adenosis,
        fibroadenoma, phyllodes_tumor, tubular_adenoma, ductal_carcinoma,
        lobular_carcinoma, mucinous_carcinoma, papillary_carcinoma), whether or
        not every type is present.
    image_size : tuple of (int, int), default=None
        ``(height, width)`` to resize every image to (bilinear, antialiased).
        None keeps the native size when all images share it; when sizes differ
        (the official set mixes 700x460 and 700x456), every image is resized to
        the most common size.
    return_paths : bool, default=False
        Return ``filenames`` instead of decoding ``images``: fast, and what the
        estimators accept as lazily-decoded input for data larger than memory.
    on_error : {"raise", "skip"}, default="raise"
        What to do with corrupt or truncated images: raise an error naming the
        file, or leave them out with a warning giving the count.
    n_jobs : int, default=None
        Decoding threads; None means ``min(8, os.cpu_count())``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with attributes:

        images : ndarray of shape (n_images, height, width, 3), dtype uint8
            Only when ``return_paths=False``.
        filenames : ndarray of shape (n_images,), dtype str
            Only when ``return_paths=True``.
        target : ndarray of shape (n_images,), dtype int
            Class index of every image in ``target_names``.
        target_names : ndarray of str
            ``["benign", "malignant"]`` or the 8 tumour types.
        groups : ndarray of shape (n_images,), dtype str
            Patient of every image (the slide number without section letters);
            pass it as ``groups`` to a group-aware splitter.
        magnification : ndarray of shape (n_images,), dtype int
            Optical magnification of every image (40, 100, 200 or 400).
        tumor_type : ndarray of shape (n_images,), dtype str
            Full tumour-type name of every image.
        slide : ndarray of shape (n_images,), dtype str
            Slide id as written in the file name (with section letters).
        DESCR : str
            Description of the data set, with its citation.

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist.
    ValueError
        If no BreakHis layout or no matching image is found under ``root``.
    skbreast.datasets._imageio.ImageReadError
        If an image cannot be decoded and ``on_error="raise"``.

    Examples
    --------
    >>> from skbreast.datasets import load_breakhis  # doctest: +SKIP
    >>> data = load_breakhis("BreaKHis_v1", magnification=100,
    ...                      image_size=(115, 175))  # doctest: +SKIP
    >>> data.images.shape, len(set(data.groups))  # doctest: +SKIP
    ((2081, 115, 175, 3), 82)
    """
    if target not in ("binary", "tumor_type"):
        raise ValueError(f"target must be 'binary' or 'tumor_type', got {target!r}.")
    check_on_error(on_error)
    magnifications = _check_magnification(magnification)
    root = check_root(root)
    breast = _find_breast_folder(root)

    records = []
    unrecognised = []
    available = set()
    for path in list_image_files(breast):
        fields = parse_breakhis_filename(path.name)
        if fields is None:
            unrecognised.append(path)
            continue
        available.add(fields["magnification"])
        if magnifications is None or fields["magnification"] in magnifications:
            records.append((path, fields))
    if unrecognised:
        warnings.warn(
            f"Ignored {len(unrecognised)} image file(s) whose names do not follow "
            f"the BreakHis convention, e.g. {str(unrecognised[0])!r}.",
            UserWarning,
            stacklevel=2,
        )
    if not records:
        if magnifications is None:
            raise ValueError(
                f"No BreakHis images found under {str(breast)!r}. Expected {_LAYOUT}."
            )
        raise ValueError(
            f"No BreakHis image at magnification {sorted(magnifications)} under "
            f"{str(breast)!r}; the magnifications found are {sorted(available)}."
        )

    paths = [path for path, _ in records]
    tumor_type = np.array([f["tumor_type"] for _, f in records], dtype=str)
    if target == "binary":
        y = np.array([f["malignant"] for _, f in records], dtype=np.int64)
        target_names = np.array(["benign", "malignant"])
    else:
        index = {name: i for i, name in enumerate(TUMOR_TYPES)}
        y = np.array([index[t] for t in tumor_type], dtype=np.int64)
        target_names = np.array(TUMOR_TYPES)

    bunch = Bunch(
        target=y,
        target_names=target_names,
        groups=np.array([f["patient"] for _, f in records], dtype=str),
        magnification=np.array(
            [f["magnification"] for _, f in records], dtype=np.int64
        ),
        tumor_type=tumor_type,
        slide=np.array([f["slide"] for _, f in records], dtype=str),
        DESCR=DESCR,
    )
    if return_paths:
        bunch.filenames = filenames_array(paths)
        return bunch
    images, kept = load_pixels(paths, image_size, on_error, n_jobs)
    for key in ("target", "groups", "magnification", "tumor_type", "slide"):
        bunch[key] = bunch[key][kept]
    bunch.images = images
    return bunch
