"""Download, verify and safely extract the public data sets into a local cache."""

import hashlib
import http.client
import os
import shutil
import stat
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from skbreast._fileio import atomic_write, fsync_folder
from skbreast.datasets._breakhis import load_breakhis
from skbreast.datasets._idc import load_idc


@dataclass(frozen=True)
class _RemoteArchive:
    """Where a data set's archive lives and how to check it."""

    filename: str  # archive file name, also the name to save a manual download as
    url: str
    # None: no checksum has been recorded yet. Filling these in needs a trusted
    # copy of each archive; until then a download is only accepted with a
    # checksum given by the caller (or an explicit ``sha256=False``).
    sha256: str | None
    approx_size: str  # for messages only; the real size comes from the server
    folder: str  # cache sub-folder the archive is extracted into


BREAKHIS = _RemoteArchive(
    filename="BreaKHis_v1.tar.gz",
    # The official archive from the VRI laboratory of UFPR (Federal University of
    # Parana), linked from web.inf.ufpr.br/vri/databases/breast-cancer-
    # histopathological-database-breakhis/.
    url="http://www.inf.ufpr.br/vri/databases/BreaKHis_v1.tar.gz",
    sha256=None,
    approx_size="about 4 GB",
    folder="breakhis",
)

IDC = _RemoteArchive(
    filename="IDC_regular_ps50_idx5.zip",
    # Public mirror of the archive from Janowczyk & Madabhushi (2016); the same
    # patches are on Kaggle as "breast-histopathology-images" (login required).
    url="http://andrewjanowczyk.com/wp-static/IDC_regular_ps50_idx5.zip",
    sha256=None,
    approx_size="about 1.6 GB",
    folder="idc",
)

_CHUNK = 1 << 20


class DownloadError(OSError):
    """A data set archive could not be downloaded (offline, refused, HTTP error)."""


class ChecksumError(OSError):
    """An archive's SHA-256 differs from the expected one."""


class UnsafeArchiveError(ValueError):
    """An archive holds a member that would land outside the extraction folder."""


def get_data_home(data_home=None):
    """Return the folder where skbreast caches downloaded data sets.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use. None means ``$SKBREAST_DATA`` when set, else
        ``~/skbreast_data``. The folder is created if absent.

    Returns
    -------
    data_home : pathlib.Path

    Examples
    --------
    >>> from skbreast.datasets import get_data_home
    >>> get_data_home("/tmp/skbreast_cache").name
    'skbreast_cache'
    """
    if data_home is None:
        data_home = os.environ.get("SKBREAST_DATA", Path("~", "skbreast_data"))
    path = Path(os.fspath(data_home)).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _resolve_checksum(remote, sha256):
    """Return the checksum to verify against, or None if the caller waived it."""
    if sha256 is False:
        return None
    if sha256 is None:
        if remote.sha256 is None:
            raise ValueError(
                f"skbreast has no recorded SHA-256 for {remote.filename}, so it "
                f"cannot verify the download. Pass sha256='<64 hex digits>' from a "
                f"source you trust, or sha256=False to accept the archive "
                f"unverified at your own risk."
            )
        return remote.sha256.lower()
    if not isinstance(sha256, str) or len(sha256) != 64:
        raise ValueError(
            f"sha256 must be 64 hexadecimal digits, None or False, got {sha256!r}."
        )
    try:
        int(sha256, 16)
    except ValueError:
        raise ValueError(f"sha256 must be hexadecimal, got {sha256!r}.") from None
    return sha256.lower()


def _progress_bar(name, total):
    """Return a tqdm bar for a download of ``total`` bytes (0: unknown) on stderr.

    The same library as the command line's bars. Downloads are rare and long, so
    the bar shows even when stderr is not a terminal (tqdm then prints its lines
    as the count grows); ``TQDM_DISABLE=1`` silences it.
    """
    from tqdm.auto import tqdm

    return tqdm(
        total=total or None,
        desc=f"Downloading {name}",
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        mininterval=0.2,
    )


def _download(url, dest, expected_sha256, remote, timeout):
    """Download ``url`` to ``dest`` atomically, verifying the SHA-256 on the way.

    The bytes go to a temporary file next to ``dest`` and are renamed into place
    only once complete and verified, so an interrupted or tampered download
    never looks like a valid archive.
    """
    scheme = url.split(":", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"Only http and https URLs are supported, got {url!r}.")
    with atomic_write(dest, "wb", suffix=".part") as out:
        digest = hashlib.sha256()
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                total = int(response.headers.get("Content-Length") or 0)
                with _progress_bar(remote.filename, total) as progress:
                    for block in iter(lambda: response.read(_CHUNK), b""):
                        out.write(block)
                        digest.update(block)
                        progress.update(len(block))
        except (
            urllib.error.URLError,
            http.client.HTTPException,
            ConnectionError,
            TimeoutError,
        ) as exc:
            reason = getattr(exc, "reason", exc)
            raise DownloadError(
                f"Downloading {url} failed ({reason}). If this machine is "
                f"offline, download {remote.filename} ({remote.approx_size}) "
                f"elsewhere and save it as {str(dest)!r}; fetching will then "
                f"use that file without network access."
            ) from exc
        actual = digest.hexdigest()
        # Raised inside the block: the unverified file is deleted, never renamed.
        if expected_sha256 is not None and actual != expected_sha256:
            raise ChecksumError(
                f"The file downloaded from {url} has SHA-256 {actual}, expected "
                f"{expected_sha256}; it was deleted. The download may be "
                f"corrupt or the file may have changed on the server."
            )


def _check_member_name(name, archive):
    """Refuse absolute names and ``..`` components, in POSIX and Windows forms."""
    for pure in (PurePosixPath(name), PureWindowsPath(name)):
        if pure.is_absolute() or pure.anchor or ".." in pure.parts:
            raise UnsafeArchiveError(
                f"Refusing to extract {str(archive)!r}: member {name!r} would be "
                f"written outside the target folder."
            )


def _safe_extract_tar(archive, target):
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        for member in members:
            _check_member_name(member.name, archive)
            # Links can point outside the target and devices have no place in a
            # data set: refuse the whole archive rather than guess.
            if not (member.isfile() or member.isdir()):
                raise UnsafeArchiveError(
                    f"Refusing to extract {str(archive)!r}: member {member.name!r} "
                    f"is a link or special file, not a regular file or folder."
                )
        if hasattr(tarfile, "data_filter"):
            # The 'data' filter (Python 3.12, backported to 3.8.17+/3.11.4+) is a
            # second line of defence and also drops setuid bits and odd modes.
            tar.extractall(target, members=members, filter="data")
        else:  # pragma: no cover - only on old Python patch releases
            tar.extractall(target, members=members)


def _safe_extract_zip(archive, target):
    with zipfile.ZipFile(archive) as zf:
        infos = zf.infolist()
        for info in infos:
            _check_member_name(info.filename, archive)
            mode = info.external_attr >> 16
            if mode and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise UnsafeArchiveError(
                    f"Refusing to extract {str(archive)!r}: member "
                    f"{info.filename!r} is a link or special file."
                )
        root = Path(target).resolve()
        for info in infos:
            dest = (root / info.filename).resolve()
            if root != dest and root not in dest.parents:
                raise UnsafeArchiveError(
                    f"Refusing to extract {str(archive)!r}: member "
                    f"{info.filename!r} would be written outside the target folder."
                )
            zf.extract(info, root)


def _extract(archive, target):
    """Extract into a temporary folder, then rename it to ``target`` atomically."""
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.extract-"))
    try:
        if tarfile.is_tarfile(archive):
            _safe_extract_tar(archive, tmp)
        elif zipfile.is_zipfile(archive):
            _safe_extract_zip(archive, tmp)
        else:
            raise ValueError(f"{str(archive)!r} is neither a tar nor a zip archive.")
        try:
            os.replace(tmp, target)
            fsync_folder(target.parent)
        except OSError:
            # Another process finished the same extraction first; use its copy.
            if not target.is_dir():
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _fetch_folder(remote, data_home, download_if_missing, url, sha256, timeout):
    """Return the extracted cache folder for ``remote``, fetching it if needed."""
    home = get_data_home(data_home)
    target = home / remote.folder
    if target.is_dir():
        return target
    archive = home / remote.filename
    if archive.is_file():
        # A copy saved by hand (downloads only land here once verified). Check
        # it when a checksum is known, but never delete the user's file; with no
        # checksum at all, the user vouched for it by putting it there.
        if sha256 is None and remote.sha256 is None:
            expected = None
        else:
            expected = _resolve_checksum(remote, sha256)
        if expected is not None and _sha256_of(archive) != expected:
            raise ChecksumError(
                f"{str(archive)!r} does not match the expected SHA-256 "
                f"{expected}; delete or replace it."
            )
    elif not download_if_missing:
        raise OSError(
            f"{remote.filename} is not in the cache {str(home)!r} and "
            f"download_if_missing=False. Save the archive as {str(archive)!r} "
            f"or allow the download."
        )
    else:
        expected = _resolve_checksum(remote, sha256)
        _download(url or remote.url, archive, expected, remote, timeout)
    _extract(archive, target)
    return target


def fetch_breakhis(
    data_home=None,
    download_if_missing=True,
    *,
    magnification=None,
    target="binary",
    image_size=None,
    return_paths=False,
    url=None,
    sha256=None,
    timeout=60,
):
    """Download (once) and load the BreakHis data set.

    The official ``BreaKHis_v1.tar.gz`` (about 4 GB) is downloaded from the
    VRI laboratory of UFPR with a progress bar on stderr, checked against a
    SHA-256, extracted safely into ``<data_home>/breakhis`` and then read with
    :func:`load_breakhis`. Later calls use the cache and need no network.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Cache folder; see :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False and the data are not cached, raise instead of downloading.
    magnification, target, image_size, return_paths
        Passed to :func:`load_breakhis`. Decoding all 7,909 full-size images
        needs about 7.6 GB of memory: prefer ``image_size`` or
        ``return_paths=True``.
    url : str, default=None
        Download from this URL instead of the official one (a mirror).
    sha256 : str or False, default=None
        Expected SHA-256 of the archive. None uses the recorded one; **no
        checksum is recorded yet for this archive**, so with None the function
        refuses to download and asks for one. False accepts an unverified
        archive (at your own risk).
    timeout : float, default=60
        Seconds to wait for the server before giving up.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        As returned by :func:`load_breakhis`.

    Raises
    ------
    skbreast.datasets._fetch.DownloadError
        (an :class:`OSError`) when the download fails, e.g. offline; the message
        says where to save a manually downloaded archive
        (``<data_home>/BreaKHis_v1.tar.gz``), after which fetching works offline.
    skbreast.datasets._fetch.ChecksumError
        (an :class:`OSError`) when the archive's SHA-256 differs.
    OSError
        When the data are not cached and ``download_if_missing=False``.
    ValueError
        When the archive holds unsafe members (absolute paths, ``..``, links,
        devices): nothing is extracted.

    Examples
    --------
    >>> from skbreast.datasets import fetch_breakhis  # doctest: +SKIP
    >>> data = fetch_breakhis(magnification=100, return_paths=True,
    ...                       sha256="<checksum you trust>")  # doctest: +SKIP
    """
    folder = _fetch_folder(
        BREAKHIS, data_home, download_if_missing, url, sha256, timeout
    )
    return load_breakhis(
        folder,
        magnification=magnification,
        target=target,
        image_size=image_size,
        return_paths=return_paths,
    )


def fetch_idc(
    data_home=None,
    download_if_missing=True,
    *,
    image_size=None,
    return_paths=False,
    url=None,
    sha256=None,
    timeout=60,
):
    """Download (once) and load the IDC breast-cancer patch data set.

    ``IDC_regular_ps50_idx5.zip`` (about 1.6 GB, 277,524 patches of 50x50
    pixels) is downloaded with a progress bar on stderr, checked against a
    SHA-256, extracted safely into ``<data_home>/idc`` and read with
    :func:`load_idc`. Later calls use the cache and need no network.

    Parameters
    ----------
    data_home : str or path-like, default=None
        Cache folder; see :func:`get_data_home`.
    download_if_missing : bool, default=True
        If False and the data are not cached, raise instead of downloading.
    image_size, return_paths
        Passed to :func:`load_idc`.
    url : str, default=None
        Download from this URL instead of the default mirror.
    sha256 : str or False, default=None
        Expected SHA-256 of the archive. None uses the recorded one; **no
        checksum is recorded yet for this archive**, so with None the function
        refuses to download and asks for one. False accepts an unverified
        archive (at your own risk).
    timeout : float, default=60
        Seconds to wait for the server before giving up.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        As returned by :func:`load_idc`.

    Raises
    ------
    skbreast.datasets._fetch.DownloadError
        (an :class:`OSError`) when the download fails; the message says where to
        save a manually downloaded archive (``<data_home>/IDC_regular_ps50_idx5.zip``).
    skbreast.datasets._fetch.ChecksumError
        (an :class:`OSError`) when the archive's SHA-256 differs.
    OSError
        When the data are not cached and ``download_if_missing=False``.
    ValueError
        When the archive holds unsafe members: nothing is extracted.

    Examples
    --------
    >>> from skbreast.datasets import fetch_idc  # doctest: +SKIP
    >>> data = fetch_idc(return_paths=True, sha256=False)  # doctest: +SKIP
    """
    folder = _fetch_folder(IDC, data_home, download_if_missing, url, sha256, timeout)
    return load_idc(folder, image_size=image_size, return_paths=return_paths)
