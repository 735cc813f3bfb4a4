"""Does training generalise to new patients? Patient-aware levers, nested by patient.

Usage (from the project root)::

    python benchmarks/bench_generalisation.py breakhis --models cnn,resnet
    python benchmarks/bench_generalisation.py breakhis --outer l2po --configs \\
        image-val,patient-val
    python benchmarks/bench_generalisation.py pcam --n-train 4000

BreakHis (``breakhis_100x_half``, 17 patients): every configuration is scored on
outer folds that hold out whole patients and are never used for choosing anything:

- ``--outer sgkf`` (default): ``StratifiedGroupKFold(5)`` by patient;
- ``--outer l2po``: leave-two-patients-out, one benign and one malignant patient
  per split (so ROC AUC is defined), ``--l2po-splits`` random pairs of the 60.

Inside each training fold the estimator draws its own early-stopping validation
set (the only "inner" split: nothing is tuned on the outer folds). The
configurations:

- ``image-val``: ``fit(X, y)``, validation images drawn by image (the old default);
- ``patient-val``: ``fit(X, y, groups=patients)``, whole patients held out;
- ``patient-val+balance``: and ``balance="patient"``;
- ``patient-val+macenko`` / ``+reinhard`` / ``+vahadane``: a
  ``StainNormalizer`` fitted on the training fold, in a Pipeline;
- ``patient-val+balance+macenko``: both levers.

PCam (no patient ids): train on ``--n-train`` deduplicated training patches, score
on the deduplicated validation patches, with and without each stain normaliser.

Per fold: ROC AUC and balanced accuracy. Summary: mean, standard deviation and a
95% t-interval over outer folds, and the number of folds below 0.5 ROC AUC. Every
run appends JSON lines to ``benchmarks/results/generalisation.jsonl``.
"""

import argparse
import hashlib
import itertools
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.metrics import balanced_accuracy_score, roc_auc_score  # noqa: E402
from sklearn.model_selection import StratifiedGroupKFold  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

from skbreast import CNNClassifier, ResNetClassifier  # noqa: E402
from skbreast.datasets import load_breakhis, load_image_folder, read_images  # noqa: E402
from skbreast.preprocessing import StainNormalizer  # noqa: E402

DATA = Path(
    os.environ.get(
        "SKBREAST_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)
HERE = Path(__file__).resolve().parent
CONFIGS = (
    "image-val",
    "patient-val",
    "patient-val+balance",
    "patient-val+macenko",
    "patient-val+reinhard",
    "patient-val+vahadane",
    "patient-val+balance+macenko",
)
PCAM_CONFIGS = ("none", "macenko", "reinhard", "vahadane")
MODELS = {
    "cnn": (CNNClassifier, {}),
    "resnet": (ResNetClassifier, {}),
}


def make_model(model, config, epochs, seed):
    """Return ``(estimator, uses_groups)`` for one configuration."""
    cls, params = MODELS[model]
    params = dict(params, epochs=epochs, random_state=seed)
    if "+balance" in config:
        params["balance"] = "patient"
    estimator = cls(**params)
    for method in ("macenko", "reinhard", "vahadane"):
        if config.endswith("+" + method):
            estimator = make_pipeline(StainNormalizer(method), estimator)
    return estimator, config.startswith("patient-val")


def fit(estimator, X, y, groups):
    if groups is None:
        return estimator.fit(X, y)
    if hasattr(estimator, "steps"):
        return estimator.fit(X, y, **{f"{estimator.steps[-1][0]}__groups": groups})
    return estimator.fit(X, y, groups=groups)


def outer_splits(kind, y, groups, n_l2po, seed):
    if kind == "sgkf":
        return list(StratifiedGroupKFold(5).split(np.zeros(len(y)), y, groups))
    benign = sorted(set(groups[y == 0]))
    malignant = sorted(set(groups[y == 1]))
    pairs = list(itertools.product(benign, malignant))
    rng = np.random.default_rng(seed)
    chosen = [pairs[i] for i in sorted(rng.choice(len(pairs), n_l2po, replace=False))]
    return [
        (np.flatnonzero(~np.isin(groups, pair)), np.flatnonzero(np.isin(groups, pair)))
        for pair in chosen
    ]


def summarise(values):
    values = np.asarray(values, dtype=float)
    mean, sd = float(values.mean()), float(values.std(ddof=1))
    half = float(stats.t.ppf(0.975, len(values) - 1) * sd / np.sqrt(len(values)))
    return dict(
        mean=round(mean, 4),
        sd=round(sd, 4),
        ci95=[round(mean - half, 4), round(mean + half, 4)],
    )


def run_breakhis(args):
    data = load_breakhis(DATA / "breakhis_100x_half", image_size=tuple(args.image_size))
    X, y, groups = data.images, np.asarray(data.target), np.asarray(data.groups)
    splits = outer_splits(args.outer, y, groups, args.l2po_splits, args.seed)
    for model in args.models:
        for config in args.configs:
            aucs, baccs, times, val_patients = [], [], [], []
            for k, (train, test) in enumerate(splits):
                assert not set(groups[train]) & set(groups[test])
                estimator, uses_groups = make_model(
                    model, config, args.epochs, args.seed
                )
                start = time.perf_counter()
                fit(
                    estimator,
                    X[train],
                    y[train],
                    groups[train] if uses_groups else None,
                )
                times.append(time.perf_counter() - start)
                proba = estimator.predict_proba(X[test])[:, 1]
                aucs.append(float(roc_auc_score(y[test], proba)))
                baccs.append(float(balanced_accuracy_score(y[test], proba > 0.5)))
                final = estimator[-1] if hasattr(estimator, "steps") else estimator
                held = final.validation_groups_
                val_patients.append(None if held is None else [str(g) for g in held])
                print(
                    f"{model:6s} {config:28s} fold {k + 1}/{len(splits)}: AUC "
                    f"{aucs[-1]:.3f} bal.acc {baccs[-1]:.3f} epochs {final.n_iter_} "
                    f"{times[-1]:.0f} s",
                    flush=True,
                )
            record = dict(
                data="breakhis_100x_half",
                outer=args.outer,
                model=model,
                config=config,
                image_size=list(args.image_size),
                epochs=args.epochs,
                seed=args.seed,
                n_folds=len(splits),
                roc_auc=summarise(aucs),
                balanced_accuracy=summarise(baccs),
                folds_below_half=int(np.sum(np.asarray(aucs) < 0.5)),
                fold_roc_auc=[round(a, 4) for a in aucs],
                fold_balanced_accuracy=[round(b, 4) for b in baccs],
                fold_test_patients=[sorted(set(groups[t].tolist())) for _, t in splits],
                fold_validation_patients=val_patients,
                fit_seconds_mean=round(float(np.mean(times)), 1),
            )
            write(record, args.out)


def _dedup_paths(paths):
    seen, keep = set(), []
    for i, path in enumerate(paths):
        digest = hashlib.sha1(Path(path).read_bytes()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            keep.append(i)
    return np.asarray(keep), seen


def run_pcam(args):
    size = tuple(args.image_size)
    train = load_image_folder(DATA / "pcam_subset" / "train", return_paths=True)
    valid = load_image_folder(DATA / "pcam_subset" / "valid", return_paths=True)
    keep, train_hashes = _dedup_paths(train.filenames)
    rng = np.random.default_rng(args.seed)
    keep = np.sort(rng.choice(keep, args.n_train, replace=False))
    valid_keep = [
        i
        for i, p in enumerate(valid.filenames)
        if hashlib.sha1(Path(p).read_bytes()).hexdigest() not in train_hashes
    ]
    valid_keep, _ = _dedup_paths(valid.filenames[valid_keep])
    Xtr = read_images(train.filenames[keep], size)
    ytr = np.asarray(train.target)[keep]
    vpaths = valid.filenames[valid_keep]
    Xte = read_images(vpaths, size)
    yte = np.asarray(valid.target)[valid_keep]
    for config in args.configs:
        estimator = CNNClassifier(epochs=args.epochs, random_state=args.seed)
        if config != "none":
            estimator = make_pipeline(StainNormalizer(config), estimator)
        start = time.perf_counter()
        estimator.fit(Xtr, ytr)
        seconds = time.perf_counter() - start
        proba = estimator.predict_proba(Xte)[:, 1]
        record = dict(
            data="pcam_subset",
            model="cnn",
            config=config,
            image_size=list(size),
            n_train=int(len(ytr)),
            n_valid=int(len(yte)),
            epochs=args.epochs,
            seed=args.seed,
            roc_auc=round(float(roc_auc_score(yte, proba)), 4),
            balanced_accuracy=round(
                float(balanced_accuracy_score(yte, proba > 0.5)), 4
            ),
            fit_seconds=round(seconds, 1),
        )
        print(record, flush=True)
        write(record, args.out)


def write(record, out):
    record["machine"] = f"{platform.machine()} {os.cpu_count()} cores"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "a") as f:
        f.write(json.dumps(record) + "\n")
    if "fold_roc_auc" in record:
        auc = record["roc_auc"]
        print(
            f"== {record['model']} {record['config']}: ROC AUC {auc['mean']:.3f} "
            f"± {auc['sd']:.3f} (95% CI {auc['ci95'][0]:.3f} to {auc['ci95'][1]:.3f}), "
            f"folds below 0.5: {record['folds_below_half']}",
            flush=True,
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", choices=["breakhis", "pcam"])
    parser.add_argument("--models", default="cnn", type=lambda s: s.split(","))
    parser.add_argument(
        "--configs",
        default=None,
        type=lambda s: s.split(","),
        help=f"BreakHis: some of {','.join(CONFIGS)} (default all); PCam: some of "
        f"{','.join(PCAM_CONFIGS)} (default all)",
    )
    parser.add_argument("--outer", choices=["sgkf", "l2po"], default="sgkf")
    parser.add_argument("--l2po-splits", type=int, default=10)
    parser.add_argument("--image-size", type=int, nargs=2, default=[50, 50])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--n-train", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=HERE / "results" / "generalisation.jsonl"
    )
    args = parser.parse_args(argv)
    valid = CONFIGS if args.data == "breakhis" else PCAM_CONFIGS
    args.configs = list(valid) if args.configs is None else args.configs
    unknown = set(args.configs) - set(valid)
    if unknown:
        parser.error(f"unknown --configs {sorted(unknown)}; choose from {valid}")
    (run_breakhis if args.data == "breakhis" else run_pcam)(args)


if __name__ == "__main__":
    main()
