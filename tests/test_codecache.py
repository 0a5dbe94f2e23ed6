"""reviewer/_codecache.py: dataclasses' generated methods compiled once, kept between runs."""

from __future__ import annotations

import dataclasses
import marshal
import subprocess
import sys
from pathlib import Path

import pytest

import reviewer  # noqa: F401 - installs the cache
from reviewer import _codecache


def test_installed_on_import() -> None:
    assert vars(dataclasses)["exec"] is _codecache._exec


def test_dataclasses_behave_as_without_the_cache() -> None:
    @dataclasses.dataclass(frozen=True, order=True)
    class Point:
        x: int
        y: int = 2
        tags: tuple[str, ...] = dataclasses.field(default_factory=tuple)

    p = Point(1)
    assert p == Point(1, 2, ()) and p < Point(2) and hash(p) == hash(Point(1))
    assert repr(p).endswith("<locals>.Point(x=1, y=2, tags=())")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 3  # type: ignore[misc]


def test_kept_code_is_used_by_the_next_run(tmp_path: Path) -> None:
    path = str(tmp_path / "__pycache__" / "dataclasses.test.marshal")
    source = "def __create_fn__():\n def f(self):\n  return 41 + 1\n return f"
    first = _codecache._Cache()
    first.load(path)
    ns: dict[str, object] = {}
    exec(first.code(source), {}, ns)  # reviewer: ignore[RV601] test text
    assert first.new == 1
    first.save()
    assert Path(path).is_file() and first.new == 0

    second = _codecache._Cache()
    second.load(path)
    code = second.code(source)
    assert second.new == 0  # nothing compiled: the kept code object
    ns = {}
    exec(code, {}, ns)  # reviewer: ignore[RV601] test text
    assert ns["__create_fn__"]()(None) == 42  # type: ignore[operator]
    second.save()  # nothing new: nothing written
    assert Path(path).stat().st_size > 0


def test_a_file_from_another_python_or_broken_is_ignored(tmp_path: Path) -> None:
    other = tmp_path / "other.marshal"
    kept = {"x = 1": compile("x = 2", "", "exec")}
    other.write_bytes(marshal.dumps(("2.7.18 (other build)", kept)))
    cache = _codecache._Cache()
    cache.load(str(other))
    assert cache.known == {}
    broken = tmp_path / "broken.marshal"
    broken.write_bytes(b"\x00not marshal")
    cache.load(str(broken))
    assert cache.known == {}
    ns: dict[str, object] = {}
    exec(cache.code("x = 1"), {}, ns)  # reviewer: ignore[RV601] test text
    assert ns["x"] == 1


def test_an_unwritable_folder_only_costs_the_compiling(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder would be")
    cache = _codecache._Cache()
    cache.load(str(blocker / "__pycache__" / "x.marshal"))
    cache.code("y = 1")
    cache.save()  # no error
    assert blocker.read_text().startswith("a file")


def test_a_fresh_interpreter_defines_the_package_classes_from_the_kept_code() -> None:
    """After one run has kept them, importing the check path compiles no dataclass method."""
    code = (
        "import reviewer.engine, reviewer.cli.check, reviewer.findings\n"
        "from reviewer import _codecache\n"
    )
    subprocess.run([sys.executable, "-c", code + "_codecache.save()\n"], check=True)
    probe = code + "print(_codecache._CACHE.new)\n"
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                         text=True).stdout
    assert out.strip() == "0"


def test_the_check_paths_digests_are_hashlibs() -> None:
    import hashlib

    from reviewer import digests

    data = "fingerprint\0ünïcode".encode()
    assert digests.sha256(data).hexdigest() == hashlib.sha256(data).hexdigest()
    assert digests.blake2b(data, digest_size=16).hexdigest() == \
        hashlib.blake2b(data, digest_size=16).hexdigest()
