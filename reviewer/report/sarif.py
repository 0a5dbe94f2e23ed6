"""SARIF 2.1.0 for GitHub code scanning (docs: GUIDE section 4, the OASIS schema).

One run: ``tool.driver`` carries every built-in rule with its full metadata and help (the
rule's docs and examples, see :mod:`reviewer.report.rules_doc`); each finding becomes a
result whose message starts with the rule's own statement (model text follows), located
by a path relative to ``%SRCROOT%`` with 1-based columns counted in code points. The
tool's line-independent fingerprint goes under its own key (``reviewer/v1``);
``primaryLocationLineHash`` is left to the upload action. ``run.language`` is never
written (the schema's pattern for it is not even valid Python regex syntax).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from reviewer import __version__
from reviewer.findings import Finding, Fix, Severity
from reviewer.report.rules_doc import HOMEPAGE, rule_help_markdown, rule_help_text, rule_help_uri

if TYPE_CHECKING:
    from reviewer.engine import Result
    from reviewer.report import ReportContext, TaughtRule
    from reviewer.rules.base import Rule

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "reviewer/v1"
# GitHub code scanning rejects runs with more results than this.
MAX_RESULTS = 25_000
MAX_TAGS = 20

# Notification descriptors (tool.driver.notifications), referenced by id.
SKIPPED_FILE = "skipped-file"
RESULTS_TRUNCATED = "results-truncated"
TOOL_WARNING = "tool-warning"
CONFIG_WARNING = "config-warning"
_NOTIFICATIONS = {
    SKIPPED_FILE: "A file was not reviewed (binary, too large, not decodable, unreadable...).",
    RESULTS_TRUNCATED: "More results than GitHub code scanning accepts in one run.",
    TOOL_WARNING: "A part of the review was skipped or degraded; the findings still stand.",
    CONFIG_WARNING: "A problem in the configuration (unknown key...).",
}

_PROBLEM_SEVERITY = {
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "recommendation",
    Severity.INFO: "recommendation",
}


def pascal_case(slug: str) -> str:
    """``mutable-default-argument`` -> ``MutableDefaultArgument`` (the SARIF rule name)."""
    return "".join(part[:1].upper() + part[1:] for part in slug.replace("_", "-").split("-"))


def artifact_uri(path: str) -> str:
    """A repository-relative POSIX path as a relative URI reference (percent-encoded)."""
    return quote(path, safe="/")


def _location(path: str) -> dict[str, Any]:
    return {"uri": artifact_uri(path), "uriBaseId": SRCROOT}


def region(
    line: int, col: int | None = None, end_line: int | None = None, end_col: int | None = None
) -> dict[str, int]:
    """A SARIF region (1-based, end column exclusive); inconsistent ends are dropped."""
    out = {"startLine": max(line, 1)}
    if col is not None:
        out["startColumn"] = max(col, 1)
    if end_line is not None and end_line >= out["startLine"]:
        out["endLine"] = end_line
    if end_col is not None and "endLine" in out:
        same_line = out["endLine"] == out["startLine"]
        if not same_line or end_col >= out.get("startColumn", 1):
            out["endColumn"] = max(end_col, 1)
    return out


# -- rules ---------------------------------------------------------------------------------
def _tags(cls: type[Rule]) -> list[str]:
    tags = [*cls.tags, cls.principle]
    if cls.security_severity is not None:
        tags.insert(0, "security")
    seen: list[str] = []
    for t in tags:
        if t and t not in seen:
            seen.append(t)
    return seen[:MAX_TAGS]


def _options_json(options: Any) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in options.items()}


def rule_descriptor(cls: type[Rule]) -> dict[str, Any]:
    """A rule's ``reportingDescriptor`` with its full metadata and help."""
    props: dict[str, Any] = {
        "tags": _tags(cls),
        "precision": str(getattr(cls, "precision", "high")),
        "problem.severity": _PROBLEM_SEVERITY[cls.severity],
        "principle": cls.principle,
        "slug": cls.slug,
    }
    if cls.counterparts:
        props["counterparts"] = dict(cls.counterparts)
    if cls.security_severity is not None:
        props["security-severity"] = f"{cls.security_severity:.1f}"
    config: dict[str, Any] = {"level": cls.severity.sarif_level}
    if cls.options:
        config["parameters"] = _options_json(cls.options)
    return {
        "id": cls.id,
        "name": pascal_case(cls.slug),
        "shortDescription": {"text": cls.summary()},
        "fullDescription": {"text": cls.rationale() or cls.summary()},
        "defaultConfiguration": config,
        "helpUri": rule_help_uri(cls.id),
        "help": {"text": rule_help_text(cls), "markdown": rule_help_markdown(cls)},
        "properties": props,
    }


def taught_descriptor(p: TaughtRule) -> dict[str, Any]:
    """A taught principle's ``reportingDescriptor``: its text is its description."""
    help_text = p.text
    for label, examples in (("Breaks it", p.examples_bad), ("Follows it", p.examples_good)):
        for code in examples:
            help_text += f"\n\n{label}:\n{code.rstrip()}"
    return {
        "id": p.id,
        "name": pascal_case(p.slug),
        "shortDescription": {"text": p.summary()},
        "fullDescription": {"text": p.text},
        "defaultConfiguration": {"level": p.severity.sarif_level},
        "help": {"text": help_text},
        "properties": {
            "tags": ["taught"],
            "precision": "medium",
            "problem.severity": _PROBLEM_SEVERITY[p.severity],
            "slug": p.slug,
            "taught": True,
        },
    }


def _ad_hoc_descriptor(f: Finding) -> dict[str, Any]:
    """For a finding whose rule is not built in (a plug-in's): what the finding tells."""
    return {
        "id": f.rule_id,
        "name": pascal_case(f.slug or f.rule_id),
        "shortDescription": {"text": f.message},
        "defaultConfiguration": {"level": f.severity.sarif_level},
        "properties": {"problem.severity": _PROBLEM_SEVERITY[f.severity]},
    }


def _rule_overrides(ctx: ReportContext, index: dict[str, int]) -> list[dict[str, Any]]:
    """Rules switched off or configured differently from their defaults in this review."""
    from reviewer.engine import selected_rules
    from reviewer.errors import ReviewerError
    from reviewer.rules import all_rules

    try:
        enabled = {r.id: r for r in selected_rules(ctx.config)}
    except ReviewerError:
        return []
    out: list[dict[str, Any]] = []
    for rid, cls in all_rules().items():
        ref = {"id": rid, "index": index[rid]}
        rule = enabled.get(rid)
        if rule is None:
            out.append({"descriptor": ref, "configuration": {"enabled": False}})
        elif dict(rule.settings) != dict(cls.options):
            params = _options_json(rule.settings)
            out.append({"descriptor": ref, "configuration": {"parameters": params}})
    return out


# -- results -------------------------------------------------------------------------------
def sarif_fix(f: Finding, fix: Fix) -> dict[str, Any]:
    """A SARIF ``fix``: one artifact change with one replacement per text edit."""
    replacements = [
        {
            "deletedRegion": region(e.line, e.col, e.end_line, e.end_col),
            "insertedContent": {"text": e.text},
        }
        for e in fix.edits
    ]
    return {
        "description": {"text": fix.description},
        "artifactChanges": [{"artifactLocation": _location(f.path), "replacements": replacements}],
        "properties": {"safe": fix.safe, "origin": fix.origin},
    }


def message_text(f: Finding) -> str:
    """The rule's own statement first (GitHub may show only that); model text after it."""
    text = f.message
    if f.explanation:
        text = f"{text}\n\n{f.explanation.strip()}"
    return text


def sarif_result(f: Finding, rule_index: int) -> dict[str, Any]:
    """One finding as a SARIF result."""
    span = f.span
    out: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": f.severity.sarif_level,
        "message": {"text": message_text(f)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _location(f.path),
                    "region": region(span.line, span.col, span.end_line, span.end_col),
                }
            }
        ],
    }
    if f.related:
        out["relatedLocations"] = [
            {
                "id": i,
                "physicalLocation": {
                    "artifactLocation": _location(f.path),
                    "region": region(s.line, s.col, s.end_line, s.end_col),
                },
                "message": {"text": "Same problem here."},
            }
            for i, s in enumerate(f.related, 1)
        ]
    if f.fingerprint:
        out["partialFingerprints"] = {FINGERPRINT_KEY: f.fingerprint}
    fixes = [sarif_fix(f, fx) for fx in (f.fix, f.model_fix) if fx is not None]
    if fixes:
        out["fixes"] = fixes
    props: dict[str, Any] = {"severity": f.severity.label}
    if f.symbol:
        props["symbol"] = f.symbol
    if f.notes:
        props["notes"] = list(f.notes)
    out["properties"] = props
    return out


def _limit(findings: list[Finding]) -> tuple[list[Finding], int]:
    """At most MAX_RESULTS findings, the most severe kept; and how many were dropped."""
    if len(findings) <= MAX_RESULTS:
        return findings, 0
    ranked = sorted(findings, key=lambda f: -int(f.severity))[:MAX_RESULTS]
    return sorted(ranked, key=lambda f: f.sort_key), len(findings) - MAX_RESULTS


def _notification(
    descriptor: str, text: str, level: str = "warning", path: str | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "descriptor": {"id": descriptor},
        "level": level,
        "message": {"text": text},
    }
    if path is not None:
        out["locations"] = [{"physicalLocation": {"artifactLocation": _location(path)}}]
    return out


def _invocation(result: Result, ctx: ReportContext, dropped: int, index: dict[str, int]) -> Any:
    notes = [_notification(SKIPPED_FILE, f"{s.path}: {s.reason}", path=s.path)
             for s in result.skipped]
    notes += [_notification(TOOL_WARNING, w) for w in result.warnings]
    if dropped:
        notes.append(_notification(
            RESULTS_TRUNCATED,
            f"{dropped} of {dropped + MAX_RESULTS} results left out: a SARIF run for GitHub"
            f" code scanning holds at most {MAX_RESULTS:,} results (the most severe are kept).",
        ))
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "exitCode": result.exit_code(ctx.config),
        "toolExecutionNotifications": notes,
    }
    config_notes = [_notification(CONFIG_WARNING, w) for w in ctx.config.warnings]
    if config_notes:
        invocation["toolConfigurationNotifications"] = config_notes
    overrides = _rule_overrides(ctx, index)
    if overrides:
        invocation["ruleConfigurationOverrides"] = overrides
    return invocation


def build_log(result: Result, ctx: ReportContext) -> dict[str, Any]:
    """The whole SARIF log as JSON data."""
    from reviewer.rules import all_rules

    descriptors = [rule_descriptor(cls) for cls in all_rules().values()]
    descriptors += [taught_descriptor(p) for p in ctx.taught]
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    findings, dropped = _limit(result.findings)
    results = []
    for f in findings:
        if f.rule_id not in index:
            index[f.rule_id] = len(descriptors)
            descriptors.append(_ad_hoc_descriptor(f))
        results.append(sarif_result(f, index[f.rule_id]))
    driver = {
        "name": "reviewer",
        "fullName": f"reviewer {__version__}",
        "version": __version__,
        "semanticVersion": __version__,
        "informationUri": HOMEPAGE,
        "rules": descriptors,
        "notifications": [
            {"id": nid, "shortDescription": {"text": text}} for nid, text in _NOTIFICATIONS.items()
        ],
    }
    run = {
        "tool": {"driver": driver},
        "invocations": [_invocation(result, ctx, dropped, index)],
        "originalUriBaseIds": {
            SRCROOT: {
                "uri": ctx.root.resolve().as_uri().rstrip("/") + "/",
                "description": {"text": "The root of the reviewed repository."},
            }
        },
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render(result: Result, ctx: ReportContext) -> str:
    """The SARIF log as text."""
    return json.dumps(build_log(result, ctx), indent=2, ensure_ascii=False) + "\n"
