"""The JSON report: a stable, documented schema (docs/json-format.md), version 1.

Top level: ``{"version": 1, "tool": {...}, "summary": {...}, "findings": [...],
"skipped": [...], "unused_suppressions": [...], "warnings": [...]}``. Fields are only ever
added, never renamed or removed, within one schema version; reviewer/report/json_schema.json
is the machine-readable form of the documentation (a test validates real output with it).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from reviewer import __version__
from reviewer.findings import Finding, Fix

if TYPE_CHECKING:
    from reviewer.engine import Result
    from reviewer.report import ReportContext

SCHEMA_VERSION = 1


def fix_dict(fix: Fix | None) -> dict[str, Any] | None:
    """A fix as JSON data."""
    if fix is None:
        return None
    return {
        "description": fix.description,
        "safe": fix.safe,
        "origin": fix.origin,
        "edits": [
            {"line": e.line, "col": e.col, "end_line": e.end_line, "end_col": e.end_col,
             "text": e.text}
            for e in fix.edits
        ],
    }


def finding_dict(f: Finding) -> dict[str, Any]:
    """One finding as JSON data."""
    return {
        "rule_id": f.rule_id,
        "slug": f.slug,
        "message": f.message,
        "severity": f.severity.label,
        "path": f.path,
        "line": f.span.line,
        "col": f.span.col,
        "end_line": f.span.end_line,
        "end_col": f.span.end_col,
        "symbol": f.symbol,
        "scope": list(f.scope) if f.scope else None,
        "fingerprint": f.fingerprint,
        "fix": fix_dict(f.fix),
        "explanation": f.explanation,
        "model_fix": fix_dict(f.model_fix),
        "notes": list(f.notes),
        "related": [
            {"line": s.line, "col": s.col, "end_line": s.end_line, "end_col": s.end_col}
            for s in f.related
        ],
    }


def render(result: Result, ctx: ReportContext) -> str:
    """The whole JSON document."""
    by_severity: dict[str, int] = {}
    for f in result.findings:
        by_severity[f.severity.label] = by_severity.get(f.severity.label, 0) + 1
    doc = {
        "version": SCHEMA_VERSION,
        "tool": {"name": "reviewer", "version": __version__},
        "summary": {
            "findings": len(result.findings),
            "by_severity": by_severity,
            "files_reviewed": result.files_reviewed,
            "files_skipped": len(result.skipped),
            "hidden_by_baseline": result.hidden_by_baseline,
            "outside_diff": result.filtered_by_diff,
            "hidden_by_verdicts": result.hidden_by_verdicts,
            "downgraded_by_verdicts": result.downgraded_by_verdicts,
            "fail_on": ctx.config.fail_on.label,
            "exit_code": result.exit_code(ctx.config),
        },
        "findings": _FINDINGS,
        "skipped": [{"path": s.path, "reason": s.reason} for s in result.skipped],
        "unused_suppressions": [
            {"path": u.path, "line": u.line, "codes": list(u.codes)}
            for u in result.unused_suppressions
        ],
        "warnings": list(result.warnings),
    }
    # One finding per line, each encoded by json's C encoder: the indenting encoder is pure
    # Python and took ~2 s for 12k findings; the document around them stays indented.
    text = json.dumps(doc, indent=2, ensure_ascii=False)
    encode = json.JSONEncoder(ensure_ascii=False).encode
    items = [encode(finding_dict(f)) for f in result.findings]
    body = "[\n    " + ",\n    ".join(items) + "\n  ]" if items else "[]"
    head, _, tail = text.partition(json.dumps(_FINDINGS))
    return head + body + tail + "\n"


# Where the findings go in the indented document (a value no other field can hold: the
# first occurrence is the findings' own place, since "findings" precedes every free text).
_FINDINGS = "\x00findings\x00"
