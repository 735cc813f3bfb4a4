"""ResNet-50 training throughput at 224 px: ResNetClassifier against plain Keras.

Usage (on a machine with a GPU; any Keras 3 backend)::

    KERAS_BACKEND=jax python benchmarks/gpu_resnet50.py --out gpu_resnet50.json
    python benchmarks/gpu_resnet50.py --batch-size 256 --steps 100 --epochs 4
    # smoke test on a CPU (tiny, not a measurement):
    python benchmarks/gpu_resnet50.py --image-size 64 --batch-size 8 --steps 3 \\
        --epochs 2 --precision float32

Both sides train ``keras.applications.ResNet50`` (random weights, 1 sigmoid output)
on the same synthetic uint8 images with Adam and binary cross-entropy:

- *plain Keras*: ``ResNet50(weights=None, include_top=False, pooling="avg")`` plus a
  ``Dense(1, "sigmoid")``, compiled with Keras' defaults (``jit_compile="auto"``)
  under the global dtype policy given by ``--precision``; fed ``float32`` images
  scaled to [0, 1] once before timing (as a Keras user would).
- *skbreast*: ``ResNetClassifier(backbone="resnet50", precision=...)`` fed the uint8
  array, augmentation, validation and the learning-rate schedule off.

Throughput = images per second over the epochs after the first (the first carries
tracing/compilation); each epoch is ``--steps`` full batches. The two sides run
alternately ``--repeats`` times and the median is reported, with the ratio
skbreast / plain Keras. Synthetic images keep input decoding out of the figure, as
NVIDIA's published numbers do (NVIDIA DeepLearningExamples, TensorFlow ResNet-50
v1.5, mixed precision + XLA: about 2,400 images/s training on one A100 80GB at batch
size 256); the reference is printed next to the result, not compared automatically
(different model variant, framework and input pipeline).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

NVIDIA_A100_AMP_XLA_IMAGES_PER_S = 2400


class EpochTimer(keras.callbacks.Callback):
    """Record the wall time of every epoch."""

    def __init__(self):
        super().__init__()
        self.times = []
        self._start = None

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._start)

    def __deepcopy__(self, memo):
        # The estimators deep-copy callbacks; keep writing into this object.
        return self


def synthetic_images(n, size, seed=0):
    """``n`` random uint8 RGB images of ``size`` x ``size`` and balanced labels."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, size=(n, size, size, 3), dtype=np.uint8)
    y = np.tile([0, 1], n // 2 + 1)[:n]
    return X, y


def images_per_second(epoch_times, n_images):
    """Throughput over the epochs after the first (which includes compilation)."""
    steady = epoch_times[1:] or epoch_times
    return n_images / statistics.median(steady)


def run_plain_keras(X, y, args):
    keras.config.set_dtype_policy(args.precision)
    try:
        keras.utils.set_random_seed(0)
        base = keras.applications.ResNet50(
            weights=None, include_top=False, pooling="avg", input_shape=X.shape[1:]
        )
        # The output layer stays float32 so the loss is computed in full precision.
        out = keras.layers.Dense(1, activation="sigmoid", dtype="float32")(base.output)
        model = keras.Model(base.input, out)
        model.compile(optimizer="adam", loss="binary_crossentropy")
        Xf = X.astype("float32") / 255.0
        timer = EpochTimer()
        model.fit(
            Xf,
            y.astype("float32"),
            batch_size=args.batch_size,
            epochs=args.epochs,
            callbacks=[timer],
            verbose=0,
        )
        return timer.times
    finally:
        keras.config.set_dtype_policy("float32")


def run_skbreast(X, y, args):
    from skbreast import ResNetClassifier

    timer = EpochTimer()
    clf = ResNetClassifier(
        backbone="resnet50",
        flip=False,
        rotate90=False,
        stain_jitter=0.0,
        lr_schedule=None,
        early_stopping=False,
        epochs=args.epochs,
        batch_size=args.batch_size,
        precision=args.precision,
        callbacks=[timer],
        random_state=0,
    )
    clf.fit(X, y)
    return timer.times, clf.precision_


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=50, help="batches per epoch")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--precision",
        default="mixed_float16",
        choices=["float32", "mixed_float16", "mixed_bfloat16"],
    )
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2 (the first epoch is not timed)")

    n = args.steps * args.batch_size
    X, y = synthetic_images(n, args.image_size)
    plain, ours, resolved = [], [], None
    for _ in range(args.repeats):
        plain.append(images_per_second(run_plain_keras(X, y, args), n))
        times, resolved = run_skbreast(X, y, args)
        ours.append(images_per_second(times, n))
        print(
            f"plain Keras {plain[-1]:8.1f} img/s   skbreast {ours[-1]:8.1f} img/s",
            flush=True,
        )
    devices = [str(d) for d in keras.distribution.list_devices()]
    result = dict(
        backend=keras.backend.backend(),
        keras=keras.__version__,
        devices=devices,
        machine=platform.machine(),
        image_size=args.image_size,
        batch_size=args.batch_size,
        images_per_epoch=n,
        epochs=args.epochs,
        precision=args.precision,
        skbreast_precision_=resolved,
        plain_keras_images_per_s=round(statistics.median(plain), 1),
        skbreast_images_per_s=round(statistics.median(ours), 1),
        ratio=round(statistics.median(ours) / statistics.median(plain), 3),
        reference_nvidia_a100_amp_xla_images_per_s=NVIDIA_A100_AMP_XLA_IMAGES_PER_S,
    )
    print(json.dumps(result, indent=2))
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
