"""The decoded-image cache: same pixels, invalidation, bad input, processes."""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from conftest import SMALL_CNN
from PIL import Image

from skbreast import CNNClassifier
from skbreast._training.batches import PathSource
from skbreast.datasets import get_image_cache, image_cache, set_image_cache
from skbreast.datasets._image_cache import ImageCache
from skbreast.datasets._imageio import ImageReadError, read_images

SIZE = (12, 16)


def _write(path, seed, size=(40, 30), mode="RGB", fmt=None):
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], {"RGB": 3, "RGBA": 4, "L": 1}[mode])
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    im = Image.fromarray(pixels[..., 0] if mode == "L" else pixels, mode)
    im.save(path, format=fmt)
    return os.fspath(path)


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    paths = [
        _write(folder / "a.png", 0),
        _write(folder / "b.png", 1, size=(33, 47), mode="RGBA"),
        _write(folder / "c.png", 2, mode="L"),
        _write(folder / "d.jpg", 3, size=(120, 90)),  # decoded through draft()
        _write(folder / "e.tif", 4, size=(16, 12)),  # already the target size
    ]
    return paths


def _entries(folder):
    return sorted(
        p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")
    )


@pytest.mark.parametrize("channels", [1, 3])
def test_pixels_equal_uncached_decoding(files, tmp_path, channels):
    expected = read_images(files, SIZE, channels)
    cache = ImageCache(tmp_path / "cache", SIZE, channels)
    cold = cache.read_images(files)
    assert len(_entries(tmp_path / "cache")) == len(files)
    warm = cache.read_images(files)
    for got in (cold, warm):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, expected)
    # A second instance (another process would do the same) reads the entries.
    fresh = ImageCache(tmp_path / "cache", SIZE, channels).read_images(files[::-1])
    np.testing.assert_array_equal(fresh, expected[::-1])


def test_sizes_are_cached_apart(files, tmp_path):
    for size in [(12, 16), (16, 12)]:
        ImageCache(tmp_path / "cache", size).read_images(files)
        np.testing.assert_array_equal(
            ImageCache(tmp_path / "cache", size).read_images(files),
            read_images(files, size),
        )
    assert {p.name for p in (tmp_path / "cache").iterdir()} == {
        "12x16x3",
        "16x12x3",
    }


@pytest.mark.parametrize("change", ["same_size", "other_size", "replaced", "touch"])
def test_a_changed_file_is_decoded_again(files, tmp_path, change):
    cache = ImageCache(tmp_path / "cache", SIZE)
    before = cache.read_images(files)
    target = files[0]
    if change == "same_size":  # rewritten in place, same dimensions
        _write(target, 99)
    elif change == "other_size":
        _write(target, 99, size=(70, 46))
    elif change == "replaced":  # another file moved over it
        other = _write(tmp_path / "other.png", 98, size=(25, 61))
        os.replace(other, target)
    else:  # same bytes, new modification time
        st = os.stat(target)
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    after = cache.read_images(files)
    np.testing.assert_array_equal(after, read_images(files, SIZE))
    assert len(_entries(tmp_path / "cache")) == len(files) + 1
    if change != "touch":
        assert not np.array_equal(after[0], before[0])
    np.testing.assert_array_equal(after[1:], before[1:])


def _error(read):
    with pytest.raises(Exception) as info:
        read()
    return info.type, str(info.value)


@pytest.mark.parametrize("damage", ["corrupt", "truncate", "delete", "chmod"])
def test_an_unreadable_file_fails_as_without_a_cache(files, tmp_path, damage):
    if damage == "chmod" and (not hasattr(os, "geteuid") or os.geteuid() == 0):
        pytest.skip("file permissions do not bind root")
    cache = ImageCache(tmp_path / "cache", SIZE)
    cache.read_images(files)  # epoch 1 fills the cache
    target = files[3]
    if damage == "corrupt":
        with open(target, "wb") as f:
            f.write(b"not an image at all")
    elif damage == "truncate":
        data = open(target, "rb").read()
        with open(target, "wb") as f:
            f.write(data[: len(data) // 3])
    elif damage == "delete":
        os.remove(target)
    else:
        os.chmod(target, 0)
    try:
        uncached = _error(lambda: read_images(files, SIZE))
        cached = _error(lambda: cache.read_images(files))
    finally:
        if damage == "chmod":
            os.chmod(target, 0o644)
    assert cached == uncached
    expected = {
        "corrupt": ImageReadError,
        "truncate": ImageReadError,
        "delete": FileNotFoundError,
        "chmod": PermissionError,
    }[damage]
    assert issubclass(cached[0], expected) and target in cached[1]


def test_skip_mode_leaves_out_bad_files_as_without_a_cache(files, tmp_path):
    cache = ImageCache(tmp_path / "cache", SIZE)
    cache.read_images(files)
    with open(files[1], "wb") as f:
        f.write(b"garbage")
    images, kept = cache.read_images(files, on_error="skip")
    expected, expected_kept = read_images(files, SIZE, on_error="skip")
    np.testing.assert_array_equal(kept, expected_kept)
    np.testing.assert_array_equal(images, expected)


@pytest.mark.parametrize("damage", ["truncate", "flip", "foreign"])
def test_a_damaged_entry_is_a_miss_not_wrong_pixels(files, tmp_path, damage):
    cache = ImageCache(tmp_path / "cache", SIZE)
    cache.read_images(files)
    entry = _entries(tmp_path / "cache")[0]
    data = bytearray(entry.read_bytes())
    if damage == "truncate":  # what a power loss can leave
        data = data[:100]
    elif damage == "flip":
        data[5] ^= 0xFF
    else:  # the right size, not written by the cache
        data = bytearray(len(data))
    entry.write_bytes(bytes(data))
    np.testing.assert_array_equal(cache.read_images(files), read_images(files, SIZE))
    # ... and is written again.
    assert entry.read_bytes() != bytes(data)


def test_leftover_temporary_files_are_ignored(files, tmp_path):
    cache = ImageCache(tmp_path / "cache", SIZE)
    entry = cache._entry(files[0])
    entry.parent.mkdir(parents=True)
    # A process killed while writing leaves its temporary file, never the entry.
    (entry.parent / ".abc.part").write_bytes(b"half an entry")
    np.testing.assert_array_equal(cache.read_images(files), read_images(files, SIZE))


@pytest.mark.parametrize("how", ["read_only", "under_a_file"])
def test_an_unwritable_cache_folder_warns_and_falls_back(files, tmp_path, how):
    folder = tmp_path / "cache"
    if how == "read_only":
        if not hasattr(os, "geteuid") or os.geteuid() == 0:
            pytest.skip("file permissions do not bind root")
        folder.mkdir()
        os.chmod(folder, 0o500)
    else:  # a path that cannot become a folder binds root too
        (tmp_path / "file").write_text("")
        folder = tmp_path / "file" / "cache"
    try:
        with pytest.warns(UserWarning, match="Cannot write to the image cache"):
            cache = ImageCache(folder, SIZE)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # warned once, not per image
            got = cache.read_images(files)
        np.testing.assert_array_equal(got, read_images(files, SIZE))
        if how == "read_only":
            assert _entries(folder) == []
        # Through an estimator: the warning reaches the caller, fit works.
        X = np.array(files * 4)
        clf = CNNClassifier(input_shape=(*SIZE, 3), epochs=1, **SMALL_CNN)
        with image_cache(folder), pytest.warns(UserWarning, match="Cannot write"):
            clf.fit(X, np.arange(len(X)) % 2)
    finally:
        if how == "read_only":
            os.chmod(folder, 0o700)


def test_a_full_disk_warns_once_and_stops_writing(files, tmp_path, monkeypatch):
    cache = ImageCache(tmp_path / "cache", SIZE)

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("tempfile.mkstemp", no_space)
    # Entries are written through the package's atomic writer.
    monkeypatch.setattr("skbreast._fileio.open", no_space, raising=False)
    with pytest.warns(UserWarning, match="No space left") as record:
        got = cache.read_images(files)
    assert len(record) == 1 and not cache.writable
    np.testing.assert_array_equal(got, read_images(files, SIZE))
    assert not list((tmp_path / "cache").rglob("*.part"))


def test_the_setting(tmp_path, monkeypatch):
    monkeypatch.delenv("SKBREAST_IMAGE_CACHE", raising=False)
    assert get_image_cache() is None
    assert PathSource(np.array(["x.png"]), (*SIZE, 3)).cache is None
    with image_cache(tmp_path / "c") as folder:
        assert folder == os.environ["SKBREAST_IMAGE_CACHE"] == str(tmp_path / "c")
        source = PathSource(np.array(["x.png"]), (*SIZE, 3))
        assert source.cache.folder == tmp_path / "c" / "12x16x3"
        with image_cache(None):
            assert get_image_cache() is None
        assert get_image_cache() == folder
    assert get_image_cache() is None
    assert set_image_cache(tmp_path) is None
    assert set_image_cache(None) == str(tmp_path)
    for bad in ["", 3]:
        with pytest.raises(TypeError, match="folder must be"):
            set_image_cache(bad)


_READER = """
import sys
import numpy as np
from skbreast.datasets._image_cache import ImageCache
folder, out, *paths = sys.argv[1:]
cache = ImageCache(folder, (12, 16))
runs = [cache.read_images(paths[::step]) for step in (1, -1, 1, 2, 1)]
np.save(out, runs[0])
assert all((r == runs[0][::s]).all() for r, s in zip(runs, (1, -1, 1, 2, 1)))
"""


def test_two_processes_share_one_cache_folder(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    paths = [_write(folder / f"{i}.png", i, size=(60 + i, 45)) for i in range(40)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _READER, str(tmp_path / "cache"), str(out), *paths],
            env=env,
            stderr=subprocess.PIPE,
        )
        for out in (tmp_path / "0.npy", tmp_path / "1.npy")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    expected = read_images(paths, SIZE)
    for out in ("0.npy", "1.npy"):
        np.testing.assert_array_equal(np.load(tmp_path / out), expected)
    assert len(_entries(tmp_path / "cache")) == len(paths)
    assert not list((tmp_path / "cache").rglob("*.part"))


def _fit_predict(X, y):
    clf = CNNClassifier(input_shape=(*SIZE, 3), epochs=2, batch_size=8, **SMALL_CNN)
    clf.fit(X, y)
    return clf, clf.predict_proba(X)


def test_fit_and_predict_equal_those_without_a_cache(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    y = np.arange(24) % 2
    X = np.array(
        [
            _write(folder / f"{i}.png", i, size=(20 + i % 3, 15))
            for i, label in enumerate(y)
        ]
    )
    _, plain = _fit_predict(X, y)
    with image_cache(tmp_path / "cache"):
        clf, cold = _fit_predict(X, y)
        assert len(_entries(tmp_path / "cache")) == len(X)
        _, warm = _fit_predict(X, y)
        # A file that becomes unreadable after fitting: the error of no cache.
        with open(X[5], "wb") as f:
            f.write(b"broken")
        cached = _error(lambda: clf.predict(X))
    assert cached == _error(lambda: clf.predict(X))
    assert cached[0] is ImageReadError
    np.testing.assert_array_equal(cold, plain)
    np.testing.assert_array_equal(warm, plain)
