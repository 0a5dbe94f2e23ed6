"""`add`, `verify` and `remove` against real files and a real HTTP server on 127.0.0.1 that
serves Range requests, cuts a download off, corrupts a byte, fails or stalls."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from model_layouts import write_gguf, write_hf_folder

from reviewer.models.fetch import AddError, add, downloads_dir, remove, verify_entry
from reviewer.models.registry import MANIFEST, Locations, discover, read_manifest


class ModelServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, files: dict[str, bytes]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.files = files
        self.mode = "ok"  # ok | cut | corrupt | 404 | 500 | stall
        self.requests: list[tuple[str, str]] = []  # (path, Range header)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class Handler(BaseHTTPRequestHandler):
    server: ModelServer

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        srv = self.server
        srv.requests.append((self.path, self.headers.get("Range", "")))
        mode = srv.mode
        if mode in ("404", "500"):
            self.send_error(int(mode))
            return
        data = srv.files.get(self.path.lstrip("/"))
        if data is None:
            self.send_error(404)
            return
        if mode == "corrupt":
            data = data[:100] + bytes([data[100] ^ 0xFF]) + data[101:]
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        start = 0
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes=") and self.headers.get("If-Range", etag) == etag:
            start = int(rng[6:].split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if mode == "stall":
            self.wfile.write(body[: len(body) // 3])
            self.wfile.flush()
            time.sleep(3)
            return
        if mode == "cut":  # half of it, then the connection drops
            srv.mode = "ok"
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture
def model_bytes(tmp_path: Path) -> bytes:
    path = write_gguf(tmp_path / "src" / "tiny-coder-q4_k_m.gguf",
                      tensors=[("w", [4096, 64], 0)])  # ~1 MB
    return path.read_bytes()


@pytest.fixture
def server(model_bytes: bytes) -> Iterator[ModelServer]:
    srv = ModelServer({"m/tiny-coder-q4_k_m.gguf": model_bytes, "notes.gguf": b"hello" * 100})
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def loc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Locations:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return Locations((tmp_path / "models",), (), (), ())


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_download_checks_the_sha256_and_moves_into_place(
    server: ModelServer, loc: Locations, model_bytes: bytes
) -> None:
    digest = hashlib.sha256(model_bytes).hexdigest()
    seen: list[tuple[int, int]] = []
    added = add(f"{server.url}/m/tiny-coder-q4_k_m.gguf", loc, sha256=digest,
                progress=lambda done, total: seen.append((done, total)))
    assert added.path == loc.target / "tiny-coder-q4_k_m.gguf" and added.checked == "--sha256"
    assert added.path.read_bytes() == model_bytes
    assert seen[-1] == (len(model_bytes), len(model_bytes))
    assert listing(loc.target) == [MANIFEST, "tiny-coder-q4_k_m.gguf"]
    assert listing(downloads_dir()) == []  # the partial file is gone
    entry = read_manifest(loc.target)["tiny-coder-q4_k_m"]
    assert entry["sha256"] == digest and entry["format"] == "gguf"
    (e,) = discover(loc, embedded=False)
    assert e.managed and verify_entry(e, loc).ok


def test_a_cut_off_download_resumes_with_range(
    server: ModelServer, loc: Locations, model_bytes: bytes
) -> None:
    url = f"{server.url}/m/tiny-coder-q4_k_m.gguf"
    digest = hashlib.sha256(model_bytes).hexdigest()
    server.mode = "cut"
    with pytest.raises(AddError, match=r"cut off at byte .*run the same command again"):
        add(url, loc, sha256=digest)
    assert listing(loc.target) == []  # nothing half-written in the model folder
    (partial,) = downloads_dir().glob("*.partial")
    assert partial.stat().st_size == len(model_bytes) // 2
    added = add(url, loc, sha256=digest)
    assert added.resumed_from == len(model_bytes) // 2
    assert server.requests[-1][1] == f"bytes={len(model_bytes) // 2}-"
    assert hashlib.sha256(added.path.read_bytes()).hexdigest() == digest


def test_a_file_changed_on_the_server_starts_over(
    server: ModelServer, loc: Locations, model_bytes: bytes
) -> None:
    """If-Range: the partial file's ETag no longer matches, the server sends all of it."""
    url = f"{server.url}/m/tiny-coder-q4_k_m.gguf"
    server.mode = "cut"
    with pytest.raises(AddError, match="cut off"):
        add(url, loc)
    changed = model_bytes[:-8] + b"\x01" * 8
    server.files["m/tiny-coder-q4_k_m.gguf"] = changed
    added = add(url, loc, sha256=hashlib.sha256(changed).hexdigest())
    assert added.resumed_from == 0 and added.path.read_bytes() == changed
    assert server.requests[-1][1].startswith("bytes=")  # it asked to resume, and was refused


def test_a_corrupted_byte_fails_the_checksum(
    server: ModelServer, loc: Locations, model_bytes: bytes
) -> None:
    server.mode = "corrupt"
    digest = hashlib.sha256(model_bytes).hexdigest()
    with pytest.raises(AddError, match=f"does not match --sha256 {digest}; the download was"):
        add(f"{server.url}/m/tiny-coder-q4_k_m.gguf", loc, sha256=digest)
    assert listing(loc.target) == [] and listing(downloads_dir()) == []


@pytest.mark.parametrize("mode", ["404", "500"])
def test_http_errors_are_one_line(server: ModelServer, loc: Locations, mode: str) -> None:
    server.mode = mode
    with pytest.raises(AddError, match=f"HTTP {mode} ") as exc:
        add(f"{server.url}/m/tiny-coder-q4_k_m.gguf", loc)
    assert "\n" not in str(exc.value)
    assert listing(loc.target) == []


def test_a_stalled_server_times_out(server: ModelServer, loc: Locations) -> None:
    server.mode = "stall"
    with pytest.raises(AddError, match=r"stalled \(no data for 0.5s\)"):
        add(f"{server.url}/m/tiny-coder-q4_k_m.gguf", loc, timeout=0.5)
    assert listing(loc.target) == []


def test_a_download_that_is_not_a_model(server: ModelServer, loc: Locations) -> None:
    with pytest.raises(AddError, match=r"unknown format: not GGUF.*the download was removed"):
        add(f"{server.url}/notes.gguf", loc)
    assert listing(loc.target) == [] and listing(downloads_dir()) == []


def test_a_catalogue_name_is_fetched_from_the_configured_mirror(
    server: ModelServer, loc: Locations
) -> None:
    with pytest.raises(AddError, match="set model-mirror"):
        add("qwen2.5-coder-1.5b-instruct-q4_k_m", loc)
    server.files["qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"] = b"GGUF-not-the-real-one"
    with pytest.raises(AddError, match="does not match catalogue cc324af070c2"):
        add("qwen2.5-coder-1.5b-instruct-q4_k_m", loc, mirror=server.url + "/")
    assert server.requests[-1][0] == "/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert listing(loc.target) == []


def test_local_file_and_folder_copy_link_verify_remove(tmp_path: Path, loc: Locations) -> None:
    src = write_gguf(tmp_path / "src" / "a.gguf")
    folder = write_hf_folder(tmp_path / "src" / "mlx-a", mlx=True)
    add(str(src), loc, name="coder")
    add(str(folder), loc)
    linked = add(str(write_gguf(tmp_path / "src" / "b.gguf")), loc, link=True)
    assert linked.path.is_symlink()
    entries = {e.name: e for e in discover(loc, embedded=False)}
    assert set(entries) == {"coder", "mlx-a", "b"} and all(e.managed for e in entries.values())
    assert all(verify_entry(e, loc).ok for e in entries.values())
    # a changed byte is found by verify
    data = bytearray((loc.target / "a.gguf").read_bytes())
    data[-1] ^= 1
    (loc.target / "a.gguf").write_bytes(bytes(data))
    verdict = verify_entry(entries["coder"], loc)
    assert not verdict.ok and "differs from when it was added" in verdict.detail
    (folder_copy := loc.target / "mlx-a" / "config.json").write_text("{}")
    assert "config.json: sha256 differs" in verify_entry(entries["mlx-a"], loc).detail
    assert folder_copy.exists()
    # remove deletes only what add put there
    (loc.target / "mine.gguf").write_bytes(src.read_bytes())
    with pytest.raises(AddError, match="was not added by"):
        remove("mine", loc)
    for name in ("coder", "mlx-a", "b"):
        remove(name, loc)
    assert listing(loc.target) == [MANIFEST, "mine.gguf"]
    assert (tmp_path / "src" / "b.gguf").exists()  # the link's target stays


def test_bad_sources_and_hashes(tmp_path: Path, loc: Locations) -> None:
    src = write_gguf(tmp_path / "a.gguf")
    with pytest.raises(AddError, match="not a sha256"):
        add(str(src), loc, sha256="abc")
    with pytest.raises(AddError, match=r"a\.gguf: sha256 .* does not match --sha256 0{64}"):
        add(str(src), loc, sha256="0" * 64)
    with pytest.raises(AddError, match="no such file, URL or catalogue name"):
        add(str(tmp_path / "missing.gguf"), loc)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(AddError, match="unknown format"):
        add(str(tmp_path / "notes.txt"), loc)
    add(str(src), loc)
    with pytest.raises(AddError, match="already added"):
        add(str(src), loc)
    assert listing(loc.target) == [MANIFEST, "a.gguf"]
