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
from pathlib import Path
from typing import Any

from reviewer.languages.treesitter import parser_for, shipped_query

JS_QUERIES = ("eval", "tls", "console")
GO_QUERIES = ("tls", "print")
# The same checks as ast-grep rules (its YAML rule objects, as dicts).
_TIMERS = "eval|Function|setTimeout|setInterval|setImmediate|execScript"
AST_GREP_JS: list[dict[str, Any]] = [
    {"any": [
        {"kind": "call_expression", "has": {"field": "function", "regex": _TIMERS}},
        {"kind": "new_expression", "has": {"field": "constructor", "regex": "Function"}},
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
    for label, files, run_ts, run_ag in (
        (f"{len(js)} .js", js, lambda: tree_sitter_run(js, "javascript", JS_QUERIES, "js"),
         lambda: ast_grep_run(js, "javascript", AST_GREP_JS)),
        (f"{len(go)} .go", go, lambda: tree_sitter_run(go, "go", GO_QUERIES, "go"),
         lambda: ast_grep_run(go, "go", AST_GREP_GO)),
    ):
        if not files:
            continue
        size = sum(len(d) for _, d in files) / 1e6
        grammar, family, lang = ("go", "go", "go") if label.endswith(".go") else (
            "javascript", "js", "javascript")
        for engine, fn in (
            ("tree-sitter: parse + queries", run_ts), ("ast-grep-py: parse + rules", run_ag),
            ("tree-sitter: parse only", lambda: tree_sitter_run(files, grammar, (), family)),
            ("ast-grep-py: parse only", lambda: ast_grep_run(files, lang, [])),
        ):
            cpu, n = timed(fn, args.repeat)
            print(f"| {label} ({size:.1f} MB) | {engine} | {cpu:.3f} | {n} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
