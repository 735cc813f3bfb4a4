"""Plain, class-weighted, under-, over-sampled and SMOTE training on imbalanced PCam.

Usage: python benchmarks/bench_imbalance_pcam.py [--root path/to/pcam_subset]
       [--n-negative 2000] [--n-positive 200] [--image-size 48] [--budget 15]
       [--out results.json]

Training set: ``n_negative`` tumour-free and ``n_positive`` tumour patches drawn
(seeded) from the deduplicated ``pcam_subset/train`` (9.1% positive at the
defaults). Two test sets from the deduplicated ``pcam_subset/valid`` (no valid file
is byte-identical to a train file):

* ``imbalanced``: every negative and as many positives as keep the training
  ratio (the prevalence a deployed model would see);
* ``balanced``: as many negatives as positives.

Recall, precision, F1 and balanced accuracy are those of ``predict`` (threshold
0.5); ROC AUC is computed from ``predict_proba``. Every model is the same small CNN
with the same seed, and every model trains on the same number of images: ``budget``
epochs of the training set. The samplers change what an epoch holds (under-sampling:
2 x ``n_positive`` images; over-sampling and SMOTE: 2 x ``n_negative``), so their
number of epochs is scaled to keep the number of gradient steps about equal (at the
defaults: 15 epochs plain and class-weighted, 82 under-sampled, 8 over-sampled and
SMOTE). With equal epochs instead, under-sampling would get ten times fewer steps
than over-sampling. One seed, one draw: on a few hundred positives, differences of
a few points are noise.
"""

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from imblearn.over_sampling import SMOTE, RandomOverSampler
from imblearn.pipeline import make_pipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.metrics import (
    balanced_accuracy_score,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
)

from skbreast import CNNClassifier
from skbreast.datasets import load_image_folder, read_images

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data" / "pcam_subset"
METRICS = ["recall", "precision", "f1", "roc_auc", "balanced_accuracy"]


def draw(labels, counts, rng):
    """Sorted indices holding ``counts[c]`` samples of every class ``c``."""
    picked = []
    for label, count in counts.items():
        members = np.flatnonzero(labels == label)
        if count > len(members):
            raise SystemExit(f"only {len(members)} images of class {label}")
        picked.append(rng.choice(members, size=count, replace=False))
    return np.sort(np.concatenate(picked))


def load_data(root, n_negative, n_positive, image_size, seed):
    rng = np.random.default_rng(seed)
    size = (image_size, image_size)
    train = load_image_folder(root / "train", return_paths=True, deduplicate=True)
    valid = load_image_folder(root / "valid", return_paths=True, deduplicate=True)
    print(
        f"deduplicated: train {np.bincount(train.target).tolist()} "
        f"({train.n_duplicates} copies dropped), valid "
        f"{np.bincount(valid.target).tolist()} ({valid.n_duplicates} dropped)"
    )
    pick = draw(train.target, {0: n_negative, 1: n_positive}, rng)
    X_train = read_images(train.filenames[pick], size)
    y_train = train.target[pick]

    negatives = int(np.sum(valid.target == 0))
    positives = int(np.sum(valid.target == 1))
    ratio = n_positive / n_negative
    imbalanced = draw(
        valid.target, {0: negatives, 1: min(positives, round(negatives * ratio))}, rng
    )
    n_each = min(negatives, positives)
    balanced = draw(valid.target, {0: n_each, 1: n_each}, rng)
    X_valid = read_images(valid.filenames, size)
    tests = {
        "imbalanced": (X_valid[imbalanced], valid.target[imbalanced]),
        "balanced": (X_valid[balanced], valid.target[balanced]),
    }
    return X_train, y_train, tests


def candidates(image_size, n_train, epoch_sizes, budget, seed):
    """The models, each trained on about ``budget * n_train`` images."""

    def cnn(method, **extra):
        epochs = max(1, round(budget * n_train / epoch_sizes[method]))
        return CNNClassifier(
            filters=(8, 16, 32),
            dense_units=(32,),
            epochs=epochs,
            early_stopping=False,
            random_state=seed,
            **extra,
        )

    shape = (image_size, image_size, 3)
    return {
        "plain": cnn("plain"),
        "class_weight": cnn("plain", class_weight="balanced"),
        "under-sampled": cnn("under", sampler=RandomUnderSampler(random_state=seed)),
        "over-sampled": cnn("over", sampler=RandomOverSampler(random_state=seed)),
        # SMOTE blends pixels, so it needs 2-D float input: on uint8, imbalanced-learn
        # subtracts neighbours in uint8, wraps around and returns garbage pixels.
        "SMOTE": make_pipeline(
            SMOTE(random_state=seed), cnn("over", input_shape=shape)
        ),
    }


def scores(model, X, y, flat):
    if flat:
        X = X.reshape(len(X), -1).astype(np.float32)
    proba = model.predict_proba(X)[:, 1]
    pred = model.predict(X)
    return {
        "recall": recall_score(y, pred),
        "precision": precision_score(y, pred, zero_division=0.0),
        "f1": f1_score(y, pred, zero_division=0.0),
        "roc_auc": roc_auc_score(y, proba),
        "balanced_accuracy": balanced_accuracy_score(y, pred),
    }


def machine():
    """Where the numbers come from: CPUs, platform, library versions, oneDNN."""
    import keras
    import tensorflow as tf

    return {
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "platform": platform.platform(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        # TensorFlow reads it at import; unset means its oneDNN CPU kernels are on.
        "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS"),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--n-negative", type=int, default=2000)
    parser.add_argument("--n-positive", type=int, default=200)
    parser.add_argument("--image-size", type=int, default=48)
    parser.add_argument(
        "--budget", type=float, default=15, help="epochs of the training set"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    if not (args.root / "train").is_dir():
        raise SystemExit(f"PCam subset not found at {args.root}")

    start = time.perf_counter()
    X, y, tests = load_data(
        args.root, args.n_negative, args.n_positive, args.image_size, args.seed
    )
    print(
        f"train: {len(y)} images, {y.mean():.1%} positive; test: "
        + ", ".join(
            f"{name} {len(t[1])} ({t[1].mean():.1%} positive)"
            for name, t in tests.items()
        )
        + f"; loaded in {time.perf_counter() - start:.1f} s"
    )

    results = []
    labels = ["recall", "precision", "F1", "ROC AUC", "bal. acc."]
    header = f"{'':>14} {'test set':>10} " + " ".join(f"{m:>9}" for m in labels)
    print(f"{header} {'epochs':>6} {'fit s':>6}")
    counts = np.bincount(y)
    epoch_sizes = {
        "plain": len(y),
        "under": 2 * counts.min(),
        "over": 2 * counts.max(),
    }
    models = candidates(args.image_size, len(y), epoch_sizes, args.budget, args.seed)
    for name, model in models.items():
        flat = name == "SMOTE"
        X_fit = X.reshape(len(X), -1).astype(np.float32) if flat else X
        start = time.perf_counter()
        model.fit(X_fit, y)
        fit_seconds = time.perf_counter() - start
        epochs = int((model[-1] if flat else model).n_iter_)
        for test_name, (X_test, y_test) in tests.items():
            row = scores(model, X_test, y_test, flat)
            results.append(
                {
                    "model": name,
                    "test_set": test_name,
                    **row,
                    "epochs": epochs,
                    "fit_seconds": fit_seconds,
                }
            )
            print(
                f"{name:>14} {test_name:>10} "
                + " ".join(f"{row[m]:9.3f}" for m in METRICS)
                + f" {epochs:6d} {fit_seconds:6.1f}",
                flush=True,
            )

    if args.out:
        report = {
            "benchmark": "bench_imbalance_pcam",
            "machine": machine(),
            "settings": {
                k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()
            },
            "train": {"n_images": int(len(y)), "n_positive": int(y.sum())},
            "test_sets": {
                name: {"n_images": int(len(t[1])), "n_positive": int(t[1].sum())}
                for name, t in tests.items()
            },
            "results": results,
        }
        args.out.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
