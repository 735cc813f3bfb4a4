"""The learning-curve draws of ``benchmarks/bench_idc.py`` and the smoother of
``benchmarks/screen_slide_context.py``.

The benchmarks are not part of the package, but these pieces decide what the IDC
learning curve and the slide-context screen mean, so they are tested like package
code.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _load("bench_idc")


@pytest.fixture(scope="module")
def screen():
    return _load("screen_slide_context")


@pytest.fixture
def fold():
    # Patients a to e with 10, 20, 4, 6 and 8 patches; e is the test patient.
    groups = np.repeat(np.array(list("abcde")), [10, 20, 4, 6, 8])
    train = np.flatnonzero(groups != "e")
    return groups, train


def test_fewer_patients_draws_whole_training_patients(bench, fold):
    groups, train = fold
    kept = bench.fewer_patients(train, groups, 0.5, seed=3, fold=1)
    patients = np.unique(groups[kept])
    assert len(patients) == 2
    assert "e" not in patients
    for patient in patients:  # every patch of a drawn patient
        assert np.isin(np.flatnonzero(groups == patient), kept).all()
    np.testing.assert_array_equal(
        kept, bench.fewer_patients(train, groups, 0.5, seed=3, fold=1)
    )


def test_fewer_patches_keeps_every_patient_and_their_share(bench, fold):
    groups, train = fold
    kept = bench.fewer_patches(train, groups, 0.5, seed=3, fold=1)
    assert np.isin(kept, train).all()
    assert len(np.unique(kept)) == len(kept)
    patients, counts = np.unique(groups[kept], return_counts=True)
    np.testing.assert_array_equal(patients, list("abcd"))
    np.testing.assert_array_equal(counts, [5, 10, 2, 3])


def test_train_fraction_needs_patients(bench, capsys):
    # Refused before any data is read.
    with pytest.raises(SystemExit):
        bench.main(["--data", "pcam", "--train-fraction", "0.5"])
    assert "PCam has none" in capsys.readouterr().err


def test_smooth_leaves_isolated_patches_and_other_patients_alone(screen):
    proba = np.array([0.9, 0.1, 0.2, 0.7])
    # Patches 0 and 1 are neighbours on patient p; patch 2 is on p but far away;
    # patch 3 sits on patch 0's coordinates, but on another patient.
    coords = np.array([[0, 0], [50, 0], [100_000, 0], [0, 0]], dtype=float)
    patients = np.array(["p", "p", "p", "q"])
    out = screen.smooth(proba, coords, patients, h=100, alpha=1.0)
    assert out[2] == pytest.approx(0.2)
    assert out[3] == pytest.approx(0.7)
    # The two neighbours move towards each other, and no further than their mean.
    assert 0.1 < out[1] < out[0] < 0.9
    np.testing.assert_allclose(
        screen.smooth(proba, coords, patients, h=100, alpha=0.0), proba, rtol=1e-6
    )
