"""Loader for generic one-folder-per-class image collections (e.g. PatchCamelyon)."""

import hashlib

import numpy as np
from sklearn.utils import Bunch

from skbreast.datasets._base import (
    check_on_error,
    check_root,
    filenames_array,
    list_image_files,
    load_pixels,
)

DESCR = """\
Image folder
------------

Images read from a folder with one sub-folder per class, the convention of
Keras' ``image_dataset_from_directory``: class ``i`` is the ``i``-th sub-folder
name in sorted order, and images may sit at any depth inside it.

No patient ids are known for such folders (``groups`` is None). Patches cut
from one slide are correlated, so scores from a random split can be optimistic;
use a patient-aware loader when the data come with patient ids.
"""


def _file_digest(path):
    # BLAKE2b is as collision-safe as SHA-256 for spotting identical files and
    # faster in pure software.
    return hashlib.blake2b(path.read_bytes(), digest_size=20).digest()


def load_image_folder(
    root,
    image_size=None,
    return_paths=False,
    *,
    classes=None,
    deduplicate=False,
    on_error="raise",
    n_jobs=None,
):
    """Load images from a folder with one sub-folder per class.

    Suits PatchCamelyon-style collections such as ``pcam/train/{0,1}/*.jpg``
    (pass ``pcam/train`` as ``root``). Files without an image extension and
    hidden files are ignored.

    Parameters
    ----------
    root : str or path-like
        Folder whose sub-folders are the classes.
    image_size : tuple of (int, int), default=None
        ``(height, width)`` to resize every image to. None keeps the native size
        when all images share it, otherwise resizes all to the most common size.
    return_paths : bool, default=False
        Return ``filenames`` instead of decoded ``images``.
    classes : list of str, default=None
        Sub-folders to use, in this label order. None uses every sub-folder
        holding at least one image, sorted by name.
    deduplicate : bool, default=False
        Drop files whose bytes are identical to an earlier file (in sorted
        order, so the first copy is kept). The PatchCamelyon subset shipped
        with the project has 922 such copies (829 in train, 93 in valid);
        leaving them in lets the same patch land in both training and test sets.
    on_error : {"raise", "skip"}, default="raise"
        Raise on a corrupt image (naming it) or skip it with a warning.
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
            Index of the class sub-folder in ``target_names``.
        target_names : ndarray of str
            Class sub-folder names.
        groups : None
            Folders carry no patient ids; see ``DESCR``.
        n_duplicates : int
            Number of byte-identical files dropped (0 unless ``deduplicate``).
        DESCR : str
            Description of the folder that was read.

    Raises
    ------
    FileNotFoundError
        If ``root`` does not exist.
    ValueError
        If ``root`` has no sub-folder with images, or ``classes`` names a
        missing sub-folder.

    Examples
    --------
    >>> from skbreast.datasets import load_image_folder  # doctest: +SKIP
    >>> data = load_image_folder("pcam/valid", deduplicate=True)  # doctest: +SKIP
    >>> data.images.shape, data.target_names  # doctest: +SKIP
    ((2907, 96, 96, 3), array(['0', '1'], dtype='<U1'))
    """
    check_on_error(on_error)
    root = check_root(root)
    subfolders = sorted(
        p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    files = {p.name: list_image_files(p) for p in subfolders}
    if classes is None:
        class_names = [name for name, found in files.items() if found]
    else:
        if isinstance(classes, str):
            raise TypeError("classes must be a list of folder names, not a str.")
        class_names = [str(c) for c in classes]
        missing = [c for c in class_names if c not in files]
        if missing:
            raise ValueError(
                f"Class folder(s) {missing} not found in {str(root)!r}; found "
                f"{sorted(files)}."
            )
        if len(set(class_names)) != len(class_names):
            raise ValueError(f"classes has duplicates: {class_names}.")
    if not any(files.get(c) for c in class_names):
        raise ValueError(
            f"No class sub-folder with images in {str(root)!r}. Expected one "
            f"sub-folder per class holding the images, e.g. "
            f"root/<class_a>/img1.png, root/<class_b>/img2.png."
        )

    paths, labels = [], []
    for label, name in enumerate(class_names):
        paths.extend(files[name])
        labels.extend([label] * len(files[name]))
    labels = np.array(labels, dtype=np.int64)

    n_duplicates = 0
    if deduplicate:
        seen = set()
        keep = np.ones(len(paths), dtype=bool)
        for i, path in enumerate(paths):
            digest = _file_digest(path)
            if digest in seen:
                keep[i] = False
            seen.add(digest)
        n_duplicates = int((~keep).sum())
        paths = [p for p, k in zip(paths, keep, strict=True) if k]
        labels = labels[keep]

    bunch = Bunch(
        target=labels,
        target_names=np.array(class_names, dtype=str),
        groups=None,
        n_duplicates=n_duplicates,
        DESCR=DESCR,
    )
    if return_paths:
        bunch.filenames = filenames_array(paths)
        return bunch
    images, kept = load_pixels(paths, image_size, on_error, n_jobs)
    bunch.target = bunch.target[kept]
    bunch.images = images
    return bunch
