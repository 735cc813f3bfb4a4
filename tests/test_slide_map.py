"""plot_slide_map: one patient's patches laid back out as a map of the slide."""

from pathlib import Path

import numpy as np
import pytest

from skbreast.plotting import _slide_map_array, plot_slide_map

IDC_ROOT = Path("/work/shared/data/idc_subset/IDC_regular_ps50_idx5")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


# An L of four patches, its corner at (100, 150): rows 3-5, columns 2-3.
COORDS = np.array([[100, 150], [100, 200], [100, 250], [150, 250]])
PROBA = np.array([0.1, 0.4, 0.7, 0.9])
TRUTH = np.array([0, 0, 1, 1])


def test_array_places_every_patch_in_its_cell():
    grid, origin = _slide_map_array(COORDS, PROBA)
    assert origin == (2, 3)
    expected = np.array([[0.1, np.nan], [0.4, np.nan], [0.7, 0.9]])
    np.testing.assert_array_equal(grid, expected)


def test_array_rounds_positions_down_to_the_grid():
    grid, _ = _slide_map_array([[0, 0], [149, 10]], [0.2, 0.8], patch_size=50)
    np.testing.assert_array_equal(grid, [[0.2, np.nan, 0.8]])


def test_map_with_truth_has_two_panels_and_one_colour_bar():
    fig = plot_slide_map(COORDS, PROBA, TRUTH, title="patient 7")
    truth, proba, colorbar = fig.axes
    assert truth.get_title() == "ground truth"
    assert proba.get_title() == "predicted probability"
    values = proba.images[0].get_array()
    np.testing.assert_array_equal(values.mask, [[0, 1], [0, 1], [0, 0]])
    np.testing.assert_allclose(values.compressed(), [0.1, 0.4, 0.7, 0.9])
    np.testing.assert_array_equal(truth.images[0].get_array().compressed(), TRUTH)
    # One common 0-1 scale for both panels.
    for ax in (truth, proba):
        assert ax.images[0].get_clim() == (0.0, 1.0)
    assert colorbar.get_ylabel() == "positive probability"
    assert fig._suptitle.get_text() == "patient 7"


def test_map_without_truth_has_one_panel():
    fig = plot_slide_map(COORDS, PROBA, label="IDC probability")
    assert len(fig.axes) == 2  # the map and its colour bar
    assert fig.axes[1].get_ylabel() == "IDC probability"
    assert np.ma.count_masked(fig.axes[0].images[0].get_array()) == 2


def test_map_on_given_axes():
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    assert plot_slide_map(COORDS, PROBA, TRUTH, axes=axes) is fig
    with pytest.raises(ValueError, match="Expected 2 axes"):
        plot_slide_map(COORDS, PROBA, TRUTH, axes=axes[0])


@pytest.mark.parametrize(
    "coords, proba, truth, match",
    [
        (COORDS[:, 0], PROBA, None, r"shape \(n_patches, 2\)"),
        (COORDS, PROBA[:3], None, "one value per patch"),
        (COORDS, PROBA, TRUTH[:3], "one label per patch"),
        (COORDS, PROBA, [0, 1, 2, 1], "0 and 1 only"),
        (COORDS - 120, PROBA, None, "non-negative"),
        ([[0, 0], [np.nan, 0]], [0.1, 0.2], None, "finite"),
        (np.zeros((0, 2)), [], None, "no patch"),
    ],
)
def test_bad_input_raises_clearly(coords, proba, truth, match):
    with pytest.raises(ValueError, match=match):
        plot_slide_map(coords, proba, truth)


def test_two_patches_in_one_cell_raise_naming_the_cell():
    with pytest.raises(ValueError, match=r"same cell.*row 1, column 0"):
        plot_slide_map([[0, 0], [0, 50], [10, 60]], [0.1, 0.2, 0.3])


@pytest.mark.skipif(not IDC_ROOT.is_dir(), reason="the IDC subset is not here")
def test_real_idc_patients(tmp_path):
    from skbreast.datasets import load_idc

    patients = sorted(p.name for p in IDC_ROOT.iterdir() if p.is_dir())[:3]
    for name in patients:
        (tmp_path / name).symlink_to(IDC_ROOT / name)
    data = load_idc(tmp_path, return_paths=True)
    assert set(np.unique(data.groups).astype(str)) == set(patients)
    for patient in np.unique(data.groups):
        mine = data.groups == patient
        coords = np.stack([data.x[mine], data.y[mine]], axis=1)
        rng = np.random.RandomState(0)
        fig = plot_slide_map(coords, rng.rand(mine.sum()), data.target[mine])
        truth, proba = fig.axes[:2]
        assert proba.images[0].get_array().count() == mine.sum()
        assert truth.images[0].get_array().sum() == data.target[mine].sum()
