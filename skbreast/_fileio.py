"""Atomic writes: the one way the package puts a file or a folder on disk.

Everything skbreast writes (model files, exports, reports and CSVs, downloads,
embedding and image caches) is first written under a temporary name beside its
target, flushed and fsynced, then renamed over the target with :func:`os.replace`
(atomic on POSIX and Windows), and the folder is fsynced so that the rename
itself survives a crash. A reader therefore sees the old file or the new one,
never half of one, and a failure or Ctrl-C leaves the target as it was.
"""

import contextlib
import os
import secrets
import shutil


def temporary_sibling(path, suffix=".tmp"):
    """Return an unused hidden name in ``path``'s folder, for writing ``path``."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(os.path.normpath(path))
    return os.path.join(folder, f".{name}.{secrets.token_hex(6)}{suffix}")


def fsync_folder(folder):
    """Make the renames in ``folder`` durable (POSIX; a no-op where impossible)."""
    try:
        fd = os.open(os.fspath(folder), os.O_RDONLY)
    except OSError:  # Windows cannot open a folder
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace(tmp, path, *, durable=True):
    """Move ``tmp`` over ``path``, a file or a folder, replacing what was there.

    A folder already at ``path`` is moved aside first and deleted once the new
    one is in place (a rename cannot replace a non-empty folder).
    """
    path = os.fspath(path)
    if os.path.isdir(path) and not os.path.islink(path):
        old = temporary_sibling(path, ".old")
        os.replace(path, old)
        try:
            os.replace(tmp, path)
        except BaseException:
            os.replace(old, path)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)
    if durable:
        fsync_folder(os.path.dirname(os.path.abspath(path)))


def remove(path):
    """Delete a file or a folder if it exists, ignoring errors."""
    path = os.fspath(path)
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)


@contextlib.contextmanager
def atomic_write(path, mode="wb", *, durable=True, suffix=".tmp", **kwargs):
    """Open a temporary file beside ``path``; rename it over ``path`` on success.

    Parameters
    ----------
    path : str or path-like
        The file to write.
    mode : str, default="wb"
        A writing mode of :func:`open`.
    durable : bool, default=True
        fsync the file and its folder before and after the rename, so that the
        new file survives a power cut. False for cache entries, which are checked
        when read and cost only a recomputation when lost.
    suffix : str, default=".tmp"
        End of the temporary file's name (hidden, beside ``path``), so that
        readers of a folder can skip unfinished files.
    **kwargs
        Passed to :func:`open` (e.g. ``encoding``, ``newline``).

    Yields
    ------
    file : file object
        The temporary file; an exception inside the block deletes it and leaves
        ``path`` untouched.
    """
    path = os.fspath(path)
    tmp = temporary_sibling(path, suffix)
    try:
        # Exclusive creation; open() applies the umask like any new file.
        with open(tmp, mode.replace("w", "x", 1), **kwargs) as f:
            yield f
            f.flush()
            if durable:
                os.fsync(f.fileno())
        replace(tmp, path, durable=durable)
    except BaseException:
        remove(tmp)
        raise


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yield a temporary path beside ``path``; move it over ``path`` on success.

    For writers that need a path rather than a file object (a folder, or a
    library that opens the file itself). Whatever is at the temporary path when
    the block ends, file or folder, replaces ``path``; on an exception it is
    deleted and ``path`` is left as it was.
    """
    tmp = temporary_sibling(path, f".tmp{suffix}")
    try:
        yield tmp
        replace(tmp, path)
    except BaseException:
        remove(tmp)
        raise
