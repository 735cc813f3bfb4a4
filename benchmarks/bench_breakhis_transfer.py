"""BreakHis by patient with a compact ResNet pretrained on PatchCamelyon.

An experiment behind the BreakHis rows of ``benchmarks/README.md`` (it uses
``skbreast.models.build_resnet`` directly, not the estimators): does an H&E backbone
trained on PCam transfer to BreakHis patients it never saw?

1. ``probe``: the backbone's averaged feature map of each whole image, then a
   standardised logistic regression (``class_weight="balanced"``) per fold.
2. ``finetune``: the backbone fine-tuned (Adam with a cosine decay over all steps)
   on ``--crops`` random 64x64 crops per training image per epoch, with flips,
   90-degree rotations and stain jitter; a test image's probability is the mean over
   its 64x64 tiles (stride 32), and also the prediction on the whole image (the
   network ends in global average pooling, so it takes any size).

Images are resized to ``--image-size`` (153x233 puts BreakHis' 100X images, here
already halved to 350x230, at the scale of PCam patches resized from 96 to 64 px).
Folds: ``StratifiedGroupKFold(5)`` by patient, as in ``bench_accuracy.py``. The
backbone comes from::

    python benchmarks/bench_accuracy.py pcam --model resnet --image-size 64 \\
        --epochs 9 --params '{"filters": [16, 32, 64], "lr_schedule": "cosine",
        "early_stopping": false}' --save-backbone pcam_backbone.weights.h5

Usage::

    python benchmarks/bench_breakhis_transfer.py probe pcam_backbone.weights.h5
    python benchmarks/bench_breakhis_transfer.py finetune pcam_backbone.weights.h5
    python benchmarks/bench_breakhis_transfer.py finetune none --learning-rate 1e-3
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import balanced_accuracy_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skbreast.datasets import load_breakhis  # noqa: E402
from skbreast.models import build_resnet  # noqa: E402

DATA = Path(
    os.environ.get(
        "SKBREAST_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)
CROP = 64
BACKBONE = dict(filters=(16, 32, 64), blocks_per_stage=2)


def random_crops(images, target, per_image, rng):
    """``per_image`` random ``CROP`` x ``CROP`` crops of every image, with labels."""
    h, w = images.shape[1:3]
    owner = np.repeat(np.arange(len(images)), per_image)
    top = rng.integers(0, h - CROP + 1, len(owner))
    left = rng.integers(0, w - CROP + 1, len(owner))
    crops = np.stack(
        [images[i, a : a + CROP, b : b + CROP] for i, a, b in zip(owner, top, left)]
    )
    return crops, target[owner]


def grid_tiles(images, stride=32):
    """All ``CROP`` x ``CROP`` tiles at ``stride`` (the last row/column flush)."""
    h, w = images.shape[1:3]
    rows = sorted({*range(0, h - CROP + 1, stride), h - CROP})
    cols = sorted({*range(0, w - CROP + 1, stride), w - CROP})
    tiles = np.stack(
        [images[:, a : a + CROP, b : b + CROP] for a in rows for b in cols], axis=1
    )
    return tiles.reshape(-1, CROP, CROP, images.shape[-1]), len(rows) * len(cols)


def backbone_features(X, weights):
    """The backbone's averaged final feature map of every whole image."""
    model = build_resnet(X.shape[1:], weights=weights, **BACKBONE)
    features = keras.Model(model.input, model.get_layer("avg_pool").output)
    return features.predict(X, batch_size=16, verbose=0)


def probe(F, y, train, test, C):
    clf = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=C, max_iter=2000, class_weight="balanced"),
    )
    clf.fit(F[train], y[train])
    return {"probe": clf.predict_proba(F[test])[:, 1]}


def finetune(X, y, train, test, weights, args, seed):
    keras.utils.set_random_seed(seed)
    augment = dict(flip=True, rotate90=True, stain_jitter=0.05, seed=seed)
    model = build_resnet(
        (CROP, CROP, X.shape[-1]), weights=weights, **BACKBONE, **augment
    )
    steps = args.epochs * len(train) * args.crops // 32
    rate = keras.optimizers.schedules.CosineDecay(args.learning_rate, steps)
    model.compile(keras.optimizers.Adam(rate), "binary_crossentropy")
    rng = np.random.default_rng(seed)
    for _ in range(args.epochs):
        Xc, yc = random_crops(X[train], y[train], args.crops, rng)
        model.fit(Xc, yc.astype("float32"), batch_size=32, epochs=1, verbose=0)
    tiles, per_image = grid_tiles(X[test])
    tiled = model.predict(tiles, batch_size=256, verbose=0)[:, -1]
    whole = build_resnet(X.shape[1:], **BACKBONE, **augment)
    whole.set_weights(model.get_weights())
    return {
        "tiles": tiled.reshape(len(test), per_image).mean(axis=1),
        "whole image": whole.predict(X[test], batch_size=16, verbose=0)[:, -1],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["probe", "finetune"])
    parser.add_argument("weights", help="backbone *.weights.h5, or 'none'")
    parser.add_argument("--image-size", type=int, nargs=2, default=[153, 233])
    parser.add_argument("--C", type=float, default=0.1, help="probe: inverse L2")
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--crops", type=int, default=8, help="per image per epoch")
    parser.add_argument("--out", help="append the result as a JSON line here")
    args = parser.parse_args(argv)
    weights = None if args.weights == "none" else args.weights

    data = load_breakhis(DATA / "breakhis_100x_half", image_size=tuple(args.image_size))
    X, y, groups = data.images, data.target, data.groups
    scores, start = {}, time.perf_counter()
    if args.mode == "probe":
        F = backbone_features(X, weights)
    folds = StratifiedGroupKFold(n_splits=5).split(X, y, groups)
    for fold, (train, test) in enumerate(folds):
        assert not set(groups[train]) & set(groups[test])
        if args.mode == "probe":
            probas = probe(F, y, train, test, args.C)
        else:
            probas = finetune(X, y, train, test, weights, args, seed=fold)
        for name, p in probas.items():
            fold_scores = scores.setdefault(name, {"roc_auc": [], "bal_acc": []})
            fold_scores["roc_auc"].append(round(float(roc_auc_score(y[test], p)), 4))
            fold_scores["bal_acc"].append(
                round(float(balanced_accuracy_score(y[test], p > 0.5)), 4)
            )
        print(f"fold {fold + 1}: {scores}", flush=True)
    result = dict(
        mode=args.mode,
        weights=args.weights,
        image_size=args.image_size,
        seconds=round(time.perf_counter() - start, 1),
        **{
            name: dict(
                roc_auc=round(float(np.mean(s["roc_auc"])), 4),
                balanced_accuracy=round(float(np.mean(s["bal_acc"])), 4),
                folds=s,
            )
            for name, s in scores.items()
        },
    )
    if args.mode == "finetune":
        result.update(
            learning_rate=args.learning_rate, epochs=args.epochs, crops=args.crops
        )
    line = json.dumps(result)
    print(line)
    if args.out:
        with open(args.out, "a") as f:
            f.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
