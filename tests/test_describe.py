"""`reviewer describe` on real git repositories: one change of each kind, the JSON facts,
the facts-only description (no model), and bad input (one line, the facts that could be
computed)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from reviewer.describe.facts import signature_changes
from reviewer.describe.symbols import PythonReader

if TYPE_CHECKING:
    from conftest import Repo

RunCli = Callable[..., tuple[int, str, str]]


def describe(run_cli: RunCli, *args: str) -> tuple[dict[str, Any], str]:
    code, out, err = run_cli("describe", "--format", "json", "--no-findings", *args)
    assert code == 0, err
    return json.loads(out), err


def symbols(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["qualname"]: s for s in report["facts"]["symbols"]}


CORE = '''\
def area(width, height):
    return width * height


def helper(x):
    return x + 1


def old_name(a):
    total = a * 2
    return total + 1
'''


def base(repo: Repo) -> None:
    repo.write("pkg/__init__.py", "")
    repo.write("pkg/core.py", CORE)
    repo.write("pkg/use.py", "from pkg.core import area\n\nprint(area(1, 2))\n"
                             "print(area(width=3, height=4))\n")
    repo.write("tests/test_core.py", "from pkg.core import area\n\n\ndef test_area():\n"
                                     "    assert area(2, 3) == 6\n")
    repo.write("README.md", "# demo\n")
    repo.commit_all("base")


def test_added_function(repo: Repo, run_cli: RunCli) -> None:
    base(repo)
    repo.write("pkg/core.py", CORE + "\n\ndef perimeter(width, height):\n"
                                     "    return 2 * (width + height)\n")
    repo.stage("pkg/core.py")
    report, _ = describe(run_cli)
    facts = report["facts"]
    added = symbols(report)["perimeter"]
    assert added["change"] == "added" and added["kind"] == "function"
    assert added["path"] == "pkg/core.py" and added["public"]
    assert facts["files"] == [{"path": "pkg/core.py", "status": "changed", "category": "code",
                               "added": 4, "deleted": 0, "old_path": None,
                               "language": "python", "binary": False}]
    assert facts["tests"]["untested"] == ["perimeter"]
    d = report["description"]
    assert d["source"] == "facts" and d["type"] == "feature" and d["model_calls"] == 0
    assert "perimeter" in d["title"]


def test_renamed_and_moved_functions(repo: Repo, run_cli: RunCli) -> None:
    base(repo)
    moved_out = CORE.replace("def helper(x):\n    return x + 1\n\n\n", "")
    repo.write("pkg/core.py", moved_out.replace("def old_name(a):", "def new_name(a):"))
    repo.write("pkg/util.py", "def helper(x):\n    return x + 1\n")
    repo.git("add", "-A")
    report, _ = describe(run_cli)
    got = symbols(report)
    assert set(got) == {"helper", "new_name"}  # nothing "removed" or "added"
    assert got["helper"]["change"] == "moved"
    assert (got["helper"]["old_path"], got["helper"]["path"]) == ("pkg/core.py", "pkg/util.py")
    assert got["new_name"]["change"] == "renamed" and got["new_name"]["old_qualname"] == "old_name"
    assert report["description"]["type"] == "refactor"


def test_signature_change_with_callers(repo: Repo, run_cli: RunCli) -> None:
    base(repo)
    repo.write("pkg/core.py", CORE.replace("def area(width, height):",
                                           "def area(height, width, unit='m') -> float:"))
    repo.stage("pkg/core.py")
    report, _ = describe(run_cli)
    area = symbols(report)["area"]
    assert area["old_signature"] == "(width, height)"
    assert area["signature"] == "(height, width, unit='m') -> float"
    assert area["signature_changes"] == [
        "parameter unit added",
        "parameters reordered: (width, height) -> (height, width)",
        "return annotation: none -> float",
    ]
    assert area["callers"] == ["pkg/use.py:3", "pkg/use.py:4", "tests/test_core.py:5"]
    assert area["callers_total"] == 3
    assert report["facts"]["callers_from"] == "syntax scan"
    assert report["facts"]["tests"]["tested_alongside"] == {}
    assert "area" not in report["facts"]["tests"]["untested"]  # tests/test_core.py names it
    assert any("area" in r and "3 call sites" in r for r in report["description"]["risks"])


def test_signature_phrases() -> None:
    reader = PythonReader()

    def sig(src: str) -> Any:
        return reader.symbols(src)["f"].signature  # type: ignore[index]

    assert signature_changes(sig("def f(a, b=1): pass"), sig("def f(a, c=1): pass")) == [
        "parameter b renamed to c"]
    assert signature_changes(sig("def f(a, b=1): pass"), sig("def f(a, b=2, *, k): pass")) == [
        "parameter k added (required)", "default of b: 1 -> 2"]
    assert signature_changes(sig("def f(a, b): pass"), sig("def f(a): pass")) == [
        "parameter b removed"]


def test_dependency_changes_in_every_manifest(repo: Repo, run_cli: RunCli) -> None:
    repo.write("pyproject.toml", '[project]\nname = "x"\ndependencies = ["click>=8.0", '
                                 '"rich"]\n[project.optional-dependencies]\nllm = ["numpy<2"]\n')
    repo.write("requirements-dev.txt", "pytest==8.0  # tests\nruff==0.4\n")
    repo.write("web/package.json", json.dumps({"dependencies": {"react": "^18.0.0"},
                                                "devDependencies": {"jest": "29"}}))
    repo.write("go.mod", "module x\n\ngo 1.22\n\nrequire (\n\tgithub.com/a/b v1.0.0\n"
                         "\tgolang.org/x/mod v0.1.0 // indirect\n)\n")
    repo.commit_all("base")
    repo.write("pyproject.toml", '[project]\nname = "x"\ndependencies = ["click>=8.1"]\n'
                                 '[project.optional-dependencies]\nllm = ["numpy<2", "torch"]\n')
    repo.write("requirements-dev.txt", "pytest==8.1\n")
    repo.write("web/package.json", json.dumps({"dependencies": {"react": "^18.2.0"},
                                                "devDependencies": {"jest": "29",
                                                                    "vitest": "1"}}))
    repo.write("go.mod", "module x\n\ngo 1.22\n\nrequire github.com/a/b v1.2.0\n")
    repo.git("add", "-A")
    report, _ = describe(run_cli)
    deps = {(d["manifest"], d["name"]): (d["change"], d["old"], d["new"])
            for d in report["facts"]["dependencies"]}
    assert deps == {
        ("pyproject.toml", "click"): ("bumped", ">=8.0", ">=8.1"),
        ("pyproject.toml", "rich"): ("removed", "", None),
        ("pyproject.toml", "torch"): ("added", None, ""),
        ("requirements-dev.txt", "pytest"): ("bumped", "==8.0", "==8.1"),
        ("requirements-dev.txt", "ruff"): ("removed", "==0.4", None),
        ("web/package.json", "react"): ("bumped", "^18.0.0", "^18.2.0"),
        ("web/package.json", "vitest"): ("added", None, "1"),
        ("go.mod", "github.com/a/b"): ("bumped", "v1.0.0", "v1.2.0"),
        ("go.mod", "golang.org/x/mod"): ("removed", "v0.1.0", None),
    }
    assert report["facts"]["scope"] == "dependencies-only"
    assert report["description"]["type"] == "build/CI"


def test_tests_only_change(repo: Repo, run_cli: RunCli) -> None:
    base(repo)
    repo.write("tests/test_core.py", "from pkg.core import area\n\n\ndef test_area():\n"
                                     "    assert area(2, 3) == 6\n    assert area(0, 3) == 0\n")
    repo.stage("tests/test_core.py")
    report, _ = describe(run_cli)
    assert report["facts"]["scope"] == "tests-only"
    assert report["facts"]["tests"]["changed_tests"] == ["tests/test_core.py"]
    assert symbols(report)["test_area"]["in_tests"] is True
    assert report["description"]["type"] == "tests"


def test_changed_code_with_its_test(repo: Repo, run_cli: RunCli) -> None:
    base(repo)
    repo.write("pkg/core.py", CORE.replace("return width * height", "return abs(width * height)"))
    repo.write("tests/test_core.py", "from pkg.core import area\n\n\ndef test_area():\n"
                                     "    assert area(-2, 3) == 6\n")
    repo.git("add", "-A")
    report, _ = describe(run_cli)
    assert report["facts"]["tests"]["tested_alongside"] == {"area": ["tests/test_core.py"]}
    assert report["facts"]["tests"]["untested"] == []
    assert report["description"]["type"] == "bug fix"


def test_docs_only_change_as_text_and_markdown(repo: Repo, run_cli: RunCli) -> None:
    base(repo)
    repo.write("README.md", "# demo\n\nMore words.\n")
    repo.write("docs/guide.rst", "Guide\n=====\n")
    repo.git("add", "-A")
    report, _ = describe(run_cli)
    assert report["facts"]["scope"] == "docs-only"
    assert report["description"]["type"] == "docs"
    code, out, _ = run_cli("describe", "--no-findings")
    assert code == 0 and "type: docs (rules, confidence 0.90)" in out and "README.md" in out
    code, md, _ = run_cli("describe", "--format", "markdown", "--no-findings")
    assert code == 0 and md.startswith("### ") and "**docs**" in md


def test_paths_narrow_the_change_and_findings_by_principle(repo: Repo, run_cli: RunCli) -> None:
    base(repo)
    repo.write("pkg/core.py", CORE + "\n\ndef add(item, items=[]):\n    items.append(item)\n"
                                     "    return items\n")
    repo.write("README.md", "# demo\n\nchanged\n")
    repo.git("add", "-A")
    code, out, err = run_cli("describe", "--format", "json", "pkg")
    assert code == 0, err
    facts = json.loads(out)["facts"]
    assert [f["path"] for f in facts["files"]] == ["pkg/core.py"]
    assert facts["findings"]["total"] >= 1
    assert facts["findings"]["by_principle"]["no-hidden-state"]["medium"] == 1
    assert any("RV101" in row for row in facts["findings"]["listed"])


# -- bad input -----------------------------------------------------------------------------
def test_base_ref_that_does_not_exist(repo: Repo, run_cli: RunCli) -> None:
    base(repo)
    code, out, err = run_cli("describe", "--base", "no-such-branch")
    assert code == 2 and out == ""
    assert err == "reviewer: error: base ref 'no-such-branch' not found\n"
    code, _, err = run_cli("describe", "--staged", "--base", "main")
    assert code == 2 and err.count("\n") == 1


def test_outside_a_repository(nogit: Path, run_cli: RunCli) -> None:
    code, _, err = run_cli("describe")
    assert code == 2 and err.startswith("reviewer: error: describe needs a git repository")


def test_binary_file(repo: Repo, run_cli: RunCli) -> None:
    base(repo)
    repo.write("logo.png", b"\x89PNG\r\n\x1a\n\0\0\0binary")
    repo.write("pkg/core.py", CORE + "\n\ndef extra():\n    return 1\n")
    repo.git("add", "-A")
    report, err = describe(run_cli)
    files = {f["path"]: f for f in report["facts"]["files"]}
    assert files["logo.png"]["binary"] is True and files["logo.png"]["added"] is None
    assert "extra" in symbols(report)  # the rest is still described
    assert "logo.png: binary file, compared by status only" in err


def test_rename_with_a_huge_diff(repo: Repo, run_cli: RunCli) -> None:
    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(3000))
    repo.write("big/old.py", body)
    repo.commit_all("base")
    repo.git("mv", "big/old.py", "big/new.py")
    changed = body.replace("return x + 7\n", "return x - 7\n").replace(
        "def f2999(x):", "def g2999(x, y=0):")
    repo.write("big/new.py", changed)
    repo.stage("big/new.py")
    report, _ = describe(run_cli)
    (f,) = report["facts"]["files"]
    assert (f["status"], f["old_path"], f["path"]) == ("renamed", "big/old.py", "big/new.py")
    got = symbols(report)
    assert {q: s["change"] for q, s in got.items()} == {
        "f7": "changed", "g2999": "added", "f2999": "removed"}  # new parameters: no rename


def test_shallow_clone_without_the_merge_base(repo: Repo, run_cli: RunCli, tmp_path: Path,
                                              monkeypatch: Any) -> None:
    base(repo)
    for i in range(3):
        repo.write("pkg/core.py", CORE + f"\n\ndef main_{i}():\n    return {i}\n")
        repo.commit_all(f"main {i}")
    repo.git("checkout", "-q", "-b", "topic", "HEAD~2")
    repo.write("pkg/topic.py", "def topic():\n    return 1\n")
    repo.commit_all("topic")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-single-branch",
                    f"file://{repo.path}", str(clone)], check=True, capture_output=True)
    monkeypatch.chdir(clone)
    subprocess.run(["git", "checkout", "-q", "topic"], cwd=clone, check=True)
    report, err = describe(run_cli, "--base", "origin/main")
    assert "no merge base with 'origin/main' in this shallow clone" in err
    assert err.count("\n") == 1
    paths = {f["path"] for f in report["facts"]["files"]}
    assert "pkg/topic.py" in paths
    assert report["facts"]["change"] == "against origin/main (shallow clone)"


def test_outline_parses_only_what_the_diff_touches() -> None:
    reader = PythonReader()
    source = ('"""Doc."""\nimport os\n\nTEMPLATE = """\ndef not_a_function():\n"""\n\n\n'
              "@decorator\ndef first(a):\n    return a\n\n\nclass Box:\n    def get(self):\n"
              "        return (\n1)\n")
    regions = reader.regions(source)
    assert [(r.start, r.end, r.name) for r in regions] == [
        (1, 1, None), (2, 3, None), (4, 8, None), (9, 13, "first"), (14, 16, "Box"),
        (17, 17, None)]  # the string at column 0 stays whole; the bracket's "1)" does not
    whole = reader.symbols(source)
    assert whole is not None and set(whole) == {"first", "Box", "Box.get"}
    assert reader.symbols(source, regions[3:4]) == {"first": whole["first"]}
    # Box's region is cut inside a bracket: the whole file is read instead.
    assert reader.symbols(source, regions[4:5]) == whole


def test_callers_come_from_the_context_index_when_there_is_one(repo: Repo,
                                                                run_cli: RunCli) -> None:
    pytest.importorskip("chromadb")
    from reviewer.config import Config
    from reviewer.context.embed import SentenceEmbedder, bundled_model_path
    from reviewer.context.indexer import ContextIndex, IndexSettings, open_store, update_index

    base(repo)
    settings = IndexSettings.from_config(repo.path, Config())
    index = ContextIndex(settings, open_store(settings),
                         SentenceEmbedder(bundled_model_path()))
    update_index(index)
    repo.write("pkg/core.py", CORE.replace("def area(width, height):",
                                           "def area(width, height, depth):"))
    repo.stage("pkg/core.py")
    report, _ = describe(run_cli)
    assert report["facts"]["callers_from"] == "context index"
    area = symbols(report)["area"]
    assert {c.split(":")[0] for c in area["callers"]} == {"pkg/use.py", "tests/test_core.py"}


SHAPES = '''\
class Shape:
    """A shape."""

    sides = 0

    @property
    def name(self):
        return "shape"

    def area(self):
        text = """
not code
"""
        return 0
'''


def test_inside_a_class_only_the_touched_members_count(repo: Repo, run_cli: RunCli) -> None:
    repo.write("shapes.py", SHAPES)
    repo.commit_all("base")
    repo.write("shapes.py", SHAPES.replace("return 0", "return 1"))
    repo.stage("shapes.py")
    report, _ = describe(run_cli)
    assert {q: s["change"] for q, s in symbols(report).items()} == {"Shape.area": "changed"}
    assert symbols(report)["Shape.area"]["line"] == 10
    repo.write("shapes.py", SHAPES.replace("sides = 0", "sides = 4").replace(
        "    @property\n    def name(self):", "    @property\n    def title(self):"))
    repo.stage("shapes.py")
    report, _ = describe(run_cli)
    got = {q: (s["change"], s["old_qualname"]) for q, s in symbols(report).items()}
    assert got == {"Shape": ("changed", None), "Shape.title": ("renamed", "Shape.name")}


def test_a_file_that_is_not_utf8(repo: Repo, run_cli: RunCli) -> None:
    base(repo)
    repo.write("legacy.py", "# -*- coding: latin-1 -*-\ndef f():\n    return 'caf\xe9'\n"
               .encode("latin-1"))
    repo.commit_all("latin-1")
    repo.write("legacy.py", "# -*- coding: latin-1 -*-\ndef f():\n    return 'th\xe9'\n"
               .encode("latin-1"))
    repo.stage("legacy.py")
    report, err = describe(run_cli)
    assert [f["path"] for f in report["facts"]["files"]] == ["legacy.py"]
    assert report["facts"]["symbols"] == []  # not "added": simply not compared
    assert "legacy.py: not UTF-8 text" in err
