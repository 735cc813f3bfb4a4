import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from _data_helpers import random_rgb, write_image
from PIL import Image

from skbreast.datasets import _imageio
from skbreast.datasets._imageio import ImageReadError, read_image, read_images


def test_rgb_native_size_and_dtype(tmp_path):
    pixels = random_rgb((5, 7, 3))
    path = tmp_path / "a.png"
    Image.fromarray(pixels).save(path)
    out = read_image(path)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, pixels)


def test_image_size_is_height_width(tmp_path):
    path = write_image(tmp_path / "a.png", size=(40, 30))  # PIL: width 40, height 30
    assert read_image(path).shape == (30, 40, 3)
    assert read_image(path, image_size=(10, 20)).shape == (10, 20, 3)
    assert read_image(str(path), image_size=(10, 20), channels=1).shape == (10, 20, 1)


def test_resize_is_bilinear_antialiased(tmp_path):
    # A one-pixel checkerboard shrunk 4x must average to grey, not alias to
    # black or white as nearest-neighbour sampling would.
    board = (np.indices((40, 40)).sum(axis=0) % 2 * 255).astype(np.uint8)
    path = tmp_path / "board.png"
    Image.fromarray(board).save(path)
    out = read_image(path, image_size=(10, 10), channels=1)
    assert np.all(np.abs(out.astype(int) - 128) <= 3)


@pytest.mark.parametrize(
    "mode, color, expected",
    [
        ("L", 77, (77, 77, 77)),
        ("P", 3, None),
        ("CMYK", (0, 0, 0, 0), (255, 255, 255)),
        ("1", 1, (255, 255, 255)),
    ],
)
def test_modes_convert_to_rgb(tmp_path, mode, color, expected):
    path = tmp_path / ("a.tif" if mode == "CMYK" else "a.png")
    write_image(path, size=(4, 3), color=color, mode=mode)
    out = read_image(path)
    assert out.shape == (3, 4, 3)
    if expected is not None:
        assert tuple(out[0, 0]) == expected


def test_rgba_composited_on_white(tmp_path):
    pixels = np.zeros((2, 2, 4), dtype=np.uint8)
    pixels[0, 0] = (255, 0, 0, 255)  # opaque red
    pixels[1, 1] = (0, 0, 0, 0)  # fully transparent black -> white, not black
    path = tmp_path / "a.png"
    Image.fromarray(pixels, mode="RGBA").save(path)
    out = read_image(path)
    assert tuple(out[0, 0]) == (255, 0, 0)
    assert tuple(out[1, 1]) == (255, 255, 255)


def test_16bit_scaled_not_clipped(tmp_path):
    values = np.array([[0, 257 * 100, 32896, 65535]], dtype=np.uint16)
    path = tmp_path / "a16.png"
    Image.fromarray(values).save(path)
    assert Image.open(path).mode.startswith("I")
    gray = read_image(path, channels=1)[..., 0]
    np.testing.assert_array_equal(gray, [[0, 100, 128, 255]])
    rgb = read_image(path)
    np.testing.assert_array_equal(rgb[..., 0], gray)
    np.testing.assert_array_equal(rgb[..., 2], gray)


def test_mode_I_scaled_as_16bit(tmp_path):
    values = np.array([[0, 65535]], dtype=np.int32)
    path = tmp_path / "a.tif"
    Image.fromarray(values, mode="I").save(path)
    np.testing.assert_array_equal(read_image(path, channels=1)[..., 0], [[0, 255]])


def test_rgb_to_gray(tmp_path):
    path = write_image(tmp_path / "a.png", color=(255, 0, 0))
    assert read_image(path, channels=1)[0, 0, 0] == 76  # ITU-R 601 luma of red


def test_missing_file_names_path(tmp_path):
    missing = tmp_path / "nope.png"
    with pytest.raises(FileNotFoundError, match="nope.png"):
        read_image(missing)
    with pytest.raises(FileNotFoundError, match="nope.png"):
        read_images([missing], image_size=(2, 2), on_error="skip")


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not an image")
    with pytest.raises(ImageReadError, match="notes.png"):
        read_image(path)
    assert issubclass(ImageReadError, ValueError)


def test_truncated_png(tmp_path):
    path = tmp_path / "trunc.png"
    Image.fromarray(random_rgb((64, 64, 3))).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="trunc.png"):
        read_image(path)


def test_truncated_jpeg(tmp_path):
    path = tmp_path / "trunc.jpg"
    Image.fromarray(random_rgb((64, 64, 3))).save(path, quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="trunc.jpg"):
        read_image(path, image_size=(16, 16))


def _png_header_only(path, width, height):
    """A PNG whose header claims ``width`` x ``height`` with almost no data."""

    def chunk(kind, body):
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    Path(path).write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_refused_fast(tmp_path):
    path = tmp_path / "bomb.png"
    _png_header_only(path, 20_000, 10_000)  # 200 Mpx claimed
    with pytest.raises(ImageReadError, match="bomb.png"):
        read_image(path)


def test_pixel_limit_is_ours(tmp_path, monkeypatch):
    monkeypatch.setattr(_imageio, "MAX_IMAGE_PIXELS", 100)
    path = write_image(tmp_path / "big.png", size=(20, 20))
    with pytest.raises(ImageReadError, match=r"big\.png.*limit"):
        read_image(path)
    with pytest.raises(ImageReadError, match="big.png"):
        read_images([path], image_size=(2, 2))


@pytest.mark.parametrize("bad", [(10,), (0, 5), (5.0, 5), "ab", 7, (True, 3)])
def test_bad_image_size(tmp_path, bad):
    path = write_image(tmp_path / "a.png")
    with pytest.raises(ValueError, match="image_size"):
        read_image(path, image_size=bad)


def test_bad_channels(tmp_path):
    path = write_image(tmp_path / "a.png")
    with pytest.raises(ValueError, match="channels"):
        read_image(path, channels=4)


def _folder_of_images(tmp_path, n):
    paths = []
    for i in range(n):
        pixels = random_rgb((12 + i % 3, 10 + i % 5, 3), seed=i)
        path = tmp_path / f"{i:03d}.png"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


def test_read_images_parallel_equals_serial(tmp_path):
    paths = _folder_of_images(tmp_path, 40)
    serial = read_images(paths, image_size=(9, 11), n_jobs=1)
    parallel = read_images(paths, image_size=(9, 11), n_jobs=4)
    assert serial.shape == (40, 9, 11, 3) and serial.dtype == np.uint8
    np.testing.assert_array_equal(serial, parallel)
    for i in (0, 17, 39):
        np.testing.assert_array_equal(serial[i], read_image(paths[i], (9, 11)))


def test_read_images_requires_size(tmp_path):
    paths = _folder_of_images(tmp_path, 2)
    with pytest.raises(ValueError, match="image_size is required"):
        read_images(paths, None)


@pytest.mark.parametrize("n_jobs", [0, 1.5, "2"])
def test_read_images_bad_n_jobs(tmp_path, n_jobs):
    paths = _folder_of_images(tmp_path, 2)
    with pytest.raises(ValueError, match="n_jobs"):
        read_images(paths, (4, 4), n_jobs=n_jobs)


def test_read_images_negative_n_jobs(tmp_path):
    paths = _folder_of_images(tmp_path, 20)
    assert read_images(paths, (4, 4), n_jobs=-1).shape == (20, 4, 4, 3)


def test_read_images_raises_on_bad_file(tmp_path):
    paths = _folder_of_images(tmp_path, 30)
    paths[12].write_bytes(b"garbage")
    with pytest.raises(ImageReadError, match="012.png"):
        read_images(paths, image_size=(4, 4), n_jobs=3)


def test_read_images_skip(tmp_path):
    paths = _folder_of_images(tmp_path, 30)
    for i in (0, 12, 29):
        paths[i].write_bytes(b"garbage")
    full = read_images(
        [p for i, p in enumerate(paths) if i not in (0, 12, 29)], (4, 4), n_jobs=1
    )
    images, kept = read_images(paths, (4, 4), n_jobs=3, on_error="skip")
    assert kept.dtype == bool and kept.shape == (30,)
    assert np.flatnonzero(~kept).tolist() == [0, 12, 29]
    np.testing.assert_array_equal(images, full)


def test_read_images_skip_nothing_bad(tmp_path):
    paths = _folder_of_images(tmp_path, 3)
    images, kept = read_images(paths, (4, 4), on_error="skip")
    assert images.shape == (3, 4, 4, 3) and kept.all()


def test_read_images_bad_on_error(tmp_path):
    with pytest.raises(ValueError, match="on_error"):
        read_images([], (4, 4), on_error="ignore")


def test_read_images_single_path_rejected(tmp_path):
    path = write_image(tmp_path / "a.png")
    with pytest.raises(TypeError, match="sequence"):
        read_images(str(path), (4, 4))


def test_read_images_empty():
    assert read_images([], (4, 5)).shape == (0, 4, 5, 3)


def test_jpeg_draft_keeps_requested_size(tmp_path):
    path = tmp_path / "big.jpg"
    Image.fromarray(random_rgb((400, 300, 3))).save(path)
    out = read_image(path, image_size=(37, 29))
    assert out.shape == (37, 29, 3)
