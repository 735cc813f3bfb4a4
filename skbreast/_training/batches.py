"""Image sources and batch feeding for the estimators.

X reaches the estimators either as an array of images or as an array of file paths.
Both are wrapped in a *source* with one method, ``take(indices)``, returning a uint8 or
float batch of shape ``(len(indices), H, W, C)``. Training and prediction only ever
index sources batch by batch, so the model sees one batch in float at a time and a
dataset larger than memory can be streamed from disk.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np

from skbreast.datasets._image_cache import ImageCache, get_image_cache

# Re-exported: the training code asks this module what kind of input it has.
from skbreast.datasets._imageio import (  # noqa: F401
    as_path_array,
    is_path_input,
    read_images,
)


class ArraySource:
    """Images held in memory, indexed without conversion."""

    def __init__(self, images):
        self.images = images
        self.image_shape = tuple(images.shape[1:])
        self.dtype = images.dtype

    def __len__(self):
        return len(self.images)

    def take(self, indices):
        return self.images[indices]


class PathSource:
    """Image files decoded (and resized to ``image_shape``) when a batch is taken.

    The image cache folder (``skbreast.datasets.set_image_cache``) is looked up
    here, in the thread that validates X, and kept: batches are taken in Keras'
    worker threads, and ``cache`` pins it for the source's whole life, so a fit
    is not split between two caches when the setting changes meanwhile. With a
    cache, each file is decoded once and later epochs read its stored pixels.
    """

    def __init__(self, paths, image_shape, cache="setting"):
        self.paths = paths
        self.image_shape = tuple(image_shape)
        self.dtype = np.dtype(np.uint8)
        folder = get_image_cache() if cache == "setting" else cache
        height, width, channels = self.image_shape
        self.cache = (
            None if folder is None else ImageCache(folder, (height, width), channels)
        )

    def __len__(self):
        return len(self.paths)

    def take(self, indices):
        paths = list(self.paths[indices])
        if self.cache is not None:
            return self.cache.read_images(paths)
        height, width, channels = self.image_shape
        return read_images(paths, (height, width), channels=channels)


class TrainingBatches(keras.utils.PyDataset):
    """Batches ``(x, y, sample_weight)`` of the samples ``indices`` of a source.

    Every batch holds exactly ``batch_size`` samples, so the model's train (or test)
    step is traced once per fit rather than again for a smaller last batch, and
    TensorFlow's oneDNN CPU kernels never see a ragged, odd-sized batch (some of
    them corrupt memory on odd batch sizes).

    Parameters
    ----------
    source : ArraySource or PathSource
        Where the images come from.
    indices : ndarray of int
        The samples of ``source`` to iterate over.
    y : ndarray of shape (n_samples,) or (n_samples, 1)
        Encoded targets of all samples of ``source``.
    sample_weight : ndarray of shape (n_samples,)
        Weights of all samples of ``source``.
    batch_size : int
        Samples per batch.
    rng : numpy.random.Generator or None
        Shuffles the order at the start of every epoch; None keeps it fixed.
    resample : callable or None
        ``resample(indices, rng) -> indices``, drawn anew for every epoch (class
        rebalancing by index, see ``skbreast._training.sampling``). It must return
        the same number of indices every time: Keras fixes the steps per epoch.
    pad : {"repeat", "zero_weight"}, default="repeat"
        How the last batch is completed. ``"repeat"`` (training): with the first
        samples of the same epoch's shuffled order, at their full weight, so every
        sample is seen at least once per epoch. ``"zero_weight"`` (evaluation):
        with samples of weight 0, the real samples' weights being scaled by
        ``n_slots / n_samples`` so that Keras' per-batch mean losses, averaged over
        batches, give exactly the loss of the unpadded samples.
    """

    def __init__(
        self,
        source,
        indices,
        y,
        sample_weight,
        batch_size,
        rng=None,
        resample=None,
        pad="repeat",
    ):
        # File decoding releases the GIL, so threads overlap it with training; array
        # indexing is faster than the hand-off between threads. Only on TensorFlow:
        # Keras' other trainers peek at the first batch through the thread pool and
        # leave a batch decoded from the previous epoch's order in its queue, which
        # the next epoch then consumes (Keras 3.15), so fits lose reproducibility.
        threaded = (
            isinstance(source, PathSource) and keras.backend.backend() == "tensorflow"
        )
        workers = min(4, os.cpu_count() or 1) if threaded else 1
        super().__init__(workers=workers, use_multiprocessing=False)
        if pad not in ("repeat", "zero_weight"):
            raise ValueError(f"pad must be 'repeat' or 'zero_weight', got {pad!r}.")
        self.source = source
        self.indices = np.asarray(indices)
        self.y = y
        self.sample_weight = sample_weight
        self.batch_size = int(batch_size)
        self.rng = rng
        self.resample = resample
        self.pad = pad
        self.order, self.slot_scale = self._new_order()
        self.epoch_size = len(self.order)

    def _new_order(self):
        """Return the epoch's padded order and each slot's weight factor."""
        indices = self.indices
        if self.resample is not None:
            indices = self.resample(indices, self.rng)
        if self.rng is not None:
            indices = indices[self.rng.permutation(len(indices))]
        n = len(indices)
        n_slots = -(-n // self.batch_size) * self.batch_size
        # np.resize repeats the order cyclically: the first samples fill the gap,
        # and a set smaller than one batch is repeated as a whole.
        order = np.resize(indices, n_slots)
        if self.pad == "repeat" or n_slots == n:
            return order, None
        scale = np.zeros(n_slots, dtype=np.float32)
        scale[:n] = n_slots / n
        return order, scale

    def __len__(self):
        return self.epoch_size // self.batch_size

    def __getitem__(self, i):
        window = slice(i * self.batch_size, (i + 1) * self.batch_size)
        # Sorted indices read memory-mapped arrays and file lists in storage order;
        # the order of samples inside one batch does not change the gradient.
        rank = np.argsort(self.order[window], kind="stable")
        batch = self.order[window][rank]
        weights = self.sample_weight[batch]
        if self.slot_scale is not None:
            weights = weights * self.slot_scale[window][rank]
        return self.source.take(batch), self.y[batch], weights

    def on_epoch_end(self):
        self.order, self.slot_scale = self._new_order()


def predict_in_batches(model, source, batch_size):
    """Run ``model`` over every image of ``source``; return float64 outputs.

    Every batch is padded to ``batch_size``, so the model is traced once whatever the
    number of images and each image's result does not depend on how many others are
    predicted with it. With a path source, the next batch is decoded in a background
    thread while the model runs on the current one.
    """
    n = len(source)
    starts = range(0, n, batch_size)
    outputs = None

    def load(start):
        batch = source.take(np.arange(start, min(n, start + batch_size)))
        if len(batch) < batch_size:
            pad = np.zeros((batch_size - len(batch), *batch.shape[1:]), batch.dtype)
            batch = np.concatenate([batch, pad])
        return batch

    prefetch = isinstance(source, PathSource) and n > batch_size
    with ThreadPoolExecutor(max_workers=1) if prefetch else InlineExecutor() as pool:
        pending = pool.submit(load, 0) if n else None
        for start in starts:
            batch = pending.result()
            nxt = start + batch_size
            pending = pool.submit(load, nxt) if nxt < n else None
            out = np.asarray(_predict_on_batch(model, batch), dtype=np.float64)
            if outputs is None:
                outputs = np.empty((n, *out.shape[1:]), dtype=np.float64)
            outputs[start : start + batch_size] = out[: min(batch_size, n - start)]
    return outputs


# Keras' JAX trainer moves a model's variables into its compiled predict step and
# donates their buffers, so two threads predicting with one model at once delete
# each other's weights; TensorFlow's predict is safe to run concurrently.
_PREDICT_LOCK = threading.Lock()


def _predict_on_batch(model, batch):
    if keras.backend.backend() == "tensorflow":
        return model.predict_on_batch(batch)
    with _PREDICT_LOCK:
        return model.predict_on_batch(batch)


class _Done:
    """A finished future, for the synchronous path of ``predict_in_batches``."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


class InlineExecutor:
    """Runs submitted calls at once: the stand-in for an executor without threads."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, fn, *args):
        return _Done(fn(*args))
