"""Weights files of backbones: finding, checking (SHA-256, layer by layer), loading.

Shared by the builders and the :class:`~skbreast.ImageEmbedder`: a file written
for another network is refused with an error naming the backbone and the file,
before anything is loaded. Pure Keras and h5py.
"""

import hashlib
import io
import os
import threading
import zipfile

import h5py
import numpy as np

# Weighted layers a full (include_top=True) keras.applications file holds beyond
# the backbone: they may be in a file loaded into a backbone, and are skipped.
_TOP_LAYERS = frozenset({"predictions"})


def existing_weights_path(weights):
    """Return ``weights`` as a path string; FileNotFoundError if it is no file."""
    path = os.fspath(weights)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Weights file not found: {path!r}.")
    return path


_SHA256 = {}
_SHA256_LOCK = threading.Lock()


def file_sha256(path):
    """SHA-256 of a file, hex; remembered per (path, size, modification time)."""
    path = os.path.realpath(os.fspath(path))
    stat = os.stat(path)
    key = (path, stat.st_size, stat.st_mtime_ns)
    with _SHA256_LOCK:
        known = _SHA256.get(key)
    if known is not None:
        return known
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    value = digest.hexdigest()
    with _SHA256_LOCK:
        _SHA256[key] = value
    return value


def check_sha256(path, expected):
    """Raise ValueError if the SHA-256 of ``path`` is not ``expected`` (hex)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Cannot check weights_sha256: the weights file {path!r} does not exist."
        )
    actual = file_sha256(path)
    if actual.lower() != str(expected).strip().lower():
        raise ValueError(
            f"The weights file {path!r} has SHA-256 {actual}, not the expected "
            f"weights_sha256={expected!r}: it is another or a damaged file."
        )


def load_weights_file(net, path, backbone):
    """Load a weights file into ``net``, refusing a file written for another network.

    Accepted: the ``*_notop.h5`` (and full) HDF5 files keras.applications
    downloads, Keras 3 ``.weights.h5`` files (``save_weights``) and ``.keras`` model
    files (``save``). The layers named in the file must be exactly the weighted
    layers of ``net`` with the same shapes (a keras.applications classification top,
    ``predictions``, is skipped); otherwise a ValueError names ``backbone`` and the
    file.
    """
    path = existing_weights_path(path)
    try:
        kind, saved = _saved_layers(path)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(
            f"Cannot read the weights file {path!r} for the {backbone} backbone: it "
            "is not a Keras weights file (.h5, .weights.h5 or .keras) "
            f"({type(exc).__name__}: {exc})."
        ) from exc
    expected = {
        layer.name: [tuple(w.shape) for w in layer.weights]
        for layer in net.layers
        if layer.weights
    }
    # Keras 2 files are matched by layer name, or else (as Keras itself loads
    # them) in order, when the weighted layers and their shapes agree one by one.
    in_order = kind == "legacy" and list(expected.values()) == list(saved.values())
    if saved is not None and not in_order:
        _check_layers_fit(expected, saved, path, backbone)
    try:
        if kind == "legacy":
            _assign_legacy(net, path, by_name=not in_order)
        else:
            net.load_weights(path)
    except ValueError as exc:
        raise ValueError(
            f"The weights file {path!r} does not fit the {backbone} backbone: "
            f"{str(exc).splitlines()[0]}"
        ) from exc


def _check_layers_fit(expected, saved, path, backbone):
    missing = [name for name in expected if name not in saved]
    extra = [n for n in saved if n not in expected and n not in _TOP_LAYERS]
    wrong = [
        name
        for name in expected
        if name in saved and sorted(expected[name]) != sorted(saved[name])
    ]
    if not (missing or extra or wrong):
        return
    details = []
    if wrong:
        name = wrong[0]
        details.append(
            f"{len(wrong)} layers have other shapes (e.g. {name!r}: "
            f"{sorted(saved[name])} in the file, {sorted(expected[name])} in the "
            "backbone)"
        )
    if missing:
        details.append(
            f"{len(missing)} of its layers are not in the file (e.g. {missing[0]!r})"
        )
    if extra:
        details.append(
            f"the file has {len(extra)} layers the backbone lacks (e.g. {extra[0]!r})"
        )
    raise ValueError(
        f"The weights file {path!r} does not fit the {backbone} backbone: "
        f"{'; '.join(details)}. It was written for another network; pass the "
        "weights of this backbone (for keras.applications ResNets, the matching "
        "'*_notop.h5' file) or choose the backbone the file was written for."
    )


def _saved_layers(path):
    """Return ``(kind, {layer name: [weight shapes]})`` of a weights file.

    ``kind`` is ``"legacy"`` (Keras 2 HDF5, loaded by layer name here) or
    ``"keras"`` (``.weights.h5`` or ``.keras``, loaded by Keras). The names are None
    for a Keras 3 file that does not record them (older Keras).
    """
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            data = archive.read("model.weights.h5")
        with h5py.File(io.BytesIO(data), "r") as f:
            return "keras", _keras3_layers(f)
    with h5py.File(path, "r") as f:
        group = f["model_weights"] if "model_weights" in f else f
        if "layer_names" in group.attrs:
            return "legacy", _legacy_layers(group)
        if "layers" in f or "vars" in f:
            return "keras", _keras3_layers(f)
    raise ValueError("no Keras weights found in the HDF5 file")


def _legacy_layers(group):
    layers = {}
    for name in group.attrs["layer_names"]:
        name = _text(name)
        weight_names = group[name].attrs.get("weight_names", [])
        if len(weight_names):
            layers[name] = [tuple(group[name][_text(w)].shape) for w in weight_names]
    return layers


def _keras3_layers(f):
    layers = {}
    named = True

    def visit(key, obj):
        nonlocal named
        # Optimizer and metric variables live outside "layers/".
        parts = key.split("/")
        if isinstance(obj, h5py.Group) and parts[0] == "layers" and parts[-1] == "vars":
            shapes = [tuple(obj[k].shape) for k in sorted(obj, key=_as_int)]
            if not shapes:
                return
            name = obj.attrs.get("name")
            if name is None:
                named = False
                return
            layers[_text(name)] = shapes

    f.visititems(visit)
    return layers if named else None


def _as_int(key):
    return int(key) if key.isdigit() else key


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def _assign_legacy(net, path, by_name=True):
    with h5py.File(path, "r") as f:
        group = f["model_weights"] if "model_weights" in f else f
        saved = [
            _text(name)
            for name in group.attrs["layer_names"]
            if len(group[_text(name)].attrs.get("weight_names", []))
        ]
        targets = [layer for layer in net.layers if layer.weights]
        for i, layer in enumerate(targets):
            source = group[layer.name if by_name else saved[i]]
            names = source.attrs["weight_names"]
            layer.set_weights([np.asarray(source[_text(w)]) for w in names])
