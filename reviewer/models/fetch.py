"""``reviewer models add``, ``verify`` and ``remove``: put a model into the reviewer's own
folder, check it, take it out again.

A download is streamed to a partial file outside the model folder
(``$XDG_CACHE_HOME/reviewer/downloads/``), resumed with a ``Range`` request when a previous
try was cut off (``If-Range`` with the server's ETag, so a changed file starts over), checked
against the sha256 (``--sha256`` or the catalogue's), checked to be a model by its content,
and only then moved into the model folder. A failed check removes the partial file: nothing
half-written is ever in the model folder. The manifest (``.reviewer-models.json``) records
what ``add`` put there, so ``remove`` deletes nothing else.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from reviewer.models import catalogue
from reviewer.models.detect import ModelFormatError, detect, is_url
from reviewer.models.registry import Entry, Locations, read_manifest, write_manifest

CHUNK = 1 << 20
Progress = Callable[[int, int], None]  # (bytes done, total bytes or 0 when unknown)


class AddError(Exception):
    """``add``/``verify``/``remove`` failed; ``str(exc)`` is one line."""


@dataclass(frozen=True)
class Added:
    name: str
    path: Path
    sha256: str
    checked: str  # what the hash was checked against: "--sha256", "catalogue", "" (nothing)
    resumed_from: int = 0


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    h = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
    return h.hexdigest()


def downloads_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reviewer" / "downloads"


def _partial_for(url: str) -> Path:
    key = hashlib.sha256(url.encode()).hexdigest()[:24]
    return downloads_dir() / f"{key}.partial"


def _expected(sha256: str | None, file_name: str) -> tuple[str, str]:
    if sha256:
        digest = sha256.strip().lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise AddError(f"--sha256 {sha256!r} is not a sha256 (64 hex digits)")
        return digest, "--sha256"
    known = catalogue.find(file_name)
    if known is not None and known.sha256:
        return known.sha256, "catalogue"
    return "", ""


# -- download ------------------------------------------------------------------------------
def download(url: str, partial: Path, timeout: float, progress: Progress | None,
             hasher: Any = None) -> int:
    """Fetch ``url`` into ``partial``, resuming from its current size. Returns the byte
    offset resumed from. Raises AddError (the partial file is kept for a later resume).

    ``hasher`` (a hashlib object) is fed the whole file as it is written: on a resume the
    bytes already there first, so the file is not read again to hash it."""
    import http.client
    import urllib.error
    import urllib.request

    partial.parent.mkdir(parents=True, exist_ok=True)
    meta_file = partial.with_suffix(".json")
    have = partial.stat().st_size if partial.exists() else 0
    etag = ""
    if have:
        with contextlib.suppress(OSError, ValueError):
            etag = str(json.loads(meta_file.read_text(encoding="utf-8")).get("etag", ""))
    headers = {"User-Agent": "reviewer-models"}
    if have:
        headers["Range"] = f"bytes={have}-"
        if etag:
            headers["If-Range"] = etag
    req = urllib.request.Request(url, headers=headers)
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to fetch: the partial file is whole
            _hash_into(hasher, partial, have)
            return have
        raise AddError(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise AddError(f"{url}: no answer within {timeout:g}s") from None
        raise AddError(f"{url}: {reason}") from None
    except TimeoutError:
        raise AddError(f"{url}: no answer within {timeout:g}s") from None
    with resp:
        status = resp.status
        start = 0
        if status == 206:
            crange = resp.headers.get("Content-Range", "")
            try:
                start = int(crange.split()[1].split("-")[0])
            except (IndexError, ValueError):
                start = -1
            if start != have:
                raise AddError(f"{url}: the server resumed at {crange!r}, not byte {have}")
        elif status != 200:
            raise AddError(f"{url}: HTTP {status}")
        length = int(resp.headers.get("Content-Length") or 0)
        total = start + length if length else 0
        new_etag = resp.headers.get("ETag", "")
        with contextlib.suppress(OSError):
            meta_file.write_text(json.dumps({"url": url, "etag": new_etag}), encoding="utf-8")
        done = start
        _hash_into(hasher, partial, start)
        try:
            with partial.open("ab" if start else "wb") as out:
                while True:
                    chunk = resp.read(CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    if hasher is not None:
                        hasher.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
        except TimeoutError:
            raise AddError(
                f"{url}: stalled (no data for {timeout:g}s) at byte {done}; run the same"
                " command again to resume") from None
        except (OSError, http.client.HTTPException) as exc:
            raise AddError(f"{url}: cut off at byte {done} ({type(exc).__name__}); run the"
                           " same command again to resume") from None
        if total and done < total:
            raise AddError(f"{url}: cut off at byte {done} of {total}; run the same command"
                           " again to resume")
    return start


def _hash_into(hasher: Any, path: Path, upto: int) -> None:
    """Feed the first ``upto`` bytes of ``path`` to ``hasher``."""
    if hasher is None or not upto:
        return
    left = upto
    with path.open("rb") as fh:
        while left and (chunk := fh.read(min(CHUNK, left))):
            hasher.update(chunk)
            left -= len(chunk)


def _drop_partial(partial: Path) -> None:
    for p in (partial, partial.with_suffix(".json")):
        with contextlib.suppress(OSError):
            p.unlink()


# -- add -----------------------------------------------------------------------------------
def _source_name(source: str) -> str:
    if is_url(source):
        name = Path(unquote(urlparse(source).path)).name
        if not name:
            raise AddError(f"{source}: the URL names no file")
        return name
    return Path(source).name


def resolve_source(source: str, mirror: str) -> str:
    """A URL, a local path, or a catalogue name fetched from the configured mirror."""
    if is_url(source) or Path(source).expanduser().exists():
        return source
    known = catalogue.find(source)
    if known is not None:
        if known.format != "gguf":
            raise AddError(f"{source} is an MLX folder: add a local copy of it (PATH)")
        if not mirror:
            raise AddError(
                f"{source}: no such file; to fetch it set model-mirror in [tool.reviewer]"
                f" (or pass the URL of {known.file})")
        if not is_url(mirror):
            raise AddError(f"model-mirror {mirror!r} is not an http(s):// URL")
        return mirror.rstrip("/") + "/" + known.file
    raise AddError(f"{source}: no such file, URL or catalogue name")


def add(source: str, loc: Locations, *, name: str | None = None, sha256: str | None = None,
        link: bool = False, mirror: str = "", timeout: float = 30.0,
        progress: Progress | None = None, hash_progress: Progress | None = None) -> Added:
    """Add a model to ``loc.target``. Raises AddError with one line."""
    source = resolve_source(source, mirror)
    file_name = _source_name(source)
    target = loc.target
    manifest = read_manifest(target)
    known = catalogue.find(file_name)
    name = name or (known.name if known else (Path(file_name).stem
                                              if file_name.endswith(".gguf") else file_name))
    if not name or "/" in name or name.startswith("."):
        raise AddError(f"--name {name!r}: a model name is a plain file name")
    final = target / file_name
    if name in manifest:
        raise AddError(f"a model named {name!r} is already added"
                       f" ({target / str(manifest[name]['file'])})")
    if final.exists() or final.is_symlink():
        raise AddError(f"{final} already exists")
    expected, against = _expected(sha256, file_name)
    target.mkdir(parents=True, exist_ok=True)
    resumed = 0
    if is_url(source):
        partial = _partial_for(source)
        hasher = hashlib.sha256()
        resumed = download(source, partial, timeout, progress, hasher)
        digest = hasher.hexdigest()
        if expected and digest != expected:
            _drop_partial(partial)
            raise AddError(f"{file_name}: sha256 {digest} does not match {against} {expected};"
                           " the download was removed")
        try:
            info = detect(partial)
        except ModelFormatError as exc:
            _drop_partial(partial)
            raise AddError(f"{source}: {str(exc).split(': ', 1)[-1]}; the download was removed"
                           ) from None
        _move_into(partial, final)
        _drop_partial(partial)
        entry: dict[str, Any] = {"file": file_name, "sha256": digest, "source": source}
    else:
        src = Path(source).expanduser().resolve()
        try:
            info = detect(src)
        except ModelFormatError as exc:
            raise AddError(str(exc)) from None
        if src.is_dir():
            if expected:
                raise AddError("--sha256 checks one file; a folder's files are hashed one by one")
            files = {str(f.relative_to(src)): sha256_file(f)
                     for f in sorted(src.rglob("*")) if f.is_file()}
            digest = ""
            _place_folder(src, final, link)
            entry = {"file": file_name, "files": files, "source": str(src)}
        else:
            digest = sha256_file(src, hash_progress)
            if expected and digest != expected:
                raise AddError(f"{src}: sha256 {digest} does not match {against} {expected}")
            _place_file(src, final, link)
            entry = {"file": file_name, "sha256": digest, "source": str(src)}
        entry["linked"] = link
    entry.update(format=info.format, added=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    manifest[name] = entry
    write_manifest(target, manifest)
    return Added(name, final, digest, against, resumed)


def _copy_into(src: Path, final: Path, copy: Callable[[Path, Path], object],
               clean: Callable[[Path], None]) -> None:
    """Copy ``src`` beside ``final`` with ``copy``, then move it into place atomically; on
    failure ``clean`` removes the half-written copy and the error is one line."""
    tmp = final.with_name(f".{final.name}.tmp")
    try:
        copy(src, tmp)
        os.replace(tmp, final)
    except OSError as exc:
        clean(tmp)
        raise AddError(f"cannot write {final}: {exc.strerror or exc}") from None


def _unlink(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def _rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _move_into(src: Path, final: Path) -> None:
    """Move ``src`` to ``final`` atomically (a copy beside ``final`` first across devices)."""
    try:
        os.replace(src, final)
    except OSError:
        _copy_into(src, final, shutil.copyfile, _unlink)


def _place_file(src: Path, final: Path, link: bool) -> None:
    if link:
        final.symlink_to(src)
    else:
        _copy_into(src, final, shutil.copyfile, _unlink)


def _place_folder(src: Path, final: Path, link: bool) -> None:
    if link:
        final.symlink_to(src, target_is_directory=True)
    else:
        _copy_into(src, final, shutil.copytree, _rmtree)


# -- verify and remove ---------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    name: str
    ok: bool
    detail: str


def verify_entry(e: Entry, loc: Locations) -> Verdict:
    """Re-check one model: the recorded (or catalogue) sha256, and that it still reads."""
    if e.info is None:
        return Verdict(e.name, False, e.error)
    recorded: dict[str, Any] = {}
    if e.managed:
        for folder in loc.own:
            if e.path.parent == folder:
                recorded = read_manifest(folder).get(e.name, {})
    if e.path.is_dir():
        files = recorded.get("files") or {}
        if not files:
            return Verdict(e.name, True, f"{e.info.format} folder reads (no recorded hashes)")
        for rel, want in sorted(files.items()):
            f = e.path / rel
            if not f.is_file():
                return Verdict(e.name, False, f"{rel} is missing")
            if sha256_file(f) != want:
                return Verdict(e.name, False, f"{rel}: sha256 differs from when it was added")
        return Verdict(e.name, True, f"{len(files)} files match their sha256")
    digest = sha256_file(e.path)
    want = str(recorded.get("sha256") or "")
    known = catalogue.find(e.path.name) or catalogue.by_sha256(digest)
    if want and digest != want:
        return Verdict(e.name, False, f"sha256 {digest} differs from when it was added ({want})")
    if known is not None and known.sha256 and known.file == e.path.name and digest != known.sha256:
        return Verdict(e.name, False, f"sha256 {digest} is not the published {known.sha256}")
    against = "the published sha256" if known is not None and known.sha256 == digest else (
        "the sha256 recorded by add" if want else "no recorded sha256")
    return Verdict(e.name, True, f"sha256 {digest[:16]}... matches {against}"
                   if against != "no recorded sha256" else
                   f"reads; sha256 {digest[:16]}... (no recorded sha256 to compare)")


def remove(name: str, loc: Locations) -> Path:
    """Delete a model ``add`` put into ``loc.target``. Raises AddError for anything else."""
    for folder in loc.own:
        manifest = read_manifest(folder)
        if name in manifest:
            path = folder / str(manifest[name]["file"])
            if path.is_symlink() or path.is_file():
                path.unlink()
            elif path.is_dir():
                shutil.rmtree(path)
            del manifest[name]
            write_manifest(folder, manifest)
            return path
    raise AddError(f"{name!r} was not added by `reviewer models add`; nothing removed")
