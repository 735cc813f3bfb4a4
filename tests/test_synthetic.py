import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score

from skbreast.datasets import make_patches


def test_shapes_and_metadata():
    data = make_patches(
        n_samples=200, image_size=(40, 60), n_patients=7, random_state=0
    )
    assert data.images.shape == (200, 40, 60, 3) and data.images.dtype == np.uint8
    assert data.target.shape == (200,) and set(data.target) == {0, 1}
    assert data.target.sum() == 56  # 28% exactly, IDC's balance
    assert data.target_names.tolist() == ["benign", "malignant"]
    assert len(set(data.groups)) == 7 and data.groups.dtype.kind == "U"
    assert "SYNTHETIC" in data.DESCR


def test_deterministic_per_seed():
    a = make_patches(50, random_state=3)
    b = make_patches(50, random_state=np.random.RandomState(3))
    c = make_patches(50, random_state=4)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.groups, b.groups)
    assert not np.array_equal(a.images, c.images)


def test_return_X_y_and_weights():
    X, y = make_patches(20, weights=(0.5, 0.5), random_state=0, return_X_y=True)
    assert X.shape == (20, 50, 50, 3) and y.sum() == 10


def test_looks_like_he():
    images = make_patches(100, random_state=0).images.reshape(-1, 3).astype(float)
    r, g, b = images.mean(axis=0)
    assert r > b > g  # pink/purple H&E hue: red highest, green lowest


def test_learnable_but_not_trivial():
    data = make_patches(600, weights=(0.5, 0.5), n_patients=12, random_state=0)
    X = data.images.reshape(len(data.images), 10, 5, 10, 5, 3).mean(axis=(2, 4))
    X = X.reshape(len(X), -1) / 255.0
    scores = cross_val_score(
        LogisticRegression(max_iter=500),
        X,
        data.target,
        groups=data.groups,
        cv=GroupKFold(3),
        scoring="roc_auc",
    )
    assert 0.7 < scores.mean() < 0.995


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 0}, "n_samples"),
        ({"image_size": (4, 4)}, "image_size"),
        ({"image_size": "big"}, "image_size"),
        ({"weights": (1, 2, 3)}, "weights"),
        ({"weights": (-1, 2)}, "weights"),
        ({"n_samples": 5, "n_patients": 6}, "n_patients"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_patches(**kwargs)
