"""Finding data: explicit path, BERTSENT_DATA, cache, a verified download, and the offline message."""

import hashlib
import threading

import pytest
from bertsent.core.base.errors import DataError
from bertsent.core.data import sources


def test_explicit_path_wins(sst2_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("BERTSENT_DATA", str(tmp_path))
    assert sources.find_data(sst2_dir) == sst2_dir


def test_environment_variable(sst2_dir, monkeypatch):
    monkeypatch.setenv("BERTSENT_DATA", str(sst2_dir))
    assert sources.find_data() == sst2_dir
    monkeypatch.setenv("BERTSENT_DATA", "/nowhere/sst2")
    with pytest.raises(DataError, match=r"/nowhere/sst2 \(from \$BERTSENT_DATA\): no such file"):
        sources.find_data()


def test_download_verifies_checksum_and_leaves_nothing_on_mismatch(loopback_server, tmp_path):
    root, base = loopback_server
    body = b"good film\t1\nbad film\t0\n"
    (root / "train.tsv").write_bytes(body)
    good = {"train.tsv": {"url": f"{base}/train.tsv", "sha256": hashlib.sha256(body).hexdigest()}}
    target = tmp_path / "dl"
    seen = []
    sources.download_sst2(target, files=good, progress=lambda *a: seen.append(a))
    assert (target / "train.tsv").read_bytes() == body and seen[-1][1] == len(body)

    bad = {"test.tsv": {"url": f"{base}/train.tsv", "sha256": "0" * 64}}
    with pytest.raises(DataError, match="nothing was kept"):
        sources.download_sst2(target, files=bad)
    assert sorted(p.name for p in target.iterdir()) == ["train.tsv"]


def test_offline_gives_one_clear_line(monkeypatch):
    closed = {"train.tsv": {"url": "http://127.0.0.1:9/train.tsv", "sha256": "0" * 64}}
    monkeypatch.setattr(sources, "manifest", lambda: {"files": closed})
    with pytest.raises(DataError) as error:
        sources.find_data()
    message = str(error.value)
    assert "download of train.tsv failed" in message and "--data PATH" in message and "BERTSENT_DATA" in message
    assert "\n" not in message
    with pytest.raises(DataError, match="no data found"):
        sources.find_data(download=False)


def test_manifest_lists_sst2_checksums():
    files = sources.manifest()["files"]
    assert files["train.tsv"]["sha256"].startswith("ec192f83") and files["test.tsv"]["rows"] == 1821


def test_dropped_connection_leaves_nothing(tmp_path):
    """A server that promises 1,000 bytes and hangs up after 10: one clear error, no file."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve():
        conn, _ = listener.accept()
        conn.recv(4096)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    files = {"train.tsv": {"url": f"http://127.0.0.1:{listener.getsockname()[1]}/t", "sha256": "0" * 64}}
    with pytest.raises(DataError, match="download of train.tsv broke off after 10 of 1,000 bytes; nothing was kept"):
        sources.download_sst2(tmp_path / "dl", files=files)
    assert not any((tmp_path / "dl").iterdir())
    listener.close()


def test_the_local_cache_is_found_before_any_download(monkeypatch, tmp_path):
    monkeypatch.setenv("BERTSENT_CACHE", str(tmp_path))
    body = b"good\t1\nbad\t0\n"
    digest = hashlib.sha256(body).hexdigest()
    closed = {name: {"url": f"http://127.0.0.1:9/{name}", "sha256": digest} for name in ("train.tsv", "test.tsv")}
    monkeypatch.setattr(sources, "manifest", lambda: {"files": closed})
    cached = tmp_path / "data" / "sst2"
    cached.mkdir(parents=True)
    for name in closed:
        (cached / name).write_bytes(body)
    assert sources.sst2_cache() == cached and sources.find_data() == cached
    (cached / "test.tsv").unlink()  # incomplete: the download is tried for what is missing
    with pytest.raises(DataError, match="download of test.tsv failed"):
        sources.find_data()
