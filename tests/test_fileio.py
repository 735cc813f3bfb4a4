"""The one atomic writer: whole files or nothing, fsynced, folders too."""

import os

import pytest

from skbreast import _fileio
from skbreast._fileio import atomic_path, atomic_write


def test_atomic_write_replaces_and_fsyncs_file_and_folder(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real_fsync(fd))
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_write(target, "w", encoding="utf-8") as f:
        f.write("new")
        # Nothing is visible under the final name before the block ends.
        assert target.read_text() == "old"
    assert target.read_text() == "new"
    assert len(synced) == 2  # the file, then its folder
    assert sorted(os.listdir(tmp_path)) == ["out.txt"]


def test_a_failure_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "model.bin"
    target.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(target, "wb", suffix=".part") as f:
            f.write(b"half")
            raise KeyboardInterrupt
    assert target.read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["model.bin"]


def test_not_durable_skips_fsync(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "fsync", lambda fd: pytest.fail("fsync called"))
    with atomic_write(tmp_path / "entry", "wb", durable=False) as f:
        f.write(b"x")
    assert (tmp_path / "entry").read_bytes() == b"x"


def test_atomic_path_replaces_a_folder_whole(tmp_path):
    target = tmp_path / "export"
    target.mkdir()
    (target / "old.txt").write_text("old")
    with atomic_path(target) as tmp:
        os.makedirs(tmp)
        with open(os.path.join(tmp, "new.txt"), "w") as f:
            f.write("new")
    assert sorted(os.listdir(target)) == ["new.txt"]
    assert sorted(os.listdir(tmp_path)) == ["export"]
    with pytest.raises(RuntimeError):
        with atomic_path(target, ".onnx") as tmp:
            with open(tmp, "w") as f:
                f.write("half")
            raise RuntimeError("converter failed")
    assert sorted(os.listdir(target)) == ["new.txt"]
    assert sorted(os.listdir(tmp_path)) == ["export"]


def test_temporary_names_are_hidden_siblings(tmp_path):
    name = _fileio.temporary_sibling(tmp_path / "a.csv", ".part")
    assert os.path.dirname(name) == str(tmp_path)
    base = os.path.basename(name)
    assert base.startswith(".a.csv.") and base.endswith(".part")
