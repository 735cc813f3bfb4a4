"""The model card: written by save, read by load and read_model_card, tied to a fit."""

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from conftest import SMALL_CNN, make_images

import skbreast
from skbreast import CNNClassifier


@pytest.fixture(scope="module")
def fitted():
    X, y = make_images(n=24, size=8)
    labels = np.array(["benign", "malignant"])[y]
    return CNNClassifier(epochs=1, **SMALL_CNN).fit(X, labels), X


def test_save_writes_a_card_that_load_exposes(fitted, tmp_path):
    clf, X = fitted
    path = tmp_path / "m.skb"
    skbreast.save(clf, path, model_card={"description": "test", "data": {"n": 24}})
    card = skbreast.read_model_card(path)
    assert card["classes"] == ["benign", "malignant"]
    assert card["image_size"] == [8, 8, 3]
    assert card["estimator"] == "CNNClassifier" and card["fitted"] is True
    assert card["fit"]["epochs"] == 1 and "final_loss" in card["fit"]
    assert card["params"]["filters"] == [4]
    assert "uint8" in card["preprocessing"]["input"]
    assert card["versions"]["skbreast"] == skbreast.__version__
    assert card["created"].endswith("Z")
    assert card["description"] == "test" and card["data"] == {"n": 24}
    assert clf.model_card_ == card
    loaded = skbreast.load(path)
    assert loaded.model_card_ == card
    # A second save of the loaded estimator keeps the card as it was.
    skbreast.save(loaded, tmp_path / "again.skb")
    assert skbreast.read_model_card(tmp_path / "again.skb") == card


def test_a_later_fit_drops_the_card(fitted, tmp_path):
    clf, X = fitted
    skbreast.save(clf, tmp_path / "m.skb")
    loaded = skbreast.load(tmp_path / "m.skb")
    assert hasattr(loaded, "model_card_")
    loaded.partial_fit(X, np.array(["benign", "malignant"] * 12))
    assert not hasattr(loaded, "model_card_")
    with pytest.raises(AttributeError, match="later fit drops the card"):
        loaded.model_card_  # noqa: B018
    assert not hasattr(CNNClassifier(), "model_card_")


@pytest.mark.parametrize(
    "card, error, match",
    [
        ({"classes": ["a"]}, ValueError, "fills them in itself"),
        ({"x": object()}, ValueError, "JSON data only"),
        ({"x": float("nan")}, ValueError, "JSON data only"),
        (["not", "a", "dict"], TypeError, "must be a dict"),
    ],
)
def test_bad_cards_are_refused(fitted, tmp_path, card, error, match):
    with pytest.raises(error, match=match):
        skbreast.save(fitted[0], tmp_path / "m.skb", model_card=card)
    assert not (tmp_path / "m.skb").exists()


def test_files_without_a_card_give_a_minimal_one():
    path = os.path.join(os.path.dirname(__file__), "data", "cnn_0.1.0.dev0.skb")
    card = skbreast.read_model_card(path)
    assert card["estimator"] == "CNNClassifier" and card["fitted"] is True
    assert "versions" in card


def test_read_model_card_refuses_newer_and_foreign_files(fitted, tmp_path):
    path = tmp_path / "m.skb"
    skbreast.save(fitted[0], path)
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    manifest = json.loads(members["skbreast.json"])
    manifest["format_version"] = 99
    members["skbreast.json"] = json.dumps(manifest).encode()
    newer = tmp_path / "newer.skb"
    with zipfile.ZipFile(newer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    with pytest.raises(ValueError, match="Upgrade skbreast"):
        skbreast.read_model_card(newer)
    (tmp_path / "text.skb").write_text("hello")
    with pytest.raises(ValueError, match="not a valid zip"):
        skbreast.read_model_card(tmp_path / "text.skb")
    with pytest.raises(FileNotFoundError):
        skbreast.read_model_card(tmp_path / "missing.skb")


def test_reading_a_card_imports_no_framework(fitted, tmp_path):
    path = tmp_path / "m.skb"
    skbreast.save(fitted[0], path)
    code = (
        "import sys, skbreast\n"
        f"card = skbreast.read_model_card({str(path)!r})\n"
        "assert card['classes'] == ['benign', 'malignant']\n"
        "heavy = [m for m in ('keras', 'tensorflow', 'numpy', 'sklearn') "
        "if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_pickles_keep_the_card(fitted, tmp_path):
    import pickle

    clf, X = fitted
    skbreast.save(clf, tmp_path / "m.skb", model_card={"note": "pickled"})
    again = pickle.loads(pickle.dumps(clf))
    assert again.model_card_["note"] == "pickled"
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X))
