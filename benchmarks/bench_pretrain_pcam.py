"""Pretrain a backbone on PatchCamelyon, then use it on BreakHis patients.

1. ``pretrain``: a compact ResNet (``ResNetClassifier(filters=(16, 32, 64))``) is
   trained, supervised (tumour / no tumour), on ``--n-train`` patches drawn
   stratified (seed 0) from the deduplicated ``pcam_subset/train``, decoded at
   ``--pcam-size`` px (48: half of PCam's 96 px); ``--epochs`` epochs of a cosine
   schedule, flips, rotations and stain jitter, no early stopping. Its ROC AUC on the
   deduplicated ``pcam_subset/valid`` (files also in train dropped) is printed, and
   its backbone is written to ``<out-dir>/pcam_compact.weights.h5``.
2. ``pretrain-ssl``: the same backbone, same initial weights, same patches and
   epochs, trained self-supervised with SimCLR (Chen et al., 2020; the labels are
   not read): two strongly augmented views of each patch (crop, dihedral turn,
   stain, colour and grey jitter, blur), a projection MLP (128-64), the NT-Xent
   loss at ``--ssl-temperature`` over batches of ``--ssl-batch-size`` patches,
   AdamW with a cosine schedule. Written to
   ``<out-dir>/pcam_compact_simclr.weights.h5``.
3. ``pcam-probe``: the usual check that a pretraining taught anything. Each
   backbone (random, supervised, SimCLR) is frozen; a scaled logistic regression on
   its pooled features of the pretraining patches (``C`` by 5-fold CV) is scored on
   the deduplicated ``pcam_subset/valid``.
4. ``breakhis``: ``breakhis_100x_half`` (319 images, 17 patients) at
   ``--breakhis-size`` (115x175: the same halving, so a pixel covers the tissue it
   covered in pretraining), ``StratifiedGroupKFold(5)`` by patient (no patient on
   both sides, asserted). Per fold, on the training patients only:

   - ``probe_pcam``: ``ImageEmbedder`` (the supervised backbone, whole image,
     average pooling) + ``StandardScaler`` + ``LogisticRegression`` with ``C`` tuned
     by ``GridSearchCV`` over ``StratifiedGroupKFold(3)`` of the training patients;
   - ``probe_simclr``: the same with the SimCLR backbone;
   - ``probe_random``: the same with the backbone randomly initialised (seed 0);
   - ``finetune_pcam``: ``ResNetClassifier(weights=<the supervised file>)``, 3
     epochs with the backbone frozen, then all layers at a tenth of the learning
     rate;
   - ``finetune_simclr``: the same from the SimCLR file;
   - ``scratch_resnet``: the same network and epochs from random weights;
   - ``scratch_cnn``: ``CNNClassifier()`` defaults at 64x96 (its best BreakHis
     setting in ``bench_accuracy.py``).

   ROC AUC (from ``predict_proba``) and balanced accuracy (``predict``) per fold,
   mean and standard deviation (ddof=0) over the 5 folds. With ``--out`` the JSON
   is rewritten after every model, so a run stopped early keeps the rows it has.

Usage::

    python benchmarks/bench_pretrain_pcam.py pretrain --out-dir /tmp/pcam_pretrain
    python benchmarks/bench_pretrain_pcam.py pretrain-ssl --out-dir /tmp/pcam_pretrain
    python benchmarks/bench_pretrain_pcam.py pcam-probe --out-dir /tmp/pcam_pretrain
    python benchmarks/bench_pretrain_pcam.py breakhis --out-dir /tmp/pcam_pretrain \\
        --out pretrain_breakhis.json
"""

import argparse
import contextlib
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

from skbreast import CNNClassifier, ImageEmbedder, ResNetClassifier  # noqa: E402
from skbreast.datasets import load_breakhis, load_image_folder, read_images  # noqa: E402
from skbreast.models import RandomDihedral, RandomStainJitter, build_resnet  # noqa: E402

DATA = Path(
    os.environ.get(
        "SKBREAST_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)
BACKBONE = dict(filters=(16, 32, 64), blocks_per_stage=2)
WEIGHTS = "pcam_compact.weights.h5"
SSL_WEIGHTS = "pcam_compact_simclr.weights.h5"
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


def _pretrain_indices(train, n):
    """The ``n`` pretraining patches: a stratified draw (seed 0) of the train files."""
    idx, _ = train_test_split(
        np.arange(len(train.target)),
        train_size=n,
        stratify=train.target,
        random_state=0,
    )
    return idx


def pretrain(args):
    train, valid, keep = _pcam_paths()
    idx = _pretrain_indices(train, args.n_train)
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


def _simclr_views(x, seed):
    """Two independently augmented views of the [0, 1] image tensor ``x``.

    SimCLR's recipe (Chen et al., 2020) adapted to H&E patches: a random crop
    (zoom in by up to 40% with a shift of up to 20%), the 8 dihedral turns, and a
    strong colour distortion (H&E stain jitter, brightness, contrast, saturation
    and hue jitter, grayscale for 20% of the views) and a blur for half of them.
    The colour distortion is what matters here: without it two crops of one patch
    are told apart from the others by colour alone, the shortcut this benchmark's
    BreakHis half exists to avoid.
    """
    views = []
    for v in range(2):
        s = seed + 100 * v
        y = keras.layers.RandomZoom(
            (-0.4, 0.0), fill_mode="reflect", seed=s, name=f"v{v}_crop"
        )(x)
        y = keras.layers.RandomTranslation(
            0.2, 0.2, fill_mode="reflect", seed=s + 1, name=f"v{v}_shift"
        )(y)
        y = RandomDihedral(seed=s + 2, name=f"v{v}_dihedral")(y)
        y = RandomStainJitter(0.2, seed=s + 3, name=f"v{v}_stain")(y)
        y = keras.layers.RandomColorJitter(
            value_range=(0, 1),
            brightness_factor=0.3,
            contrast_factor=0.3,
            saturation_factor=(0.2, 0.8),
            hue_factor=0.1,
            seed=s + 4,
            name=f"v{v}_colour",
        )(y)
        y = keras.layers.RandomGrayscale(0.2, seed=s + 5, name=f"v{v}_grey")(y)
        y = keras.layers.RandomGaussianBlur(
            0.5,
            kernel_size=3,
            sigma=(0.1, 1.0),
            value_range=(0, 1),
            seed=s + 6,
            name=f"v{v}_blur",
        )(y)
        views.append(y)
    return views


def _nt_xent(temperature):
    """SimCLR's NT-Xent loss on predictions ``[z1 | z2]`` (two views side by side).

    Each of the ``2n`` projections must pick its partner view among the other
    ``2n - 1`` by cosine similarity over ``temperature``; the per-image loss is the
    mean of its two views' cross-entropies. ``y_true`` is ignored (no labels).
    """

    def loss(y_true, y_pred):
        del y_true
        z1, z2 = keras.ops.split(y_pred, 2, axis=-1)
        n = keras.ops.shape(z1)[0]
        z = keras.ops.normalize(keras.ops.concatenate([z1, z2], axis=0), axis=-1)
        logits = keras.ops.matmul(z, keras.ops.transpose(z)) / temperature
        # A view is not its own partner: mask the diagonal out of the softmax.
        logits = logits - 1e9 * keras.ops.eye(2 * n, dtype=logits.dtype)
        partner = keras.ops.concatenate(
            [keras.ops.arange(n, 2 * n), keras.ops.arange(0, n)]
        )
        per_view = keras.losses.sparse_categorical_crossentropy(
            partner, logits, from_logits=True
        )
        return keras.ops.mean(keras.ops.reshape(per_view, (2, n)), axis=0)

    return loss


def _simclr_model(size, seed):
    """The SimCLR training model: two views, the shared backbone, a projection MLP."""
    backbone = _backbone((size, size, 3), None)
    inputs = keras.Input((size, size, 3), name="image")
    x = keras.layers.Rescaling(1 / 255, name="rescale")(inputs)
    projector = keras.Sequential(
        [
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(128, activation="relu"),
            keras.layers.Dense(64),
        ],
        name="projector",
    )
    z = [projector(backbone(view)) for view in _simclr_views(x, seed)]
    return keras.Model(inputs, keras.layers.Concatenate()(z), name="simclr")


def pretrain_ssl(args):
    """Self-supervised (SimCLR) pretraining of the compact backbone, labels unused."""
    train, _, _ = _pcam_paths()
    idx = _pretrain_indices(train, args.n_train)
    X = read_images(list(train.filenames[idx]), (args.pcam_size,) * 2)
    keras.utils.set_random_seed(0)
    model = _simclr_model(args.pcam_size, seed=0)
    steps = args.epochs * int(np.ceil(len(X) / args.ssl_batch_size))
    model.compile(
        optimizer=keras.optimizers.AdamW(
            keras.optimizers.schedules.CosineDecay(args.ssl_learning_rate, steps),
            weight_decay=1e-4,
        ),
        loss=_nt_xent(args.ssl_temperature),
    )
    t0, cpu0 = time.perf_counter(), time.process_time()
    history = model.fit(
        X,
        np.zeros((len(X), 1), "float32"),
        batch_size=args.ssl_batch_size,
        epochs=args.epochs,
        shuffle=True,
        verbose=2,
    )
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model.get_layer("backbone").save_weights(out / SSL_WEIGHTS)
    return dict(
        stage="pretrain-ssl",
        method="SimCLR (NT-Xent), the PCam labels unused",
        n_train=int(len(X)),
        pcam_size=args.pcam_size,
        epochs=args.epochs,
        batch_size=args.ssl_batch_size,
        temperature=args.ssl_temperature,
        learning_rate=args.ssl_learning_rate,
        loss_per_epoch=[round(float(v), 4) for v in history.history["loss"]],
        fit_seconds=round(fit_s, 1),
        fit_cpu_seconds=round(fit_cpu, 1),
        weights=str(out / SSL_WEIGHTS),
    )


def pcam_probe(args):
    """Linear probes on PCam itself: each backbone's frozen features, PCam labels.

    The standard check that a pretraining taught the backbone anything: features
    of the pretraining patches (the supervised backbone has seen their labels, the
    SimCLR one has not) feed a scaled logistic regression with ``C`` tuned by
    5-fold CV, scored on the deduplicated ``pcam_subset/valid``.
    """
    train, valid, keep = _pcam_paths()
    idx = _pretrain_indices(train, args.n_train)
    size = (args.pcam_size,) * 2
    X, y = read_images(list(train.filenames[idx]), size), train.target[idx]
    Xva, yva = read_images(list(valid.filenames[keep]), size), valid.target[keep]
    weights = {
        "random": None,
        "supervised": Path(args.out_dir) / WEIGHTS,
        "simclr": Path(args.out_dir) / SSL_WEIGHTS,
    }
    results = {}
    for name, path in weights.items():
        if path is not None and not path.exists():
            print(f"{name}: no weights file {str(path)!r}, skipped", flush=True)
            continue
        backbone = _backbone(X.shape[1:], None if path is None else str(path))
        t0 = time.perf_counter()
        # Cached: the 55 fits of the search embed each patch once.
        memory = Path(args.out_dir) / "embedding_cache"
        search = _probe(backbone, memory, cv=5, class_weight=None).fit(X, y)
        auc = roc_auc_score(yva, search.predict_proba(Xva)[:, 1])
        results[name] = dict(
            pcam_valid_roc_auc=round(float(auc), 4),
            cv_roc_auc=round(float(search.best_score_), 4),
            best_C=float(search.best_params_["logisticregression__C"]),
            seconds=round(time.perf_counter() - t0, 1),
        )
        print(json.dumps({name: results[name]}), flush=True)
        keras.backend.clear_session()
    return dict(
        stage="pcam-probe",
        n_train=int(len(y)),
        n_valid=int(len(yva)),
        pcam_size=args.pcam_size,
        backbones=results,
    )


def _backbone(image_shape, weights):
    """The compact backbone at ``image_shape`` (a keras.Model taking [0, 1] images)."""
    model = build_resnet(image_shape, weights=weights, seed=0, **BACKBONE)
    return model.get_layer("backbone")


def _probe(backbone, memory, *, cv=None, class_weight="balanced"):
    """The linear probe: a search over ``C`` (inner patient folds by default)."""
    pipe = make_pipeline(
        ImageEmbedder(backbone, memory=memory),
        StandardScaler(),
        LogisticRegression(class_weight=class_weight, max_iter=2000),
    )
    return GridSearchCV(
        pipe,
        {"logisticregression__C": C_GRID},
        cv=StratifiedGroupKFold(3) if cv is None else cv,
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
    ssl_weights = str(Path(args.out_dir) / SSL_WEIGHTS)
    size = tuple(args.breakhis_size)
    data = load_breakhis(DATA / "breakhis_100x_half", image_size=size)
    small = load_breakhis(DATA / "breakhis_100x_half", image_size=(64, 96))
    X, y, groups = data.images, data.target, data.groups
    shape = X.shape[1:]
    memory = Path(args.out_dir) / "embedding_cache"
    models = {
        "probe_pcam": lambda: _probe(_backbone(shape, weights), memory),
        "probe_simclr": lambda: _probe(_backbone(shape, ssl_weights), memory),
        "probe_random": lambda: _probe(_backbone(shape, None), memory),
        "finetune_pcam": lambda: _finetune(weights, args.finetune_epochs),
        "finetune_simclr": lambda: _finetune(ssl_weights, args.finetune_epochs),
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
        if args.out:  # after every model: a long run stopped early keeps its rows
            _write_json(args.out, _breakhis_result(args, size, y, groups, results))
    return _breakhis_result(args, size, y, groups, results)


def _breakhis_result(args, size, y, groups, results):
    return dict(
        stage="breakhis",
        image_size=list(size),
        n_images=int(len(y)),
        n_patients=int(len(np.unique(groups))),
        weights=str(Path(args.out_dir) / WEIGHTS),
        ssl_weights=str(Path(args.out_dir) / SSL_WEIGHTS),
        finetune_epochs=args.finetune_epochs,
        models=results,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    stages = {
        "pretrain": pretrain,
        "pretrain-ssl": pretrain_ssl,
        "pcam-probe": pcam_probe,
        "breakhis": breakhis,
    }
    parser.add_argument("stage", choices=list(stages))
    parser.add_argument("--out-dir", default="pcam_pretrain")
    parser.add_argument("--n-train", type=int, default=6000)
    parser.add_argument("--pcam-size", type=int, default=48)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--ssl-batch-size", type=int, default=128)
    parser.add_argument("--ssl-temperature", type=float, default=0.2)
    parser.add_argument("--ssl-learning-rate", type=float, default=2e-3)
    parser.add_argument("--breakhis-size", type=int, nargs=2, default=[115, 175])
    parser.add_argument("--finetune-epochs", type=int, default=10)
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--out", default=None, help="write the results as JSON")
    args = parser.parse_args(argv)
    t0, cpu0 = time.perf_counter(), time.process_time()
    result = stages[args.stage](args)
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
        _write_json(args.out, result)
    return result


def _write_json(path, result):
    """Write ``result`` to ``path`` atomically: a temporary file beside it, renamed.

    An error leaves ``path`` as it was, so nobody ever finds half a file.
    """
    path = os.path.abspath(os.fspath(path))
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.{os.getpid()}.{time.time_ns()}.tmp")
    try:
        # Exclusive creation; open() applies the umask like any new file.
        with open(tmp, "x") as f:
            f.write(json.dumps(result, indent=1))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


if __name__ == "__main__":
    main()
