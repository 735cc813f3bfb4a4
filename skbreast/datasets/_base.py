"""Helpers shared by the folder loaders: root checks, file listing, pixel loading."""

import os
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from skbreast.datasets._imageio import _read_images, _read_sizes

# Extensions Pillow decodes that histology data sets use; anything else in a data
# folder (README, CSV, .DS_Store, thumbnails databases) is ignored, as in Keras.
# Headers read to guess the common image size before decoding (see load_pixels).
_SIZE_SAMPLE = 256

IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
)


def check_root(root):
    """Return ``root`` as a resolved directory Path or raise a clear error."""
    if root is None:
        raise TypeError("root must be a path to a folder, got None.")
    path = Path(os.fspath(root)).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"Data folder not found: {str(path)!r}")
    if not path.is_dir():
        raise NotADirectoryError(f"Expected a folder, got a file: {str(path)!r}")
    return path


def is_image_file(path):
    """Whether ``path`` has an image extension and is not a hidden file."""
    name = path.name
    return not name.startswith(".") and path.suffix.lower() in IMAGE_EXTENSIONS


def list_image_files(folder):
    """Image files under ``folder`` (recursive, hidden folders skipped), sorted.

    Sorting by path makes every loader's output order, and so any split made
    from it, identical across file systems and runs.
    """
    found = []
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            path = Path(dirpath, name)
            if is_image_file(path):
                found.append(path)
    return sorted(found)


def check_on_error(on_error):
    """Validate the loaders' ``on_error`` option."""
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}.")


def most_common_size(paths, n_jobs=None):
    """``(height, width)`` shared by most images, read from headers only."""
    sizes = [s for s in _read_sizes(paths, n_jobs=n_jobs) if s is not None]
    # (1, 1) when every file is unreadable: read_images then reports them.
    return _mode_size(np.array(sizes).reshape(-1, 2)) or (1, 1)


def _read(paths, image_size, on_error, n_jobs, sizes):
    if on_error == "raise":
        images = _read_images(paths, image_size, n_jobs=n_jobs, sizes=sizes)
        return images, np.ones(len(paths), dtype=bool)
    return _read_images(paths, image_size, n_jobs=n_jobs, on_error="skip", sizes=sizes)


def _mode_size(sizes):
    """Return the most frequent (height, width) row, or None if there is none.

    Ties go to the larger size, so the choice never depends on file order.
    """
    if len(sizes) == 0:
        return None
    counts = Counter(map(tuple, sizes.tolist()))
    return max(counts, key=lambda s: (counts[s], s))


def load_pixels(paths, image_size, on_error, n_jobs):
    """Decode ``paths``; return ``(images, kept)`` and warn about skipped files.

    ``image_size=None`` resizes everything to the most common size, so a few odd
    images (BreakHis has 700x456 among 700x460) do not stop the array stacking.
    """
    if image_size is None:
        # Guess the most common size from a sample of headers, decode once while
        # recording every native size, and decode again only in the rare case
        # where the guess was wrong: a full pass over the headers first would
        # cost about 40% of the decoding time on small patches.
        sample = paths[:: max(1, len(paths) // _SIZE_SAMPLE)]
        guess = most_common_size(sample, n_jobs=n_jobs)
        sizes = np.zeros((len(paths), 2), dtype=np.int64)
        images, kept = _read(paths, guess, on_error, n_jobs, sizes)
        actual = _mode_size(sizes[kept])
        if actual is not None and actual != guess:
            images, kept = _read(paths, actual, on_error, n_jobs, None)
    else:
        images, kept = _read(paths, image_size, on_error, n_jobs, None)
    n_skipped = int((~kept).sum())
    if n_skipped:
        bad = [str(p) for p in np.asarray(paths, dtype=object)[~kept][:5]]
        warnings.warn(
            f"Skipped {n_skipped} unreadable image file(s) of {len(paths)}, "
            f"e.g. {bad}.",
            UserWarning,
            stacklevel=3,
        )
    return images, kept


def filenames_array(paths):
    """Paths as a numpy array of str (what ``return_paths=True`` returns)."""
    return np.array([str(p) for p in paths], dtype=str)
