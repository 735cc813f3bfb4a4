"""ImageEmbedder: pretrained features as a transformer, its cache and weights files."""

import hashlib
import socket
import sys

import h5py
import joblib
import keras
import numpy as np
import pytest
from conftest import SMALL_CNN, make_images, saved_model_file
from numpy.testing import assert_allclose, assert_array_equal
from PIL import Image
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from skbreast import CNNClassifier, ResNetClassifier
from skbreast.datasets._imageio import read_images
from skbreast.embedding import ImageEmbedder, _backbone
from skbreast.models import build_resnet


def tiny_backbone(seed=0, channels=3):
    """A two-layer convolutional backbone taking images of any size."""
    init = keras.initializers.GlorotUniform(seed=seed)
    inputs = keras.Input((None, None, channels))
    x = keras.layers.Conv2D(4, 3, padding="same", kernel_initializer=init)(inputs)
    x = keras.layers.ReLU(name="relu")(x)
    x = keras.layers.Conv2D(3, 1, kernel_initializer=init, name="last")(x)
    return keras.Model(inputs, x)


def embedder(backbone=None, **params):
    backbone = tiny_backbone() if backbone is None else backbone
    return ImageEmbedder(backbone, precision="float32", **params)


class CountingBackbone:
    """A callable backbone that counts the images it embeds.

    The embedder finds a callable's output size with one all-zero image (once per
    process and cache key); that probe is not counted.
    """

    cache_key = "counting-v1"

    def __init__(self):
        self.n_images = 0

    def __call__(self, images):
        if not (len(images) == 1 and not images.any()):
            self.n_images += len(images)
        return np.concatenate(
            [images.mean(axis=(1, 2)), images.std(axis=(1, 2))], axis=1
        )


# --------------------------------------------------------------------- outputs
@pytest.fixture(scope="module")
def resnet50_files(tmp_path_factory):
    """A random ResNet-50 (no top, 32x32) in Keras 3 and keras.applications' format."""
    from keras.src.legacy.saving import legacy_h5_format

    folder = tmp_path_factory.mktemp("weights")
    keras.utils.set_random_seed(7)
    net = keras.applications.ResNet50(
        include_top=False, weights=None, input_shape=(32, 32, 3)
    )
    files = {
        "weights.h5": folder / "r50.weights.h5",
        # The layout of keras.applications' downloads (resnet50_..._notop.h5).
        "h5": folder / "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
    }
    net.save_weights(files["weights.h5"])
    with h5py.File(files["h5"], "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, net)
    return net, {k: str(v) for k, v in files.items()}


def test_resnet50_embedding_equals_keras_on_preprocessed_input(resnet50_files):
    net, files = resnet50_files
    X, _ = make_images(n=5, size=40)
    emb = embedder("resnet50", weights=files["h5"], image_size=32).fit(X)
    Z = emb.transform(X)
    assert Z.dtype == np.float32 and Z.shape == (5, 2048)
    resized = keras.ops.image.resize(X.astype("float32"), (32, 32))
    pre = keras.applications.resnet.preprocess_input(
        keras.ops.convert_to_numpy(resized)
    )
    expected = keras.ops.convert_to_numpy(net(pre)).mean(axis=(1, 2))
    assert_allclose(Z, expected, rtol=1e-5, atol=1e-5 * np.abs(expected).max())


def test_keras_model_embedding_is_the_pooled_output():
    X, _ = make_images(n=7, size=10)
    net = tiny_backbone()
    expected = keras.ops.convert_to_numpy(net(X.astype("float32") / 255))
    assert_allclose(
        embedder(net).fit_transform(X), expected.mean(axis=(1, 2)), rtol=1e-5
    )
    assert_allclose(
        embedder(net, pooling="max").fit_transform(X),
        expected.max(axis=(1, 2)),
        rtol=1e-5,
    )
    inner = keras.Model(net.inputs, net.get_layer("relu").output)
    expected = keras.ops.convert_to_numpy(inner(X.astype("float32") / 255))
    emb = embedder(net, layer="relu").fit(X)
    assert emb.n_features_out_ == 4
    assert_allclose(emb.transform(X), expected.mean(axis=(1, 2)), rtol=1e-5)
    with pytest.raises(ValueError, match="layer='nope' is not a layer"):
        embedder(net, layer="nope").fit(X)


def test_invariant_to_batch_size_and_sample_order():
    X, _ = make_images(n=23, size=12)
    reference = embedder(batch_size=64).fit_transform(X)
    for batch_size in (1, 5, 8):
        Z = embedder(batch_size=batch_size).fit_transform(X)
        assert_allclose(Z, reference, rtol=1e-5, atol=1e-6)
    order = np.random.RandomState(0).permutation(len(X))
    emb = embedder(batch_size=5).fit(X)
    assert_allclose(emb.transform(X[order]), reference[order], rtol=1e-5, atol=1e-6)
    assert_allclose(emb.transform(X[3:4]), reference[3:4], rtol=1e-5, atol=1e-6)


def _write_images(folder, images):
    paths = []
    for i, image in enumerate(images):
        path = folder / f"img{i:03d}.png"
        Image.fromarray(image).save(path)
        paths.append(str(path))
    return np.array(paths)


def test_path_input_equals_array_input(tmp_path):
    X, _ = make_images(n=9, size=12)
    paths = _write_images(tmp_path, X)
    decoded = read_images(list(paths), (12, 12))
    assert_array_equal(decoded, X)
    by_path = embedder(batch_size=4).fit(paths)
    by_array = embedder(batch_size=4).fit(X)
    assert by_path.n_features_in_ == by_array.n_features_in_ == 12 * 12 * 3
    assert_allclose(by_path.transform(paths), by_array.transform(X), rtol=1e-6)
    # With image_size, files are decoded straight to that size.
    small = read_images(list(paths), (8, 8))
    by_path = embedder(image_size=8).fit(paths)
    assert by_path.image_shape_ == (8, 8, 3)
    assert_allclose(
        by_path.transform(paths), embedder().fit_transform(small), rtol=1e-6
    )


def test_flattened_rows_with_input_shape():
    X, _ = make_images(n=6, size=10)
    flat = X.reshape(len(X), -1)
    assert_allclose(
        embedder(input_shape=(10, 10, 3)).fit_transform(flat),
        embedder().fit_transform(X),
        rtol=1e-6,
    )


def test_tta_is_invariant_to_flips_and_rotations():
    X, _ = make_images(n=4, size=10)
    emb = embedder(tta=True).fit(X)
    Z = emb.transform(X)
    for view in (X[:, ::-1], np.rot90(X, axes=(1, 2)), np.swapaxes(X, 1, 2)):
        assert_allclose(emb.transform(np.ascontiguousarray(view)), Z, rtol=1e-5)
    assert emb.fingerprint_.endswith("-tta")


def test_fitted_classifier_gives_its_penultimate_layer():
    X, y = make_images(n=20)
    clf = CNNClassifier(epochs=1, **SMALL_CNN).fit(X, y)
    penultimate = keras.Model(clf.model_.inputs, clf.model_.get_layer("logits").input)
    expected = keras.ops.convert_to_numpy(penultimate(X))
    emb = ImageEmbedder(clf).fit(X)
    assert emb.n_features_out_ == 8
    assert_allclose(emb.transform(X), expected, rtol=1e-5, atol=1e-6)
    # Cloning (grid searches) unfits estimator parameters; FrozenEstimator does not.
    probe = make_pipeline(
        ImageEmbedder(FrozenEstimator(clf)), LogisticRegression(max_iter=200)
    )
    assert cross_val_score(probe, X, y, cv=2).shape == (2,)
    with pytest.raises(ValueError, match="unfitted CNNClassifier.*FrozenEstimator"):
        ImageEmbedder(CNNClassifier()).fit(X)


def test_weights_apply_to_application_names_only():
    X, _ = make_images(n=3)
    with pytest.raises(ValueError, match="keras.Model backbone brings its own"):
        ImageEmbedder(tiny_backbone(), weights="imagenet").fit(X)
    with pytest.raises(ValueError, match="pip install keras-hub"):
        if "keras_hub" in sys.modules:
            pytest.skip("keras-hub is installed")
        ImageEmbedder("no_such_backbone").fit(X)


def test_keras_hub_presets_are_used_when_keras_hub_is_installed(fake_keras_hub):
    loaded = fake_keras_hub
    X, _ = make_images(n=4)
    for pooling in ("avg", "cls"):
        Z = ImageEmbedder("fake_vit_preset", pooling=pooling).fit_transform(X)
        assert Z.shape == (4, 5) and Z.dtype == np.float32
    assert loaded == ["fake_vit_preset", "fake_vit_preset"]


# --------------------------------------------------------------------- the cache
def test_cache_hits_do_not_call_the_backbone(tmp_path):
    X, _ = make_images(n=30, size=8)
    backbone = CountingBackbone()
    emb = ImageEmbedder(backbone, memory=tmp_path, batch_size=7).fit(X)
    first = emb.transform(X)
    assert backbone.n_images == 30
    # Again, a permutation, a subset, a fresh embedder on the same folder: no call.
    assert_array_equal(emb.transform(X), first)
    assert_array_equal(emb.transform(X[::-1]), first[::-1])
    again = ImageEmbedder(backbone, memory=str(tmp_path)).fit(X[:5])
    assert_array_equal(again.transform(X[5:12]), first[5:12])
    assert backbone.n_images == 30
    # Only new images are embedded, duplicates once.
    new, _ = make_images(n=3, size=8, seed=1)
    Z = emb.transform(np.concatenate([X[:4], new, new[:1]]))
    assert backbone.n_images == 33
    assert_array_equal(Z[:4], first[:4])
    assert_array_equal(Z[-1], Z[4])
    assert_allclose(Z[4:7], emb.set_params(memory=None).transform(new), rtol=1e-6)


def test_clones_share_a_network_backbone_and_clone_estimators():
    net, fn = tiny_backbone(), CountingBackbone()
    assert clone(ImageEmbedder(net)).backbone is net
    assert clone(ImageEmbedder(fn, memory="cache")).backbone is fn
    clf = CNNClassifier(epochs=3)
    copied = clone(ImageEmbedder(clf)).backbone
    assert copied is not clf and copied.get_params() == clf.get_params()


def test_grid_search_over_the_head_embeds_each_image_once(tmp_path):
    X, y = make_images(n=40, size=8)
    groups = np.arange(40) // 4
    backbone = CountingBackbone()
    pipe = make_pipeline(
        ImageEmbedder(backbone, memory=tmp_path),
        StandardScaler(),
        LogisticRegression(max_iter=500),
    )
    grid = {"logisticregression__C": [0.01, 0.1, 1, 10]}
    search = GridSearchCV(pipe, grid, cv=GroupKFold(5))
    search.fit(X, y, groups=groups)  # 4 x 5 fits and the refit
    assert backbone.n_images == 40
    search.fit(X, y, groups=groups)  # a second search embeds nothing
    assert backbone.n_images == 40
    assert search.predict(X).shape == (40,)


def test_keras_backbone_cache_survives_a_rebuild_and_tracks_weights(
    tmp_path, monkeypatch
):
    X, _ = make_images(n=12, size=8)
    calls = []
    predict = _backbone.Embedding.predict_on_batch

    def counting(self, batch):
        calls.append(len(batch))
        return predict(self, batch)

    monkeypatch.setattr(_backbone.Embedding, "predict_on_batch", counting)
    first = embedder(tiny_backbone(seed=0), memory=tmp_path).fit(X)
    Z = first.transform(X)
    assert len(calls) == 1
    # The same architecture and weights built again (other layer names): a hit.
    rebuilt = embedder(tiny_backbone(seed=0), memory=tmp_path).fit(X)
    assert rebuilt.fingerprint_ == first.fingerprint_
    assert_array_equal(rebuilt.transform(X), Z)
    assert len(calls) == 1
    # Other weights: another key, embedded anew.
    other = embedder(tiny_backbone(seed=1), memory=tmp_path).fit(X)
    assert other.fingerprint_ != first.fingerprint_
    assert not np.allclose(other.transform(X), Z)
    assert len(calls) == 2


def test_callable_needs_a_cache_key_for_memory(tmp_path):
    X, _ = make_images(n=4)

    def plain(images):
        return images.mean(axis=(1, 2))

    assert ImageEmbedder(plain).fit_transform(X).shape == (4, 3)
    with pytest.raises(ValueError, match="cache_key.*state_dict"):
        ImageEmbedder(plain, memory=tmp_path).fit(X)

    class TorchLike:
        def __init__(self, scale):
            self.scale = np.float32(scale)

        def state_dict(self):
            return {"scale": np.array([self.scale])}

        def __call__(self, images):
            return images.mean(axis=(1, 2)) * self.scale

    a = ImageEmbedder(TorchLike(1.0), memory=tmp_path).fit(X)
    b = ImageEmbedder(TorchLike(2.0), memory=tmp_path).fit(X)
    assert a.fingerprint_ != b.fingerprint_
    assert_allclose(b.transform(X), 2 * a.transform(X), rtol=1e-6)


# --------------------------------------------------------------------- weights files
def test_imagenet_offline_error_is_the_classifiers(monkeypatch, tmp_path):
    from keras.src.applications import resnet

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(resnet, "BASE_WEIGHTS_PATH", f"http://127.0.0.1:{port}/")
    X, _ = make_images(n=2, size=32)
    with pytest.raises(OSError, match="offline.*resnet50_weights_tf_dim_ordering"):
        ImageEmbedder("resnet50").fit(X)


def test_wrong_backbone_weights_file_is_refused(resnet50_files):
    _, files = resnet50_files
    X, _ = make_images(n=2, size=32)
    for kind in ("h5", "weights.h5"):
        with pytest.raises(
            ValueError, match=rf"{files[kind]}.*does not fit the resnet50v2 backbone"
        ):
            ImageEmbedder("resnet50v2", weights=files[kind]).fit(X)
    with pytest.raises(FileNotFoundError, match="nothing.h5"):
        ImageEmbedder("resnet50", weights="nothing.h5").fit(X)


def _compact_weights(tmp_path, filters, name):
    donor = build_resnet((8, 8, 3), filters=filters, blocks_per_stage=1, seed=1)
    path = tmp_path / name
    donor.get_layer("backbone").save_weights(path)
    return donor, str(path)


def _write_legacy_renamed(net, path):
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, net)
        names = [
            n.decode() if isinstance(n, bytes) else n for n in f.attrs["layer_names"]
        ]
        for i, name in enumerate(names):
            f.move(name, f"layer_{i}")
        f.attrs["layer_names"] = [f"layer_{i}".encode() for i in range(len(names))]


def test_resnet_weights_formats_and_checks(tmp_path):
    donor, path = _compact_weights(tmp_path, (4, 8), "compact.weights.h5")
    keras_path = str(tmp_path / "compact.keras")
    donor.get_layer("backbone").save(keras_path)
    sha = hashlib.sha256(open(path, "rb").read()).hexdigest()
    compact = dict(filters=(4, 8), blocks_per_stage=1)
    for weights, digest in ((path, sha), (keras_path, None)):
        model = build_resnet(
            (8, 8, 3), weights=weights, weights_sha256=digest, **compact
        )
        for now, saved in zip(
            model.get_layer("backbone").get_weights(),
            donor.get_layer("backbone").get_weights(),
        ):
            assert_array_equal(now, saved)
    with pytest.raises(ValueError, match="SHA-256"):
        build_resnet((8, 8, 3), weights=path, weights_sha256="0" * 64, **compact)
    # A Keras 2 file whose layers have other names loads in order, as Keras does.
    legacy = str(tmp_path / "renamed.h5")
    _write_legacy_renamed(donor.get_layer("backbone"), legacy)
    model = build_resnet((8, 8, 3), weights=legacy, **compact)
    for now, saved in zip(
        model.get_layer("backbone").get_weights(),
        donor.get_layer("backbone").get_weights(),
    ):
        assert_array_equal(now, saved)
    X, y = make_images(n=16)
    _, other = _compact_weights(tmp_path, (4, 16), "other.weights.h5")
    with pytest.raises(ValueError) as info:
        ResNetClassifier(weights=other, **compact).fit(X, y)
    message = str(info.value)
    assert "other.weights.h5" in message and "compact (filters=(4, 8)" in message
    whole = str(tmp_path / "classifier.weights.h5")
    donor.save_weights(whole)  # the whole classifier, not its backbone
    with pytest.raises(ValueError, match="layers the backbone lacks"):
        ResNetClassifier(weights=whole, **compact).fit(X, y)


# --------------------------------------------------------------------- persistence
def test_joblib_round_trip_of_a_probe_pipeline(tmp_path):
    X, y = make_images(n=30, size=10)
    probe = make_pipeline(
        embedder(), StandardScaler(), LogisticRegression(max_iter=300)
    ).fit(X, y)
    path = tmp_path / "probe.joblib"
    joblib.dump(probe, path)
    loaded = joblib.load(path)
    assert_allclose(loaded.predict_proba(X), probe.predict_proba(X), rtol=1e-6)
    emb = loaded.steps[0][1]
    assert emb.model_ is not probe.steps[0][1].model_


def test_skbreast_save_and_load_rebuild_nothing(tmp_path, monkeypatch):
    import skbreast

    X, _ = make_images(n=6, size=10)
    backbone_file = tmp_path / "backbone.keras"
    tiny_backbone().save(backbone_file)
    emb = embedder(str(backbone_file), tta=True).fit(X)
    path = tmp_path / "embedder.skbreast"
    skbreast.save(emb, path)
    expected = emb.transform(X)

    def no_rebuild(*args, **kwargs):
        raise AssertionError("load resolved the backbone again")

    # The stored network is used as it is: no backbone file, no download.
    monkeypatch.setattr(_backbone, "resolve", no_rebuild)
    backbone_file.unlink()
    loaded = skbreast.load(path)
    assert isinstance(loaded, ImageEmbedder) and loaded.tta
    assert_allclose(loaded.transform(X), expected, rtol=1e-6)
    assert loaded.fingerprint_ == emb.fingerprint_
    with pytest.raises(ValueError, match="backbone"):
        skbreast.save(embedder(), tmp_path / "unsaveable.skbreast")


# --------------------------------------------------------------------- sklearn checks
def test_backbone_is_not_modified():
    net = tiny_backbone()
    weights = [w.copy() for w in net.get_weights()]
    config = _backbone._canonical_config(net)
    X, _ = make_images(n=9, size=6)
    emb = embedder(net, tta=True).fit(X)
    emb.transform(X)
    emb.set_params(layer="relu").fit(X).transform(X)
    for now, before in zip(net.get_weights(), weights):
        assert_array_equal(now, before)
    assert _backbone._canonical_config(net) == config
    assert all(layer.trainable for layer in net.layers)


@parametrize_with_checks(
    # A backbone file: see conftest.saved_model_file.
    [
        ImageEmbedder(
            saved_model_file(tiny_backbone(), "embedder"),
            precision="float32",
            batch_size=8,
        )
    ],
)
def test_sklearn_compatible_transformer(estimator, check):
    check(estimator)
