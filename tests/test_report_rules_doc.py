"""docs/rules.md is generated from the rules (Fixit style) and kept up to date."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from pathlib import Path

from reviewer.report.rules_doc import fenced, render_rules_markdown, rule_help_uri
from reviewer.rules import all_rules

DOC_PATH = Path(__file__).resolve().parents[1] / "docs" / "rules.md"


def test_docs_rules_md_is_up_to_date() -> None:
    assert DOC_PATH.read_text(encoding="utf-8") == render_rules_markdown(), (
        "docs/rules.md is stale: run `reviewer rules --format markdown > docs/rules.md`"
    )


def test_cli_prints_the_same_markdown(run_cli: Callable[..., tuple[int, str, str]]) -> None:
    code, out, err = run_cli("rules", "--format", "markdown")
    assert code == 0, err
    assert out == render_rules_markdown()


def _github_anchor(heading: str) -> str:
    # GitHub: lower-case, drop punctuation except - and _, spaces become dashes.
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_rule_is_documented_with_its_examples() -> None:
    doc = render_rules_markdown()
    anchors = {_github_anchor(h) for h in re.findall(r"^## (.+)$", doc, flags=re.MULTILINE)}
    for rid, cls in all_rules().items():
        assert rule_help_uri(rid).rsplit("#", 1)[1] in anchors, rid
        assert f"](#{rid.lower()})" in doc  # the index table links to it
        section = doc.split(f"\n## {rid}\n", 1)[1].split("\n## ", 1)[0]
        assert cls.slug in section and cls.principle in section
        for ex in cls.INVALID:
            assert textwrap.dedent(ex.code) in section, f"{rid}: invalid example missing"
            if ex.fixed is not None:
                assert textwrap.dedent(ex.fixed) in section, f"{rid}: fixed example missing"
        for v in cls.VALID:
            code = v if isinstance(v, str) else v.code
            assert textwrap.dedent(code) in section, f"{rid}: valid example missing"
        for option in cls.options:
            assert f"`{option}`" in section


def test_fence_is_longer_than_backticks_inside() -> None:
    assert fenced("x = 1") == "```python\nx = 1\n```"
    assert fenced("s = '````'\n") == "`````python\ns = '````'\n`````"
