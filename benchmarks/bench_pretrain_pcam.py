"""Pretrain a backbone on PatchCamelyon, then use it on BreakHis patients.

1. ``pretrain``: a compact ResNet (``ResNetClassifier(filters=(16, 32, 64))``) is
   trained, supervised (tumour / no tumour), on ``--n-train`` patches drawn
   stratified (seed 0) from the deduplicated ``pcam_subset/train``, decoded at
   ``--pcam-size`` px (48: half of PCam's 96 px); ``--epochs`` epochs of a cosine
   schedule, flips, rotations and stain jitter, no early stopping. Its ROC AUC on the
   deduplicated ``pcam_subset/valid`` (files also in train dropped) is printed, and
   its backbone is written to ``<out-dir>/pcam_compact.weights.h5``.
2. ``breakhis``: ``breakhis_100x_half`` (319 images, 17 patients) at
   ``--breakhis-size`` (115x175: the same halving, so a pixel covers the tissue it
   covered in pretraining), ``StratifiedGroupKFold(5)`` by patient (no patient on
   both sides, asserted). Per fold, on the training patients only:

   - ``probe_pcam``: ``ImageEmbedder`` (the pretrained backbone, whole image,
     average pooling) + ``StandardScaler`` + ``LogisticRegression`` with ``C`` tuned
     by ``GridSearchCV`` over ``StratifiedGroupKFold(3)`` of the training patients;
   - ``probe_random``: the same with the backbone randomly initialised (seed 0);
   - ``finetune_pcam``: ``ResNetClassifier(weights=<the weights file>)``, 3 epochs
     with the backbone frozen, then all layers at a tenth of the learning rate;
   - ``scratch_resnet``: the same network and epochs from random weights;
   - ``scratch_cnn``: ``CNNClassifier()`` defaults at 64x96 (its best BreakHis
     setting in ``bench_accuracy.py``).

   ROC AUC (from ``predict_proba``) and balanced accuracy (``predict``) per fold,
   mean and standard deviation (ddof=0) over the 5 folds.

Usage::

    python benchmarks/bench_pretrain_pcam.py pretrain --out-dir /tmp/pcam_pretrain
    python benchmarks/bench_pretrain_pcam.py breakhis --out-dir /tmp/pcam_pretrain \\
        --out pretrain_breakhis.json
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
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import balanced_accuracy_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    StratifiedGroupKFold,
    train_test_split,
)
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skbreast import CNNClassifier, ResNetClassifier  # noqa: E402
from skbreast.datasets import load_breakhis, load_image_folder  # noqa: E402
from skbreast.datasets._imageio import read_images  # noqa: E402
from skbreast.embedding import ImageEmbedder  # noqa: E402
from skbreast.models import build_resnet  # noqa: E402

DATA = Path(
    os.environ.get(
        "SKBREAST_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)
BACKBONE = dict(filters=(16, 32, 64), blocks_per_stage=2)
WEIGHTS = "pcam_compact.weights.h5"
C_GRID = np.logspace(-4, 1, 11)


def _pcam_paths():
    root = DATA / "pcam_subset"
    train = load_image_folder(root / "train", return_paths=True, deduplicate=True)
    valid = load_image_folder(root / "valid", return_paths=True, deduplicate=True)
    # Valid files whose bytes also occur in train would be scored after training.
    seen = {_digest(p) for p in train.filenames}
    keep = np.array([_digest(p) not in seen for p in valid.filenames])
    return train, valid, keep


def _digest(path):
    return hashlib.sha1(Path(path).read_bytes()).digest()


def pretrain(args):
    train, valid, keep = _pcam_paths()
    idx, _ = train_test_split(
        np.arange(len(train.target)),
        train_size=args.n_train,
        stratify=train.target,
        random_state=0,
    )
    size = (args.pcam_size, args.pcam_size)
    X = read_images(list(train.filenames[idx]), size)
    y = train.target[idx]
    clf = ResNetClassifier(
        **BACKBONE,
        epochs=args.epochs,
        lr_schedule="cosine",
        early_stopping=False,
        random_state=0,
    )
    t0, cpu0 = time.perf_counter(), time.process_time()
    clf.fit(X, y)
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    Xva = read_images(list(valid.filenames[keep]), size)
    auc = roc_auc_score(valid.target[keep], clf.predict_proba(Xva)[:, 1])
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    clf.model_.get_layer("backbone").save_weights(out / WEIGHTS)
    result = dict(
        stage="pretrain",
        n_train=int(len(y)),
        n_train_deduplicated=int(len(train.target)),
        n_valid=int(keep.sum()),
        pcam_size=args.pcam_size,
        epochs=args.epochs,
        fit_seconds=round(fit_s, 1),
        fit_cpu_seconds=round(fit_cpu, 1),
        pcam_valid_roc_auc=round(float(auc), 4),
        weights=str(out / WEIGHTS),
    )
    print(json.dumps(result), flush=True)
    return result


def _backbone(image_shape, weights):
    """The compact backbone at ``image_shape`` (a keras.Model taking [0, 1] images)."""
    model = build_resnet(image_shape, weights=weights, seed=0, **BACKBONE)
    return model.get_layer("backbone")


def _probe(backbone, memory):
    pipe = make_pipeline(
        ImageEmbedder(backbone, memory=memory),
        StandardScaler(),
        LogisticRegression(class_weight="balanced", max_iter=2000),
    )
    return GridSearchCV(
        pipe,
        {"logisticregression__C": C_GRID},
        cv=StratifiedGroupKFold(3),
        scoring="roc_auc",
    )


def _finetune(weights, epochs):
    return ResNetClassifier(
        **BACKBONE,
        weights=weights,
        epochs=epochs,
        freeze_backbone_epochs=3,
        early_stopping=False,
        random_state=0,
    )


def breakhis(args):
    weights = str(Path(args.out_dir) / WEIGHTS)
    size = tuple(args.breakhis_size)
    data = load_breakhis(DATA / "breakhis_100x_half", image_size=size)
    small = load_breakhis(DATA / "breakhis_100x_half", image_size=(64, 96))
    X, y, groups = data.images, data.target, data.groups
    shape = X.shape[1:]
    memory = Path(args.out_dir) / "embedding_cache"
    models = {
        "probe_pcam": lambda: _probe(_backbone(shape, weights), memory),
        "probe_random": lambda: _probe(_backbone(shape, None), memory),
        "finetune_pcam": lambda: _finetune(weights, args.finetune_epochs),
        "scratch_resnet": lambda: _finetune(None, args.finetune_epochs),
        "scratch_cnn": lambda: CNNClassifier(random_state=0),
    }
    chosen = args.models or list(models)
    results = {}
    folds = list(StratifiedGroupKFold(n_splits=5).split(X, y, groups))
    for name in chosen:
        aucs, baccs, seconds, extra = [], [], [], []
        for k, (tr, te) in enumerate(folds):
            assert not set(groups[tr]) & set(groups[te])
            images = small.images if name == "scratch_cnn" else X
            est = models[name]()
            t0 = time.perf_counter()
            if name.startswith("probe"):
                est.fit(images[tr], y[tr], groups=groups[tr])
                extra.append(float(est.best_params_["logisticregression__C"]))
            else:
                est.fit(images[tr], y[tr])
            seconds.append(time.perf_counter() - t0)
            proba = est.predict_proba(images[te])[:, 1]
            aucs.append(roc_auc_score(y[te], proba))
            baccs.append(balanced_accuracy_score(y[te], est.predict(images[te])))
            print(
                f"{name} fold {k + 1}: ROC AUC {aucs[-1]:.3f}  bal. acc. "
                f"{baccs[-1]:.3f}  {seconds[-1]:.0f} s",
                flush=True,
            )
            keras.backend.clear_session()
        results[name] = dict(
            roc_auc=round(float(np.mean(aucs)), 4),
            roc_auc_std=round(float(np.std(aucs)), 4),
            balanced_accuracy=round(float(np.mean(baccs)), 4),
            balanced_accuracy_std=round(float(np.std(baccs)), 4),
            fold_roc_auc=[round(float(a), 4) for a in aucs],
            fold_balanced_accuracy=[round(float(b), 4) for b in baccs],
            fit_seconds_total=round(float(np.sum(seconds)), 1),
            **({"best_C": extra} if extra else {}),
        )
        print(json.dumps({name: results[name]}), flush=True)
    return dict(
        stage="breakhis",
        image_size=list(size),
        n_images=int(len(y)),
        n_patients=int(len(np.unique(groups))),
        weights=weights,
        finetune_epochs=args.finetune_epochs,
        models=results,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", choices=["pretrain", "breakhis"])
    parser.add_argument("--out-dir", default="pcam_pretrain")
    parser.add_argument("--n-train", type=int, default=6000)
    parser.add_argument("--pcam-size", type=int, default=48)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--breakhis-size", type=int, nargs=2, default=[115, 175])
    parser.add_argument("--finetune-epochs", type=int, default=10)
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--out", default=None, help="write the results as JSON")
    args = parser.parse_args(argv)
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = pretrain(args) if args.stage == "pretrain" else breakhis(args)
    result.update(
        wall_seconds=round(time.perf_counter() - t0, 1),
        cpu_seconds=round(time.process_time() - cpu0, 1),
        keras=keras.__version__,
        backend=keras.backend.backend(),
        machine=platform.processor() or platform.machine(),
        cpus=os.cpu_count(),
        load_average=[round(v, 2) for v in os.getloadavg()],
        python=sys.version.split()[0],
    )
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
