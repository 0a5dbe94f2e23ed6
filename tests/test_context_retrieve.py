"""Retrieval for a finding: definitions, callers, similar code, docs; ranked and trimmed."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import Repo

from reviewer.config import Config
from reviewer.context.retrieve import (
    Budget,
    ContextIndex,
    ContextItem,
    approx_tokens,
    focus_at,
    rank,
    render_context,
    retrieve,
    retrieve_for_finding,
    trim,
)
from reviewer.findings import Finding, Severity, Span

UTIL = textwrap.dedent('''\
    """Small helpers."""
    import os


    def join_path(base: str, name: str) -> str:
        """Join two parts of a path."""
        return os.path.join(base, name)


    def read_config(path: str) -> dict:
        """Read the settings file."""
        return {"path": join_path(path, "settings.toml")}
''')
OTHER = textwrap.dedent('''\
    def read_config(text):
        """A namesake in another module."""
        return text
''')
APP = textwrap.dedent('''\
    import json

    from pkg.util import read_config


    class App:
        """The application."""

        def start(self, root: str, items=[]) -> None:
            self.config = read_config(root)
            self.reload()
            data = json.dumps(self.config)
            return len(data)

        def reload(self) -> None:
            self.config = {}
''')
TESTS = textwrap.dedent('''\
    from pkg.util import read_config


    def test_read_config():
        assert read_config("x")["path"].endswith("settings.toml")
''')
GUIDE = "# Guide\n\nIntro.\n\n## Settings\n\nCall `read_config` with the folder.\n"


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ContextIndex]:
    """A small project, indexed once for the module's tests."""
    from reviewer.context.indexer import IndexSettings, make_embedder, open_store, update_index

    root = tmp_path_factory.mktemp("proj")
    files = {"pkg/__init__.py": "", "pkg/util.py": UTIL, "pkg/app.py": APP,
             "other/legacy.py": OTHER, "tests/test_util.py": TESTS, "docs/guide.md": GUIDE}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    settings = IndexSettings.from_config(root, Config())
    store = open_store(settings)
    embedder = make_embedder(settings)
    index = ContextIndex(settings, store, embedder)
    update_index(index)
    return root, index


def finding(path: str, line: int) -> Finding:
    return Finding("RV101", "mutable-default-argument", "mutable default", path, Span(line, 1),
                   Severity.MEDIUM)


# -- the flagged code (no index needed) ----------------------------------------------------
def test_focus_weighs_the_flagged_line_and_skips_locals_builtins_and_externals(
        tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    focus = focus_at("pkg/app.py", APP, 10, root=tmp_path)
    assert (focus.name, focus.callable_name, focus.klass) == ("App.start", "start", "App")
    assert (focus.start, focus.end) == (9, 13)
    assert focus.top_names(1) == ["read_config"]  # called on the flagged line
    assert focus.weights["read_config"] > focus.weights["config"] > focus.weights["reload"]
    assert not {"root", "data", "len", "json", "dumps", "self", "items"} & set(focus.weights)
    assert focus.origins == {"read_config": "pkg.util"}


def test_focus_outside_python_uses_identifiers() -> None:
    focus = focus_at("web/app.js", "function go(a) {\n  return helper(a);\n}\n", 2)
    assert focus.name == "go" and focus.top_names(1) == ["helper"]


# -- ranking and trimming ------------------------------------------------------------------
def item(kind: str, score: float, text: str, cid: str, why: str = "w") -> ContextItem:
    return ContextItem(kind, f"{cid}.py", 1, text.count("\n"), cid, "code", text, score, why,
                       cid)


def test_rank_deduplicates_keeping_the_best_score_and_every_reason() -> None:
    items = [item("similar", 0.5, "a\n", "a", "similar code"),
             item("definition", 0.9, "a\n", "a", "defines `a`"),
             item("caller", 0.7, "b\n", "b")]
    ranked = rank(items)
    assert [(i.chunk_id, i.kind, i.score) for i in ranked] == [
        ("a", "definition", 0.9), ("b", "caller", 0.7)]
    assert ranked[0].why == "similar code; defines `a`"


def test_trim_keeps_the_budget_and_cuts_long_items() -> None:
    long_text = "".join(f"line {n} of a long definition\n" for n in range(200))
    items = [item("definition", 0.9, long_text, "big"), item("caller", 0.8, "short()\n", "s"),
             item("similar", 0.4, long_text, "sim")]
    kept = trim(items, 200)
    assert [i.chunk_id for i in kept] == ["big", "s"]  # the long similar item is dropped
    assert kept[0].truncated and kept[0].text.startswith("line 0 ")
    assert approx_tokens(kept[0].text) <= 0.4 * 200
    assert kept[0].end == kept[0].start + kept[0].text.count("\n") - 1
    total = sum(approx_tokens(i.text) + 12 for i in kept)
    assert total <= 200
    assert trim(items, 0) == []


def test_trim_with_a_real_tokenizer() -> None:
    words = [item("definition", 0.9, "alpha beta gamma\n" * 3, "w")]
    kept = trim(words, 40, count_tokens=lambda s: len(s.split()))
    assert kept and kept[0].text == "alpha beta gamma\n" * 3


def test_render_context() -> None:
    assert render_context([]) == ""
    text = render_context([item("definition", 0.9, "def a():\n    pass\n", "a")])
    assert text.splitlines() == [
        "Context from this repository (for reference only; rewrite only the code shown after"
        " it):", "[definition] a.py:1-2 a", "def a():", "    pass"]


# -- with the real index -------------------------------------------------------------------
def test_definition_of_an_imported_name_ranks_first(indexed: tuple[Path, ContextIndex]) -> None:
    root, _ = indexed
    items = retrieve_for_finding(root, finding("pkg/app.py", 10), APP, 2000)  # shared index
    first = items[0]
    assert (first.kind, first.path, first.name) == ("definition", "pkg/util.py", "read_config")
    assert first.why.startswith("defines `read_config`, imported from pkg.util")
    kinds = {(i.kind, i.path, i.name) for i in items}
    assert ("definition", "pkg/app.py", "App.reload") in kinds
    assert ("definition", "pkg/app.py", "App") in kinds  # the enclosing class
    namesake = next(i for i in items if i.path == "other/legacy.py")
    assert namesake.score < first.score - 0.25
    assert not any(i.path == "pkg/app.py" and i.name == "App.start" for i in items)
    assert [i.score for i in items] == sorted((i.score for i in items), reverse=True)


def test_callers_and_docs_of_the_flagged_function(indexed: tuple[Path, ContextIndex]) -> None:
    _, index = indexed
    items = retrieve(index, "pkg/util.py", UTIL, (11, 11), Budget(2000))
    got = {(i.kind, i.path, i.name): i for i in items}
    assert ("caller", "pkg/app.py", "App.start") in got
    assert ("definition", "pkg/util.py", "join_path") in got
    docs = got[("docs", "docs/guide.md", "Guide > Settings")]
    assert docs.why == "mentions `read_config`"
    assert any(i.kind == "similar" for i in items)


def test_the_budget_is_respected(indexed: tuple[Path, ContextIndex]) -> None:
    _, index = indexed
    items = retrieve(index, "pkg/app.py", APP, (10, 10), Budget(60))
    assert items and sum(approx_tokens(i.text) + 12 for i in items) <= 60
    assert retrieve(index, "pkg/app.py", APP, (10, 10), Budget(0)) == []


def test_symbol_only_retrieval_without_the_model(indexed: tuple[Path, ContextIndex]) -> None:
    _, index = indexed
    plain = ContextIndex(index.settings, index.store, None)
    items = retrieve(plain, "pkg/util.py", UTIL, (11, 11), Budget(2000))
    assert {i.kind for i in items} == {"definition", "caller", "docs"}


# -- the command ---------------------------------------------------------------------------
RunCli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def small(repo: Repo) -> Repo:
    repo.write("pkg/__init__.py", "")
    repo.write("pkg/util.py", UTIL)
    repo.write("pkg/app.py", APP)
    repo.write("docs/guide.md", GUIDE)
    repo.commit_all()
    return repo


def test_cli_context(small: Repo, run_cli: RunCli) -> None:
    assert run_cli("index", "-q")[0] == 0
    code, out, err = run_cli("context", "pkg/app.py:10")
    assert code == 0, err
    first = out.splitlines()[0].split()
    assert first[1:4] == ["definition", "pkg/util.py:10-12", "read_config"]
    assert float(first[0]) > 0.8
    code, out, _ = run_cli("context", "pkg/app.py:10", "--format", "json", "--budget", "100")
    data = json.loads(out)
    assert (data["path"], data["line"]) == ("pkg/app.py", 10)
    assert data["items"][0]["name"] == "read_config"
    assert sum(approx_tokens(i["text"]) + 12 for i in data["items"]) <= 100
    code, out, _ = run_cli("context", "pkg/app.py:10", "--format", "prompt")
    assert out.startswith("Context from this repository") and "[definition] pkg/util.py" in out


@pytest.mark.parametrize(("args", "message"), [
    (["pkg/app.py"], "expected FILE:LINE, got 'pkg/app.py'"),
    (["pkg/app.py:0"], "expected FILE:LINE"),
    (["pkg/app.py:999"], "pkg/app.py has no line 999"),
    (["nope.py:1"], "path does not exist: nope.py"),
    (["pkg:1"], "not a file"),
    (["pkg/app.py:3"], "no repository index yet: run `reviewer index`"),
])
def test_cli_context_bad_input(small: Repo, run_cli: RunCli, args: list[str],
                               message: str) -> None:
    code, out, err = run_cli("context", *args)
    assert code == 2 and out == ""
    assert err.startswith(f"reviewer: error: {message}") and len(err.splitlines()) == 1


# -- the prompt's repository-context slot ----------------------------------------------------
def test_prompt_context_refreshes_the_file_and_adds_the_style(small: Repo,
                                                              run_cli: RunCli) -> None:
    from reviewer.context.provider import PromptContext

    assert run_cli("index", "-q")[0] == 0
    edited = APP.replace("        self.reload()\n",
                         "        self.reload()\n        fresh_helper(root)\n")
    edited += "\n\ndef fresh_helper(root):\n    return root\n"
    small.write("pkg/app.py", edited)
    provider = PromptContext(small.path, Config())
    text = provider(finding("pkg/app.py", 12), edited)
    assert provider.failure is None and provider.warning() is None
    assert text.startswith("Conventions of this repository (follow them):\n")
    assert "Context from this repository" in text
    assert "[definition] pkg/app.py:20-21 fresh_helper" in text  # indexed just now
    assert "[definition] pkg/util.py:10-12 read_config" in text


def test_prompt_context_without_an_index_never_fails(small: Repo) -> None:
    from reviewer.context.provider import PromptContext

    provider = PromptContext(small.path, Config(), fast=True)
    assert provider(finding("pkg/app.py", 10), APP) == ""
    assert provider.warning() == (
        "repository context skipped: no repository index yet: run `reviewer index`")


def test_prompt_context_fast_mode_loads_no_model(indexed: tuple[Path, ContextIndex]) -> None:
    from reviewer.context.provider import PromptContext

    root, _ = indexed
    provider = PromptContext(root, Config(), fast=True)
    text = provider(finding("pkg/app.py", 10), APP)
    assert "[definition] pkg/util.py:10-12 read_config" in text
    assert provider._index is not None and provider._index.embedder is None


class RecordingModel:
    """A chat backend that records its prompts and answers with a plain explanation."""

    name = "recording"

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def identity(self) -> str:
        return "recording"

    def complete(self, messages: Any, **_: Any) -> Any:
        from reviewer.llm.backend import Completion

        self.prompts.append(messages[-1]["content"])
        return Completion(json.dumps({"explanation": "Use None.", "fixed_code": None}))

    def count_tokens(self, text: str) -> int:
        return approx_tokens(text)

    def close(self) -> None:
        pass


def test_the_model_prompt_gets_the_repository_context(small: Repo, run_cli: RunCli) -> None:
    from dataclasses import replace

    from reviewer.llm.explain import explain_findings

    assert run_cli("index", "-q")[0] == 0
    model = RecordingModel()
    f = finding("pkg/app.py", 9)
    firsts = []  # each run's first prompt (a refused explanation is asked again)
    for context_on in (False, True):
        cfg = replace(Config(), context=context_on, cache=False)
        firsts.append(len(model.prompts))
        out, report = explain_findings([f], root=small.path, config=cfg, backend=model,
                                       read=lambda rel: (small.path / rel).read_text())
        assert out[0].explanation and report.warnings() == []  # the model's or the marked note
    without, with_context = model.prompts[firsts[0]], model.prompts[firsts[1]]
    assert "Context from this repository" not in without
    assert "Context from this repository" in with_context
    assert "[definition] pkg/util.py:10-12 read_config" in with_context
    assert "Conventions of this repository" in with_context
    assert with_context.index("Context from") < with_context.index("def start(")


def test_a_missing_index_is_one_warning(small: Repo) -> None:
    from dataclasses import replace

    from reviewer.llm.explain import explain_findings

    cfg = replace(Config(), context=True, cache=False)
    out, report = explain_findings([finding("pkg/app.py", 9)], root=small.path, config=cfg,
                                   backend=RecordingModel(),
                                   read=lambda rel: (small.path / rel).read_text())
    assert out[0].explanation  # the model's (judged) or the marked note
    assert report.warnings() == [
        "repository context skipped: no repository index yet: run `reviewer index`"]


def test_refresh_files_for_check(small: Repo, run_cli: RunCli) -> None:
    from reviewer.context.indexer import IndexSettings, open_store
    from reviewer.context.provider import refresh_files

    assert refresh_files(small.path, Config(), ["pkg/app.py"]) == (
        "repository index not refreshed: no repository index yet: run `reviewer index`")
    assert run_cli("index", "-q")[0] == 0
    small.write("pkg/app.py", APP + "\n\ndef added_later():\n    return 1\n")
    assert refresh_files(small.path, Config(), ["pkg/app.py", "pkg/util.py"]) is None
    store = open_store(IndexSettings.from_config(small.path, Config()), create=False)
    assert [c.name for c in store.get(where={"defines": {"$contains": "added_later"}})] == [
        "added_later"]


def test_focus_follows_import_aliases_and_shadowed_builtins(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    code = ("from pkg.types import is_ready as _ready\n"
            "from pkg.errors import ConnectionError\n\n\n"
            "def run(x):\n    if not _ready(x):\n        raise ConnectionError(x)\n"
            "    raise TimeoutError(x)\n")
    focus = focus_at("pkg/run.py", code, 6, 7, root=tmp_path)
    assert set(focus.weights) == {"is_ready", "ConnectionError"}  # TimeoutError: a builtin
    assert focus.origins == {"is_ready": "pkg.types", "ConnectionError": "pkg.errors"}


def test_focus_tells_imported_modules_from_imported_objects(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    for name in ("__init__", "sessions", "globals"):
        (tmp_path / "pkg" / f"{name}.py").write_text("")
    code = ("from . import sessions\nfrom .globals import current_app\n\n\n"
            "def go():\n    s = sessions.Session()\n    return current_app.url_for(s)\n")
    focus = focus_at("pkg/api.py", code, 6, 7, root=tmp_path)
    assert focus.origins == {"Session": "pkg.sessions", "current_app": "pkg.globals"}
    assert {"Session", "current_app", "url_for"} <= set(focus.weights)
    assert "sessions" not in focus.weights  # a module, not a definition to look up


def test_check_with_context_refreshes_the_changed_files(small: Repo, run_cli: RunCli) -> None:
    """`check --explain` with context on brings the reviewed files up to date in the index."""
    from model_fake import serve_model

    assert run_cli("index", "-q")[0] == 0
    small.write("pyproject.toml", "[tool.reviewer]\ncontext = true\n")
    # The new helper's file has no finding: only the review's changed files bring it in.
    small.write("pkg/extra.py", "def brand_new_helper(items):\n    return items\n")
    small.write("pkg/bad.py", "def collect(items=[]):\n    return items\n")
    small.stage("pkg/extra.py", "pkg/bad.py")
    with serve_model() as model:  # a local OpenAI-compatible stand-in: prompts get built
        code, out, err = run_cli("check", "--staged", "--explain", "--select", "RV101",
                                 "--server-url", model.url, "--llm-timeout", "30")
        assert model.prompts, err
    assert code == 1 and "RV101" in out, err
    assert "not refreshed" not in err
    # The new function is in the index now: retrieval finds its definition.
    small.write("pkg/use.py", "from pkg.extra import brand_new_helper\n\nbrand_new_helper()\n")
    code, out, err = run_cli("context", "pkg/use.py:3")
    assert code == 0, err
    assert "brand_new_helper" in out and "pkg/extra.py" in out
