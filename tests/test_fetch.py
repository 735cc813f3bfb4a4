import hashlib
import http.server
import io
import socket
import tarfile
import threading
import zipfile
from functools import partial

import pytest
from _data_helpers import make_breakhis_tree, make_idc_tree

from skbreast.datasets import fetch_breakhis, fetch_idc, get_data_home
from skbreast.datasets._fetch import ChecksumError, DownloadError, UnsafeArchiveError


@pytest.fixture
def server(tmp_path):
    """Serve ``tmp_path / "www"`` on 127.0.0.1 at a free port."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(Quiet, directory=str(www))
    )
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _breakhis_tar(tmp_path, www):
    src = tmp_path / "src"
    make_breakhis_tree(src)
    archive = www / "BreaKHis_v1.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src / "BreaKHis_v1", arcname="BreaKHis_v1")
    return archive


def test_fetch_breakhis_download_then_offline(tmp_path, server, capsys):
    www, base = server
    archive = _breakhis_tar(tmp_path, www)
    home = tmp_path / "home"
    data = fetch_breakhis(
        data_home=home,
        url=f"{base}/BreaKHis_v1.tar.gz",
        sha256=_sha(archive),
        return_paths=True,
    )
    assert len(data.filenames) == 10 and len(set(data.groups)) == 4
    assert "Downloading BreaKHis_v1.tar.gz" in capsys.readouterr().err
    assert (home / "breakhis").is_dir()
    # No temporary leftovers, and the verified archive is kept.
    assert sorted(p.name for p in home.iterdir()) == ["BreaKHis_v1.tar.gz", "breakhis"]
    # Cached: works with no server and no download allowed.
    again = fetch_breakhis(data_home=home, download_if_missing=False, image_size=(3, 4))
    assert again.images.shape == (10, 3, 4, 3)


def test_fetch_checksum_mismatch(tmp_path, server):
    www, base = server
    _breakhis_tar(tmp_path, www)
    home = tmp_path / "home"
    with pytest.raises(ChecksumError, match="SHA-256"):
        fetch_breakhis(
            data_home=home, url=f"{base}/BreaKHis_v1.tar.gz", sha256="0" * 64
        )
    assert list(home.iterdir()) == []  # nothing half-written left behind


def test_fetch_refuses_without_known_checksum(tmp_path):
    with pytest.raises(ValueError, match="no recorded SHA-256"):
        fetch_breakhis(data_home=tmp_path, url="http://127.0.0.1:9/x")
    with pytest.raises(ValueError, match="64 hexadecimal"):
        fetch_breakhis(data_home=tmp_path, sha256="abc")


def test_fetch_unverified_when_waived(tmp_path, server):
    www, base = server
    _breakhis_tar(tmp_path, www)
    data = fetch_breakhis(
        data_home=tmp_path / "home",
        url=f"{base}/BreaKHis_v1.tar.gz",
        sha256=False,
        return_paths=True,
    )
    assert len(data.filenames) == 10


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_offline_error_says_where_to_put_archive(tmp_path):
    home = tmp_path / "home"
    url = f"http://127.0.0.1:{_closed_port()}/BreaKHis_v1.tar.gz"
    with pytest.raises(DownloadError) as info:
        fetch_breakhis(data_home=home, url=url, sha256="a" * 64, timeout=5)
    assert isinstance(info.value, OSError)
    expected = str(home / "BreaKHis_v1.tar.gz")
    assert expected in str(info.value) and "failed" in str(info.value)
    assert list(home.iterdir()) == []
    # Put the archive there by hand: fetch now works offline.
    src = tmp_path / "src"
    make_breakhis_tree(src)
    with tarfile.open(expected, "w:gz") as tar:
        tar.add(src / "BreaKHis_v1", arcname="BreaKHis_v1")
    data = fetch_breakhis(data_home=home, url=url, return_paths=True)
    assert len(data.filenames) == 10
    # A hand-placed archive that does not match a given checksum is refused.
    (home / "breakhis").rename(tmp_path / "moved")
    with pytest.raises(ChecksumError, match="does not match"):
        fetch_breakhis(data_home=home, sha256="b" * 64)


def test_http_404(tmp_path, server):
    _, base = server
    with pytest.raises(DownloadError, match="404"):
        fetch_idc(data_home=tmp_path / "h", url=f"{base}/nope.zip", sha256=False)


def test_download_if_missing_false(tmp_path):
    with pytest.raises(OSError, match="download_if_missing=False"):
        fetch_idc(data_home=tmp_path, download_if_missing=False)


def test_fetch_idc_zip(tmp_path, server):
    www, base = server
    src = tmp_path / "src"
    make_idc_tree(src / "IDC_regular_ps50_idx5")
    archive = www / "IDC_regular_ps50_idx5.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(src.rglob("*.png")):
            zf.write(path, path.relative_to(src).as_posix())
    data = fetch_idc(
        data_home=tmp_path / "home", url=f"{base}/{archive.name}", sha256=_sha(archive)
    )
    assert data.images.shape == (5, 5, 5, 3) and data.target.sum() == 2


def _tar_with(archive, add):
    with tarfile.open(archive, "w:gz") as tar:
        good = tarfile.TarInfo("BreaKHis_v1/ok.txt")
        good.size = 2
        tar.addfile(good, io.BytesIO(b"ok"))
        add(tar)


def _file_member(name):
    def add(tar):
        info = tarfile.TarInfo(name)
        info.size = 4
        tar.addfile(info, io.BytesIO(b"evil"))

    return add


def _link_member(kind, target):
    def add(tar):
        info = tarfile.TarInfo("BreaKHis_v1/link")
        info.type = kind
        info.linkname = target
        tar.addfile(info)

    return add


def _device_member(tar):
    info = tarfile.TarInfo("BreaKHis_v1/dev")
    info.type = tarfile.CHRTYPE
    tar.addfile(info)


@pytest.mark.parametrize(
    "add",
    [
        _file_member("../evil.txt"),
        _file_member("BreaKHis_v1/../../evil.txt"),
        _file_member("/tmp/skbreast_evil_abs.txt"),
        _link_member(tarfile.SYMTYPE, "../../evil.txt"),
        _link_member(tarfile.SYMTYPE, "/etc/passwd"),
        _link_member(tarfile.LNKTYPE, "/etc/passwd"),
        _device_member,
    ],
    ids=[
        "dotdot",
        "nested-dotdot",
        "absolute",
        "symlink",
        "abs-symlink",
        "hardlink",
        "device",
    ],
)
def test_malicious_tar_refused(tmp_path, server, add):
    www, base = server
    archive = www / "BreaKHis_v1.tar.gz"
    _tar_with(archive, add)
    home = tmp_path / "a" / "b" / "home"
    with pytest.raises(UnsafeArchiveError, match="Refusing"):
        fetch_breakhis(data_home=home, url=f"{base}/{archive.name}", sha256=False)
    assert not (home / "breakhis").exists()
    assert not list(tmp_path.rglob("evil*"))
    # Only the verified download remains; no extraction folder leaks.
    assert [p.name for p in home.iterdir()] == ["BreaKHis_v1.tar.gz"]


@pytest.mark.parametrize("name", ["../evil.txt", "/abs_evil.txt", "..\\evil.txt"])
def test_malicious_zip_refused(tmp_path, server, name):
    www, base = server
    archive = www / "IDC_regular_ps50_idx5.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ok/1.txt", "ok")
        zf.writestr(zipfile.ZipInfo(name), "evil")
    home = tmp_path / "x" / "home"
    with pytest.raises(UnsafeArchiveError):
        fetch_idc(data_home=home, url=f"{base}/{archive.name}", sha256=False)
    assert not list(tmp_path.rglob("*evil*"))
    assert not (home / "idc").exists()


def test_zip_symlink_refused(tmp_path, server):
    www, base = server
    archive = www / "IDC_regular_ps50_idx5.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = 0o120777 << 16  # S_IFLNK
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(UnsafeArchiveError, match="link"):
        fetch_idc(data_home=tmp_path / "h", url=f"{base}/{archive.name}", sha256=False)


def test_non_http_url_refused(tmp_path):
    with pytest.raises(ValueError, match="http"):
        fetch_idc(data_home=tmp_path, url="file:///etc/passwd", sha256=False)


def test_get_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SKBREAST_DATA", str(tmp_path / "env_home"))
    assert get_data_home() == tmp_path / "env_home"
    assert (tmp_path / "env_home").is_dir()
    assert get_data_home(tmp_path / "explicit") == tmp_path / "explicit"
    monkeypatch.delenv("SKBREAST_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert get_data_home() == tmp_path / "skbreast_data"
