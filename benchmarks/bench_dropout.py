"""FastDropout against keras.layers.Dropout: the forward and backward pass, timed.

Usage: python benchmarks/bench_dropout.py [--rounds 7] [--calls 20] [--out FILE]

For each feature map that the default CNNClassifier drops out at batch size 32
(32x50x50x32, 32x25x25x64 and 32x13x13x128 after the convolutions, rate 0.25;
32x128 after the first dense layer, rate 0.5) and each precision (float32, bfloat16),
one ``tf.function`` runs the layer in training mode and its gradient. The two layers
alternate call by call in every round; a round's time is the mean of ``--calls``
calls and the figure is the median over rounds. Also reported: the whole CNN's
training step (``train_on_batch``, batch 32 of 50x50 images) with either layer,
under float32 and mixed_bfloat16, the configurations alternating the same way.

TensorFlow backend only (the layer is Keras' own on the others).
"""

import argparse
import contextlib
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402

SHAPES = [
    ((32, 50, 50, 32), 0.25),
    ((32, 25, 25, 64), 0.25),
    ((32, 13, 13, 128), 0.25),
    ((32, 128), 0.5),
]


def layer_step(layer, dtype, shape):
    """A compiled forward + backward pass of ``layer`` on a ``shape`` tensor."""
    import tensorflow as tf

    x = tf.cast(tf.random.normal(shape, seed=0), dtype)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(tf.cast(layer(x, training=True), tf.float32))
        return tape.gradient(total, x)

    return step


@contextlib.contextmanager
def dtype_policy(policy):
    """Build Keras layers under ``policy`` inside the block, then restore the old one.

    Keras' public global dtype policy (``keras.config.set_dtype_policy``): layers
    built inside the block take ``policy`` unless given their own ``dtype``.
    """
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def model_step(drop, precision):
    """One training step of the default CNN built with ``drop`` as its dropout."""
    import keras

    from skbreast.models import build_cnn

    with dtype_policy(precision):
        model = build_cnn((50, 50, 3), seed=0)
    if drop is not None:
        # Same model with Keras' own layer in place of FastDropout.
        config = model.get_config()
        for layer in config["layers"]:
            if layer["class_name"] == "FastDropout":
                layer.update(class_name="Dropout", module="keras.layers")
                layer.pop("registered_name", None)
        model = keras.Model.from_config(config)
    model.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (32, 50, 50, 3), dtype=np.uint8)
    y = rng.integers(0, 2, (32, 1)).astype("float32")
    return lambda: model.train_on_batch(x, y)


def alternate(steps, rounds, calls, sync):
    """Median over rounds of each step's mean time per call, in milliseconds."""
    times = {name: [] for name in steps}
    for step in steps.values():
        sync(step())  # trace and warm up
    for r in range(rounds):
        names = list(steps)
        if r % 2:
            names.reverse()
        for name in names:
            start = time.perf_counter()
            for _ in range(calls):
                out = steps[name]()
            sync(out)
            times[name].append((time.perf_counter() - start) / calls * 1000)
    return {name: float(np.median(t)) for name, t in times.items()}, times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--out", default=None, help="write the results as JSON")
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from skbreast.models import FastDropout

    def sync(out):
        np.asarray(out)

    results = {
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "cpus": os.cpu_count(),
        "layers": [],
        "train_step": [],
    }
    print(
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, "
        f"CPUs: {os.cpu_count()}"
    )
    print(
        f"{'shape':>18} {'rate':>5} {'dtype':>9} | Dropout ms | FastDropout ms | ratio"
    )
    for shape, rate in SHAPES:
        for dtype in ("float32", "bfloat16"):
            steps = {
                "keras": layer_step(keras.layers.Dropout(rate, seed=0), dtype, shape),
                "fast": layer_step(FastDropout(rate, seed=0), dtype, shape),
            }
            med, raw = alternate(steps, args.rounds, args.calls, sync)
            ratio = med["keras"] / med["fast"]
            results["layers"].append(
                {"shape": shape, "rate": rate, "dtype": dtype, **med, "raw": raw}
            )
            print(
                f"{'x'.join(map(str, shape)):>18} {rate:>5} {dtype:>9} | "
                f"{med['keras']:10.2f} | {med['fast']:14.2f} | {ratio:5.2f}"
            )
    print("\nCNN train step, batch 32 at 50x50 | Dropout ms | FastDropout ms | ratio")
    for precision in ("float32", "mixed_bfloat16"):
        steps = {
            "keras": model_step(keras.layers.Dropout, precision),
            "fast": model_step(None, precision),
        }
        med, raw = alternate(steps, args.rounds, args.calls, sync)
        results["train_step"].append({"precision": precision, **med, "raw": raw})
        print(
            f"{precision:>34} | {med['keras']:10.2f} | {med['fast']:14.2f} | "
            f"{med['keras'] / med['fast']:5.2f}"
        )
        keras.utils.clear_session()
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)
        print(f"\nResults written to {args.out}")


if __name__ == "__main__":
    main()
