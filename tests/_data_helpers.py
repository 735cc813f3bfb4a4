"""Helpers for the data tests: the shared data path and tiny image trees."""

import os
from pathlib import Path

import numpy as np
from PIL import Image


def shared_data_dir():
    """The project's real data: ``../shared/data`` beside the repository clone."""
    candidate = Path(__file__).resolve().parents[2] / "shared" / "data"
    if candidate.is_dir():
        return candidate
    env = os.environ.get("SKBREAST_SHARED_DATA")
    return Path(env) if env else candidate


SHARED_DATA = shared_data_dir()
BREAKHIS_REAL = SHARED_DATA / "breakhis_100x_half"
PCAM_REAL = SHARED_DATA / "pcam_subset"
IDC_REAL = SHARED_DATA / "idc_subset" / "IDC_regular_ps50_idx5"


def write_image(path, size=(6, 4), color=(200, 100, 150), mode="RGB", fmt=None):
    """Write a tiny image of ``size`` = (width, height) (PIL order) to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, color).save(path, format=fmt)
    return path


# (class folder, type folder, type code, slide, magnification, n images)
BREAKHIS_SLIDES = [
    ("benign", "adenosis", "A", "22549AB", 100, 2),
    ("benign", "adenosis", "A", "22549CD", 100, 1),
    ("benign", "fibroadenoma", "F", "14134E", 40, 2),
    ("malignant", "ductal_carcinoma", "DC", "13412", 100, 3),
    ("malignant", "papillary_carcinoma", "PC", "15687B", 200, 1),
    ("malignant", "papillary_carcinoma", "PC", "15687B", 100, 1),
]


def make_breakhis_tree(base, size=(7, 5), odd_size=None):
    """Build a tiny official-layout BreakHis tree under ``base``; return paths.

    10 images, 4 patients (22549, 14134, 13412, 15687), 5 benign, 5 malignant.
    ``odd_size`` gives the first image a different size.
    """
    breast = Path(base) / "BreaKHis_v1" / "histology_slides" / "breast"
    paths = []
    for cls, folder, code, slide, mag, count in BREAKHIS_SLIDES:
        letter = "B" if cls == "benign" else "M"
        slide_dir = breast / cls / "SOB" / folder / f"SOB_{letter}_{code}_14-{slide}"
        for seq in range(1, count + 1):
            name = f"SOB_{letter}_{code}-14-{slide}-{mag}-{seq:03d}.png"
            shade = 60 if letter == "M" else 220
            this_size = odd_size if (odd_size and not paths) else size
            paths.append(
                write_image(slide_dir / f"{mag}X" / name, this_size, (shade, 90, 160))
            )
    return paths


IDC_PATCHES = [
    # patient, x, y, label
    ("8863", 1001, 1251, 0),
    ("8863", 1051, 1251, 0),
    ("8863", 1101, 1301, 1),
    ("10253", 51, 101, 0),
    ("10253", 101, 151, 1),
]


def make_idc_tree(base, size=(5, 5)):
    """Build a tiny IDC tree under ``base`` in ``<patient>/<label>/<name>.png``."""
    paths = []
    for patient, x, y, label in IDC_PATCHES:
        name = f"{patient}_idx5_x{x}_y{y}_class{label}.png"
        color = (70, 40, 120) if label else (230, 150, 190)
        paths.append(write_image(Path(base) / patient / str(label) / name, size, color))
    return paths


def random_rgb(shape, seed=0):
    """Random uint8 pixels, so that resizing and format bugs show up."""
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)
