"""The embedding cache: embeddings stored on disk per image, keyed by content.

One folder per embedding function (``fingerprint``: the backbone's architecture,
weights and preprocessing), under ``<memory location>/skbreast_embeddings/``. Each
:meth:`EmbeddingStore.add` writes one *chunk*: ``<id>.values.npy`` (float32 rows)
and then ``<id>.keys.npy`` (one 16-byte content key per row), each written under a
temporary name and renamed, the keys last: a chunk exists for readers once its keys
do, so processes of a parallel search can share a folder without locks. Lookups
read the keys of every chunk once per process and memory-map the values.
"""

import hashlib
import os
import secrets
import threading

import numpy as np

from skbreast._fileio import atomic_write

#: Folder under the memory location that holds the embedding stores.
FOLDER = "skbreast_embeddings"
KEY_BYTES = 16

_STORES = {}
_STORES_LOCK = threading.Lock()


def array_keys(images):
    """One content key per image of ``images`` (an array (n, H, W, C)).

    The key covers the pixel values, their dtype and the image's shape, so the
    same pixels stored as uint8 and as float are different images.
    """
    header = f"array:{images.dtype.str}:{images.shape[1:]}".encode()
    keys = []
    for image in images:
        # SHA-256 (hardware-accelerated on most CPUs), cut to 128 bits.
        digest = hashlib.sha256(header)
        digest.update(np.ascontiguousarray(image).data)
        keys.append(digest.digest()[:KEY_BYTES])
    return keys


def file_keys(paths, image_shape):
    """One content key per file: its bytes and the shape it is decoded to."""
    header = f"file:{tuple(int(d) for d in image_shape)}".encode()
    keys = []
    for path in paths:
        digest = hashlib.sha256(header)
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
        keys.append(digest.digest()[:KEY_BYTES])
    return keys


def store_for(location, fingerprint):
    """Return the process-wide store of ``fingerprint`` under ``location``."""
    folder = os.path.join(os.fspath(location), FOLDER, fingerprint)
    with _STORES_LOCK:
        store = _STORES.get(folder)
        if store is None:
            store = _STORES[folder] = EmbeddingStore(folder)
    return store


class EmbeddingStore:
    """Embeddings of one embedding function, by image content key."""

    def __init__(self, folder):
        self.folder = folder
        self._index = {}  # key -> (chunk id, row)
        self._chunks = set()
        self._lock = threading.Lock()

    def _refresh(self):
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return
        for name in names:
            if not name.endswith(".keys.npy"):
                continue
            chunk = name[: -len(".keys.npy")]
            if chunk in self._chunks:
                continue
            try:
                keys = np.load(os.path.join(self.folder, name))
            except (OSError, ValueError):
                continue  # damaged: its embeddings are computed again
            for row, key in enumerate(keys):
                self._index.setdefault(key.tobytes(), (chunk, row))
            self._chunks.add(chunk)

    def lookup(self, keys, n_features):
        """Return ``(found, values)``: a mask over ``keys`` and their embeddings."""
        found = np.zeros(len(keys), dtype=bool)
        values = np.zeros((len(keys), n_features), dtype=np.float32)
        with self._lock:
            self._refresh()
            by_chunk = {}
            for i, key in enumerate(keys):
                hit = self._index.get(key)
                if hit is not None:
                    by_chunk.setdefault(hit[0], []).append((i, hit[1]))
        for chunk, pairs in by_chunk.items():
            try:
                stored = np.load(
                    os.path.join(self.folder, f"{chunk}.values.npy"), mmap_mode="r"
                )
            except (OSError, ValueError):
                continue
            if stored.ndim != 2 or stored.shape[1] != n_features:
                continue
            where, rows = (np.array(v) for v in zip(*pairs))
            order = np.argsort(rows, kind="stable")  # read the file in order
            values[where[order]] = stored[rows[order]]
            found[where] = True
        return found, values

    def add(self, keys, values):
        """Store ``values`` (float32, one row per key) as one new chunk."""
        if not len(keys):
            return
        os.makedirs(self.folder, exist_ok=True)
        chunk = secrets.token_hex(8)
        key_array = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(
            len(keys), KEY_BYTES
        )
        # Values first, keys last: readers only see chunks whose keys exist.
        self._write(f"{chunk}.values.npy", np.asarray(values, dtype=np.float32))
        self._write(f"{chunk}.keys.npy", key_array)
        with self._lock:
            for row, key in enumerate(keys):
                self._index.setdefault(key, (chunk, row))
            self._chunks.add(chunk)

    def _write(self, name, array):
        with atomic_write(os.path.join(self.folder, name), "wb") as f:
            np.save(f, array)
