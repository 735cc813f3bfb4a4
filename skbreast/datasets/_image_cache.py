"""An on-disk cache of decoded, resized images, shared by every reader of file paths.

Fitting on file paths decodes every image again in every epoch and every
``predict``; for full-resolution PNGs that decoding, not the model, sets the pace.
With a cache folder set (:func:`set_image_cache`, :func:`image_cache` or the
``SKBREAST_IMAGE_CACHE`` environment variable), each file is decoded and resized
once per (file state, target size) and later reads copy its stored pixels. The
estimators' path sources (fit, predict, :class:`~skbreast.ImageEmbedder`) look
the setting up whenever they are given paths; anything else that reads files in
batches can use :class:`ImageCache` directly.

Why it is written this way rather than on a library:

* **One file per entry.** An entry is written to a temporary file beside its final
  name and moved into place with :func:`os.replace`, which is atomic: a reader sees
  a whole entry or none, and a process killed mid-write leaves only a ``.part``
  file that no reader opens. So several processes (joblib/loky, Dask workers) can
  fill and read one folder at once with no index, no lock (``filelock`` is not
  needed, and not installed) and nothing to repair after a crash. Two processes
  that miss the same image both decode it; the second rename wins, with the
  same pixels. A single :class:`numpy.memmap` array would need an index of valid
  rows and a lock around appending, which is exactly what this avoids.
* **Read, not memory-mapped.** Entries are read straight into the batch being
  built (``readinto``, no intermediate copy). The pages then live in the OS page
  cache, shared by every process and dropped under memory pressure, and never
  count against the process: its memory stays flat however many files there are.
  Mapped files would count in its resident size as they are touched.
* **Keys from the file's state.** An entry's name is a SHA-256 of the absolute
  path, device, inode, size, modification and change times (ns), the target
  shape and the decoder's identity (:data:`._imageio._DECODER_ID`, which carries
  Pillow's version, since resampling may change between releases). The change
  time moves on every write, rename onto the path and ``chmod`` and cannot be set
  back by users (the modification time can, e.g. ``cp -p``), so a file changed in
  any way misses and is decoded again: errors for unreadable files are the ones
  raised without a cache, from the same decoder. Old entries are never matched
  again; they stay until the folder is deleted (deleting it at any time is safe).
* **A checksum per entry.** Each entry ends with a CRC-32 of its pixels, so an
  entry damaged outside skbreast's control (power loss before the file system
  wrote it, a full disk, a stray edit) is a miss, never wrong pixels.
"""

import hashlib
import os
import tempfile
import threading
import warnings
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from skbreast._fileio import atomic_write
from skbreast.datasets._imageio import (
    _DECODER_ID,
    _check_channels,
    _check_image_size,
    read_images,
)

__all__ = ["ImageCache", "get_image_cache", "image_cache", "set_image_cache"]

#: The environment variable that holds the cache folder. The setting lives there
#: (not in a module variable) so that worker processes started afterwards by
#: joblib, multiprocessing or Dask inherit it.
ENV_VAR = "SKBREAST_IMAGE_CACHE"

# Trailer after the pixels: a magic number (so a foreign file is never trusted)
# and the pixels' CRC-32, both little-endian.
_MAGIC = b"SKBc"
_TRAILER = 8

_warn_lock = threading.Lock()


def set_image_cache(folder):
    """Set the folder where decoded images are cached, here and in child processes.

    When a folder is set, estimators and :class:`~skbreast.ImageEmbedder` given
    image file paths decode and resize every file once, store the pixels under
    ``folder`` and read them back in later epochs and calls, at close to the
    speed of in-memory arrays. Entries are keyed by each file's path, size and
    modification/change times and by the target size, so a changed file is
    decoded again. Several processes may share one folder. A folder that cannot
    be written is still read, and a warning says that new images are not cached.

    Parameters
    ----------
    folder : str, path-like or None
        The cache folder, created when first used. ``None`` turns caching off.
        The setting is stored in the ``SKBREAST_IMAGE_CACHE`` environment
        variable, so processes started afterwards (joblib's workers, Dask
        workers on this machine) use the same folder; set the variable in the
        environment of workers started elsewhere.

    Returns
    -------
    previous : str or None
        The folder set before, to restore it later.

    See Also
    --------
    image_cache : The same, for the duration of a ``with`` block.

    Notes
    -----
    The cache holds ``height * width * channels + 8`` bytes per image and target
    size, and is never pruned: delete the folder (safe at any time, even while
    it is in use) to reclaim the space. The pixels are exactly those of
    decoding without a cache.

    Examples
    --------
    >>> import tempfile
    >>> from skbreast.datasets import get_image_cache, set_image_cache
    >>> previous = set_image_cache(tempfile.mkdtemp())
    >>> get_image_cache() is not None
    True
    >>> _ = set_image_cache(previous)
    """
    previous = get_image_cache()
    if folder is None:
        os.environ.pop(ENV_VAR, None)
    elif isinstance(folder, (str, os.PathLike)) and os.fspath(folder) != "":
        os.environ[ENV_VAR] = os.path.abspath(os.fspath(folder))
    else:
        raise TypeError(f"folder must be a non-empty path or None, got {folder!r}.")
    return previous


def get_image_cache():
    """Return the folder where decoded images are cached, or None.

    Returns
    -------
    folder : str or None
        The value of ``SKBREAST_IMAGE_CACHE``, as set by :func:`set_image_cache`
        or in the environment; None when caching is off.

    Examples
    --------
    >>> from skbreast.datasets import get_image_cache, image_cache
    >>> with image_cache(None):
    ...     print(get_image_cache())
    None
    """
    return os.environ.get(ENV_VAR) or None


@contextmanager
def image_cache(folder):
    """Cache decoded images in ``folder`` inside a ``with`` block.

    Parameters
    ----------
    folder : str, path-like or None
        As for :func:`set_image_cache`; ``None`` turns caching off in the block.

    Yields
    ------
    folder : str or None
        The folder in use.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from skbreast import CNNClassifier
    >>> from skbreast.datasets import image_cache
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.png") for i in range(4)]
    >>> for i, p in enumerate(paths):
    ...     Image.new("RGB", (32, 24), (60 * i, 90, 120)).save(p)
    >>> clf = CNNClassifier(input_shape=(12, 16, 3), filters=(4,), dense_units=(4,),
    ...                     epochs=2, random_state=0)
    >>> with image_cache(os.path.join(folder, "cache")):
    ...     clf = clf.fit(np.array(paths), [0, 1, 0, 1])  # epoch 2 reads the cache
    ...     clf.predict(np.array(paths)).shape
    (4,)
    """
    previous = set_image_cache(folder)
    try:
        yield get_image_cache()
    finally:
        set_image_cache(previous)


class ImageCache:
    """Decoded images of one target size in a cache folder.

    Parameters
    ----------
    folder : str or path-like
        The cache folder (see :func:`set_image_cache`); entries of this size go
        to the sub-folder ``HxWxC``.
    image_size : tuple of (int, int)
        ``(height, width)`` images are resized to.
    channels : {1, 3}, default=3
        As for :func:`~skbreast.datasets._imageio.read_images`.

    Notes
    -----
    Creating one checks that the folder can be written, and warns (once per
    instance) if not: entries already there are still read.
    """

    def __init__(self, folder, image_size, channels=3):
        self.image_size = _check_image_size(image_size, required=True)
        self.channels = _check_channels(channels)
        height, width = self.image_size
        self.shape = (height, width, self.channels)
        self.nbytes = height * width * self.channels
        self.folder = Path(folder) / f"{height}x{width}x{self.channels}"
        self.writable = self._probe()

    def __repr__(self):
        return f"ImageCache({str(self.folder.parent)!r}, {self.image_size!r})"

    # ------------------------------------------------------------------ reading
    def read_images(self, paths, n_jobs=None, on_error="raise"):
        """Read images, from the cache where it has them; cache the others.

        Parameters
        ----------
        paths : sequence of str or path-like
            Image files.
        n_jobs : int, default=None
            Decoding threads for the images not in the cache, as for
            :func:`~skbreast.datasets._imageio.read_images`.
        on_error : {"raise", "skip"}, default="raise"
            As for :func:`~skbreast.datasets._imageio.read_images`.

        Returns
        -------
        images : ndarray of shape (n_images, height, width, channels), dtype uint8
            Exactly the pixels that decoding without a cache returns.
        kept : ndarray of shape (len(paths),), dtype bool
            Only with ``on_error="skip"``.

        Raises
        ------
        FileNotFoundError, PermissionError, ImageReadError
            As without a cache: a file is checked (``os.stat``) at every read,
            and a changed one is decoded again.
        """
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}.")
        paths = [os.fspath(p) for p in paths]
        n = len(paths)
        out = np.empty((n, *self.shape), dtype=np.uint8)
        # The key is taken before decoding: should the file change in between,
        # its new state has a new key, so whatever was stored is never reused.
        entries = [self._entry(p) for p in paths]
        missing = [i for i in range(n) if not self._load(entries[i], out[i])]
        kept = np.ones(n, dtype=bool)
        if missing:
            decoded = read_images(
                [paths[i] for i in missing],
                self.image_size,
                self.channels,
                n_jobs=n_jobs,
                on_error=on_error,
            )
            if on_error == "skip":
                decoded, ok = decoded
                kept[[i for i, good in zip(missing, ok, strict=True) if not good]] = (
                    False
                )
                missing = [i for i, good in zip(missing, ok, strict=True) if good]
            for row, i in enumerate(missing):
                out[i] = decoded[row]
                if self.writable:
                    self._store(entries[i], decoded[row])
        if on_error == "raise":
            return out
        return out[kept], kept

    def _entry(self, path):
        """Return the cache file of ``path`` in its current state (raises if gone)."""
        st = os.stat(path)
        text = "\0".join(
            str(v)
            for v in (
                os.path.abspath(path),
                st.st_dev,
                st.st_ino,
                st.st_size,
                st.st_mtime_ns,
                st.st_ctime_ns,
                self.shape,
                _DECODER_ID,
            )
        )
        key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        return self.folder / key[:2] / key[2:]

    def _load(self, entry, dest):
        """Fill ``dest`` from ``entry``; return False when it is absent or damaged."""
        try:
            with open(entry, "rb", buffering=0) as f:
                if os.fstat(f.fileno()).st_size != self.nbytes + _TRAILER:
                    return False
                view = memoryview(dest).cast("B")
                if f.readinto(view) != self.nbytes:
                    return False
                trailer = f.read(_TRAILER + 1)
        except OSError:
            return False
        return (
            len(trailer) == _TRAILER
            and trailer[:4] == _MAGIC
            and int.from_bytes(trailer[4:], "little") == zlib.crc32(view)
        )

    # ------------------------------------------------------------------ writing
    def _store(self, entry, image):
        """Write one entry atomically; on failure warn and stop writing."""
        pixels = memoryview(np.ascontiguousarray(image)).cast("B")
        trailer = _MAGIC + zlib.crc32(pixels).to_bytes(4, "little")
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            # Not fsynced: an entry lost in a crash is decoded again, and a torn
            # one fails its checksum when read.
            with atomic_write(entry, "wb", durable=False, suffix=".part") as f:
                f.write(pixels)
                f.write(trailer)
        except OSError as exc:  # full disk, quota, permissions changed
            self._give_up_writing(exc)

    def _probe(self):
        """Whether entries can be written here; warn if not."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".part")
            os.close(fd)
            os.unlink(tmp)
        except OSError as exc:
            self.writable = True  # so that _give_up_writing warns
            self._give_up_writing(exc)
            return False
        return True

    def _give_up_writing(self, exc):
        with _warn_lock:
            if not self.writable:
                return
            self.writable = False
        warnings.warn(
            f"Cannot write to the image cache folder {str(self.folder.parent)!r} "
            f"({type(exc).__name__}: {exc}); images not already cached there are "
            "decoded without caching.",
            UserWarning,
            stacklevel=3,
        )
