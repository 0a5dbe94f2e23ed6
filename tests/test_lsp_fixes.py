"""`reviewer lsp`: the rules' libcst fixes as quick fixes, and fix-all with the safe ones only.

A keystroke's review builds no libcst fix (the server builds them on the first code action
request of a version): the quick fixes must still be there, apply, and clear the finding.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pygls", reason="the lsp extra (pygls) is not installed")
pytest.importorskip("libcst", reason="the fixes extra (libcst) is not installed")
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.test_lsp import actions_for, apply, change, codes, git_repo, open_doc, run, until

YAML = "import yaml\n\n\ndef read(text):\n    return yaml.load(text)  # config\n"
NONE = "def log(x: int):  # keep\n    print(x)\n    return\n"
BOTH = ("import yaml\n\n\ndef read(text, amount):\n    assert amount > 0, 'amount'\n"
        "    return yaml.load(text)\n")


async def quick_fix(client: LanguageClient, uri: str, rule: str) -> types.CodeAction:
    acts = await actions_for(client, uri)
    return next(a for a in acts if a.title.startswith(f"{rule}:") and a.edit is not None
                and "model" not in a.title)


@pytest.mark.parametrize(("rule", "text", "fixed"), [
    ("RV605", YAML, YAML.replace("yaml.load(", "yaml.safe_load(")),
    ("RV402", NONE, NONE.replace("x: int):", "x: int) -> None:")),
])
def test_a_safe_libcst_fix_is_the_preferred_quick_fix(
        tmp_path: Path, rule: str, text: str, fixed: str) -> None:
    root = git_repo(tmp_path, f'[tool.reviewer]\nselect = ["{rule}"]\n')

    async def scenario(client: LanguageClient) -> None:
        uri = open_doc(client, root / "m.py", text)
        await until(lambda: codes(client, uri) == [rule])
        fix = await quick_fix(client, uri, rule)
        assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
        assert "unsafe" not in fix.title
        after = apply(text, fix)
        assert after == fixed
        fix_all = await actions_for(client, uri, only=["source.fixAll.reviewer"])
        assert [apply(text, a) for a in fix_all] == [fixed]
        change(client, uri, 2, after)
        await until(lambda: codes(client, uri) == [])

    run(root, scenario)


def test_fix_all_leaves_the_unsafe_fix_to_its_own_quick_fix(tmp_path: Path) -> None:
    """RV607's fix (assert -> raise) changes behaviour: a quick fix marked unsafe, never
    part of fix-all, which applies RV605's safe one."""
    root = git_repo(tmp_path, '[tool.reviewer]\nselect = ["RV605", "RV607"]\n')

    async def scenario(client: LanguageClient) -> None:
        uri = open_doc(client, root / "m.py", BOTH)
        await until(lambda: sorted(codes(client, uri)) == ["RV605", "RV607"])
        unsafe = await quick_fix(client, uri, "RV607")
        assert "unsafe" in unsafe.title and not unsafe.is_preferred
        assert "raise ValueError('amount')" in apply(BOTH, unsafe)
        fix_all = await actions_for(client, uri, only=["source.fixAll.reviewer"])
        assert len(fix_all) == 1
        after = apply(BOTH, fix_all[0])
        assert after == BOTH.replace("yaml.load(", "yaml.safe_load(")
        change(client, uri, 2, after)
        await until(lambda: codes(client, uri) == ["RV607"])

    run(root, scenario)
