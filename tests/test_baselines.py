"""Shortcut baselines and their trivial features."""

import numpy as np
import pytest
from PIL import Image
from sklearn.model_selection import StratifiedGroupKFold, cross_val_score
from sklearn.utils.estimator_checks import parametrize_with_checks

from skbreast.model_selection import colour_histogram_baseline, thumbnail_baseline
from skbreast.preprocessing import ColourHistogram, Thumbnail


def colour_only(n=80, size=16, seed=0):
    """Classes differ in stain colour only: identical texture statistics."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    texture = rng.integers(0, 80, (n, size, size, 1))
    tint = np.where(y[:, None, None, None] == 1, [150, 60, 120], [90, 60, 150])
    return np.clip(texture + tint, 0, 255).astype(np.uint8), y


def texture_only(n=80, size=16, seed=0):
    """Classes differ in texture only: the same colour histogram in expectation."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    noise = rng.permuted(
        np.tile(np.r_[np.zeros(128), np.full(128, 160)], (n, 1)), axis=1
    )
    smooth = np.sort(noise, axis=1)  # the same pixels, arranged in two blocks
    grey = np.where(y[:, None] == 1, smooth, noise).reshape(n, size, size, 1)
    return np.repeat(grey, 3, axis=-1).astype(np.uint8), y


def test_histogram_counts_are_exact():
    image = np.zeros((1, 2, 2, 3), dtype=np.uint8)
    image[0, 0, 0] = [255, 128, 0]
    features = ColourHistogram(bins=2).fit_transform(image)
    np.testing.assert_allclose(features, [[0.75, 0.25, 0.75, 0.25, 1.0, 0.0]])


def test_floats_in_unit_range_are_pixels():
    X, _ = colour_only(n=10)
    as_uint8 = ColourHistogram().fit_transform(X)
    as_float = ColourHistogram().fit_transform(X.astype(np.float32) / 255)
    np.testing.assert_allclose(as_uint8, as_float, atol=1e-6)


@pytest.mark.parametrize("cls", [ColourHistogram, Thumbnail])
def test_paths_flattened_and_arrays_agree(cls, tmp_path):
    X, _ = colour_only(n=6, size=16)
    paths = []
    for i, image in enumerate(X):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(image).save(paths[-1])
    params = {"size": (4, 6)} if cls is Thumbnail else {}
    from_arrays = cls(**params).fit_transform(X)
    from_paths = cls(**params).fit(paths).transform(np.asarray(paths))
    flat = cls(**params, input_shape=(16, 16, 3)).fit_transform(X.reshape(6, -1))
    np.testing.assert_array_equal(from_arrays, from_paths)
    np.testing.assert_array_equal(from_arrays, flat)


def test_thumbnail_keeps_the_mean_and_loses_the_detail():
    X, _ = texture_only(n=4)
    small = Thumbnail(size=(2, 2)).fit_transform(X).reshape(4, 2, 2, 3)
    np.testing.assert_allclose(
        small.mean(axis=(1, 2, 3)), X.mean(axis=(1, 2, 3)), atol=2
    )


def test_transform_checks_the_image_size():
    X, _ = colour_only(n=4, size=16)
    hist = ColourHistogram().fit(X)
    with pytest.raises(ValueError, match="fitted on images of 768 values"):
        hist.transform(X[:, :8])


@pytest.mark.parametrize("make", [colour_histogram_baseline, thumbnail_baseline])
def test_baselines_are_deterministic(make):
    X, y = colour_only()
    a = make().fit(X, y).predict_proba(X)
    b = make().fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_colour_baseline_sees_colour_and_not_texture():
    groups = np.arange(80) // 4
    cv = StratifiedGroupKFold(4)
    X, y = colour_only()
    colour = cross_val_score(
        colour_histogram_baseline(), X, y, groups=groups, cv=cv, scoring="roc_auc"
    )
    X, y = texture_only()
    texture = cross_val_score(
        colour_histogram_baseline(), X, y, groups=groups, cv=cv, scoring="roc_auc"
    )
    assert colour.mean() > 0.95
    assert abs(texture.mean() - 0.5) < 0.2


@pytest.mark.parametrize("make", [colour_histogram_baseline, thumbnail_baseline])
def test_baselines_fit_more_than_two_classes(make):
    rng = np.random.default_rng(0)
    y = np.arange(90) % 3
    X = rng.integers(0, 100, (90, 16, 16, 3)).astype(np.uint8)
    X[y == 1, :, :, 0] += 120  # three tints: red, green, neither
    X[y == 2, :, :, 1] += 120
    with pytest.raises(ValueError, match="multiclass"):
        make().fit(X, y)
    baseline = make(multiclass=True).fit(X, y)
    np.testing.assert_array_equal(baseline.classes_, [0, 1, 2])
    assert baseline.predict_proba(X).shape == (90, 3)
    assert (baseline.predict(X) == y).mean() > 0.95


@parametrize_with_checks([ColourHistogram(bins=4), Thumbnail(size=(2, 2))])
def test_sklearn_compatible(estimator, check):
    check(estimator)
