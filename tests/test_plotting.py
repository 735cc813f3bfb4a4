import matplotlib
import numpy as np
import pytest

from skbreast.plotting import (
    plot_confusion_matrices,
    plot_gradcam_examples,
    plot_roc_comparison,
    plot_training_curves,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _folds(n_folds, seed):
    rng = np.random.RandomState(seed)
    y = np.array([0, 1] * 25)
    return [(y, y * 0.5 + rng.rand(50)) for _ in range(n_folds)]


def test_plot_roc_comparison_lines_and_legend():
    ax = plot_roc_comparison({"cnn": _folds(3, 0), "resnet": _folds(5, 1)})
    # 3 + 5 fold curves, 2 mean curves, 1 chance line.
    assert len(ax.get_lines()) == 11
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("cnn (AUC = ") and "±" in labels[0]
    assert labels[1].startswith("resnet (AUC = ")
    assert len(ax.collections) == 2  # the ±1 std bands
    assert matplotlib.get_backend().lower() == "agg"


def test_plot_roc_comparison_on_given_axes_and_string_labels():
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    y = np.array(["benign", "malignant"] * 10)
    score = np.linspace(0, 1, 20)
    out = plot_roc_comparison({"m": [(y, score)]}, pos_label="malignant", ax=ax)
    assert out is ax


def test_plot_confusion_matrices():
    fig = plot_confusion_matrices(
        {
            "cnn": [[5, 1], [2, 4]],
            "resnet": [[6, 0], [1, 5]],
            "x": np.eye(2, dtype=int),
        },
        display_labels=["benign", "malignant"],
    )
    images = [ax for ax in fig.axes if ax.images]
    assert len(images) == 3
    assert [ax.get_title() for ax in images] == ["cnn", "resnet", "x"]
    texts = [t.get_text() for t in images[0].texts]
    assert sorted(texts) == ["1", "2", "4", "5"]


def test_plot_training_curves():
    with_val = {"loss": [1.0, 0.8, 0.6], "val_loss": [1.0, 0.9, 0.95]}
    no_val = {"loss": [1.0, 0.7]}
    fig = plot_training_curves(
        {"cnn": [with_val, with_val, no_val], "resnet": [no_val]}
    )
    assert [len(ax.get_lines()) for ax in fig.axes] == [5, 1]
    assert fig.axes[0].get_xlabel() == "epoch"


def test_plot_gradcam_examples():
    imgs = np.zeros((5, 8, 8, 3), dtype=np.uint8)
    fig = plot_gradcam_examples(imgs, imgs, list("abcde"), n_cols=3, suptitle="t")
    assert len(fig.axes) == 10
