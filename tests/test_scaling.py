"""Scale-out: thread budgets, a Dask cluster, data-parallel training, many fits.

Each test that changes process-wide framework state (thread pools, logical
devices) runs in a fresh interpreter, so it cannot leak into the other tests.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from conftest import SMALL_CNN, make_images
from numpy.testing import assert_allclose

from skbreast import CNNClassifier
from skbreast._training.threads import resolve_n_threads

TF_ONLY = pytest.mark.skipif(
    os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow",
    reason="checks TensorFlow's own thread pools and tf.distribute",
)


def run_python(code, **env):
    """Run ``code`` in a fresh interpreter; return its last stdout line as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env},
        cwd=os.path.dirname(__file__),
    )
    assert result.returncode == 0, result.stderr[-5000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "n_threads, omp, expected",
    [("auto", None, None), ("auto", "3", 3), ("auto", "junk", None), (None, "3", None)]
    + [(2, None, 2), (2, "3", 2), ("auto", "0", None)],
)
def test_resolve_n_threads(monkeypatch, n_threads, omp, expected):
    if omp is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", omp)
    assert resolve_n_threads(n_threads) == expected


def test_n_threads_is_validated():
    X, y = make_images(n=20)
    with pytest.raises(ValueError, match="n_threads"):
        CNNClassifier(**SMALL_CNN, n_threads=0, epochs=1).fit(X, y)


FIT_AND_REPORT = """
    import json, warnings
    import tensorflow as tf
    from conftest import SMALL_CNN, make_images
    from skbreast import CNNClassifier

    X, y = make_images(n=20)
    CNNClassifier(**SMALL_CNN, epochs=1, n_threads={n_threads!r}).fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        CNNClassifier(**SMALL_CNN, epochs=1, n_threads={later!r}).fit(X, y)
    print(json.dumps({{
        "intra": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter": tf.config.threading.get_inter_op_parallelism_threads(),
        "warnings": [str(w.message) for w in caught if "n_threads" in str(w.message)],
    }}))
"""


@TF_ONLY
def test_auto_takes_the_worker_budget_from_omp_num_threads():
    out = run_python(
        FIT_AND_REPORT.format(n_threads="auto", later="auto"), OMP_NUM_THREADS="1"
    )
    assert (out["intra"], out["inter"]) == (1, 1)
    assert out["warnings"] == []


@TF_ONLY
def test_a_different_budget_after_start_warns_and_keeps_the_pools():
    out = run_python(FIT_AND_REPORT.format(n_threads=1, later=2))
    assert out["intra"] == 1
    assert len(out["warnings"]) == 1
    assert "already runs with 1 intra-op threads" in out["warnings"][0]


@TF_ONLY
def test_none_leaves_tensorflow_defaults():
    out = run_python(
        FIT_AND_REPORT.format(n_threads=None, later=None), OMP_NUM_THREADS="1"
    )
    assert (out["intra"], out["inter"]) == (0, 0)  # 0: TensorFlow chooses


def test_grid_search_on_a_dask_cluster():
    """GridSearchCV through joblib's Dask backend on 2 local worker processes."""
    distributed = pytest.importorskip("dask.distributed")
    import joblib
    from sklearn.model_selection import GridSearchCV

    X, y = make_images(n=40)
    grid = GridSearchCV(
        CNNClassifier(**SMALL_CNN, epochs=2, early_stopping=False),
        {"filters": [(4,), (4, 8)], "learning_rate": [0.01, 0.003]},
        cv=2,
        scoring="roc_auc",
    )
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with joblib.parallel_backend("dask"):
            grid.set_params(n_jobs=-1).fit(X, y)
        workers = client.run(os.getpid)
        budgets = client.run(_framework_threads)

    # Every candidate ran, on the cluster's processes, each held to its budget.
    assert len(grid.cv_results_["params"]) == 4
    assert os.getpid() not in workers.values()
    assert set(budgets.values()) == {1}, budgets
    # Same seeds, same data: the search on the cluster scores as a serial one.
    serial = GridSearchCV(grid.estimator, grid.param_grid, cv=2, scoring="roc_auc")
    serial.fit(X, y)
    assert_allclose(
        grid.cv_results_["mean_test_score"],
        serial.cv_results_["mean_test_score"],
        atol=0.05,
    )
    assert grid.best_estimator_.predict(X[:5]).shape == (5,)


def _framework_threads():
    """Threads of a Dask worker's Keras backend (runs on the worker)."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.config.threading.get_intra_op_parallelism_threads()
    if keras.backend.backend() == "torch":
        import torch

        return torch.get_num_threads()
    return 1  # JAX's pools are set by XLA_FLAGS only; nothing to check


@TF_ONLY
def test_data_parallel_training_on_two_virtual_devices():
    """tf.distribute.MirroredStrategy: fitting inside its scope mirrors the model."""
    out = run_python(
        """
        import json
        import numpy as np
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2
        )
        from conftest import SMALL_CNN, make_images
        from skbreast import CNNClassifier

        X, y = make_images(n=64)
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        with strategy.scope():
            clf = CNNClassifier(**SMALL_CNN, epochs=3, batch_size=16).fit(X, y)
        variable = clf.model_.trainable_variables[0]
        values = getattr(variable, "value", variable)
        print(json.dumps({
            "replicas": strategy.num_replicas_in_sync,
            "mirrored": type(values).__name__,
            "n_iter": clf.n_iter_,
            "accuracy": float(clf.score(X, y)),
        }))
        """
    )
    assert out["replicas"] == 2
    assert "Mirrored" in out["mirrored"], out
    assert out["n_iter"] == 3
    assert out["accuracy"] > 0.6


def test_many_fits_do_not_leak():
    """20 consecutive fits in one process (as GridSearchCV does) keep memory bounded."""
    out = run_python(
        """
        import gc, json
        from conftest import SMALL_CNN, make_images
        from skbreast import CNNClassifier

        def rss_mb():
            with open("/proc/self/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024

        X, y = make_images(n=64, size=16)
        rss = []
        for i in range(20):
            CNNClassifier(**SMALL_CNN, epochs=1).fit(X, y).predict_proba(X)
            gc.collect()
            rss.append(rss_mb())
        print(json.dumps(rss))
        """
    )
    # The first fits load the backend's kernels and warm caches (JAX's take about
    # ten fits); after that, growth per fit must be small (a leak of the model or
    # its data would be MBs per fit).
    growth_per_fit = (out[-1] - out[9]) / 10
    assert growth_per_fit < 1.0, np.round(out, 1)
