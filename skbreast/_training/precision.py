"""Numeric precision of the networks, and the compile settings tied to the device.

The estimators' ``precision`` parameter picks a Keras dtype policy for the model
they build. The policy is applied to that model only: Keras' global policy is set
while the model is built (it is thread-local) and put back afterwards, so a user's
own Keras models and settings are left as they were. Every layer stores its policy
in its config, so a saved model loads with the precision it was trained in.
"""

import contextlib
import os
import sys

import keras

#: Values of the estimators' ``precision`` parameter.
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")

# NVIDIA GPUs from Volta (compute capability 7.0) on have float16 tensor cores.
_MIN_FLOAT16_COMPUTE_CAPABILITY = (7, 0)

# "auto" is float32 wherever mixed precision has not been shown to cost no
# accuracy: a default must never trade ROC AUC for speed behind the user's back.
# Each switch turns one measured case on.
#
# CPUs with bfloat16 instructions (AMX or AVX-512 BF16), TensorFlow's oneDNN on:
# measured on an AMD EPYC with AVX-512 BF16 and no AMX (benchmarks/bench_speed.py,
# benchmarks/README.md), on PCam at 50x50 with FastDropout, the CNN trained
# 1.1-1.4x and predicted 1.6x faster than in float32 but its validation ROC AUC
# was 0.013 lower on average over 5 seeds paired by seed (-0.003 to -0.033, all 5
# lower). Off until a variant is shown equal over >= 10 paired seeds.
_AUTO_BFLOAT16_ON_CPU = False
# NVIDIA GPUs of compute capability >= 7.0 (float16 tensor cores, with Keras' loss
# scaling): no GPU has been lent to measure the ROC AUC there, so off as well;
# precision="mixed_float16" opts in.
_AUTO_FLOAT16_ON_GPU = False


def resolve_precision(precision):
    """Return the dtype policy name that ``precision`` stands for on this machine.

    Parameters
    ----------
    precision : {"auto", "float32", "mixed_bfloat16", "mixed_float16"}
        The estimator parameter.

    Returns
    -------
    policy : str
        ``"float32"``, ``"mixed_bfloat16"`` or ``"mixed_float16"``. ``"auto"`` is
        ``"float32"`` unless mixed precision was measured to cost no accuracy on
        this kind of device (``_AUTO_FLOAT16_ON_GPU``: ``"mixed_float16"`` on an
        NVIDIA GPU of compute capability 7.0 or more; ``_AUTO_BFLOAT16_ON_CPU``:
        ``"mixed_bfloat16"`` on a CPU with bfloat16 instructions). Both are off
        today.
    """
    if precision != "auto":
        return precision
    capability = _gpu_compute_capability()
    if capability is not None:
        if _AUTO_FLOAT16_ON_GPU and capability >= _MIN_FLOAT16_COMPUTE_CAPABILITY:
            return "mixed_float16"
        return "float32"
    if _AUTO_BFLOAT16_ON_CPU and _cpu_has_bfloat16() and _onednn_enabled():
        return "mixed_bfloat16"
    return "float32"


@contextlib.contextmanager
def dtype_policy(policy):
    """Build Keras layers under ``policy`` inside the block, then restore the old one.

    Parameters
    ----------
    policy : str
        A Keras dtype policy name such as ``"mixed_bfloat16"``.
    """
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def jit_compile_setting():
    """Return the ``jit_compile`` value for ``model.compile`` on this machine.

    TensorFlow on a CPU: False, explicitly rather than through Keras' ``"auto"``:
    XLA was measured several times slower there than TensorFlow's own kernels.
    With a GPU, Keras' ``"auto"`` (XLA, except under a ``tf.distribute``
    strategy). JAX keeps ``"auto"`` too: it compiles with XLA, and without it
    every operation would run eagerly; PyTorch's ``"auto"`` means eager.
    """
    if keras.backend.backend() == "tensorflow" and _gpu_compute_capability() is None:
        return False
    return "auto"


def _gpu_compute_capability():
    """Return ``(major, minor)`` of the first NVIDIA GPU the backend uses, or None.

    A GPU whose capability cannot be read counts as ``(0, 0)``: float32.
    """
    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if not gpus:
                return None
            details = tf.config.experimental.get_device_details(gpus[0])
            return tuple(details.get("compute_capability") or (0, 0))
        if backend == "jax":
            import jax

            devices = [d for d in jax.devices() if d.platform == "gpu"]
            if not devices:
                return None
            text = str(getattr(devices[0], "compute_capability", "0.0"))
            return tuple(int(v) for v in text.split(".")[:2])
        if backend == "torch":
            import torch

            if not torch.cuda.is_available():
                return None
            return tuple(torch.cuda.get_device_capability(0))
    except Exception:  # a broken driver must not break fitting: use float32
        return (0, 0)
    return None


def _cpu_has_bfloat16():
    """Whether the CPU has bfloat16 instructions (Linux ``/proc/cpuinfo`` flags).

    Elsewhere the answer is False: float32 is the safe default.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return "avx512_bf16" in flags or "amx_bf16" in flags
    except OSError:
        pass
    return False


def _onednn_enabled():
    """Whether TensorFlow runs its oneDNN CPU kernels (bfloat16 is slow without)."""
    if keras.backend.backend() != "tensorflow":
        return False
    value = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1").strip().lower()
    return value not in ("0", "false")
