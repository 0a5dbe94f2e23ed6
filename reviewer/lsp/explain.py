""""Explain and propose a fix": one finding through the ``check --explain`` path.

Runs in a worker thread (the server keeps answering); bounded by ``llm-timeout``. The
model's fix comes back only when it passed the same validation as in ``check --explain``.
When ``server-url`` is a ``reviewer serve``, the finding goes to its ``/v1/review`` through
the client ``check --explain`` uses (handed down by the CLI as a :data:`Remote`: the
services layer does not import the serve package); any other server is driven from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reviewer.config import Config
from reviewer.findings import Finding

# (root, finding, buffer text, config) -> (the findings explained by a reviewer server, its
# warnings), or None when ``server-url`` is not a reviewer server.
Remote = Callable[[Path, Finding, str, Config], "tuple[list[Finding], list[str]] | None"]


@dataclass(frozen=True)
class Explained:
    """The finding with the model's explanation and validated fix (if any), and why the
    model could not be asked (None when it was)."""

    finding: Finding
    problem: str | None


def explain_one(root: Path, finding: Finding, text: str, config: Config,
                remote: Remote | None = None) -> Explained:
    """Ask the configured model about ``finding`` in the buffer ``text``: the reviewer
    server behind ``server-url`` when ``remote`` finds one, else the model itself."""
    if remote is not None:
        got = remote(root, finding, text, config)
        if got is not None:
            found, warnings = got
            return Explained(found[0] if found else finding,
                             "; ".join(warnings) if warnings else None)
    try:
        from reviewer.llm.explain import explain_findings
    except ImportError as exc:  # an extra is missing
        return Explained(finding, f"the model cannot be loaded ({exc.name} missing)")

    def read(rel: str) -> str | None:
        return text if rel == finding.path else None

    try:
        out, report = explain_findings([finding], root=root, config=config, read=read,
                                       budget=1)
    except ImportError as exc:
        return Explained(finding, f"the model cannot be loaded ({exc.name} missing)")
    warnings = report.warnings()
    return Explained(out[0], "; ".join(warnings) if warnings else None)
