"""Fine-tuning real ImageNet weights against the same network from scratch.

Uses the real ImageNet MobileNetV2 in ``../shared/data/weights`` (its
``.weights.h5`` file) and compares, on each data set, at a similar CPU budget:

- ``finetune_imagenet``: ``TransferClassifier(weights=<the file>)``, the head for
  one epoch on the frozen backbone, then the whole network (batch normalisation in
  inference mode) at a tenth of the learning rate;
- ``random_init``: the same network, epochs and head from random weights
  (``weights=None``: every layer trains from the start, batch normalisation with
  momentum 0.9);
- ``probe_imagenet``: ``LinearProbeClassifier`` on the frozen ImageNet features
  (``C`` chosen by internal CV: by patient where the data has patients);
- ``scratch_cnn`` (IDC only): ``CNNClassifier()`` for ``--cnn-epochs`` epochs, the
  package's from-scratch model on 50x50 patches.

Stages:

1. ``pcam``: ``--n-train`` patches (stratified, seed 0; default all 19,171) of the
   deduplicated ``pcam_subset/train`` at 96 px, scored on the deduplicated
   ``pcam_subset/valid`` (2,907 patches, none also in train); one seed. ROC AUC
   with a 95% bootstrap interval over the valid patches (1,000 resamples), with
   and without test-time augmentation, and the balanced accuracy at 0.5.
2. ``idc``: ``idc_subset`` (10,231 patches, 195 patients) at 50 px,
   ``StratifiedGroupKFold(5)`` by patient (no patient on both sides, asserted);
   every fit gets ``groups`` so that early stopping holds out whole patients.
   ROC AUC and balanced accuracy per fold, mean and sd (ddof=0) over the folds.
3. ``breakhis``: ``breakhis_100x_half`` (319 images, 17 patients) at 96x144, the
   same 5 patient folds as ``bench_pretrain_pcam.py``.

``--image-size N`` resizes the images to N px inside the MobileNetV2 models (the
probe too); ``--epochs`` sets their epochs, ``--cnn-epochs`` the CNN's.

Fit times are CPU seconds of this process (``time.process_time``) beside the wall
seconds, so that a busy machine distorts them less. With ``--out`` the JSON is
rewritten after every model, so a run stopped early keeps its rows.

Usage::

    python benchmarks/bench_transfer.py pcam --out results/transfer_pcam.json
    python benchmarks/bench_transfer.py idc --out results/transfer_idc.json
    python benchmarks/bench_transfer.py breakhis --out results/transfer_breakhis.json
"""

import argparse
import hashlib
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import balanced_accuracy_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    StratifiedGroupKFold,
    train_test_split,
)

from skbreast import (  # noqa: E402
    CNNClassifier,
    LinearProbeClassifier,
    TransferClassifier,
)
from skbreast.datasets import load_breakhis, load_idc, load_image_folder  # noqa: E402

DATA = Path(
    os.environ.get(
        "SKBREAST_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)
WEIGHTS = DATA / "weights" / "mobilenet_v2_1.0_imagenet_notop.weights.h5"
WEIGHTS_SHA256 = "3a46aabfeddadda51c1cc595ddd819ae24f93d1ce1a3ac762a459fb4248d0480"


def _models(args, memory):
    common = dict(
        backbone="mobilenetv2",
        image_size=args.image_size,
        epochs=args.epochs,
        early_stopping=args.early_stopping,
        random_state=0,
    )
    return {
        "finetune_imagenet": lambda: TransferClassifier(
            weights=str(WEIGHTS), weights_sha256=WEIGHTS_SHA256, **common
        ),
        "random_init": lambda: TransferClassifier(weights=None, **common),
        "probe_imagenet": lambda: LinearProbeClassifier(
            "mobilenetv2",
            weights=str(WEIGHTS),
            image_size=args.image_size,
            class_weight="balanced",
            memory=memory,
            random_state=0,
        ),
        "scratch_cnn": lambda: CNNClassifier(epochs=args.cnn_epochs, random_state=0),
    }


def _digest(path):
    return hashlib.sha1(Path(path).read_bytes()).digest()


def _timed_fit(est, X, y, groups=None):
    wall, cpu = time.perf_counter(), time.process_time()
    if groups is None:
        est.fit(X, y)
    else:
        est.fit(X, y, groups=groups)
    return time.perf_counter() - wall, time.process_time() - cpu


def _bootstrap_auc(y, p, n=1000, seed=0):
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n):
        idx = rng.integers(0, len(y), len(y))
        if len(np.unique(y[idx])) == 2:
            values.append(roc_auc_score(y[idx], p[idx]))
    return [round(float(v), 4) for v in np.percentile(values, [2.5, 97.5])]


def pcam(args, memory):
    root = DATA / "pcam_subset"
    train = load_image_folder(root / "train", return_paths=True, deduplicate=True)
    valid = load_image_folder(root / "valid", return_paths=True, deduplicate=True)
    seen = {_digest(p) for p in train.filenames}
    keep = np.array([_digest(p) not in seen for p in valid.filenames])
    idx = np.arange(len(train.target))
    if args.n_train < len(idx):
        idx, _ = train_test_split(
            idx, train_size=args.n_train, stratify=train.target, random_state=0
        )
    X = load_image_folder(root / "train", deduplicate=True).images[idx]
    y = train.target[idx]
    Xv = load_image_folder(root / "valid", deduplicate=True).images[keep]
    yv = valid.target[keep]
    models = _models(args, memory)
    results = {}
    for name in args.models or ["finetune_imagenet", "random_init", "probe_imagenet"]:
        est = models[name]()
        wall, cpu = _timed_fit(est, X, y)
        proba = est.predict_proba(Xv)[:, 1]
        row = dict(
            fit_wall_seconds=round(wall, 1),
            fit_cpu_seconds=round(cpu, 1),
            roc_auc=round(float(roc_auc_score(yv, proba)), 4),
            roc_auc_ci95=_bootstrap_auc(yv, proba),
            balanced_accuracy=round(
                float(balanced_accuracy_score(yv, est.predict(Xv))), 4
            ),
        )
        if hasattr(est, "n_iter_"):
            row["epochs_trained"] = int(est.n_iter_)
        if "tta" in est.get_params():
            est.set_params(tta=True)
            proba_tta = est.predict_proba(Xv)[:, 1]
            row["roc_auc_tta"] = round(float(roc_auc_score(yv, proba_tta)), 4)
            row["roc_auc_tta_ci95"] = _bootstrap_auc(yv, proba_tta)
        results[name] = row
        print(json.dumps({name: row}), flush=True)
        keras.backend.clear_session()
        _partial(
            args,
            dict(
                stage="pcam", n_train=int(len(y)), n_valid=int(len(yv)), models=results
            ),
        )
    return dict(stage="pcam", n_train=int(len(y)), n_valid=int(len(yv)), models=results)


def _patient_folds(args, stage, X, y, groups, names):
    models = {}
    memory = args.memory
    factories = _models(args, memory)
    folds = list(StratifiedGroupKFold(n_splits=5).split(X, y, groups))
    for name in names:
        aucs, baccs, walls, cpus = [], [], [], []
        for k, (tr, te) in enumerate(folds):
            assert not set(groups[tr]) & set(groups[te])
            est = factories[name]()
            wall, cpu = _timed_fit(est, X[tr], y[tr], groups[tr])
            aucs.append(roc_auc_score(y[te], est.predict_proba(X[te])[:, 1]))
            baccs.append(balanced_accuracy_score(y[te], est.predict(X[te])))
            walls.append(wall)
            cpus.append(cpu)
            print(
                f"{stage} {name} fold {k + 1}: ROC AUC {aucs[-1]:.3f} bal. acc. "
                f"{baccs[-1]:.3f} {wall:.0f} s wall, {cpu:.0f} s CPU",
                flush=True,
            )
            keras.backend.clear_session()
        models[name] = dict(
            roc_auc=round(float(np.mean(aucs)), 4),
            roc_auc_std=round(float(np.std(aucs)), 4),
            balanced_accuracy=round(float(np.mean(baccs)), 4),
            balanced_accuracy_std=round(float(np.std(baccs)), 4),
            fold_roc_auc=[round(float(a), 4) for a in aucs],
            fold_balanced_accuracy=[round(float(b), 4) for b in baccs],
            fit_wall_seconds_per_fold=round(float(np.mean(walls)), 1),
            fit_cpu_seconds_per_fold=round(float(np.mean(cpus)), 1),
        )
        print(json.dumps({name: models[name]}), flush=True)
        _partial(
            args,
            dict(
                stage=stage,
                n_images=int(len(y)),
                n_patients=int(len(np.unique(groups))),
                models=models,
            ),
        )
    return dict(
        stage=stage,
        n_images=int(len(y)),
        n_patients=int(len(np.unique(groups))),
        models=models,
    )


def idc(args, memory):
    data = load_idc(DATA / "idc_subset")
    names = args.models or [
        "finetune_imagenet",
        "random_init",
        "probe_imagenet",
        "scratch_cnn",
    ]
    return _patient_folds(args, "idc", data.images, data.target, data.groups, names)


def breakhis(args, memory):
    data = load_breakhis(DATA / "breakhis_100x_half", image_size=(96, 144))
    names = args.models or ["finetune_imagenet", "random_init", "probe_imagenet"]
    return _patient_folds(
        args, "breakhis", data.images, data.target, data.groups, names
    )


def _partial(args, result):
    if args.out:
        _write_json(args.out, result)


def _write_json(path, result):
    """Write ``result`` to ``path`` atomically (write, then rename)."""
    path = Path(path)
    with tempfile.NamedTemporaryFile(
        "w", dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as f:
        f.write(json.dumps(result, indent=1))
        f.flush()
        os.fsync(f.fileno())
    os.replace(f.name, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    stages = {"pcam": pcam, "idc": idc, "breakhis": breakhis}
    parser.add_argument("stage", choices=list(stages))
    parser.add_argument("--n-train", type=int, default=10**9)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--cnn-epochs", type=int, default=10)
    parser.add_argument(
        "--image-size",
        type=int,
        default=None,
        help="size the MobileNetV2 models resize images to (default: as loaded)",
    )
    parser.add_argument(
        "--early-stopping", action="store_true", help="default: off (fixed epochs)"
    )
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--memory", default=None, help="embedding cache folder")
    parser.add_argument("--out", default=None, help="write the results as JSON")
    args = parser.parse_args(argv)
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = stages[args.stage](args, args.memory)
    result.update(
        weights=WEIGHTS.name,
        weights_sha256=WEIGHTS_SHA256,
        epochs=args.epochs,
        image_size=args.image_size,
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
        _write_json(args.out, result)
    return result


if __name__ == "__main__":
    main()
