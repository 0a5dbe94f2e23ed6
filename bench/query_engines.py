"""Tree-sitter queries (the shipped .scm files) against ast-grep-py on the same checks.

Both engines parse every file and find the same candidates: the RV601 eval/Function/timer
calls, RV608's TLS patterns, RV501's ``console.*`` (JavaScript) and ``fmt.Print*`` (Go).
Reported: CPU seconds (``time.process_time``, parse included, median of ``--repeat``) and
the number of matches each engine found (they must agree). ast-grep-py is not a project
dependency: run this from a throwaway virtual environment that has it and the same
tree-sitter wheels, with the checkout on PYTHONPATH, e.g.

    python3 -m venv /tmp/agvenv && /tmp/agvenv/bin/pip install ast-grep-py \\
        tree-sitter==0.26.1 tree-sitter-javascript tree-sitter-go
    PYTHONPATH=. /tmp/agvenv/bin/python bench/query_engines.py DIR [DIR...]
"""

from __future__ import annotations

import argparse
import statistics
import time
from functools import partial
from pathlib import Path
from typing import Any

from reviewer.languages.treesitter import parser_for, shipped_query

JS_QUERIES = ("eval", "tls", "console")
GO_QUERIES = ("tls", "print")
# The same checks as ast-grep rules (its YAML rule objects, as dicts).
_TIMERS = ("(eval|Function|Function[^A-Za-z0-9_$]*(call|apply|bind)|setTimeout|setInterval"
           "|setImmediate|execScript)[\"'`\\])]*$")
AST_GREP_JS: list[dict[str, Any]] = [
    {"any": [
        {"kind": "call_expression", "has": {"field": "function", "regex": _TIMERS}},
        {"kind": "new_expression", "has": {"field": "constructor", "regex": "Function$"}},
    ]},
    {"any": [
        {"kind": "pair", "all": [
            {"has": {"field": "key", "regex": "^[\"']?rejectUnauthorized[\"']?$"}},
            {"has": {"field": "value", "kind": "false"}}]},
        {"kind": "assignment_expression",
         "has": {"field": "left", "regex": "NODE_TLS_REJECT_UNAUTHORIZED$"}},
    ]},
    {"any": [
        {"kind": "member_expression",
         "has": {"field": "object", "kind": "identifier", "regex": "^console$"}},
        {"kind": "subscript_expression",
         "has": {"field": "object", "kind": "identifier", "regex": "^console$"}},
    ]},
]
AST_GREP_GO: list[dict[str, Any]] = [
    {"any": [
        {"kind": "keyed_element", "all": [
            {"has": {"nthChild": 1, "regex": "^InsecureSkipVerify$"}},
            {"has": {"nthChild": 2, "regex": "^true$"}}]},
        {"kind": "assignment_statement", "all": [
            {"has": {"field": "left", "regex": "InsecureSkipVerify$"}},
            {"has": {"field": "right", "regex": "^true$"}}]},
    ]},
    {"any": [
        {"kind": "call_expression", "has": {"field": "function", "regex": "^fmt\\.Print(ln|f)?$"}},
        {"kind": "call_expression", "has": {"field": "function", "kind": "identifier",
                                            "regex": "^print(ln)?$"}},
    ]},
]


def tree_sitter_run(files: list[tuple[str, bytes]], grammar: str, names: tuple[str, ...],
                    family: str) -> int:
    """Parse every file and run the shipped queries; the number of matches."""
    import tree_sitter

    parser = parser_for(grammar)
    queries = [shipped_query(grammar, family, n) for n in names]
    found = 0
    for _, data in files:
        root = parser.parse(data).root_node
        for q in queries if names else ():
            found += len(tree_sitter.QueryCursor(q).matches(root))
    return found


def tree_sitter_combined_run(files: list[tuple[str, bytes]], grammar: str,
                             names: tuple[str, ...], family: str) -> int:
    """As :func:`tree_sitter_run`, the query files compiled as one query (one pass a file,
    as the reviewer runs them)."""
    from importlib.resources import files as package_files

    import tree_sitter

    from reviewer.languages.treesitter import language_for

    folder = package_files("reviewer.languages") / "queries" / family
    text = "\n".join((folder / f"{n}.scm").read_text("utf-8") for n in names)
    query = tree_sitter.Query(language_for(grammar), text)
    parser = parser_for(grammar)
    return sum(len(tree_sitter.QueryCursor(query).matches(parser.parse(data).root_node))
               for _, data in files)


def ast_grep_run(files: list[tuple[str, bytes]], lang: str, rules: list[dict[str, Any]]) -> int:
    """Parse every file with ast-grep-py and run the equivalent rules; the number of matches."""
    from ast_grep_py import SgRoot

    found = 0
    for _, data in files:
        root = SgRoot(data.decode("utf-8", "replace"), lang).root()
        for rule in rules if rules else ():
            found += len(root.find_all({"rule": rule}))  # type: ignore[typeddict-item]
    return found


def timed(fn: Any, repeat: int) -> tuple[float, int]:
    """Median CPU seconds of ``fn()`` over ``repeat`` runs, and its result."""
    times, result = [], 0
    for _ in range(repeat):
        t0 = time.process_time()
        result = fn()
        times.append(time.process_time() - t0)
    return statistics.median(times), result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dirs", nargs="+", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    js = [(str(p), p.read_bytes()) for d in args.dirs for p in sorted(d.rglob("*.js"))]
    go = [(str(p), p.read_bytes()) for d in args.dirs for p in sorted(d.rglob("*.go"))]
    print("| files | engine | CPU s (median) | matches |")
    print("|---|---|---:|---:|")
    for files, grammar, family, names, rules in (
        (js, "javascript", "js", JS_QUERIES, AST_GREP_JS),
        (go, "go", "go", GO_QUERIES, AST_GREP_GO),
    ):
        if not files:
            continue
        label = f"{len(files)} .{'go' if family == 'go' else 'js'}"
        size = sum(len(d) for _, d in files) / 1e6
        runs = (
            ("tree-sitter: parse + queries", partial(tree_sitter_run, files, grammar, names,
                                                     family)),
            ("tree-sitter: parse + one combined query", partial(
                tree_sitter_combined_run, files, grammar, names, family)),
            ("ast-grep-py: parse + rules", partial(ast_grep_run, files, grammar, rules)),
            ("tree-sitter: parse only", partial(tree_sitter_run, files, grammar, (), family)),
            ("ast-grep-py: parse only", partial(ast_grep_run, files, grammar, [])),
        )
        for engine, fn in runs:
            cpu, n = timed(fn, args.repeat)
            print(f"| {label} ({size:.1f} MB) | {engine} | {cpu:.3f} | {n} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
