"""Chunking by syntax: Python (ast), JavaScript (tree-sitter), docs by section, config whole."""

from __future__ import annotations

import textwrap

import pytest

from reviewer.context.chunks import (
    MAX_CONFIG_CHARS,
    WINDOW_LINES,
    chunk_file,
    label_of,
    language_of,
    module_name,
)

PY = textwrap.dedent('''\
    """The module docstring."""
    from __future__ import annotations

    import os
    from typing import TYPE_CHECKING

    if TYPE_CHECKING:
        from pkg.types import Thing

    __all__ = ["helper", "Store"]

    LIMIT = 10
    DEFAULTS = build_defaults(LIMIT)


    @cache
    def helper(path: str) -> str:
        """Join a path."""
        return os.path.join(path, normalise(path))


    class Store(Base):
        """A store."""

        # how many records at most
        size = 3

        def get(self, key):
            """Fetch one record."""
            return self.load(key)

        async def load(self, key):
            return await fetch(key)

        class Meta:
            ordering = ["id"]


    if __name__ == "__main__":
        main()
''')


def by_name(chunks: list) -> dict:
    return {c.name: c for c in chunks}


def test_python_functions_classes_methods_and_header() -> None:
    chunks = chunk_file("src/pkg/store.py", PY)
    names = by_name(chunks)
    assert list(names) == ["<module>", "<module>:12", "helper", "Store", "Store.get",
                           "Store.load", "Store.Meta", "<module>:39"]
    header = names["<module>"]
    assert header.kind == "module" and header.defines == ("__all__",)
    assert '"""The module docstring."""' in header.text
    assert "from pkg.types import Thing" in header.text
    assert "LIMIT" not in header.text
    consts = names["<module>:12"]
    assert consts.kind == "statements" and consts.defines == ("DEFAULTS", "LIMIT")
    assert consts.calls == ("build_defaults",)
    helper = names["helper"]
    assert (helper.kind, helper.start, helper.end) == ("function", 16, 19)
    assert helper.text.startswith("@cache\ndef helper")  # decorators belong to the function
    assert helper.defines == ("helper",) and helper.calls == ("join", "normalise")
    assert all(c.module == "pkg.store" and c.label == "code" for c in chunks)


def test_class_summary_elides_member_bodies_and_keeps_comments() -> None:
    names = by_name(chunk_file("pkg/store.py", PY))
    summary = names["Store"].text
    assert "# how many records at most" in summary
    assert "def get(self, key):\n        ...\n" in summary
    assert "Fetch one record" not in summary and "await fetch" not in summary
    method = names["Store.load"]
    assert method.kind == "method" and method.defines == ("load",)
    assert method.calls == ("fetch",)
    assert names["Store.get"].calls == ("load",)  # self.load() -> load


def test_chunk_ids_are_stable_and_change_with_content() -> None:
    first = {c.name: c.id for c in chunk_file("pkg/store.py", PY)}
    again = {c.name: c.id for c in chunk_file("pkg/store.py", PY)}
    assert first == again
    edited = {c.name: c.id for c in chunk_file("pkg/store.py", PY.replace("key)", "k)", 1))}
    assert edited["helper"] == first["helper"]
    assert edited["Store.get"] != first["Store.get"]
    assert first["helper"].startswith("pkg/store.py::helper::")


def test_duplicate_definitions_get_distinct_ids() -> None:
    code = "if A:\n    pass\n\ndef f():\n    pass\n\ndef f():\n    pass\n"
    chunks = [c for c in chunk_file("m.py", code) if c.kind == "function"]
    assert [c.name for c in chunks] == ["f", "f#2"]
    assert len({c.id for c in chunks}) == 2


def test_unparsable_python_falls_back_to_windows() -> None:
    code = "def broken(:\n" + "x = 1\n" * (WINDOW_LINES + 5)
    chunks = chunk_file("bad.py", code)
    assert [c.kind for c in chunks] == ["lines", "lines"]
    assert (chunks[0].start, chunks[0].end) == (1, WINDOW_LINES)


def test_line_numbers_follow_the_parser_with_odd_line_breaks() -> None:
    code = 'X = "a\x0cb"\n\n\ndef f():\n    return 1\n'
    f = by_name(chunk_file("m.py", code))["f"]
    assert (f.start, f.end) == (4, 5)
    assert f.text == "def f():\n    return 1\n"


@pytest.mark.parametrize(("path", "label"), [
    ("pkg/mod.py", "code"), ("tests/test_mod.py", "test"), ("pkg/mod_test.py", "test"),
    ("conftest.py", "test"), ("web/app.spec.js", "test"), ("docs/index.md", "docs"),
    ("README.rst", "docs"), ("pyproject.toml", "config"), ("setup.cfg", "config"),
    (".github/workflows/ci.yml", "config"),
])
def test_labels(path: str, label: str) -> None:
    language = language_of(path)
    assert language is not None
    assert label_of(path, language) == label


def test_unknown_and_empty_files_have_no_chunks() -> None:
    assert language_of("image.png") is None
    assert chunk_file("image.png", "x") == []
    assert chunk_file("empty.py", "\n\n") == []


def test_module_names() -> None:
    assert module_name("src/pkg/sub/mod.py") == "pkg.sub.mod"
    assert module_name("pkg/__init__.py") == "pkg"
    assert module_name("setup.py") == "setup"


def test_markdown_by_section_ignoring_fenced_code() -> None:
    md = textwrap.dedent("""\
        Intro before any heading.

        # Usage

        Call `helper()`.

        ```python
        # not a heading
        ```

        ## Options

        Some options.

        # API
        The API.
    """)
    chunks = chunk_file("docs/guide.md", md)
    assert [c.name for c in chunks] == ["guide.md", "Usage", "Usage > Options", "API"]
    assert all(c.label == "docs" and c.kind == "section" for c in chunks)
    usage = chunks[1]
    assert "# not a heading" in usage.text and (usage.start, usage.end) == (3, 10)


def test_rst_by_section() -> None:
    rst = "=====\nTitle\n=====\n\nIntro.\n\nInstall\n-------\n\npip.\n\nUse\n---\nrun.\n"
    chunks = chunk_file("README.rst", rst)
    assert [c.name for c in chunks] == ["Title", "Title > Install", "Title > Use"]
    assert chunks[0].start == 1 and chunks[1].start == 7


def test_long_sections_are_cut_at_blank_lines() -> None:
    para = ("word " * 100 + "\n\n") * 12
    chunks = chunk_file("doc.md", "# Big\n\n" + para)
    assert len(chunks) > 1
    assert [c.name for c in chunks][:2] == ["Big (1)", "Big (2)"]
    assert all(len(c.text) < 3500 for c in chunks)
    assert chunks[0].end + 1 == chunks[1].start


def test_config_whole_when_small_else_by_section() -> None:
    small = "[project]\nname = 'x'\n\n[tool.reviewer]\ncontext = true\n"
    chunks = chunk_file("pyproject.toml", small)
    assert len(chunks) == 1 and chunks[0].text == small and chunks[0].label == "config"
    big = "".join(f"[section{i}]\n" + "key = 'value'\n" * 40 for i in range(20))
    assert len(big) > MAX_CONFIG_CHARS
    parts = chunk_file("big.toml", big)
    assert len(parts) == 20 and parts[3].name == "big.toml [section3]"
    assert parts[3].text.startswith("[section3]\n")


def test_javascript_with_tree_sitter() -> None:
    pytest.importorskip("tree_sitter_javascript")
    js = textwrap.dedent("""\
        import { api } from "./api.js";

        export function load(id) {
          return api.get(id);
        }

        const save = async (item) => {
          await api.put(item);
        };

        class Cache {
          get(key) {
            return this.store.read(key);
          }
        }

        console.log("ready");
    """)
    chunks = by_name(chunk_file("web/cache.js", js))
    assert list(chunks) == ["<module>", "load", "save", "Cache", "Cache.get", "<module>:17"]
    assert chunks["load"].calls == ("get",) and chunks["load"].defines == ("load",)
    assert chunks["save"].kind == "function" and chunks["save"].calls == ("put",)
    assert chunks["Cache.get"].text.startswith("  get(key) {")
    assert "{ ... }" in chunks["Cache"].text
