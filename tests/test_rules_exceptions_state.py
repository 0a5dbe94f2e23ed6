"""Behaviour of the exception and hidden-state rules that the embedded examples cannot show:
exact finding counts and spans, how the rules divide a handler between them, options read
from pyproject.toml through the real CLI, and the scope resolution they rely on."""

from __future__ import annotations

import ast
import json
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reviewer.findings import Finding, apply_edits, group_findings
from reviewer.languages.python import PYTHON, PyContext
from reviewer.rules import all_rules
from reviewer.suppressions import apply_inline

RunResult = tuple[int, str, str]


def review(code: str, *ids: str, path: str = "pkg/mod.py", **options: Any) -> list[Finding]:
    """Findings of the given rules on ``code`` (options apply to every rule given)."""
    rules = [all_rules()[i](options or None) for i in ids]
    return PYTHON.review(path, textwrap.dedent(code), rules)


def context(code: str) -> PyContext:
    parsed = PYTHON.parse("m.py", textwrap.dedent(code))
    assert isinstance(parsed, PyContext)
    return parsed


# -- how the exception rules share a handler ------------------------------------------------
def test_broad_handler_that_does_nothing_is_reported_once_by_rv203() -> None:
    found = review("try:\n    run()\nexcept Exception:\n    pass\n", "RV201", "RV202", "RV203")
    assert [f.rule_id for f in found] == ["RV203"]


def test_bare_handler_that_does_nothing_gets_both_bare_and_swallowed() -> None:
    found = review("try:\n    run()\nexcept:\n    pass\n", "RV201", "RV202", "RV203")
    assert sorted(f.rule_id for f in found) == ["RV201", "RV203"]
    assert {f.span.line for f in found} == {3}


def test_broad_handler_with_a_body_is_rv202_only() -> None:
    found = review("try:\n    run()\nexcept Exception as e:\n    print(e)\n", "RV202", "RV203")
    assert [(f.rule_id, f.span.line) for f in found] == [("RV202", 3)]
    assert "Exception" in found[0].message


def test_rv201_points_at_the_except_keyword() -> None:
    [f] = review("def f():\n    try:\n        run()\n    except:\n        log()\n", "RV201")
    assert (f.span.line, f.span.col, f.span.end_line, f.span.end_col) == (4, 5, 4, 11)
    assert f.symbol == "f"


def test_rv202_points_at_the_broad_name_inside_a_tuple() -> None:
    [f] = review("try:\n    run()\nexcept (KeyError, BaseException):\n    log()\n", "RV202")
    assert (f.span.line, f.span.col) == (3, 19)
    assert "BaseException" in f.message


def test_rv203_span_covers_the_handler_body() -> None:
    # The accuracy benchmark reads the body through the span to tell pass from continue.
    code = "for x in xs:\n    try:\n        run(x)\n    except Exception:\n        continue\n"
    [f] = review(code, "RV203")
    assert (f.span.line, f.span.end_line) == (4, 5)
    assert "just continues" in f.message


def test_rv203_typed_handlers_only_with_the_option() -> None:
    code = "try:\n    run()\nexcept (KeyError, OSError):\n    pass\n"
    assert review(code, "RV203") == []
    [f] = review(code, "RV203", check_typed_exceptions=True)
    assert "(KeyError, OSError)" in f.message


# -- hidden state ---------------------------------------------------------------------------
def test_rv103_reports_once_per_function_and_name() -> None:
    code = """\
        CACHE = {}
        ORDER = []
        def put(k, v):
            CACHE[k] = v
            CACHE.setdefault('n', 0)
            ORDER.append(k)
        def drop(k):
            del CACHE[k]
        """
    found = review(code, "RV103")
    assert [(f.span.line, f.symbol) for f in found] == [(4, "put"), (6, "put"), (8, "drop")]
    assert "CACHE" in found[0].message and "ORDER" in found[1].message


def test_rv103_skips_test_files_unless_asked() -> None:
    code = "calls = []\ndef fake(*a):\n    calls.append(a)\n"
    assert review(code, "RV103", path="tests/test_api.py") == []
    assert len(review(code, "RV103", path="tests/test_api.py", include_tests=True)) == 1


def test_rv102_distinguishes_rebinding_from_useless_declarations() -> None:
    code = """\
        COUNT = 0
        SEEN = set()
        def bump():
            global COUNT
            COUNT += 1
        def mark(x):
            global SEEN
            SEEN.add(x)
        """
    rebinding, useless = review(code, "RV102")
    assert "rebinds" in rebinding.message and rebinding.fix is None
    assert "never rebound" in useless.message and useless.fix is not None


def test_rv102_fix_at_the_end_of_a_file_without_newline() -> None:
    code = "X = 1\nglobal X"
    [f] = review(code, "RV102")
    assert f.fix is not None
    assert apply_edits(code, f.fix.edits) == "X = 1\n"


def test_rv102_no_fix_when_it_would_empty_a_block_or_share_a_line() -> None:
    only = review("def f():\n    global X\n", "RV102")
    shared = review("def f():\n    y = 1; global X\n    return y\n", "RV102")
    assert [f.fix for f in only + shared] == [None, None]


def test_rv101_module_level_default_gets_an_unsafe_copy_and_a_literal_a_safe_fix() -> None:
    code = "HEHE = {}\ndef f(a=HEHE, b=[]):\n    return a, b\n"
    by_col = {f.span.col: f for f in review(code, "RV101")}
    module, literal = by_col[9].fix, by_col[17].fix
    assert "module-level" in by_col[9].message
    assert module is not None and not module.safe and "dict(HEHE)" in module.edits[1].text
    assert literal is not None and literal.safe
    # Filled through the default: no fix (see tests/test_fix_rules.py for the other cases).
    (filled,) = review("HEHE = {}\ndef f(a=HEHE):\n    a[1] = 2\n", "RV101")
    assert filled.fix is None


# -- print ----------------------------------------------------------------------------------
def test_rv501_script_guard_combined_with_another_condition() -> None:
    code = "import sys\nprint('x')\nif sys.platform != 'nt' and __name__ == '__main__':\n    pass\n"
    assert review(code, "RV501") == []


def test_rv501_print_to_stderr_is_still_reported_but_not_to_a_given_stream() -> None:
    code = "import sys\ndef f(out):\n    print(1, file=sys.stderr)\n    print(2, file=out)\n"
    assert [f.span.line for f in review(code, "RV501")] == [3]


def test_rv501_groups_the_prints_of_one_function() -> None:
    code = ("def show(rows):\n    print('rows:')\n    for r in rows:\n        print(r)\n"
            "    print('end')\n\ndef other():\n    print('x')\n")
    found = group_findings(review(code, "RV501"))  # as the engine does, after suppressions
    assert [(f.span.line, [s.line for s in f.related]) for f in found] == [(2, [4, 5]), (8, [])]
    assert found[0].message.endswith("(3 places in show(); also lines 4, 5)")
    ungrouped = group_findings(review(code, "RV501", group_per_function=False))
    assert [f.span.line for f in ungrouped] == [2, 4, 5, 8]
    # A suppression hides one place; the others stay grouped.
    kept, _ = apply_inline(review(code, "RV501"),
                           code.replace("'rows:')", "'rows:')  # noqa: T201"), "pkg/mod.py")
    assert [(f.span.line, [s.line for s in f.related]) for f in kept] == [(4, [5]), (8, [])]


def test_grouped_prints_in_json_and_sarif(repo: Any, run_cli: Callable[..., RunResult]) -> None:
    import jsonschema

    repo.write("pkg/show.py", "def show(rows):\n    print('rows:')\n    for r in rows:\n"
                              "        print(r)\n")
    code, out, _ = run_cli("check", "--all", "--format", "json", "--select", "RV501")
    assert code == 1
    [finding] = json.loads(out)["findings"]
    assert (finding["line"], finding["related"]) == (
        2, [{"line": 4, "col": 9, "end_line": 4, "end_col": 17}])
    schema = json.loads((Path(__file__).resolve().parents[1] / "reviewer" / "report"
                         / "json_schema.json").read_text("utf-8"))
    jsonschema.validate(json.loads(out), schema)
    _, out, _ = run_cli("check", "--all", "--format", "sarif", "--select", "RV501")
    [result] = json.loads(out)["runs"][0]["results"]
    [related] = result["relatedLocations"]
    assert related["physicalLocation"]["region"]["startLine"] == 4
    sarif_schema = Path(__file__).resolve().parents[2] / "shared" / "schemas" / (
        "sarif-schema-2.1.0.json")
    if sarif_schema.is_file():
        schema = json.loads(sarif_schema.read_text("utf-8"))
        validator = jsonschema.validators.validator_for(schema)(schema)
        assert not list(validator.iter_errors(json.loads(out)))


def test_a_print_added_to_a_function_that_had_one_is_reported_in_the_diff(
    repo: Any, run_cli: Callable[..., RunResult]
) -> None:
    repo.write("pkg/show.py", "def show(rows):\n    print('rows:')\n    return rows\n")
    repo.commit_all()
    repo.write("pkg/show.py", "def show(rows):\n    print('rows:')\n    print(rows)\n"
                              "    return rows\n")
    repo.stage("pkg/show.py")
    code, out, _ = run_cli("check", "--staged", "--format", "json", "--select", "RV501",
                           "--no-cache")
    [finding] = json.loads(out)["findings"]
    assert (code, finding["line"], [r["line"] for r in finding["related"]]) == (1, 2, [3])


def test_unsure_findings_are_shown_but_do_not_fail_check(
    repo: Any, run_cli: Callable[..., RunResult]
) -> None:
    # RV607 is unsure of an assert that only narrows a type: info, below fail-on = "low".
    repo.write("pkg/m.py", "def f(x):\n    assert x is not None\n    return x\n")
    code, out, _ = run_cli("check", "--all", "--format", "json", "--select", "RV607")
    [finding] = json.loads(out)["findings"]
    assert (code, finding["severity"]) == (0, "info")
    code, out, _ = run_cli("check", "--all", "--select", "RV607")
    assert code == 0 and "pkg/m.py:2:" in out
    repo.write("pyproject.toml", '[tool.reviewer]\nfail-on = "info"\n')
    code, _, _ = run_cli("check", "--all", "--select", "RV607")
    assert code == 1


# -- options through the real CLI -----------------------------------------------------------
def test_broad_exceptions_option_from_pyproject(
    repo: Any, run_cli: Callable[..., RunResult]
) -> None:
    repo.write(
        "pyproject.toml",
        '[tool.reviewer.rules.RV202]\nbroad_exceptions = ["Exception", "app.errors.AppError"]\n',
    )
    repo.write(
        "svc.py",
        "from app.errors import AppError\n"
        "def run(job):\n    try:\n        job()\n    except AppError as e:\n        print(e)\n",
    )
    code, out, _ = run_cli("check", "--all", "--format", "json", "--select", "RV202", "--no-cache")
    assert code == 1
    [finding] = json.loads(out)["findings"]
    assert (finding["rule_id"], finding["line"]) == ("RV202", 5)


def test_wrong_option_type_is_a_config_error(
    repo: Any, run_cli: Callable[..., RunResult]
) -> None:
    repo.write("pyproject.toml", "[tool.reviewer.rules.RV203]\ncheck_typed_exceptions = 1\n")
    repo.write("a.py", "x = 1\n")
    code, _, err = run_cli("check", "--all", "--no-cache")
    assert code == 2
    assert "check_typed_exceptions" in err


# -- the scope resolution the rules rely on -------------------------------------------------
def _resolved(code: str) -> list[tuple[int, str]]:
    ctx = context(code)
    out = []
    for node in ctx.nodes(ast.Name):
        assert isinstance(node, ast.Name)
        if node.id == "X":
            scope = ctx.resolve("X", node)
            out.append((node.lineno, type(scope).__name__))
    return out


def test_resolve_follows_python_scoping() -> None:
    code = """\
        X = []
        def f(a=X):
            X.append(a)
        class C:
            X = 1
            def m(self):
                return X
            y = [X for _ in range(2)]
        def g():
            return [0 for X in X]
        """
    assert _resolved(code) == [
        (1, "Module"),
        (2, "Module"),  # a default is evaluated outside the function
        (3, "Module"),
        (5, "ClassDef"),
        (7, "Module"),  # class bodies are not visible from methods
        (8, "Module"),  # ...nor from comprehensions in them
        (10, "ListComp"),  # the comprehension's own variable
        (10, "Module"),  # its first iterable is evaluated outside it
    ]


def test_bindings_see_globals_nonlocals_and_nested_definitions() -> None:
    ctx = context(
        """\
        def f(p, *args, kw=1, **rest):
            global G
            G = 1
            import os.path
            def inner():
                nonlocal q
            class K:
                z = 1
            [w := 1 for _ in range(1)]
            try:
                pass
            except OSError as err:
                pass
        """
    )
    fn = ctx.functions()[0]
    b = ctx.bindings(fn)
    assert b.declared_global == {"G"} and "G" in b.assigned and "G" not in b.local
    assert {"p", "args", "kw", "rest", "os", "inner", "K", "w", "err"} <= b.local
    assert "z" not in b.local and "_" not in b.local
