"""The model-fix validator refuses fixes that are valid but wrong: a narrowed handler whose
exception is kept or re-raised (the issue's BaseException -> FileNotFoundError; the kept
error is only printed here, so RV202 still reports the handler: one raised later is handed
on, which RV202 no longer reports), a dropped
statement and a name used where it is not defined (pyflakes, scope by scope)."""

from __future__ import annotations

from reviewer.config import Config
from reviewer.engine import review_source, selected_rules
from reviewer.findings import Finding, Fix, TextEdit
from reviewer.llm.validate import (
    FileValidator,
    dropped_statements,
    narrowed_handlers,
    undefined_at,
)

SOURCE = '''"""M."""


def run(path: str) -> str:
    """Run."""
    error = None
    data = ""
    try:
        data = open(path).read()
    except BaseException as err:
        error = err
    cleanup()
    if error is not None:
        print(f"cannot read {path}: {error}")
    return data


def helper() -> None:
    """Help."""
    token = 1
    print(token)
'''


def finding(rule_id: str) -> Finding:
    found = review_source("m.py", SOURCE, {"python": selected_rules(Config())}, "python")
    return next(f for f in found.findings if f.rule_id == rule_id)


def model_fix(line: int, last: int, text: str) -> Fix:
    return Fix("model", (TextEdit(line, 1, last + 1, 1, text),), safe=False, origin="model")


def check(rule_id: str, fix: Fix) -> str | None:
    validator = FileValidator("m.py", SOURCE, selected_rules(Config()))
    return validator.check(finding(rule_id), fix)


def test_narrowing_a_handler_that_keeps_the_error_is_refused() -> None:
    why = check("RV202", model_fix(10, 10, "    except FileNotFoundError as err:\n"))
    assert why is not None and "narrows the handler of except BaseException as err" in why
    assert narrowed_handlers(SOURCE, SOURCE.replace("BaseException", "OSError"))
    # Keeping the handler broad but explicit is not narrowing it.
    assert narrowed_handlers(SOURCE, SOURCE.replace("BaseException", "Exception")) == []


def test_dropping_a_statement_is_refused() -> None:
    why = check("RV501", model_fix(20, 21, "    token = 1\n"))  # the print is gone
    assert why is not None and "drops a statement" in why
    assert dropped_statements(SOURCE, SOURCE.replace("    cleanup()\n", "")) is not None
    assert dropped_statements(SOURCE, SOURCE.replace("print(token)", "log(token)")) is None


def test_a_name_undefined_at_that_point_is_refused() -> None:
    # `error` is bound in run(), not in helper(): a module-wide check would let it pass.
    why = check("RV501", model_fix(21, 21, "    logger.info('%s', error)\n"))
    assert why is not None and "not defined" in why and "error" in why
    assert "error" in undefined_at(SOURCE.replace("print(token)", "print(error)"))
    assert undefined_at(SOURCE) == {"cleanup"}


def test_rules_with_no_local_fix_get_no_model_fix(tmp_path: object) -> None:
    from pathlib import Path

    from model_fake import serve_model

    from reviewer.llm.explain import explain_findings

    code = ('"""M."""\nimport pickle\n\n\ndef load(blob: bytes) -> object:\n    """Load."""\n'
            "    return pickle.loads(blob)\n")
    found = review_source("m.py", code, {"python": selected_rules(Config())}, "python")
    findings = [f for f in found.findings if f.rule_id == "RV604"]
    assert findings
    with serve_model("pickle.loads in load runs code from blob; use json.",
                     fixed_code="return json.loads(blob)\n") as model:
        cfg = Config(llm_backend="openai", server_url=model.url, cache=False)
        out, report = explain_findings(findings, root=Path(str(tmp_path)), config=cfg,
                                       read=lambda _: code)
        schema = model.prompts[0]["response_format"]  # type: ignore[index]
    assert out[0].model_fix is None and report.fixes_asked == 0
    assert '"fixed_code": {"type": "null"}' in str(schema).replace("'", '"')


def test_a_rebinding_global_has_no_local_fix_a_useless_one_has() -> None:
    from reviewer.feedback.training import asks_fix
    from reviewer.llm.prompts import find_target
    from reviewer.rules import all_rules

    code = ("_cache = None\nSEEN = set()\n\n\ndef get():\n    global _cache\n"
            "    if _cache is None:\n        _cache = load()\n    return _cache\n\n\n"
            "def mark(x):\n    global SEEN\n    SEEN.add(x)\n")
    found = review_source("m.py", code, {"python": selected_rules(Config())}, "python")
    by_line = {f.span.line: f for f in found.findings if f.rule_id == "RV102"}
    rule = all_rules()["RV102"]
    assert not rule.has_local_fix(by_line[6])  # rebinds: the signature must change
    assert rule.has_local_fix(by_line[13]) and by_line[13].fix is not None  # deleted
    region = find_target(code, by_line[6]).region
    assert not asks_fix("full", rule, by_line[6], region)
