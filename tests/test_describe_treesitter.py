"""`reviewer describe` on JavaScript, TypeScript and Go changes (real git repositories):
definitions read with tree-sitter, exported = public, signatures with types and return
types, callers found in files of the same language."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from reviewer.describe.readers import reader_for

if TYPE_CHECKING:
    from conftest import Repo

RunCli = Callable[..., tuple[int, str, str]]


def describe(run_cli: RunCli, *args: str) -> dict[str, Any]:
    code, out, err = run_cli("describe", "--format", "json", "--no-findings", *args)
    assert code == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


def symbols(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["qualname"]: s for s in report["facts"]["symbols"]}


SHAPES_JS = """\
export function area(w, h) {
  return w * h;
}

export class Shape {
  constructor(n) { this.n = n; }
  grow(k) { return this.n + k; }
}
"""


def test_js_exported_function_added_and_signature_changed_with_a_caller(
        repo: Repo, run_cli: RunCli) -> None:
    repo.write("src/shapes.js", SHAPES_JS)
    repo.write("src/use.js", "import { area } from './shapes.js';\n\n"
                             "console.log(area(1, 2));\n")
    repo.write("tool.py", "def area(w, h):\n    return 0\n\n\nprint(area(1, 2))\n")
    repo.commit_all("base")
    repo.write("src/shapes.js", SHAPES_JS.replace("area(w, h)", "area(w, h, scale = 1)")
               + "\nexport const perimeter = (w, h) => 2 * (w + h);\n"
               + "\nfunction helper(x) {\n  return x;\n}\n")
    repo.stage("src/shapes.js")
    report = describe(run_cli)
    got = symbols(report)
    assert set(got) == {"area", "perimeter", "helper"}
    assert report["facts"]["files"][0]["language"] == "javascript"
    added = got["perimeter"]
    assert (added["change"], added["kind"], added["public"]) == ("added", "function", True)
    assert added["signature"] == "(w, h)" and added["line"] == 10
    assert got["helper"]["change"] == "added" and not got["helper"]["public"]
    area = got["area"]
    assert area["change"] == "changed"
    assert (area["old_signature"], area["signature"]) == ("(w, h)", "(w, h, scale=1)")
    assert area["signature_changes"] == ["parameter scale added"]
    # The Python file's area() is another language's function: not a caller.
    assert area["callers"] == ["src/use.js:3"] and area["callers_total"] == 1
    assert report["facts"]["callers_from"] == "syntax scan"
    assert report["description"]["type"] == "feature"


PARSER_TS = """\
export interface Token { text: string }

export function parse(s: string, strict?: boolean): number {
  return s.length;
}

export class Parser {
  private cache(x: number): void {}
  run(input: string = ""): Token[] { return []; }
}
"""


def test_ts_return_type_change(repo: Repo, run_cli: RunCli) -> None:
    repo.write("lib/parser.ts", PARSER_TS)
    repo.write("lib/main.ts", "import { parse } from './parser';\n"
                              "const p = new Parser();\nparse('x');\np.run('y');\n")
    repo.commit_all("base")
    repo.write("lib/parser.ts", PARSER_TS.replace("): number {", "): number | null {")
               .replace("run(input: string = \"\"): Token[]", "run(input: string): Token[]")
               .replace("private cache(x: number)", "private cache(x: string)"))
    repo.stage("lib/parser.ts")
    report = describe(run_cli)
    got = symbols(report)
    assert set(got) == {"parse", "Parser.run", "Parser.cache"}
    parse = got["parse"]
    assert parse["old_signature"] == "(s: string, strict: boolean = undefined) -> number"
    assert parse["signature_changes"] == ["return annotation: number -> number | null"]
    assert parse["callers"] == ["lib/main.ts:3"]
    run = got["Parser.run"]
    assert (run["kind"], run["public"]) == ("method", True)
    assert run["signature_changes"] == ['default of input: "" -> none']
    assert run["callers"] == ["lib/main.ts:4"]
    cache = got["Parser.cache"]
    assert cache["change"] == "changed" and not cache["public"]
    assert "callers" not in cache or not cache["callers"]  # private: nobody outside calls it


SHAPE_GO = """\
package shape

type Shape struct {
\tN int
}

func New(n int) *Shape {
\treturn &Shape{N: n}
}

func (s *Shape) Size() int {
\ttotal := s.N * 2
\treturn total + 1
}

func helper() {}
"""


def test_go_method_renamed_and_exported_func_parameter_added(
        repo: Repo, run_cli: RunCli) -> None:
    repo.write("go.mod", "module example.com/shape\n\ngo 1.22\n")
    repo.write("shape/shape.go", SHAPE_GO)
    repo.write("cmd/main.go", 'package main\n\nimport "example.com/shape/shape"\n\n'
                              "func main() {\n\ts := shape.New(3)\n\t_ = s.Size()\n}\n")
    repo.commit_all("base")
    repo.write("shape/shape.go", SHAPE_GO.replace("func New(n int)", "func New(n int, name string)")
               .replace("func (s *Shape) Size()", "func (s *Shape) Area()")
               + "\ntype Kind = string\n")
    repo.write("shape/shape_test.go", 'package shape\n\nimport "testing"\n\n'
                                      'func TestNew(t *testing.T) {\n\t_ = New(1, "a")\n}\n')
    repo.stage("shape/shape.go", "shape/shape_test.go")
    report = describe(run_cli)
    got = symbols(report)
    assert set(got) == {"New", "Shape.Area", "Kind", "TestNew"}
    assert got["TestNew"]["in_tests"] and got["TestNew"]["change"] == "added"
    assert report["facts"]["files"][0]["language"] == "go"
    new = got["New"]
    assert (new["old_signature"], new["signature"]) == (
        "(n: int) -> *Shape", "(n: int, name: string) -> *Shape")
    assert new["signature_changes"] == ["parameter name added (required)"]
    assert new["callers"] == ["cmd/main.go:6", "shape/shape_test.go:6"]
    renamed = got["Shape.Area"]
    assert (renamed["change"], renamed["old_qualname"], renamed["kind"]) == (
        "renamed", "Shape.Size", "method")
    assert renamed["callers"] == ["cmd/main.go:7"]  # the old name's call sites
    assert (got["Kind"]["change"], got["Kind"]["kind"], got["Kind"]["public"]) == (
        "added", "type", True)
    tests = report["facts"]["tests"]
    assert tests["changed_tests"] == ["shape/shape_test.go"]
    assert tests["tested_alongside"] == {"New": ["shape/shape_test.go"]}
    assert tests["untested"] == ["Shape.Area"]


def test_a_js_file_that_does_not_parse(repo: Repo, run_cli: RunCli) -> None:
    repo.write("a.js", "export function f(a) { return a; }\n")
    repo.commit_all("base")
    repo.write("a.js", "export function f(a { return a; }\n")
    repo.stage("a.js")
    code, out, err = run_cli("describe", "--format", "json", "--no-findings")
    assert code == 0, err
    report = json.loads(out)
    assert report["facts"]["symbols"] == []
    assert any("a.js: the new version does not parse" in w for w in report["facts"]["warnings"])


def test_readers_by_extension_and_test_files() -> None:
    assert {reader_for(p).name for p in ("a.js", "b.mjs", "c.ts", "d.tsx", "e.go")  # type: ignore[union-attr]
            } == {"javascript", "typescript", "go"}
    tsx = reader_for("view.tsx")
    assert tsx is not None and set(tsx.symbols("export const A = () => <div/>;\n") or {}) == {"A"}
    go = reader_for("x_test.go")
    assert go is not None and go.is_test("x_test.go") and not go.is_test("x.go")
    js = reader_for("a.spec.ts")
    assert js is not None and js.is_test("src/a.spec.ts") and js.is_test("__tests__/a.js")
    assert js.imports("import {a} from './core';\nconst b = require(\"lib\");\n") == {
        "./core", "lib"}


def test_what_exported_means() -> None:
    js = reader_for("a.js")
    assert js is not None
    got = js.symbols("function a() {}\nfunction b() {}\nfunction c() {}\nfunction d() {}\n"
                     "function e() {}\nexport default a;\nexports.b = b;\n"
                     "module.exports.c = c;\nexport { d as dee };\n")
    assert got is not None and {q: s.public for q, s in got.items()} == {
        "a": True, "b": True, "c": True, "d": True, "e": False}
    ts = reader_for("a.ts")
    assert ts is not None
    got = ts.symbols("export abstract class X {\n  abstract m(): void;\n  #h() {}\n"
                     "  protected p() {}\n}\nenum E { A }\n")
    assert got is not None and {q: (s.kind, s.public) for q, s in got.items()} == {
        "X": ("class", True), "X.m": ("method", True), "X.#h": ("method", False),
        "X.p": ("method", False), "E": ("type", False)}
    go = reader_for("a.go")
    assert go is not None
    got = go.symbols("package p\ntype t struct{}\nfunc (x t) M(a, b int, rest ...string) {}\n"
                     "func (x *T) N(int) (r int) { return }\n")
    assert got is not None and {q: (s.public, s.signature and s.signature.text())
                                for q, s in got.items()} == {
        "t": (False, None), "t.M": (False, "(a: int, b: int, *rest: string)"),
        "T.N": (True, "(#1: int) -> (r int)")}


def test_a_python_only_change_does_not_import_tree_sitter(repo: Repo) -> None:
    repo.write("core.py", "def f(a):\n    return a\n")
    repo.write("web.js", "export function f(a) { return a; }\nf(1);\n")
    repo.commit_all("base")
    repo.write("core.py", "def f(a, b):\n    return a\n")
    repo.stage("core.py")
    probe = ("import atexit, sys\n"
             "atexit.register(lambda: print('LOADED', 'tree_sitter' in sys.modules))\n"
             "from reviewer.cli import main\n"
             "sys.argv = ['reviewer', 'describe', '--format', 'json', '--no-findings']\n"
             "main()\n")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=repo.path, check=False)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout[:run.stdout.rindex("LOADED")])
    assert symbols(report)["f"]["callers"] == []  # web.js's f(1) is JavaScript's f
    assert run.stdout.rstrip().endswith("LOADED False")
