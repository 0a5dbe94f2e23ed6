""""Explain and propose a fix": one finding through the ``check --explain`` path.

Runs in a worker thread (the server keeps answering); bounded by ``llm-timeout``. The
model's fix comes back only when it passed the same validation as in ``check --explain``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reviewer.config import Config
from reviewer.findings import Finding


@dataclass(frozen=True)
class Explained:
    """The finding with the model's explanation and validated fix (if any), and why the
    model could not be asked (None when it was)."""

    finding: Finding
    problem: str | None


def explain_one(root: Path, finding: Finding, text: str, config: Config) -> Explained:
    """Ask the configured local model about ``finding`` in the buffer ``text``."""
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
