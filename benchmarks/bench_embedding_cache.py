"""ImageEmbedder: a grid search over the head with and without cached embeddings.

``search``: 3,000 patches drawn stratified (seed 0) from the deduplicated
``pcam_subset/train`` at 96 px (uint8 arrays). A linear probe,
``make_pipeline(ImageEmbedder("resnet50", weights=None, random_state=0,
memory=<empty temporary folder>), StandardScaler(), LogisticRegression())``, is
searched by ``GridSearchCV`` over 20 values of ``C`` (``logspace(-4, 2, 20)``) with
``GroupKFold(5)``: 100 fits and the refit. PCam carries no patient ids, so the
groups are a stand-in: the sampled files in name order, cut into 60 blocks of 50
(consecutive file numbers, as patches of one slide would be). The same search is run
twice on the same memory folder: the first embeds every image (once: the cache
keys images by content, so the 5 folds share them), the second reads them all.
Reported: both wall times, their ratio, the images each one embedded (counted by
the backbone: the embedder is given that ResNet-50, the ``model_`` of such an
embedder, as a counting callable; see ``_CountingBackbone``), the head's
own time (the same search on embeddings computed beforehand) and the cache's
overhead (second search minus the head's time). ``--blas-threads`` (default 1)
caps NumPy/SciPy's BLAS threads around the searches with threadpoolctl (the
embedding runs on TensorFlow's own threads and is not capped): on the 2-core
development machine the 100 lbfgs fits on 2,400 x 2,048 features took 88 s with
OpenBLAS' 2 threads and 16 s with 1 (the same C and scores), so the default
measures the head as a user should run it; ``--blas-threads 0`` leaves BLAS alone.

``throughput``: images per second of ``ImageEmbedder("resnet50", weights=None)``
``transform`` (``memory=None``) at 96 and 224 px (the 96 px patches resized inside
the model), for each of ``--precisions`` (default ``float32`` and ``auto``, whatever
it resolves to on the machine: the row's ``precision``; ``mixed_bfloat16`` can be
named), batch 64, after a warm-up call that traces the model; the median of
``--repeats`` calls. Rows other than float32 also give ``relative_error``, the
Frobenius norm of their embeddings' difference from the float32 embeddings of the
same images over the norm of the latter.

``memory``: peak resident memory of ``transform`` on N file paths (PCam
``train``, both classes, no deduplication: 20,000 files) in a fresh process per N,
with a small convolutional backbone (8 features), so that the output (N x 8 floats)
is negligible: the increase over the RSS after a warm-up call must not grow with N
(pass: increase at the largest N <= 1.15 x the increase at the smallest + 8 MB).

Usage::

    python benchmarks/bench_embedding_cache.py search --out cache_search.json
    python benchmarks/bench_embedding_cache.py throughput
    python benchmarks/bench_embedding_cache.py memory --sizes 2000 20000
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

DATA = Path(
    os.environ.get(
        "SKBREAST_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)
MB = 2**20


def _pcam_sample(n, size=96):
    from sklearn.model_selection import train_test_split

    from skbreast.datasets import load_image_folder, read_images

    data = load_image_folder(
        DATA / "pcam_subset" / "train", return_paths=True, deduplicate=True
    )
    picked, _ = train_test_split(
        np.arange(len(data.target)),
        train_size=n,
        stratify=data.target,
        random_state=0,
    )
    picked = np.sort(picked)  # file name order
    X = read_images(list(data.filenames[picked]), (size, size))
    return X, data.target[picked], np.arange(n) // 50


class _CountingBackbone:
    """The search's ResNet-50 as a callable backbone that counts the images it embeds.

    ``ImageEmbedder`` accepts any callable as its backbone; this one runs the network
    that ``ImageEmbedder("resnet50", weights=None, random_state=0, ...)`` builds (its
    public ``model_``: the ImageNet preprocessing, the resizing, ResNet-50 and the
    pooling, in the requested precision), built on the first call so that its cost
    stays inside the first search, as when the embedder builds it itself. Like the
    embedder with its own networks, it pads a short batch to a full one (one traced
    input shape) and runs ``predict_on_batch``. ``n`` counts the images it is given,
    leaving out the single all-zero image that a callable receives in ``fit`` to find
    its output size; ``cache_key`` is what ``memory`` keys the embeddings with.
    """

    def __init__(self, image_size, precision, batch_size=64):
        self.image_size = image_size
        self.precision = precision
        self.batch_size = batch_size
        self.cache_key = f"bench-resnet50-random-seed0-{image_size}-{precision}"
        self.model = None
        self.n = 0

    def __call__(self, images):
        from skbreast import ImageEmbedder

        images = np.asarray(images, dtype=np.float32)
        n = len(images)
        if n != 1 or images.any():
            self.n += n
        if self.model is None:
            self.model = (
                ImageEmbedder(
                    "resnet50",
                    weights=None,
                    random_state=0,
                    image_size=self.image_size,
                    precision=self.precision,
                    rescale=1 / 255,  # it is given unscaled pixels (rescale=1.0)
                )
                .fit(images[:1])
                .model_
            )
        if n < self.batch_size:
            pad = np.zeros((self.batch_size - n, *images.shape[1:]), images.dtype)
            images = np.concatenate([images, pad])
        return np.asarray(self.model.predict_on_batch(images))[:n]


def search(args):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    from skbreast import ImageEmbedder

    X, y, groups = _pcam_sample(args.n)
    counter = _CountingBackbone(args.image_size, args.precision)
    blas = args.blas_threads or None  # 0: as the libraries start
    results = {}
    with tempfile.TemporaryDirectory() as memory:
        pipe = make_pipeline(
            # The network's own Rescaling layer maps the pixels to [0, 1].
            ImageEmbedder(counter, rescale=1.0, memory=memory),
            StandardScaler(),
            LogisticRegression(max_iter=args.max_iter),
        )
        grid = {"logisticregression__C": np.logspace(-4, 2, 20)}
        for run in ("first", "second"):
            search = GridSearchCV(pipe, grid, cv=GroupKFold(5), scoring="roc_auc")
            before = counter.n
            t0 = time.perf_counter()
            with warnings.catch_warnings(), threadpool_limits(blas, user_api="blas"):
                warnings.simplefilter("ignore")  # lbfgs convergence at large C
                search.fit(X, y, groups=groups)
            seconds = time.perf_counter() - t0
            results[run] = dict(
                seconds=round(seconds, 1),
                images_embedded=int(counter.n - before),
                best_C=float(search.best_params_["logisticregression__C"]),
                best_roc_auc=round(float(search.best_score_), 4),
            )
            print(run, json.dumps(results[run]), flush=True)
        with threadpool_limits(blas, user_api="blas"):
            head = _head_only_seconds(pipe, grid, X, y, groups)
    return dict(
        benchmark="search",
        n_images=int(len(y)),
        image_size=args.image_size,
        precision=args.precision,
        fits=100,
        **results,
        ratio_second_to_first=round(
            results["second"]["seconds"] / results["first"]["seconds"], 4
        ),
        head_only_seconds=head,
        cache_overhead_seconds=round(results["second"]["seconds"] - head, 1),
        blas_threads=args.blas_threads,
    )


def _head_only_seconds(pipe, grid, X, y, groups):
    """The same search on embeddings computed beforehand: the head's own cost."""
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import make_pipeline

    embedder = pipe.steps[0][1]
    Z = embedder.fit(X).transform(X)
    head = make_pipeline(*[step for _, step in pipe.steps[1:]])
    search = GridSearchCV(head, grid, cv=GroupKFold(5), scoring="roc_auc")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(Z, y, groups=groups)
    return round(time.perf_counter() - t0, 1)


def throughput(args):
    from skbreast import ImageEmbedder

    X, _, _ = _pcam_sample(args.n_throughput)
    rows = []
    for size in args.sizes:
        reference = None
        for precision in ["float32", *(p for p in args.precisions if p != "float32")]:
            emb = ImageEmbedder(
                "resnet50",
                weights=None,
                random_state=0,
                image_size=None if size == 96 else size,
                precision=precision,
                batch_size=64,
            ).fit(X)
            emb.transform(X[:64])  # trace
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                Z = emb.transform(X)
                times.append(time.perf_counter() - t0)
            row = dict(
                image_size=size,
                precision=emb.precision_,
                n_images=int(len(X)),
                seconds=[round(t, 2) for t in times],
                images_per_second=round(len(X) / float(np.median(times)), 1),
            )
            if reference is None:
                reference = Z
            else:
                error = np.linalg.norm(Z - reference) / np.linalg.norm(reference)
                row["relative_error"] = float(f"{error:.3g}")
            rows.append(row)
            print(json.dumps(row), flush=True)
    return dict(benchmark="throughput", rows=rows)


# ---------------------------------------------------------------- memory
def _rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def memory_worker(n):
    import keras

    from skbreast import ImageEmbedder
    from skbreast.datasets import load_image_folder

    paths = load_image_folder(DATA / "pcam_subset" / "train", return_paths=True)
    paths = paths.filenames[:n]
    init = keras.initializers.GlorotUniform(seed=0)
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, kernel_initializer=init)(inputs)
    backbone = keras.Model(inputs, keras.layers.ReLU()(x))
    emb = ImageEmbedder(backbone, precision="float32", batch_size=64).fit(paths)
    emb.transform(paths[:256])  # warm-up: traces the model, starts the pools
    baseline = _rss()
    peak = [baseline]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], _rss())
            stop.wait(0.005)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    Z = emb.transform(paths)
    seconds = time.perf_counter() - t0
    stop.set()
    thread.join()
    return dict(
        n_paths=int(n),
        baseline_mb=round(baseline / MB, 1),
        peak_mb=round(max(peak[0], _rss()) / MB, 1),
        increase_mb=round((max(peak[0], _rss()) - baseline) / MB, 1),
        output_mb=round(Z.nbytes / MB, 2),
        seconds=round(seconds, 1),
        images_per_second=round(n / seconds, 1),
    )


def memory(args):
    rows = []
    for n in args.sizes:
        out = subprocess.run(
            [sys.executable, __file__, "_memory_worker", str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(json.dumps(row), flush=True)
    small, large = rows[0]["increase_mb"], rows[-1]["increase_mb"]
    limit = 1.15 * small + 8.0
    return dict(
        benchmark="memory",
        rows=rows,
        limit_mb=round(limit, 1),
        passed=bool(large <= limit),
    )


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_memory_worker":
        print(json.dumps(memory_worker(int(argv[1]))))
        return None
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmark", choices=["search", "throughput", "memory"])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--image-size", type=int, default=None)
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--max-iter", type=int, default=100)
    parser.add_argument("--blas-threads", type=int, default=1)
    parser.add_argument("--n-throughput", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--precisions",
        nargs="+",
        default=["float32", "auto"],
        choices=["float32", "auto", "mixed_bfloat16", "mixed_float16"],
        help="throughput: the precisions timed (float32 always runs first)",
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.sizes is None:
        args.sizes = [2000, 20000] if args.benchmark == "memory" else [96, 224]
    t0 = time.perf_counter()
    result = {"search": search, "throughput": throughput, "memory": memory}[
        args.benchmark
    ](args)
    import keras

    result.update(
        wall_seconds=round(time.perf_counter() - t0, 1),
        keras=keras.__version__,
        backend=keras.backend.backend(),
        cpus=os.cpu_count(),
        load_average=[round(v, 2) for v in os.getloadavg()],
        machine=platform.machine(),
    )
    print(json.dumps(result), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=1))
    return result


if __name__ == "__main__":
    main()
