import numpy as np
import pytest
from _data_helpers import (
    BREAKHIS_REAL,
    IDC_REAL,
    PCAM_REAL,
    make_breakhis_tree,
    make_idc_tree,
    write_image,
)

from skbreast.datasets import load_breakhis, load_idc, load_image_folder
from skbreast.datasets._breakhis import TUMOR_TYPES, parse_breakhis_filename
from skbreast.datasets._imageio import ImageReadError

# --------------------------------------------------------------------- BreakHis


def test_parse_breakhis_filename():
    fields = parse_breakhis_filename("SOB_M_DC-14-13412-100-016.png")
    assert fields == {
        "procedure": "SOB",
        "malignant": True,
        "tumor_type": "ductal_carcinoma",
        "year": 14,
        "slide": "13412",
        "patient": "13412",
        "magnification": 100,
        "seq": 16,
    }
    sections = parse_breakhis_filename("SOB_B_A-14-22549AB-400-001.png")
    assert sections["patient"] == "22549" and sections["slide"] == "22549AB"
    assert not sections["malignant"]
    assert parse_breakhis_filename("SOB_M_XX-14-1-100-1.png") is None
    assert parse_breakhis_filename("readme.png") is None


def test_breakhis_paths_and_metadata(tmp_path):
    make_breakhis_tree(tmp_path)
    data = load_breakhis(tmp_path, return_paths=True)
    assert "images" not in data
    assert data.filenames.dtype.kind == "U" and len(data.filenames) == 10
    assert data.target.tolist().count(0) == 5 and data.target.tolist().count(1) == 5
    assert sorted(set(data.groups)) == ["13412", "14134", "15687", "22549"]
    assert data.target_names.tolist() == ["benign", "malignant"]
    assert set(data.magnification.tolist()) == {40, 100, 200}
    assert "Spanhol" in data.DESCR and "63(7)" in data.DESCR
    for name, t, ttype, group in zip(
        data.filenames, data.target, data.tumor_type, data.groups, strict=True
    ):
        fields = parse_breakhis_filename(name.rsplit("/", 1)[-1])
        assert t == fields["malignant"] and ttype == fields["tumor_type"]
        assert group == fields["patient"]


@pytest.mark.parametrize(
    "sub",
    [
        "",
        "BreaKHis_v1",
        "BreaKHis_v1/histology_slides",
        "BreaKHis_v1/histology_slides/breast",
    ],
)
def test_breakhis_root_variants(tmp_path, sub):
    make_breakhis_tree(tmp_path)
    data = load_breakhis(tmp_path / sub if sub else tmp_path, return_paths=True)
    assert len(data.filenames) == 10


def test_breakhis_found_deeper(tmp_path):
    make_breakhis_tree(tmp_path / "datasets" / "breakhis")
    assert len(load_breakhis(tmp_path, return_paths=True).filenames) == 10


def test_breakhis_two_copies_is_an_error(tmp_path):
    make_breakhis_tree(tmp_path / "a")
    make_breakhis_tree(tmp_path / "b")
    with pytest.raises(ValueError, match="several BreakHis copies"):
        load_breakhis(tmp_path, return_paths=True)


def test_breakhis_magnification_filter(tmp_path):
    make_breakhis_tree(tmp_path)
    assert set(load_breakhis(tmp_path, 100, return_paths=True).magnification) == {100}
    both = load_breakhis(tmp_path, magnification=[40, 200], return_paths=True)
    assert sorted(both.magnification.tolist()) == [40, 40, 200]
    with pytest.raises(ValueError, match="found are \\[40, 100, 200\\]"):
        load_breakhis(tmp_path, magnification=400, return_paths=True)
    for bad in (50, [100, 3], True, []):
        with pytest.raises(ValueError, match="magnification"):
            load_breakhis(tmp_path, magnification=bad)


def test_breakhis_tumor_type_target(tmp_path):
    make_breakhis_tree(tmp_path)
    data = load_breakhis(tmp_path, target="tumor_type", return_paths=True)
    assert data.target_names.tolist() == list(TUMOR_TYPES)
    assert len(data.target_names) == 8
    np.testing.assert_array_equal(data.target_names[data.target], data.tumor_type)
    with pytest.raises(ValueError, match="target"):
        load_breakhis(tmp_path, target="multiclass")


def test_breakhis_images_resized_and_aligned(tmp_path):
    make_breakhis_tree(tmp_path, size=(7, 5), odd_size=(9, 9))
    data = load_breakhis(tmp_path)
    # Most common size wins when sizes differ: (height 5, width 7).
    assert data.images.shape == (10, 5, 7, 3) and data.images.dtype == np.uint8
    # The tree paints malignant images dark red channel 60, benign 220.
    np.testing.assert_array_equal(
        data.images[:, 2, 3, 0], np.where(data.target == 1, 60, 220)
    )
    small = load_breakhis(tmp_path, image_size=(3, 4))
    assert small.images.shape == (10, 3, 4, 3)


def test_breakhis_ignores_non_images_and_warns_on_odd_names(tmp_path):
    paths = make_breakhis_tree(tmp_path)
    (paths[0].parent / "notes.txt").write_text("hello")
    (paths[0].parent / ".DS_Store").write_bytes(b"\0")
    write_image(paths[0].parent / "thumbnail.png")
    with pytest.warns(UserWarning, match="Ignored 1 image file"):
        data = load_breakhis(tmp_path, return_paths=True)
    assert len(data.filenames) == 10


def test_breakhis_corrupt_raise_or_skip(tmp_path):
    paths = make_breakhis_tree(tmp_path)
    paths[3].write_bytes(paths[3].read_bytes()[:20])
    with pytest.raises(ImageReadError, match=paths[3].name):
        load_breakhis(tmp_path)
    with pytest.warns(UserWarning, match="Skipped 1 unreadable"):
        data = load_breakhis(tmp_path, on_error="skip")
    assert data.images.shape[0] == 9
    assert len(data.target) == len(data.groups) == len(data.tumor_type) == 9


def test_breakhis_bad_roots(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing_dir"):
        load_breakhis(tmp_path / "missing_dir")
    with pytest.raises(ValueError, match="histology_slides"):
        load_breakhis(tmp_path)
    (tmp_path / "BreaKHis_v1" / "histology_slides" / "breast").mkdir(parents=True)
    with pytest.raises(ValueError, match="No BreakHis images"):
        load_breakhis(tmp_path)
    with pytest.raises(ValueError, match="on_error"):
        load_breakhis(tmp_path, on_error="ignore")


@pytest.mark.skipif(not BREAKHIS_REAL.is_dir(), reason="shared BreakHis data absent")
def test_breakhis_real_subset_counts():
    data = load_breakhis(BREAKHIS_REAL, return_paths=True)
    assert len(data.filenames) == 319
    assert len(set(data.groups)) == 17
    assert np.bincount(data.target).tolist() == [171, 148]
    assert len(set(data.groups[data.target == 0])) == 5
    assert len(set(data.groups[data.target == 1])) == 12
    assert set(data.magnification) == {100}
    # No patient on both sides of the benign/malignant divide.
    assert not set(data.groups[data.target == 0]) & set(data.groups[data.target == 1])
    small = load_breakhis(
        BREAKHIS_REAL / "BreaKHis_v1", image_size=(23, 35), target="tumor_type"
    )
    assert small.images.shape == (319, 23, 35, 3)
    assert np.bincount(small.target, minlength=8)[3] == 0  # no tubular adenoma
    assert small.images.mean() > 50  # real pixels, not zeros


# -------------------------------------------------------------------------- IDC


def test_idc_tree(tmp_path):
    make_idc_tree(tmp_path / "IDC_regular_ps50_idx5", size=(5, 5))
    write_image(tmp_path / "IDC_regular_ps50_idx5" / "8863" / "0" / "x.png")
    (tmp_path / "IDC_regular_ps50_idx5" / "README.txt").write_text("hi")
    data = load_idc(tmp_path)
    assert data.images.shape == (5, 5, 5, 3)
    assert sorted(data.groups.tolist()) == ["10253", "10253", "8863", "8863", "8863"]
    assert data.target_names.tolist() == ["non_idc", "idc"]
    assert data.target.sum() == 2
    pos = data.groups == "8863"
    assert sorted(data.x[pos].tolist()) == [1001, 1051, 1101]
    assert sorted(data.y[pos].tolist()) == [1251, 1251, 1301]
    # Label painted into pixels: positives dark.
    np.testing.assert_array_equal(data.images[:, 0, 0, 0] < 100, data.target == 1)
    assert "Janowczyk" in data.DESCR


def test_idc_duplicated_kaggle_layout_and_edge_patch(tmp_path):
    make_idc_tree(tmp_path)  # top-level copy
    make_idc_tree(tmp_path / "IDC_regular_ps50_idx5")  # Kaggle's second copy
    write_image(tmp_path / "10253" / "0" / "10253_idx5_x1_y1_class0.png", (3, 2))
    data = load_idc(tmp_path)
    assert data.images.shape == (6, 5, 5, 3)
    paths = load_idc(tmp_path, return_paths=True, image_size=(2, 2)).filenames
    assert len(paths) == 6 and len({p.rsplit("/", 1)[-1] for p in paths}) == 6


def test_idc_folder_label_mismatch_warns(tmp_path):
    write_image(tmp_path / "1" / "0" / "1_idx5_x1_y1_class1.png")
    with pytest.warns(UserWarning, match="class folder"):
        data = load_idc(tmp_path, return_paths=True)
    assert data.target.tolist() == [1]


def test_idc_bad_roots(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_idc(tmp_path / "nowhere")
    write_image(tmp_path / "a" / "b.png")
    with pytest.raises(ValueError, match="_idx5_x"):
        load_idc(tmp_path)
    file_root = write_image(tmp_path / "c.png")
    with pytest.raises(NotADirectoryError):
        load_idc(file_root)


# ----------------------------------------------------------------- image folder


def _folder_tree(root):
    write_image(root / "tumor" / "a.png", (6, 4), (10, 10, 10))
    write_image(root / "tumor" / "nested" / "b.jpg", (6, 4), (20, 20, 20))
    write_image(root / "normal" / "c.png", (6, 4), (200, 200, 200))
    write_image(root / "normal" / "d.PNG", (8, 8), (210, 210, 210))
    write_image(root / "normal" / "e.png", (6, 4), (220, 220, 220))
    (root / "normal" / "labels.csv").write_text("x")
    (root / "empty").mkdir()
    (root / ".hidden").mkdir()
    write_image(root / ".hidden" / "z.png")


def test_image_folder_classes_sorted(tmp_path):
    _folder_tree(tmp_path)
    data = load_image_folder(tmp_path)
    assert data.target_names.tolist() == ["normal", "tumor"]
    assert data.target.tolist() == [0, 0, 0, 1, 1]
    assert data.groups is None
    assert data.images.shape == (5, 4, 6, 3)  # resized to the most common size
    assert data.images[:3, 0, 0, 0].min() > 190 and data.images[3:, 0, 0, 0].max() < 40


def test_image_folder_classes_and_paths(tmp_path):
    _folder_tree(tmp_path)
    data = load_image_folder(tmp_path, classes=["tumor", "normal"], return_paths=True)
    assert data.target_names.tolist() == ["tumor", "normal"]
    assert data.target.tolist() == [0, 0, 1, 1, 1]
    assert data.filenames[0].endswith("tumor/a.png")
    with pytest.raises(ValueError, match="not found"):
        load_image_folder(tmp_path, classes=["tumor", "cancer"])
    with pytest.raises(TypeError):
        load_image_folder(tmp_path, classes="tumor")


def test_image_folder_deduplicate(tmp_path):
    _folder_tree(tmp_path)
    copy = tmp_path / "tumor" / "z_copy.png"
    copy.write_bytes((tmp_path / "normal" / "c.png").read_bytes())
    dup = tmp_path / "normal" / "c2.png"
    dup.write_bytes((tmp_path / "normal" / "c.png").read_bytes())
    assert len(load_image_folder(tmp_path, return_paths=True).filenames) == 7
    data = load_image_folder(tmp_path, deduplicate=True, image_size=(2, 2))
    assert data.n_duplicates == 2 and data.images.shape == (5, 2, 2, 3)


def test_image_folder_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent"):
        load_image_folder(tmp_path / "absent")
    with pytest.raises(ValueError, match="one sub-folder per class"):
        load_image_folder(tmp_path)
    write_image(tmp_path / "flat.png")
    with pytest.raises(ValueError, match="one sub-folder per class"):
        load_image_folder(tmp_path)


def test_image_folder_corrupt_skip(tmp_path):
    _folder_tree(tmp_path)
    (tmp_path / "tumor" / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    with pytest.raises(ImageReadError, match="a.png"):
        load_image_folder(tmp_path)
    with pytest.warns(UserWarning, match="Skipped 1"):
        data = load_image_folder(tmp_path, on_error="skip")
    assert data.target.tolist() == [0, 0, 0, 1]


@pytest.mark.skipif(not PCAM_REAL.is_dir(), reason="shared PCam data absent")
def test_pcam_real_valid():
    paths = load_image_folder(PCAM_REAL / "valid", return_paths=True)
    assert np.bincount(paths.target).tolist() == [1500, 1500]
    data = load_image_folder(PCAM_REAL / "valid", image_size=(24, 24), deduplicate=True)
    assert data.n_duplicates > 0
    assert data.images.shape == (3000 - data.n_duplicates, 24, 24, 3)


def test_most_common_size_guess_corrected(tmp_path, monkeypatch):
    # The size is guessed from a sample of headers; a wrong guess (here the
    # sample is only the odd first image) must still end at the common size.
    from skbreast.datasets import _base

    monkeypatch.setattr(_base, "_SIZE_SAMPLE", 1)
    make_breakhis_tree(tmp_path, size=(7, 5), odd_size=(9, 9))
    assert load_breakhis(tmp_path).images.shape == (10, 5, 7, 3)


@pytest.mark.skipif(not IDC_REAL.is_dir(), reason="shared IDC data absent")
def test_load_idc_real_coordinates():
    # Three real patients: every patch's x, y and label are those of its file
    # name, on the data set's 50-px grid, one patch per position.
    import re

    patients = sorted(p.name for p in IDC_REAL.iterdir() if p.is_dir())[:3]
    for patient in patients:
        data = load_idc(IDC_REAL / patient)
        paths = load_idc(IDC_REAL / patient, return_paths=True).filenames
        assert data.images.shape[1:] == (50, 50, 3)
        assert set(data.groups) == {patient}
        assert len(data.images) == len(paths) > 0
        for path, x, y, label in zip(paths, data.x, data.y, data.target):
            m = re.search(r"_x(\d+)_y(\d+)_class([01])\.png$", str(path))
            assert (int(m[1]), int(m[2]), int(m[3])) == (x, y, label)
        assert np.all((data.x - 1) % 50 == 0) and np.all((data.y - 1) % 50 == 0)
        assert len(set(zip(data.x.tolist(), data.y.tolist()))) == len(data.x)
