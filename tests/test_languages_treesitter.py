"""JavaScript, TypeScript and Go through the tree-sitter plug-ins, on every channel.

Real git repositories, the real CLI in-process, the real pre-commit, the SARIF schema.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest

from reviewer.context.chunks import chunk_file
from reviewer.findings import Fix, TextEdit
from reviewer.languages import detect
from reviewer.languages.treesitter import GO, JAVASCRIPT, TYPESCRIPT
from reviewer.llm.prompts import PromptBuilder
from reviewer.llm.validate import FileValidator
from reviewer.rules import all_rules, rules_for
from reviewer.suppressions import parse

if TYPE_CHECKING:
    from conftest import JsonRun, Repo, RunResult

SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "sarif-schema-2.1.0.json"

LIB_JS = """\
export function run(code) {
  return eval(code);
}

export function load(p) {
  return fetch(p).catch(() => {});
}
"""
LIB_GO = """\
package store

import (
\t"database/sql"
\t"fmt"
\t"os"
)

// Find looks a user up.
func Find(db *sql.DB, name string) {
\tq := fmt.Sprintf("SELECT * FROM users WHERE name = '%s'", name)
\tdb.Query(q)
\tos.Remove(name)
}
"""
LIB_TS = """\
export function shout(msg: string): void {
  console.log(msg.toUpperCase());
}
"""


def review(lang: Any, path: str, code: str) -> list[tuple[int, str]]:
    rules = [cls() for cls in rules_for(lang.name).values()]
    return sorted((f.span.line, f.rule_id) for f in lang.review(path, code, rules))


# -- plug-ins ------------------------------------------------------------------------------
def test_detection_by_extension_and_shebang() -> None:
    assert detect("a/b.mjs", b"") is JAVASCRIPT and detect("x.cjs", b"") is JAVASCRIPT
    assert detect("c.tsx", b"") is TYPESCRIPT and detect("c.mts", b"") is TYPESCRIPT
    assert detect("main.go", b"") is GO
    assert detect("bin/tool", b"#!/usr/bin/env node\n") is JAVASCRIPT


def test_syntax_error_is_rv000_at_the_first_error_and_the_rest_is_reviewed() -> None:
    code = "function ok(a) {\n  return a;\n}\nlet x = (;\nfunction bad(s) {\n  eval(s);\n}\n"
    found = review(JAVASCRIPT, "lib.js", code)
    assert (4, "RV000") in found and (6, "RV601") in found
    go = "package p\n\nfunc f( {\n}\n\nfunc g(c string) {\n\texec.Command(\"sh\", \"-c\", c)\n}\n"
    found = review(GO, "p.go", go)
    assert found[0] == (3, "RV000") and (7, "RV602") in found


def test_one_rule_id_across_languages() -> None:
    too_complex = all_rules()["RV302"]
    assert too_complex.languages() == ("python", "javascript", "typescript", "go")
    assert {"RV302", "RV601", "RV606", "RV104", "RV204"} <= set(rules_for("javascript"))
    assert "RV104" not in rules_for("go") and "RV205" in rules_for("go")
    meta = too_complex.metadata()
    assert meta["languages"] == ["python", "javascript", "typescript", "go"]
    assert any(p.endswith(".go") for p in meta["examples"]["invalid_paths"])


# -- suppressions ----------------------------------------------------------------------------
def test_line_block_and_file_suppressions(repo: Repo, run_json: Callable[..., JsonRun]) -> None:
    repo.write("a.js", "eval(x); // reviewer: ignore[RV601] trusted input\n"
                       "eval(y); /* reviewer: ignore[RV601] */\n"
                       "eval(z);\n")
    repo.write("b.go", "// reviewer: ignore-file[RV501]\npackage b\n\nimport \"fmt\"\n\n"
                       "// Show shows.\nfunc Show() {\n\tfmt.Println(1)\n}\n")
    assert [s.codes for s in parse("x /* reviewer: ignore[RV601] */\n", "a.js")] == [("RV601",)]
    code, report, _ = run_json("--all", "--no-cache", "--select", "RV601,RV501")
    assert [(f["path"], f["line"], f["rule_id"]) for f in report["findings"]] == [
        ("a.js", 3, "RV601")]
    assert code == 1


def test_eslint_and_gosec_comments_hide_the_counterpart(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    repo.write("a.js", "eval(a); // eslint-disable-line no-eval\n"
                       "// eslint-disable-next-line no-eval -- trusted\neval(b);\n"
                       "eval(c); // eslint-disable-line no-console\n")
    repo.write("b.go", "package main\n\nimport \"os/exec\"\n\nfunc run(c string) {\n"
                       "\texec.Command(\"sh\", \"-c\", c) // #nosec G204\n"
                       "\texec.Command(\"sh\", \"-c\", c) //nolint:gosec\n"
                       "\texec.Command(\"sh\", \"-c\", c) // #nosec G101\n}\n")
    _, report, _ = run_json("--all", "--no-cache", "--select", "RV601,RV602")
    assert [(f["path"], f["line"]) for f in report["findings"]] == [("a.js", 4), ("b.go", 8)]
    repo.write("pyproject.toml", "[tool.reviewer]\nhonor-foreign-suppressions = false\n")
    _, report, _ = run_json("--all", "--no-cache", "--select", "RV601,RV602")
    assert len(report["findings"]) == 6


# -- the CLI: diff modes, formats, baseline ---------------------------------------------------
def _base(repo: Repo) -> None:
    repo.write("web/app.js", "export const version = 1;\n")
    repo.write("store/find.go", "package store\n")
    repo.commit_all("base")


def test_staged_change_reports_only_changed_files_and_lines(
    repo: Repo, run_json: Callable[..., JsonRun], run_cli: Callable[..., RunResult]
) -> None:
    _base(repo)
    repo.write("web/lib.js", LIB_JS)
    repo.write("store/find.go", LIB_GO)
    repo.write("web/shout.ts", LIB_TS)
    repo.write("web/untouched.js", "eval(x);\n")  # not staged: not reviewed
    repo.stage("web/lib.js", "store/find.go", "web/shout.ts")
    code, report, _ = run_json("--no-cache")
    found = {(f["path"], f["line"], f["rule_id"]) for f in report["findings"]}
    assert {("web/lib.js", 2, "RV601"), ("web/lib.js", 6, "RV203"),
            ("store/find.go", 12, "RV603"), ("store/find.go", 13, "RV205"),
            ("web/shout.ts", 2, "RV501")} <= found
    assert not any(p == "web/untouched.js" for p, _, _ in found)
    assert code == 1
    text_code, out, _ = run_cli("check", "--no-cache", "--format", "text")
    assert text_code == 1 and "web/lib.js:2:10: RV601" in out


def test_sarif_of_js_go_ts_validates(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    if not SCHEMA.is_file():
        pytest.skip(f"SARIF schema not found at {SCHEMA}")
    repo.write("web/lib.js", LIB_JS)
    repo.write("store/find.go", LIB_GO)
    repo.write("web/shout.ts", LIB_TS)
    repo.commit_all()
    code, out, err = run_cli("check", "--all", "--no-cache", "--format", "sarif")
    assert code == 1, err
    log = json.loads(out)
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(log)
    run = log["runs"][0]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            for r in run["results"]}
    assert {"web/lib.js", "store/find.go", "web/shout.ts"} <= uris
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert "```go" in rules["RV603"]["help"]["markdown"]


def test_github_annotations(repo: Repo, run_cli: Callable[..., RunResult]) -> None:
    repo.write("store/find.go", LIB_GO)
    repo.commit_all()
    code, out, _ = run_cli("check", "--all", "--no-cache", "--format", "github")
    assert code == 1
    assert "::error file=store/find.go,line=12" in out or "file=store/find.go,line=12" in out


def test_baseline_fingerprints_survive_line_moves(
    repo: Repo, run_cli: Callable[..., RunResult], run_json: Callable[..., JsonRun]
) -> None:
    repo.write("web/lib.js", LIB_JS)
    repo.write("store/find.go", LIB_GO)
    repo.commit_all()
    code, _, err = run_cli("baseline")
    assert code == 0, err
    repo.write("web/lib.js", "// moved down\n\n" + LIB_JS)
    repo.write("store/find.go", LIB_GO.replace("// Find looks", "// A comment.\n\n// Find looks"))
    repo.commit_all("move")
    code, report, _ = run_json("--all", "--no-cache")
    assert (code, report["findings"]) == (0, [])
    known = json.loads((repo.path / ".reviewer" / "baseline.json").read_text())["findings"]
    assert report["summary"]["hidden_by_baseline"] == len(known) >= 4


# -- pre-commit -------------------------------------------------------------------------------
def test_pre_commit_try_repo_on_a_js_and_a_go_change(
    repo: Repo, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tree_snapshot import committed_copy

    hook_repo = tmp_path_factory.mktemp("hook-repo-ts")
    sha = committed_copy(hook_repo)
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path_factory.mktemp("pc-home")))
    env = {**os.environ,
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    _base(repo)
    repo.write("web/lib.js", LIB_JS)
    repo.write("store/find.go", LIB_GO)
    repo.stage("web/lib.js", "store/find.go")
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(hook_repo), "reviewer-system",
         "--ref", sha, "--files", "web/lib.js", "store/find.go"],
        cwd=repo.path, capture_output=True, text=True, env=env)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "web/lib.js:2:10: RV601" in proc.stdout
    assert "store/find.go:12:" in proc.stdout and "RV603" in proc.stdout


# -- context index, prompts, model-fix validation ---------------------------------------------
def test_context_chunks_for_go_and_typescript() -> None:
    go = chunk_file("store/find.go", LIB_GO + "\ntype User struct{ Name string }\n\n"
                    "func (u *User) Greet() string { return u.Name }\n")
    assert [(c.name, c.kind, c.language) for c in go] == [
        ("<module>", "module", "go"), ("Find", "function", "go"), ("User", "type", "go"),
        ("User.Greet", "method", "go")]
    ts = chunk_file("web/shout.ts", "interface Box { v: number }\n" + LIB_TS)
    assert [(c.name, c.kind, c.language) for c in ts] == [
        ("Box", "type", "typescript"), ("shout", "function", "typescript")]


def test_explain_prompt_names_the_language_and_shows_its_examples() -> None:
    from reviewer.llm.prompts import Target, region_of_lines

    rule_cls = all_rules()["RV302"]
    finding = JAVASCRIPT.review("web/lib.js", "function f(a) {\n  return a ? 1 : 2;\n}\n",
                                [rule_cls({"max_complexity": 1})])[0]
    builder = PromptBuilder(lambda s: len(s) // 4, context_size=8192)
    lines = ["function f(a) {\n", "  return a ? 1 : 2;\n", "}\n"]
    prompt = builder.build(rule_cls, finding, "".join(lines),
                           Target(region_of_lines(lines, 1, 3, "function")))
    text = "\n".join(m["content"] for m in prompt.messages)
    assert "JavaScript code" in text and "```javascript" in text
    assert "Python" not in text and "def " not in text


def test_model_fix_is_reparsed_with_tree_sitter() -> None:
    source = "export function run(code) {\n  return eval(code);\n}\n"
    rules = [cls() for cls in rules_for("javascript").values()]
    validator = FileValidator("web/lib.js", source, rules, "javascript")
    finding = next(f for f in validator.before if f.rule_id == "RV601")
    broken = Fix("model", (TextEdit(2, 1, 2, 21, "  return JSON.parse(code;"),), safe=False)
    assert "does not parse" in (validator.check(finding, broken) or "")
    good = Fix("model", (TextEdit(2, 1, 2, 21, "  return JSON.parse(code);"),), safe=False)
    assert validator.check(finding, good) is None


def test_shipped_queries_compile_once_per_grammar_into_one_query() -> None:
    from importlib.resources import files

    from reviewer.languages.treesitter import shipped_queries

    for grammar, family in (("javascript", "js"), ("typescript", "js"), ("tsx", "js"),
                            ("go", "go")):
        query, owners = shipped_queries(grammar, family)
        folder = files("reviewer.languages") / "queries" / family
        names = {f.name.removesuffix(".scm") for f in folder.iterdir()
                 if f.name.endswith(".scm")}
        assert set(owners) == names and query.pattern_count == len(owners)
        assert shipped_queries(grammar, family)[0] is query  # compiled once per process


def test_query_matches_are_split_by_file_and_in_document_order() -> None:
    source = ("db.query('SELECT * FROM t WHERE id = ' + id);\nconsole.log(1);\n"
              "https.request({ rejectUnauthorized: false });\nconsole['warn'](2);\n")
    ctx, error = JAVASCRIPT.parse("lib.js", source)
    assert error is None
    assert [ctx.text(n) for n in ctx.captured("console", "finding")] == [
        "console.log", "console['warn']"]
    assert [ctx.text(n).split("(")[0] for n in ctx.captured("sql", "call")] == ["db.query"]
    assert [ctx.text(n) for n in ctx.captured("tls", "finding")] == ["rejectUnauthorized: false"]
    assert ctx.captured("eval", "call") == []
    go, _ = GO.parse("p.go", 'package p\n\nfunc f() {\n\tpanic("x")\n}\n')
    assert [go.text(n) for n in go.captured("panic", "finding")] == ['panic("x")']


def test_catch_that_only_logs_is_reported_in_a_staged_change(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    _base(repo)
    repo.write("web/parse.js", "export function parse(text) {\n  try {\n"
                               "    return JSON.parse(text);\n  } catch (err) {\n"
                               "    console.error(err);\n  }\n}\n")
    repo.stage("web/parse.js")
    code, report, _ = run_json("--no-cache", "--select", "RV206")
    assert [(f["path"], f["line"], f["rule_id"]) for f in report["findings"]] == [
        ("web/parse.js", 4, "RV206")]
    assert code == 1  # medium, at or above the default failure threshold (low)
