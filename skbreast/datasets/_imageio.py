"""The one image-decoding helper shared by the dataset loaders and the estimators.

Everything that turns an image file into pixels goes through :func:`read_image` or
:func:`read_images`, so colour-mode conversion, resizing and error reporting behave
the same whether images come from :mod:`skbreast.datasets` or from file paths passed
to an estimator's ``fit``.
"""

import os
import threading
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

import numpy as np
from PIL import Image

__all__ = ["ImageReadError", "MAX_IMAGE_PIXELS", "read_image", "read_images"]

#: Images with more pixels than this are refused before their pixels are decoded.
#: About 180 million pixels: a 13,400 x 13,400 tile, far above any histology patch,
#: yet low enough that a crafted "decompression bomb" cannot exhaust memory.
MAX_IMAGE_PIXELS = 180_000_000

# What makes decoded pixels what they are: this decoder's conventions (bump the
# number when they change) and Pillow's release, whose resampling may change.
# The image cache keys its entries with it, so a new decoder never reads old pixels.
_DECODER_ID = f"skbreast-decoder-1/Pillow-{Image.__version__}"

# Below this many images a thread pool costs more to start than it saves.
_MIN_IMAGES_FOR_THREADS = 16

# Errors that Pillow (and the codecs under it) raise for files that are not
# images, are truncated or are corrupt. FileNotFoundError is handled before these.
_DECODE_ERRORS = (
    OSError,
    ValueError,
    SyntaxError,
    EOFError,
    IndexError,
    TypeError,
    Image.DecompressionBombError,
)


class ImageReadError(ValueError):
    """An image file exists but cannot be decoded.

    Raised for corrupt, truncated or non-image files and for images larger than
    :data:`MAX_IMAGE_PIXELS`. The message always names the file. It subclasses
    :class:`ValueError` because the problem is the file's content, not the
    file system.
    """


def is_path_input(X):
    """Whether ``X`` is a 1-D collection of image file paths (str or path-like)."""
    if isinstance(X, (str, os.PathLike)):
        return False
    if isinstance(X, (list, tuple)):
        return len(X) > 0 and all(isinstance(p, (str, os.PathLike)) for p in X)
    if getattr(X, "ndim", None) != 1:
        return False
    kind = getattr(getattr(X, "dtype", None), "kind", None)
    if kind in ("U", "S"):
        return True
    if kind == "O":
        values = np.asarray(X)
        return len(values) > 0 and all(
            isinstance(p, (str, os.PathLike)) for p in values
        )
    return False


def as_path_array(X):
    """Return the paths of ``X`` as a 1-D array of ``str``."""
    return np.asarray([os.fspath(p) for p in X], dtype=object)


def flat_image_shape(n_features, input_shape=None):
    """Return the ``(height, width, channels)`` of flattened rows of ``n_features``.

    The estimators' and transformers' rule for 2-D input: ``input_shape`` (a
    checked tuple of three ints) when given, which must hold ``n_features``
    values; otherwise square RGB, then square grayscale, then one row of gray
    pixels.
    """
    if input_shape is not None:
        if int(np.prod(input_shape)) != n_features:
            raise ValueError(
                f"X has {n_features} features per sample, which cannot be reshaped "
                f"to input_shape={input_shape} ({int(np.prod(input_shape))} values)."
            )
        return input_shape
    for channels in (3, 1):
        side = int(round(np.sqrt(n_features / channels)))
        if side * side * channels == n_features:
            return (side, side, channels)
    return (1, n_features, 1)


def resize_image(image, image_size):
    """Resize one image array exactly as :func:`read_image` resizes a file.

    Parameters
    ----------
    image : ndarray of shape (height, width, channels)
        uint8 with 1 or 3 channels (resized as Pillow "L"/"RGB" images, as the
        decoder does), or any other numbers, resized channel by channel in
        float32 with the same filter.
    image_size : tuple of (int, int)
        ``(height, width)``.

    Returns
    -------
    resized : ndarray of shape (image_size[0], image_size[1], channels)
        uint8 for uint8 input with 1 or 3 channels, float32 otherwise.
    """
    size = tuple(int(s) for s in image_size[::-1])
    channels = image.shape[2]
    if image.dtype == np.uint8 and channels in (1, 3):
        im = Image.fromarray(image[:, :, 0] if channels == 1 else image)
        if im.size != size:
            im = im.resize(size, Image.Resampling.BILINEAR, reducing_gap=3.0)
        return _as_array(im, channels)
    planes = []
    for c in range(channels):
        im = Image.fromarray(
            np.ascontiguousarray(image[:, :, c], dtype=np.float32), mode="F"
        )
        if im.size != size:
            im = im.resize(size, Image.Resampling.BILINEAR, reducing_gap=3.0)
        planes.append(np.asarray(im, dtype=np.float32))
    return np.stack(planes, axis=-1)


def _check_image_size(image_size, *, required):
    if image_size is None:
        if required:
            raise ValueError("image_size is required: pass (height, width).")
        return None
    try:
        height, width = image_size
    except (TypeError, ValueError):
        raise ValueError(
            f"image_size must be a (height, width) pair of positive ints, "
            f"got {image_size!r}."
        ) from None
    for value in (height, width):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(
                f"image_size must be a (height, width) pair of positive ints, "
                f"got {image_size!r}."
            )
        if value < 1:
            raise ValueError(
                f"image_size must be a (height, width) pair of positive ints, "
                f"got {image_size!r}."
            )
    return int(height), int(width)


def _check_channels(channels):
    if isinstance(channels, bool) or channels not in (1, 3):
        raise ValueError(f"channels must be 1 or 3, got {channels!r}.")
    return int(channels)


def _to_8bit(im):
    """Return an 8-bit single-channel image for Pillow's integer/float modes.

    Pillow's own ``convert("L")`` clips 16-bit values at 255, which turns almost
    every 16-bit image white; scaling keeps the full range instead.
    """
    arr = np.asarray(im)
    if im.mode == "F":
        # Float images have no agreed range; assume the common 0..1 convention
        # when the data fit in it, otherwise treat values as 8-bit levels.
        scale = 255.0 if arr.size and np.nanmax(arr) <= 1.0 else 1.0
        arr = np.nan_to_num(arr * scale)
        return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8))
    # "I;16*" modes are unsigned 16-bit; mode "I" (32-bit signed) is how older
    # Pillow and some TIFF/PNG paths expose 16-bit data, so treat it as 16-bit.
    arr = np.clip(arr.astype(np.int64), 0, 65535)
    return Image.fromarray(((arr + 128) // 257).astype(np.uint8))


def _convert_mode(im, channels):
    """Convert any Pillow mode to "RGB" (channels=3) or "L" (channels=1)."""
    target = "RGB" if channels == 3 else "L"
    if im.mode.startswith("I") or im.mode == "F":
        im = _to_8bit(im)
    has_alpha = im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        im.mode == "P" and "transparency" in im.info
    )
    if has_alpha:
        # Dropping alpha would expose whatever colour the encoder left under
        # transparent pixels (often black); slides are imaged on white glass, so
        # composite onto white instead.
        im = im.convert("RGBA")
        background = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, im)
    if im.mode != target:
        im = im.convert(target)
    return im


def _decode(path, image_size, channels, max_pixels):
    """Decode one file; return a Pillow image of the requested mode and size.

    The file's native ``(height, width)`` is stored as ``im.native_size``, so
    callers can learn the sizes without a second pass over the headers.
    """
    path = os.fspath(path)
    if isinstance(path, str):  # np.str_ would print as np.str_('...') in messages
        path = str(path)
    # Opened here rather than by Pillow so that a missing file is reported as
    # FileNotFoundError and never confused with a corrupt one.
    with open(path, "rb") as fh:
        try:
            im = Image.open(fh)
            width, height = im.size
            if width * height > max_pixels:
                raise ImageReadError(
                    f"Image file {path!r} has {width}x{height} = "
                    f"{width * height:,} pixels, more than the limit of "
                    f"{max_pixels:,} (skbreast.datasets._imageio.MAX_IMAGE_PIXELS); "
                    f"refusing to decode it."
                )
            if image_size is not None and im.format == "JPEG":
                # JPEG can decode straight at 1/2, 1/4 or 1/8 scale (never below
                # the requested size), which is several times faster than
                # decoding at full size and resizing afterwards.
                im.draft("RGB" if channels == 3 else "L", image_size[::-1])
            im.load()
            im = _convert_mode(im, channels)
            if image_size is not None and im.size != image_size[::-1]:
                # Pillow's bilinear filter widens its support when shrinking,
                # i.e. it antialiases; reducing_gap first box-reduces large
                # images by an integer factor, which is faster and as accurate.
                im = im.resize(
                    image_size[::-1],
                    Image.Resampling.BILINEAR,
                    reducing_gap=3.0,
                )
            im.native_size = (height, width)
        except ImageReadError:
            raise
        except Image.DecompressionBombError as exc:
            raise ImageReadError(
                f"Image file {path!r} is too large to decode safely: {exc}"
            ) from exc
        except _DECODE_ERRORS as exc:
            raise ImageReadError(
                f"Cannot read image file {path!r}: {type(exc).__name__}: {exc}"
            ) from exc
    return im


def _as_array(im, channels):
    arr = np.asarray(im, dtype=np.uint8)
    if arr.ndim == 2:
        arr = arr[:, :, np.newaxis]
    return arr.reshape(arr.shape[0], arr.shape[1], channels)


def read_image(path, image_size=None, channels=3):
    """Read one image file into a uint8 array.

    Parameters
    ----------
    path : str or path-like
        Image file in any format Pillow reads (PNG, JPEG, TIFF, BMP, ...).
    image_size : tuple of (int, int), default=None
        ``(height, width)`` to resize to, in the Keras convention (not Pillow's
        ``(width, height)``). Resizing is bilinear with antialiasing. ``None``
        keeps the native size.
    channels : {1, 3}, default=3
        3 returns RGB, 1 returns grayscale (L). Grayscale, palette, RGBA (alpha
        composited onto white), CMYK and 16-bit images are all converted; 16-bit
        values are scaled to 8 bits (``round(v / 257)``), not clipped.

    Returns
    -------
    image : ndarray of shape (height, width, channels), dtype uint8

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ImageReadError
        If the file is not an image, is corrupt or truncated, or has more than
        :data:`MAX_IMAGE_PIXELS` pixels. The message names the file.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from PIL import Image
    >>> from skbreast.datasets._imageio import read_image
    >>> path = os.path.join(tempfile.mkdtemp(), "patch.png")
    >>> Image.new("RGB", (40, 30), (200, 120, 180)).save(path)
    >>> read_image(path).shape
    (30, 40, 3)
    >>> read_image(path, image_size=(15, 20), channels=1).shape
    (15, 20, 1)
    """
    image_size = _check_image_size(image_size, required=False)
    channels = _check_channels(channels)
    im = _decode(path, image_size, channels, MAX_IMAGE_PIXELS)
    return _as_array(im, channels)


def _resolve_n_jobs(n_jobs, n_items):
    cpus = os.cpu_count() or 1
    if n_jobs is None:
        n_workers = min(8, cpus)
    elif isinstance(n_jobs, bool) or not isinstance(n_jobs, int | np.integer):
        raise ValueError(f"n_jobs must be None or a non-zero int, got {n_jobs!r}.")
    elif n_jobs == 0:
        raise ValueError("n_jobs must be None or a non-zero int, got 0.")
    elif n_jobs < 0:
        # joblib's convention: -1 is every CPU, -2 all but one, ...
        n_workers = max(1, cpus + 1 + int(n_jobs))
    else:
        n_workers = int(n_jobs)
    return max(1, min(n_workers, n_items))


def _read_into(out, paths, image_size, channels, n_jobs, stop_on_error, sizes=None):
    """Decode ``paths`` into the preallocated ``out``; return {index: error}.

    If given, ``sizes`` (an int array of shape (n, 2)) receives every file's
    native (height, width).
    """
    errors = {}
    stop = threading.Event()
    max_pixels = MAX_IMAGE_PIXELS

    def work(indices):
        for i in indices:
            if stop.is_set():
                return
            try:
                im = _decode(paths[i], image_size, channels, max_pixels)
                out[i] = _as_array(im, channels)
                if sizes is not None:
                    sizes[i] = im.native_size
            except ImageReadError as exc:
                if stop_on_error:
                    stop.set()
                    raise
                errors[i] = exc

    n = len(paths)
    n_workers = _resolve_n_jobs(n_jobs, n)
    if n_workers == 1 or n < _MIN_IMAGES_FOR_THREADS:
        work(range(n))
        return errors
    # Pillow releases the GIL inside its decoders and resamplers, so threads
    # scale with cores without the pickling cost of processes. Contiguous chunks
    # (several per worker to balance uneven file sizes) keep per-task overhead low.
    n_chunks = min(n, n_workers * 8)
    bounds = np.linspace(0, n, n_chunks + 1).astype(int)
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        futures = [
            pool.submit(work, range(lo, hi))
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
            if hi > lo
        ]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in futures:
            # Surface a failure at once (not after every other image decoded);
            # ``stop`` makes the workers still running give up early.
            if future.done() and future.exception() is not None:
                stop.set()
                for other in futures:
                    other.cancel()
                raise future.exception()
    return errors


def read_images(paths, image_size, channels=3, n_jobs=None, on_error="raise"):
    """Read many image files into one preallocated uint8 array, in parallel.

    This is the decoder of the dataset loaders and of the estimators' file-path
    input, so arrays decoded with it match what those see.

    Parameters
    ----------
    paths : sequence of str or path-like
        Image files.
    image_size : tuple of (int, int)
        ``(height, width)`` every image is resized to (bilinear, antialiased).
        Required, so that the images stack into one array.
    channels : {1, 3}, default=3
        3 for RGB, 1 for grayscale. Grayscale, palette, RGBA (alpha composited
        onto white), CMYK and 16-bit images are all converted; 16-bit values are
        scaled to 8 bits (``round(v / 257)``), not clipped.
    n_jobs : int, default=None
        Number of decoding threads. ``None`` means ``min(8, os.cpu_count())``;
        negative values count back from the number of CPUs (-1: all). Small
        batches (fewer than 16 files) are always decoded in the calling thread.
    on_error : {"raise", "skip"}, default="raise"
        ``"raise"`` raises on a bad file. ``"skip"`` leaves bad files out and
        also returns which files were kept (used by the dataset loaders, which
        warn with the count).

    Returns
    -------
    images : ndarray of shape (n_images, height, width, channels), dtype uint8
        With ``on_error="skip"``, only the readable images, in input order.
    kept : ndarray of shape (len(paths),), dtype bool
        Only returned with ``on_error="skip"``: True where the image was read.

    Raises
    ------
    FileNotFoundError
        If a file does not exist (with both values of ``on_error``: a missing
        file is a wrong path, not a bad image).
    ImageReadError
        With ``on_error="raise"``, for a corrupt, truncated, non-image or
        oversized file (more than 180 million pixels); the message names the
        file. A subclass of :class:`ValueError`.

    Notes
    -----
    Pixels are written straight into the result, so memory peaks at one copy of
    the images (``n * height * width * channels`` bytes) plus one decoded image
    per thread.

    Examples
    --------
    >>> import tempfile, os
    >>> from PIL import Image
    >>> from skbreast.datasets import read_images
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.png") for i in range(3)]
    >>> for i, p in enumerate(paths):
    ...     Image.new("RGB", (10 + i, 8), (i, i, i)).save(p)
    >>> read_images(paths, image_size=(8, 10)).shape
    (3, 8, 10, 3)
    """
    return _read_images(paths, image_size, channels, n_jobs, on_error)


def _read_images(
    paths, image_size, channels=3, n_jobs=None, on_error="raise", sizes=None
):
    """:func:`read_images`, also recording each file's native size if asked.

    If given, ``sizes`` (an int array of shape (len(paths), 2)) receives every
    file's native (height, width) as it is decoded: the dataset loaders use it
    to check their guess of the common image size without a second header read.
    """
    if on_error not in ("raise", "skip"):
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}.")
    image_size = _check_image_size(image_size, required=True)
    channels = _check_channels(channels)
    if isinstance(paths, str | os.PathLike):
        raise TypeError("paths must be a sequence of paths, not a single path.")
    paths = [os.fspath(p) for p in paths]
    n = len(paths)
    out = np.empty((n, *image_size, channels), dtype=np.uint8)
    errors = _read_into(
        out,
        paths,
        image_size,
        channels,
        n_jobs,
        stop_on_error=on_error == "raise",
        sizes=sizes,
    )
    if on_error == "raise":
        return out
    kept = np.ones(n, dtype=bool)
    if errors:
        kept[list(errors)] = False
        # Compact in place rather than ``out[kept]``, which would briefly hold
        # two copies of the whole data set.
        j = 0
        for i in np.flatnonzero(kept):
            if i != j:
                out[j] = out[i]
            j += 1
        out = out[:j]
    return out, kept


def _read_size(path):
    """Return ``(height, width)`` of an image from its header, or None if unreadable."""
    try:
        with Image.open(path) as im:
            width, height = im.size
    except FileNotFoundError:
        raise
    except _DECODE_ERRORS:
        return None
    return height, width


def _read_sizes(paths, n_jobs=None):
    """Header sizes of many images (None for unreadable ones), in parallel."""
    paths = [os.fspath(p) for p in paths]
    n_workers = _resolve_n_jobs(n_jobs, max(1, len(paths)))
    if n_workers == 1 or len(paths) < _MIN_IMAGES_FOR_THREADS:
        return [_read_size(p) for p in paths]
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        return list(pool.map(_read_size, paths, chunksize=64))
