"""How many CPU threads the Keras backend may use for one estimator.

joblib's process workers and Dask's worker processes announce their share of the
machine in ``OMP_NUM_THREADS`` (joblib sets it to ``cpu_count // n_jobs``, a Dask
nanny to its worker's thread count). BLAS and OpenMP libraries honour it;
TensorFlow does not: each of its processes starts thread pools as large as the
machine, so ``GridSearchCV(n_jobs=4)`` on a 4-core machine would run 4 x 4 busy
threads. The estimators' ``n_threads`` parameter closes that gap.
"""

import os
import warnings

import keras

# Values already applied to, or refused by, this process's framework: the thread
# pools are process-wide, so one warning per value is enough.
_applied = set()
_refused = set()


def resolve_n_threads(n_threads):
    """Return the thread count to apply, or None for the framework's default.

    Parameters
    ----------
    n_threads : int, "auto" or None
        The estimator parameter. "auto" reads ``OMP_NUM_THREADS``.

    Returns
    -------
    n : int or None
        Threads to use, or None to leave the framework alone.
    """
    if n_threads is None:
        return None
    if n_threads != "auto":
        return int(n_threads)
    value = os.environ.get("OMP_NUM_THREADS", "")
    try:
        n = int(value)
    except ValueError:
        return None
    return n if n >= 1 else None


def limit_framework_threads(n_threads):
    """Cap the Keras backend's CPU thread pools for this process.

    TensorFlow fixes its pools when it first runs an operation; after that a
    different size cannot be applied, so this warns (once per value) and goes on
    with the pools it has. PyTorch can be changed at any time. JAX reads its
    thread count from ``XLA_FLAGS`` at start-up only, so it is left alone.

    Parameters
    ----------
    n_threads : int, "auto" or None
        See :func:`resolve_n_threads`.
    """
    n = resolve_n_threads(n_threads)
    if n is None or n in _applied:
        return
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        threading = tf.config.threading
        try:
            threading.set_intra_op_parallelism_threads(n)
            threading.set_inter_op_parallelism_threads(n)
        except RuntimeError:
            if n not in _refused:
                _refused.add(n)
                current = threading.get_intra_op_parallelism_threads() or "all"
                warnings.warn(
                    f"n_threads={n} cannot be applied: TensorFlow already runs "
                    f"with {current} intra-op threads in this process, and its "
                    "thread pools are fixed once it has started. Set n_threads "
                    "before the first fit or prediction in a process.",
                    UserWarning,
                    stacklevel=3,
                )
            return
    elif backend == "torch":
        import torch

        torch.set_num_threads(n)
    else:
        return
    _applied.add(n)
