"""Accuracy on unseen data: skbreast training recipes vs the plain-Keras seed CNN.

Usage examples (from the project root)::

    python benchmarks/bench_accuracy.py pcam --model cnn --image-size 64 --budget 900
    python benchmarks/bench_accuracy.py pcam --model seed --budget 900
    python benchmarks/bench_accuracy.py breakhis --model resnet --image-size 64 96
    python benchmarks/bench_accuracy.py pcam --model cnn --dev --n-train 6000 \\
        --epochs 5 --params '{"stain_jitter": 0.1}'

PatchCamelyon: trained on ``pcam_subset/train`` and scored (ROC AUC) on
``pcam_subset/valid``, both deduplicated (byte-identical files dropped, and valid
files that also occur in train dropped). ``--dev`` scores on a stratified 15% of
the training set instead, so that settings can be chosen without looking at valid.
Training stops at ``--budget`` seconds of wall time (an epoch is not started when
the last one says it would not finish in time); the time reported is the wall time
of ``fit``.

BreakHis: 5-fold cross-validation grouped by patient on ``breakhis_100x_half``
(StratifiedGroupKFold: plain GroupKFold puts the benign patient with 72 images alone
in a fold without malignant images, where ROC AUC is undefined). Reports the mean
and standard deviation over folds of ROC AUC and balanced accuracy, and the time.

Every run appends one JSON line to ``--out`` (default
``benchmarks/results/accuracy.jsonl``) and prints it.
"""

import argparse
import hashlib
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.metrics import balanced_accuracy_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    StratifiedGroupKFold,
    train_test_split,
)

from skbreast import CNNClassifier, ResNetClassifier  # noqa: E402
from skbreast.datasets import load_breakhis, load_image_folder  # noqa: E402

DATA = Path(
    os.environ.get(
        "SKBREAST_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)
HERE = Path(__file__).resolve().parent


class TimeBudget(keras.callbacks.Callback):
    """Stop training before an epoch that would end past ``seconds`` of wall time.

    The clock starts when the callback is created (just before ``fit``), so model
    building and earlier phases count too.
    """

    def __init__(self, seconds):
        super().__init__()
        self.seconds = float(seconds)
        self.start = time.perf_counter()
        self.epoch_start = None
        self.longest = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self.longest = max(self.longest, now - self.epoch_start)
        if now - self.start + self.longest > self.seconds:
            self.model.stop_training = True

    def __deepcopy__(self, memo):
        # The estimators deep-copy callbacks per fit; the copy keeps the start time.
        clone = TimeBudget(self.seconds)
        clone.start = self.start
        return clone


class TimeCosine(TimeBudget):
    """Cosine learning-rate decay over a wall-time budget, then stop.

    Like the estimators' ``lr_schedule="cosine"``, but the schedule's progress is the
    share of ``seconds`` used rather than of the epochs, so the rate reaches 0 when
    the budget ends however busy the (shared) CPU is; training stops after the batch
    that crosses the budget. Use with ``lr_schedule=None`` and a large ``epochs``.
    """

    def on_train_begin(self, logs=None):
        self.base = float(self.model.optimizer.learning_rate)

    def on_train_batch_begin(self, batch, logs=None):
        used = min(1.0, (time.perf_counter() - self.start) / self.seconds)
        self.model.optimizer.learning_rate = (
            self.base * 0.5 * (1.0 + np.cos(np.pi * used))
        )

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self.start >= self.seconds:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)

    def __deepcopy__(self, memo):
        clone = TimeCosine(self.seconds)
        clone.start = self.start
        return clone


# ---------------------------------------------------------------- data
def _center_crop_resize(images, crop, size):
    """Crop the central ``crop`` fraction of each image, then resize to ``size``."""
    h, w = images.shape[1:3]
    ch, cw = int(round(h * crop)), int(round(w * crop))
    top, left = (h - ch) // 2, (w - cw) // 2
    images = images[:, top : top + ch, left : left + cw]
    if (ch, cw) == tuple(size):
        return np.ascontiguousarray(images)
    return np.stack(
        [
            np.asarray(Image.fromarray(im).resize(size[::-1], Image.BILINEAR))
            for im in images
        ]
    )


def _file_hashes(paths):
    return [hashlib.sha1(Path(p).read_bytes()).hexdigest() for p in paths]


def load_pcam(size, crop, cache_dir):
    """Deduplicated PCam train and valid as uint8 arrays, cached as .npz."""
    root = DATA / "pcam_subset"
    key = f"pcam_{size[0]}x{size[1]}_crop{crop:g}.npz"
    cache = Path(cache_dir) / key if cache_dir else None
    if cache is not None and cache.exists():
        z = np.load(cache)
        return (z["Xtr"], z["ytr"]), (z["Xva"], z["yva"]), json.loads(str(z["info"]))
    train = load_image_folder(root / "train", deduplicate=True)
    valid = load_image_folder(root / "valid", deduplicate=True)
    train_paths = load_image_folder(root / "train", return_paths=True, deduplicate=True)
    valid_paths = load_image_folder(root / "valid", return_paths=True, deduplicate=True)
    # Valid files whose bytes also occur in train would be scored after training.
    seen = set(_file_hashes(train_paths.filenames))
    keep = np.array([h not in seen for h in _file_hashes(valid_paths.filenames)])
    Xtr, ytr = train.images, train.target
    Xva, yva = valid.images[keep], valid.target[keep]
    Xtr = _center_crop_resize(Xtr, crop, size)
    Xva = _center_crop_resize(Xva, crop, size)
    info = dict(
        n_train=int(len(ytr)),
        n_valid=int(len(yva)),
        valid_also_in_train=int((~keep).sum()),
    )
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, Xtr=Xtr, ytr=ytr, Xva=Xva, yva=yva, info=json.dumps(info))
    return (Xtr, ytr), (Xva, yva), info


# ---------------------------------------------------------------- models
def seed_cnn(input_shape, seed=0):
    """The classic seed CNN, in plain Keras (no augmentation, no schedule).

    Three blocks of 3x3 convolution + ReLU, dropout 0.25 and 2x2 max-pooling (32,
    64, 128 filters), two ReLU dense layers (128, 64) with dropout 0.5 and a sigmoid
    unit; Adam (1e-3) on binary cross-entropy.
    """
    keras.utils.set_random_seed(seed)
    layers = [keras.Input(input_shape), keras.layers.Rescaling(1 / 255)]
    for filters in (32, 64, 128):
        layers += [
            keras.layers.Conv2D(filters, 3, activation="relu", padding="same"),
            keras.layers.Dropout(0.25),
            keras.layers.MaxPooling2D(2),
        ]
    layers += [keras.layers.Flatten()]
    for units in (128, 64):
        layers += [
            keras.layers.Dense(units, activation="relu"),
            keras.layers.Dropout(0.5),
        ]
    layers += [keras.layers.Dense(1, activation="sigmoid")]
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    return model


class SeedCNN:
    """Minimal estimator face of :func:`seed_cnn` for the benchmark loops."""

    def __init__(self, epochs, budget, seed):
        self.epochs, self.budget, self.seed = epochs, budget, seed

    def fit(self, X, y):
        self.model_ = seed_cnn(X.shape[1:], self.seed)
        self.history_ = self.model_.fit(
            X,
            y.astype("float32"),
            batch_size=32,
            epochs=self.epochs,
            callbacks=[TimeBudget(self.budget)],
            verbose=0,
        ).history
        self.n_iter_ = len(self.history_["loss"])
        return self

    def predict_proba(self, X):
        p = self.model_.predict(X, batch_size=256, verbose=0)[:, 0].astype(float)
        return np.column_stack([1 - p, p])


def make_estimator(args, budget):
    if args.model == "seed":
        return SeedCNN(args.epochs, budget, args.seed)
    params = dict(random_state=args.seed, epochs=args.epochs)
    params.update(json.loads(args.params))
    if args.time_cosine:
        params["lr_schedule"] = None
        params["callbacks"] = [TimeCosine(budget)]
    else:
        params["callbacks"] = [TimeBudget(budget)]
    cls = CNNClassifier if args.model == "cnn" else ResNetClassifier
    return cls(**params)


def _fit_summary(est):
    out = dict(epochs_run=int(getattr(est, "n_iter_", 0)))
    if getattr(est, "best_epoch_", None) is not None:
        out["best_epoch"] = int(est.best_epoch_)
    return out


# ---------------------------------------------------------------- runs
def run_pcam(args):
    size = tuple(args.image_size) * (2 // len(args.image_size))
    t0 = time.perf_counter()
    (Xtr, ytr), (Xva, yva), info = load_pcam(size, args.crop, args.cache_dir)
    load_s = time.perf_counter() - t0
    if args.dev:
        Xtr, Xva, ytr, yva = train_test_split(
            Xtr, ytr, test_size=0.15, stratify=ytr, random_state=0
        )
    if args.n_train and args.n_train < len(ytr):
        idx = np.random.RandomState(0).permutation(len(ytr))[: args.n_train]
        Xtr, ytr = Xtr[idx], ytr[idx]
    est = make_estimator(args, args.budget)
    t0 = time.perf_counter()
    est.fit(Xtr, ytr)
    fit_s = time.perf_counter() - t0
    if args.save_backbone:
        # H&E-pretrained weights for ResNetClassifier(weights=...) elsewhere.
        est.model_.get_layer("backbone").save_weights(args.save_backbone)
    t0 = time.perf_counter()
    proba = est.predict_proba(Xva)[:, 1]
    predict_s = time.perf_counter() - t0
    tta = {}
    if args.model != "seed":
        est.set_params(tta=True)
        t0 = time.perf_counter()
        proba_tta = est.predict_proba(Xva)[:, 1]
        tta = dict(
            roc_auc_tta=round(float(roc_auc_score(yva, proba_tta)), 4),
            balanced_accuracy_tta=round(
                float(balanced_accuracy_score(yva, proba_tta > 0.5)), 4
            ),
            predict_seconds_tta=round(time.perf_counter() - t0, 1),
        )
    return dict(
        info,
        scored_on="dev (15% of train)" if args.dev else "valid",
        n_fit=int(len(ytr)),
        n_scored=int(len(yva)),
        image_size=list(size),
        crop=args.crop,
        roc_auc=round(float(roc_auc_score(yva, proba)), 4),
        balanced_accuracy=round(float(balanced_accuracy_score(yva, proba > 0.5)), 4),
        fit_seconds=round(fit_s, 1),
        predict_seconds=round(predict_s, 1),
        load_seconds=round(load_s, 1),
        **tta,
        **_fit_summary(est),
    )


def _standardize_colours(images):
    """Give every image the same per-channel mean and spread (Reinhard-style, RGB).

    A crude stain normalisation: each channel of each image is shifted and scaled
    to mean 160 and standard deviation 40, removing global colour casts that
    differ from patient to patient.
    """
    x = images.astype(np.float32)
    mean = x.mean(axis=(1, 2), keepdims=True)
    std = x.std(axis=(1, 2), keepdims=True) + 1e-3
    return np.clip((x - mean) / std * 40.0 + 160.0, 0, 255).astype(np.uint8)


def run_breakhis(args):
    size = tuple(args.image_size) * (2 // len(args.image_size))
    data = load_breakhis(DATA / "breakhis_100x_half", image_size=size)
    X, y, groups = data.images, data.target, data.groups
    if args.normalize:
        X = _standardize_colours(X)
    if args.gray:
        # ITU-R 601 luma: morphology only, no stain colour to latch onto.
        luma = X.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
        X = np.round(luma)[..., None].astype(np.uint8)
    folds = StratifiedGroupKFold(n_splits=args.folds)
    aucs, baccs, times, fits = [], [], [], []
    aucs_tta, baccs_tta = [], []
    for train, test in folds.split(X, y, groups):
        assert not set(groups[train]) & set(groups[test])
        est = make_estimator(args, args.budget)
        t0 = time.perf_counter()
        est.fit(X[train], y[train])
        times.append(time.perf_counter() - t0)
        proba = est.predict_proba(X[test])[:, 1]
        aucs.append(roc_auc_score(y[test], proba))
        baccs.append(balanced_accuracy_score(y[test], proba > 0.5))
        if args.model != "seed":
            proba = est.set_params(tta=True).predict_proba(X[test])[:, 1]
            aucs_tta.append(roc_auc_score(y[test], proba))
            baccs_tta.append(balanced_accuracy_score(y[test], proba > 0.5))
        fits.append(_fit_summary(est))
        print(
            f"  fold {len(aucs)}: AUC {aucs[-1]:.3f}  bal.acc {baccs[-1]:.3f}  "
            f"{times[-1]:.0f} s  {fits[-1]}",
            flush=True,
        )
    tta = {}
    if aucs_tta:
        tta = dict(
            roc_auc_tta=round(float(np.mean(aucs_tta)), 4),
            roc_auc_tta_std=round(float(np.std(aucs_tta)), 4),
            balanced_accuracy_tta=round(float(np.mean(baccs_tta)), 4),
            balanced_accuracy_tta_std=round(float(np.std(baccs_tta)), 4),
            fold_roc_auc_tta=[round(float(a), 4) for a in aucs_tta],
        )
    return dict(
        **tta,
        n_images=int(len(y)),
        n_patients=int(len(np.unique(groups))),
        image_size=list(size),
        roc_auc=round(float(np.mean(aucs)), 4),
        roc_auc_std=round(float(np.std(aucs)), 4),
        balanced_accuracy=round(float(np.mean(baccs)), 4),
        balanced_accuracy_std=round(float(np.std(baccs)), 4),
        fold_roc_auc=[round(float(a), 4) for a in aucs],
        fold_balanced_accuracy=[round(float(b), 4) for b in baccs],
        fit_seconds_total=round(float(np.sum(times)), 1),
        fit_seconds_per_fold=round(float(np.mean(times)), 1),
        folds=fits,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=["pcam", "breakhis"])
    parser.add_argument("--model", choices=["cnn", "resnet", "seed"], default="cnn")
    parser.add_argument("--image-size", type=int, nargs="+", default=[64])
    parser.add_argument(
        "--crop", type=float, default=1.0, help="PCam: central fraction kept"
    )
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--budget", type=float, default=900, help="seconds per fit")
    parser.add_argument("--params", default="{}", help="estimator params, as JSON")
    parser.add_argument(
        "--time-cosine",
        action="store_true",
        help="cosine learning-rate decay over --budget seconds (TimeCosine)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dev", action="store_true", help="PCam: score on train split")
    parser.add_argument("--n-train", type=int, default=0, help="PCam: subsample train")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--gray", action="store_true", help="BreakHis: grayscale")
    parser.add_argument(
        "--save-backbone",
        metavar="PATH",
        help="PCam, resnet: save the trained backbone (*.weights.h5) to PATH",
    )
    parser.add_argument(
        "--normalize", action="store_true", help="BreakHis: per-image colour stats"
    )
    parser.add_argument("--cache-dir", default=os.environ.get("SKBREAST_BENCH_CACHE"))
    parser.add_argument("--tag", default="")
    parser.add_argument("--out", default=str(HERE / "results" / "accuracy.jsonl"))
    args = parser.parse_args(argv)

    start = time.strftime("%Y-%m-%d %H:%M:%S")
    result = run_pcam(args) if args.dataset == "pcam" else run_breakhis(args)
    record = dict(
        dataset=args.dataset,
        model=args.model,
        params=json.loads(args.params),
        epochs=args.epochs,
        budget_seconds=args.budget,
        time_cosine=args.time_cosine,
        gray=args.gray,
        normalize=args.normalize,
        seed=args.seed,
        tag=args.tag,
        started=start,
        cpus=os.cpu_count(),
        machine=platform.processor() or platform.machine(),
        keras_backend=keras.backend.backend(),
        tf_enable_onednn_opts=os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(unset: on)"),
        **result,
    )
    line = json.dumps(record)
    print(line)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "a") as f:
            f.write(line + "\n")
    return record


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
