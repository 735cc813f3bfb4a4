"""The SimCLR pieces of ``benchmarks/bench_pretrain_pcam.py``, checked against NumPy.

The benchmark is not part of the package, but its self-supervised loss decides what
its pretraining table means, so it is tested like package code.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from scipy.special import logsumexp

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_pretrain_pcam.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_pretrain_pcam", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _nt_xent_reference(z1, z2, temperature):
    z = np.concatenate([z1, z2]).astype(np.float64)
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    n = len(z1)
    logits = z @ z.T / temperature
    np.fill_diagonal(logits, -np.inf)
    partner = np.concatenate([np.arange(n, 2 * n), np.arange(n)])
    per_view = logsumexp(logits, axis=1) - logits[np.arange(2 * n), partner]
    return per_view.reshape(2, n).mean(axis=0)


def test_nt_xent_equals_the_numpy_reference(bench):
    rng = np.random.RandomState(0)
    z1, z2 = rng.normal(size=(2, 6, 5)).astype("float32")
    loss = bench._nt_xent(0.2)(np.zeros((6, 1)), np.hstack([z1, z2]))
    np.testing.assert_allclose(
        np.asarray(loss), _nt_xent_reference(z1, z2, 0.2), rtol=1e-4, atol=1e-5
    )


def test_nt_xent_is_low_when_views_agree_and_images_differ(bench):
    # One-hot projections: each view matches its partner exactly and is orthogonal
    # to every other image, the loss's minimum; shuffled partners score worse.
    z = np.eye(4, dtype="float32")
    agree = np.asarray(bench._nt_xent(0.1)(None, np.hstack([z, z])))
    shuffled = np.asarray(bench._nt_xent(0.1)(None, np.hstack([z, z[::-1]])))
    assert agree.shape == (4,)
    assert agree.max() < 0.01 < shuffled.min()


def test_simclr_model_shares_one_backbone_between_two_views(bench):
    model = bench._simclr_model(16, seed=0)
    x = np.random.RandomState(0).randint(0, 256, (3, 16, 16, 3)).astype("uint8")
    out = np.asarray(model(x, training=False))
    z1, z2 = np.split(out, 2, axis=1)
    # Without training the views are the image itself: the same projection twice.
    np.testing.assert_allclose(z1, z2, rtol=1e-5, atol=1e-6)
    trained = np.split(np.asarray(model(x, training=True)), 2, axis=1)
    assert not np.allclose(*trained)
    assert [layer.name for layer in model.layers].count("backbone") == 1
