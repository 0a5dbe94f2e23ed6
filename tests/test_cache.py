"""The result cache: identical results from the cache, changed files re-reviewed."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from reviewer import engine
from reviewer.cache import Cache
from reviewer.config import Config

if TYPE_CHECKING:
    from conftest import Repo

BAD = "def add(item, items=[]):\n    items.append(item)\n    return items\n"
GOOD = '"""Fine."""\n\n\ndef add(item: int) -> list[int]:\n    """One."""\n    return [item]\n'
LONG_AGO_NS = 1_000_000_000 * 1_000_000_000  # 2001, far outside the racy window


def review(root: Path, config: Config | None = None) -> engine.Result:
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
    return engine.run(engine.Job(root, files), config or Config(jobs=1))


def age(path: Path) -> None:
    """Give a file an old modification time, as if it had not changed for years."""
    os.utime(path, ns=(LONG_AGO_NS, LONG_AGO_NS))


def as_data(result: engine.Result) -> list[tuple[object, ...]]:
    return [(f.path, f.span, f.rule_id, f.message, f.fingerprint) for f in result.findings]


def test_second_run_comes_from_the_cache_with_identical_findings(repo: Repo) -> None:
    for i in range(3):
        repo.write(f"pkg/m{i}.py", BAD)
    first = review(repo.path)
    second = review(repo.path)
    assert first.cache_hits == 0
    assert second.cache_hits == 3 == second.files_reviewed
    assert as_data(second) == as_data(first)
    assert any(f.rule_id == "RV101" for f in second.findings)


def test_changed_file_is_reviewed_again(repo: Repo) -> None:
    bad = repo.write("a.py", BAD)
    repo.write("b.py", BAD)
    review(repo.path)
    bad.write_text(GOOD)
    result = review(repo.path)
    assert result.cache_hits == 1
    assert {f.path for f in result.findings if f.rule_id == "RV101"} == {"b.py"}


def test_unchanged_old_files_take_the_stat_shortcut_and_touched_ones_are_hashed(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [repo.write(f"m{i}.py", BAD) for i in range(2)]
    for p in paths:
        age(p)
    first = review(repo.path)
    touched = LONG_AGO_NS + 5_000_000_000
    os.utime(paths[0], ns=(touched, touched))  # a new time, the same bytes
    read: list[str] = []
    real_read = engine.read_source

    def spy(root: Path, rel: str, *args: object, **kwargs: object) -> object:
        read.append(rel)
        return real_read(root, rel, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine, "read_source", spy)
    second = review(repo.path)
    assert read == ["m0.py"]  # m1.py came from its stamp without being read
    assert second.cache_hits == 2
    assert as_data(second) == as_data(first)
    store = Cache.load(repo.path / ".reviewer" / "cache", only_key(repo.path))
    assert store.entries["m0.py"][1] == (touched, len(BAD))  # re-stamped after the hash hit
    assert store.entries["m1.py"][1] == (LONG_AGO_NS, len(BAD))


def test_same_size_rewrite_is_reviewed_again(repo: Repo) -> None:
    p = repo.write("m.py", BAD)
    age(p)
    review(repo.path)
    p.write_text(BAD.replace("items", "thing"))  # same length, new time
    assert p.stat().st_size == len(BAD)
    assert review(repo.path).cache_hits == 0


def test_recently_written_files_are_always_hashed(repo: Repo) -> None:
    """Within the racy window a stamp is not trusted: a second same-size write within the
    file system's time resolution must not be missed."""
    repo.write("m.py", BAD)
    review(repo.path)
    store = Cache.load(repo.path / ".reviewer" / "cache", only_key(repo.path))
    assert store.entries["m.py"][1] is None


def test_other_settings_do_not_share_results(repo: Repo) -> None:
    repo.write("a.py", BAD)
    review(repo.path)
    result = review(repo.path, Config(jobs=1, select=("RV101",)))
    assert result.cache_hits == 0
    assert {f.rule_id for f in result.findings} == {"RV101"}


def test_a_corrupt_cache_is_ignored_and_rebuilt(repo: Repo) -> None:
    repo.write("a.py", BAD)
    first = review(repo.path)
    cache_file = next((repo.path / ".reviewer" / "cache").glob("results-*.pickle"))
    cache_file.write_bytes(b"\x80\x05not a pickle")
    second = review(repo.path)
    assert second.cache_hits == 0
    assert as_data(second) == as_data(first)
    assert review(repo.path).cache_hits == 1


def test_no_cache_writes_nothing(repo: Repo) -> None:
    repo.write("a.py", BAD)
    review(repo.path, Config(jobs=1, cache=False))
    assert not (repo.path / ".reviewer").exists()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="worker processes use fork here")
def test_worker_processes_give_the_same_results_as_one_process(repo: Repo) -> None:
    n = engine.PARALLEL_THRESHOLD + 2
    for i in range(n):
        repo.write(f"pkg/m{i:02}.py", BAD if i % 2 else GOOD)
    repo.write("pkg/b_binary.py", b"\x00\x01binary")
    repo.write("pkg/a_latin1.py", "s = 'caf\xe9'\n".encode("latin-1"))
    serial = review(repo.path, Config(jobs=1, cache=False))
    parallel = review(repo.path, replace(Config(jobs=2), cache=True))
    cached = review(repo.path, Config(jobs=2))
    assert as_data(parallel) == as_data(serial)
    assert cached.cache_hits == n
    assert as_data(cached) == as_data(serial)
    for result in (serial, parallel, cached):
        assert [s.path for s in result.skipped] == ["pkg/a_latin1.py", "pkg/b_binary.py"]
        assert result.files_reviewed == n


def only_key(root: Path) -> str:
    names = [p.name for p in (root / ".reviewer" / "cache").glob("results-*.pickle")]
    assert len(names) == 1, names
    return names[0].removeprefix("results-").removesuffix(".pickle")
