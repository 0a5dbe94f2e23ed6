"""Accuracy benchmark on pylint's and bandit's own labelled suites.

Builds the sets with ../shared/eval/build_dev_sets.sh (cached in bench/.work/eval), runs
``reviewer check --format json`` over corpus_sanitized/<source>, maps rule IDs to the eval
kinds (the mapping belongs to this benchmark, not to the product) and prints score.py's
table per source.

What the benchmark translates, and why (none of it changes the product):

* pylint's labels are pylint's output under each test's own configuration. A test's ``.rc``
  file (max-args, max-statements, max-complexity, no-docstring-rgx, ...) is translated into
  the equivalent reviewer rule options, and that file is reviewed with a generated
  ``--config``. The test's ``# pylint: disable=`` / ``enable=`` pragmas (read from the
  published corpus; the sanitized copy has every comment blanked) are applied to the
  predictions with pylint's scoping: a pragma on its own line holds to the end of its
  block, one after a block opener (``def f():  # pylint: disable=...``) for the block,
  ``disable-next`` for the next line. Lines carrying a pragma are dropped by score.py.
* pylint's functional samples live under ``tests/functional/``; they are sample code, not
  a test suite, so the reviewer reviews them from that folder (otherwise every file would
  be a "test file" to the rules that skip tests) and the paths get the prefix back.
* pylint reports ``too-many-arguments`` and ``too-many-positional-arguments`` as two
  messages on the same line, both labelled ``too_many_arguments``; RV303 reports one
  finding that states both counts ("9 arguments (max 5), 9 of them positional (max 5)"),
  and each limit it says was exceeded becomes one prediction.
* RV401's "Empty docstring" findings are pylint's ``empty-docstring``, which is not one of
  the eval kinds: they are not predictions of ``missing_docstring``.
* score.py's ``--complexity-threshold`` gets RV302's default ``max_complexity``.

Usage: python bench/accuracy.py [--work DIR] [--source pylint|bandit|eslint|gosec] [--raw]
[--show KIND] (eslint and gosec: ESLint's and gosec's tests, see bench/accuracy_js_go.py)
(``--raw``: no translation at all, default settings everywhere, for comparison.)
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from reviewer.suppressions import block_end

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED_EVAL = (ROOT / ".." / "shared" / "eval").resolve()
PYLINT_PREFIX = "tests/functional/"
COMPLEXITY_THRESHOLD = 10  # RV302's default max_complexity

# rule id -> eval kind. RV203 (swallowed exception) is split by the handler's body below.
KIND = {
    "RV101": "mutable_default_arg",
    "RV102": "global_statement",
    "RV201": "bare_except",
    "RV202": "broad_except",
    "RV301": "too_many_statements",
    "RV302": "too_complex",
    "RV303": "too_many_arguments",
    "RV304": "too_many_nested_blocks",
    "RV305": "too_many_branches",
    "RV306": "too_many_returns",
    "RV401": "missing_docstring",
    "RV402": "missing_type_hint",
    "RV501": "print_call",
    "RV601": "eval_exec",
    "RV602": "subprocess_shell",
    "RV603": "sql_string_format",
    "RV604": "unsafe_deserialization",
    "RV605": "unsafe_yaml_load",
    "RV606": "hardcoded_secret",
    "RV607": "assert_used",
}

# Findings of a security rule that are not the eval kind of the rule as a whole (bandit's
# B606 process start without a shell, B601 paramiko commands and the catalogue's module
# imports by name are all "other_security" there): rule id -> [(message pattern, kind)].
MESSAGE_KINDS: dict[str, list[tuple[str, str]]] = {
    "RV602": [(r"\(\) starts a program chosen by", "other_security"),
              (r"^exec_command\(\)", "other_security")],  # bandit's B601 (paramiko)
    "RV601": [(r"^(?:import_module|__import__)\(\)", "other_security")],
}

# rule id -> the pylint symbol of its findings (for pylint's pragmas); see pylint_symbols().
SYMBOL = {
    "RV101": "dangerous-default-value",
    "RV102": "global-statement",
    "RV201": "bare-except",
    "RV202": "broad-exception-caught",
    "RV301": "too-many-statements",
    "RV302": "too-complex",
    "RV304": "too-many-nested-blocks",
    "RV305": "too-many-branches",
    "RV306": "too-many-return-statements",
    "RV501": "bad-builtin",
}

# pylint option (any section of a test's .rc) -> (rule, reviewer option, conversion)
RC_OPTIONS: dict[str, tuple[str, str, Callable[[str], object]]] = {
    "max-args": ("RV303", "max_arguments", int),
    "max-positional-arguments": ("RV303", "max_positional_arguments", int),
    "ignored-argument-names": ("RV303", "ignored_argument_names", str),
    "max-statements": ("RV301", "max_statements", int),
    "max-branches": ("RV305", "max_branches", int),
    "max-returns": ("RV306", "max_returns", int),
    "max-nested-blocks": ("RV304", "max_nested_blocks", int),
    "max-complexity": ("RV302", "max_complexity", int),
    "no-docstring-rgx": ("RV401", "no_docstring_rgx", str),
    # pylint's -1 ("no minimum") is our 0.
    "docstring-min-length": ("RV401", "min_length", lambda v: max(int(v), 0)),
    # pylint's overgeneral-exceptions (dotted names) is RV202's broad_exceptions.
    "overgeneral-exceptions": (
        "RV202", "broad_exceptions",
        lambda v: [n.strip() for n in v.replace("\n", ",").split(",") if n.strip()],
    ),
}

# --parity: the security rules also report what their data flow proves constant, as bandit
# and pylint do (our default treats a constant command / eval string as no injection).
PARITY_OPTIONS: dict[str, dict[str, object]] = {
    rule: {"strict": True} for rule in ("RV601", "RV602", "RV603", "RV604")
}

# Message ids and old names in pragmas -> current symbols.
_DOCSTRING = ("missing-module-docstring", "missing-class-docstring", "missing-function-docstring")
ALIASES: dict[str, tuple[str, ...]] = {
    "missing-docstring": _DOCSTRING, "c0111": _DOCSTRING,
    "c0114": (_DOCSTRING[0],), "c0115": (_DOCSTRING[1],), "c0116": (_DOCSTRING[2],),
    "c0112": ("empty-docstring",),
    "r0913": ("too-many-arguments",), "r0917": ("too-many-positional-arguments",),
    "r0915": ("too-many-statements",), "r0912": ("too-many-branches",),
    "r0911": ("too-many-return-statements",), "r1702": ("too-many-nested-blocks",),
    "r1260": ("too-complex",), "w0102": ("dangerous-default-value",),
    "w0702": ("bare-except",), "w0718": ("broad-exception-caught",),
    "broad-except": ("broad-exception-caught",), "w0603": ("global-statement",),
    "w0123": ("eval-used",), "w0122": ("exec-used",), "w0141": ("bad-builtin",),
}
PRAGMA = re.compile(r"#\s*pylint:\s*(disable-next|disable|enable)\s*=\s*([\w\-, ]+)")


def build_sets(work: Path) -> Path:
    """Run the shared build script once; return the work folder."""
    if not (work / "expected" / "pylint.json").exists():
        subprocess.run(["bash", str(SHARED_EVAL / "build_dev_sets.sh"), str(work)], check=True)
    return work


# -- running the reviewer -----------------------------------------------------------------
def run_reviewer(cwd: Path, reviewer: list[str], paths: list[str] | None = None,
                 config: Path | None = None) -> list[dict]:
    """The reviewer's JSON findings for ``paths`` (None: the whole tree) under ``cwd``."""
    # The sets may sit inside this repository (bench/.work, git-ignored): stop git at the
    # corpus so the reviewer treats it as its own tree instead of reviewing this checkout.
    env = {**os.environ, "PRE_COMMIT": "", "GIT_CEILING_DIRECTORIES": str(cwd.parent)}
    cmd = [*reviewer, "check", "--format", "json", "--no-cache", "--no-baseline",
           "--fail-on", "high", "--diff-filter", "none"]
    if config is not None:
        cmd += ["--config", str(config)]
    cmd += ["--all"] if paths is None else ["--", *paths]
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    if out.returncode not in (0, 1):
        sys.exit(f"reviewer failed ({out.returncode}): {out.stderr.strip()}")
    findings: list[dict] = json.loads(out.stdout)["findings"]
    return findings


def swallow_kind(corpus: Path, finding: dict) -> str:
    """except_pass or except_continue for an RV203 finding, from the handler body."""
    try:
        lines = (corpus / finding["path"]).read_text(errors="replace").splitlines()
    except OSError:
        return "except_pass"
    end = finding.get("end_line") or finding["line"]
    body = " ".join(lines[finding["line"] - 1:end + 1])
    return "except_continue" if "continue" in body else "except_pass"


def pylint_symbols(finding: dict) -> list[str]:
    """The pylint message(s) one finding stands for (two for RV303 over both limits)."""
    rule, message = finding["rule_id"], finding["message"]
    if rule == "RV303":
        out = []
        if re.search(r"\d+ arguments \(max", message):
            out.append("too-many-arguments")
        if "positional" in message:
            out.append("too-many-positional-arguments")
        return out
    if rule == "RV401":
        if message.startswith("Empty"):
            return ["empty-docstring"]
        if message.startswith("Missing module docstring"):
            return [_DOCSTRING[0]]
        if message.startswith("Missing docstring in public class"):
            return [_DOCSTRING[1]]
        return [_DOCSTRING[2]]
    if rule == "RV601":
        return ["exec-used" if message.startswith("exec") else "eval-used"]
    return [SYMBOL.get(rule, rule)]


def to_predictions(findings: Iterable[dict], corpus: Path, prefix: str = "") -> list[dict]:
    """Eval predictions ({file, line, kind, symbol}) from reviewer findings."""
    preds = []
    for f in findings:
        kind = KIND.get(f["rule_id"])
        if f["rule_id"] == "RV203":
            kind = swallow_kind(corpus, f)
        elif f["rule_id"] in MESSAGE_KINDS:
            for pattern, other in MESSAGE_KINDS[f["rule_id"]]:
                if re.search(pattern, f["message"]):
                    kind = other
                    break
        if not kind:
            continue
        for symbol in pylint_symbols(f):
            if symbol == "empty-docstring":
                continue  # pylint's empty-docstring is not an eval kind
            preds.append({"file": prefix + f["path"], "line": f["line"], "kind": kind,
                          "symbol": symbol})
    return preds


# -- translating pylint's per-test configuration --------------------------------------------
def rc_options(rc: Path) -> dict[str, dict[str, object]]:
    """Reviewer rule options equivalent to a pylint test's .rc file."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(rc)
    except configparser.Error:
        return {}
    out: dict[str, dict[str, object]] = {}
    for section in parser.sections():
        for key, value in parser[section].items():
            if key in RC_OPTIONS:
                rule, option, convert = RC_OPTIONS[key]
                out.setdefault(rule, {})[option] = convert(value.strip())
    return out


def config_toml(options: dict[str, dict[str, object]]) -> str:
    """A --config file setting these rule options."""
    lines = []
    for rule, opts in sorted(options.items()):
        lines.append(f"[tool.reviewer.rule-options.{rule}]")
        lines.extend(f"{k} = {json.dumps(v)}" for k, v in sorted(opts.items()))
    return "\n".join(lines) + "\n"


def _expand(names: str) -> set[str]:
    out: set[str] = set()
    for raw in names.split(","):
        name = raw.strip().lower()
        if name:
            out.update(ALIASES.get(name, (name,)))
    return out


def disabled_lines(source: str) -> dict[int, set[str]]:
    """Line -> pylint symbols (or 'all') disabled there by the file's pragmas."""
    lines = source.splitlines()
    events: list[tuple[int, int, str, set[str]]] = []  # (first, last, action, symbols)
    for no, text in enumerate(lines, 1):
        for match in PRAGMA.finditer(text):
            action, names = match.group(1), _expand(match.group(2))
            code = text[: text.index("#")].rstrip()
            indent = len(text) - len(text.lstrip())
            if action == "disable-next":
                events.append((no + 1, no + 1, "disable", names))
            elif not code:  # own line: to the end of the enclosing block
                events.append((no, block_end(lines, no, indent), action, names))
            elif code.endswith(":"):  # block opener: the whole block
                events.append((no, block_end(lines, no, indent + 1), action, names))
            else:
                events.append((no, no, action, names))
    state: dict[int, set[str]] = {}
    for first, last, action, names in events:
        for line in range(first, last + 1):
            current = state.setdefault(line, set())
            if action == "disable":
                current |= names
            else:
                current -= names
    return state


def apply_pragmas(preds: list[dict], corpus_raw: Path) -> list[dict]:
    """Drop predictions that the test file's own pylint pragmas switch off."""
    cache: dict[str, dict[int, set[str]]] = {}
    kept = []
    for p in preds:
        if p["file"] not in cache:
            try:
                text = (corpus_raw / p["file"]).read_text(errors="replace")
                cache[p["file"]] = disabled_lines(text)
            except OSError:
                cache[p["file"]] = {}
        off = cache[p["file"]].get(p["line"], set())
        if p["symbol"] in off or "all" in off:
            continue
        kept.append(p)
    return kept


def merged(a: dict[str, dict[str, object]], b: dict[str, dict[str, object]]
           ) -> dict[str, dict[str, object]]:
    """Rule options of ``a`` updated by ``b``."""
    out = {rule: dict(opts) for rule, opts in a.items()}
    for rule, opts in b.items():
        out.setdefault(rule, {}).update(opts)
    return out


def pylint_predictions(work: Path, reviewer: list[str], raw: bool,
                       extra: dict[str, dict[str, object]]) -> list[dict]:
    """Predictions over the pylint corpus, with each test's configuration translated."""
    corpus = work / "corpus_sanitized" / "pylint"
    with tempfile.TemporaryDirectory() as tmp:
        base_cfg = None
        if extra:
            base_cfg = Path(tmp) / "base.toml"
            base_cfg.write_text(config_toml(extra))
        if raw:
            return to_predictions(run_reviewer(corpus, reviewer, None, base_cfg), corpus)
        base = corpus / PYLINT_PREFIX
        preds = to_predictions(run_reviewer(base, reviewer, None, base_cfg), base, PYLINT_PREFIX)
        expected = json.loads((work / "expected" / "pylint.json").read_text())
        groups: dict[str, list[str]] = {}
        for entry in expected["scope"]:
            if entry.get("rc"):
                options = rc_options(work / "corpus" / "pylint" / entry["rc"])
                if options:
                    groups.setdefault(config_toml(merged(extra, options)), []).append(
                        entry["file"]
                    )
        for i, (toml, files) in enumerate(sorted(groups.items())):
            cfg = Path(tmp) / f"rc{i}.toml"
            cfg.write_text(toml)
            rels = [f.removeprefix(PYLINT_PREFIX) for f in files]
            redone = to_predictions(run_reviewer(base, reviewer, rels, cfg), base, PYLINT_PREFIX)
            preds = [p for p in preds if p["file"] not in set(files)] + redone
    return apply_pragmas(preds, work / "corpus" / "pylint")


def score(work: Path, source: str, preds: list[dict]) -> None:
    """Print score.py's table for one source."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump([{k: p[k] for k in ("file", "line", "kind")} for p in preds], fh)
    try:
        subprocess.run(
            [sys.executable, str(SHARED_EVAL / "score.py"),
             str(work / "expected" / f"{source}.json"), fh.name,
             "--complexity-threshold", str(COMPLEXITY_THRESHOLD)],
            check=True,
        )
    finally:
        os.unlink(fh.name)


def show_misses(work: Path, source: str, preds: list[dict], kinds: set[str]) -> None:
    """Print the unmatched predictions (FP) and labels (FN) of some kinds, matched the way
    score.py matches (same file and kind, one-to-one within one line)."""
    expected = json.loads((work / "expected" / f"{source}.json").read_text())
    scope = {s["file"]: s for s in expected["scope"]}

    def scored(file: str, kind: str) -> bool:
        entry = scope.get(file)
        return entry is not None and (entry["kinds"] == "ALL_SECURITY" or kind in entry["kinds"])

    gold = [c for c in expected["cases"] if c["kind"] in kinds and scored(c["file"], c["kind"])
            and (c.get("complexity") is None or c["complexity"] > COMPLEXITY_THRESHOLD)]
    mine = [p for p in preds if p["kind"] in kinds and scored(p["file"], p["kind"])
            and p["line"] not in scope[p["file"]].get("dont_care_lines", [])]
    used: set[int] = set()
    for p in sorted(mine, key=lambda x: (x["file"], x["line"])):
        best = None
        for i, c in enumerate(gold):
            if i in used or c["file"] != p["file"] or c["kind"] != p["kind"]:
                continue
            if abs(c["line"] - p["line"]) <= 1 and (
                best is None or abs(c["line"] - p["line"]) < abs(gold[best]["line"] - p["line"])
            ):
                best = i
        if best is None:
            print(f"  FP {p['kind']:24s} {p['file']}:{p['line']} ({p['symbol']})")
        else:
            used.add(best)
    for i, c in enumerate(gold):
        if i not in used:
            print(f"  FN {c['kind']:24s} {c['file']}:{c['line']} ({c.get('code')})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--work", type=Path, default=HERE / ".work" / "eval")
    ap.add_argument("--source", choices=["pylint", "bandit", "eslint", "gosec"],
                    action="append",
                    help="eslint/gosec: the JS/TS/Go sets (bench/accuracy_js_go.py)")
    ap.add_argument("--raw", action="store_true",
                    help="no translation of the tests' configuration (for comparison)")
    ap.add_argument("--parity", action="store_true",
                    help="security rules in strict mode (report constant inputs too, as the"
                         " source tools do)")
    ap.add_argument("--show", action="append", default=[], metavar="KIND",
                    help="list the false positives and negatives of KIND ('all': every kind)")
    a = ap.parse_args(argv)
    js_go = [s for s in a.source or [] if s in ("eslint", "gosec")]
    if js_go:
        import accuracy_js_go

        args = [f"--source={s}" for s in js_go] + (["--parity"] if a.parity else [])
        args += [f"--show={k}" for k in a.show]
        accuracy_js_go.main(args)
        if len(js_go) == len(a.source):
            return 0
        a.source = [s for s in a.source if s not in js_go]
    work = build_sets(a.work.resolve())
    reviewer = [sys.executable, "-m", "reviewer"]
    for source in a.source or ["pylint", "bandit"]:
        extra = PARITY_OPTIONS if a.parity else {}
        if source == "pylint":
            preds = pylint_predictions(work, reviewer, a.raw, extra)
        else:
            corpus = work / "corpus_sanitized" / source
            with tempfile.TemporaryDirectory() as tmp:
                cfg = None
                if extra:
                    cfg = Path(tmp) / "parity.toml"
                    cfg.write_text(config_toml(extra))
                preds = to_predictions(run_reviewer(corpus, reviewer, None, cfg), corpus)
        mode = "parity mode" if a.parity else "default settings"
        print(f"== {source} ({len(preds)} predictions, {mode})", flush=True)
        score(work, source, preds)
        if a.show:
            kinds = set(KIND.values()) | {"except_pass", "except_continue"}
            show_misses(work, source, preds, kinds if "all" in a.show else set(a.show))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
