"""A real editor as the client: headless Neovim's built-in LSP client on `reviewer lsp`.

Neovim opens a file with a finding, reads ``vim.diagnostic.get()``, edits the buffer so
the finding goes away and reads it again (tests/fixtures/lsp/neovim_init.lua). Skipped, with
the reason, only where Neovim is not installed (``apt-get install neovim``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls", reason="the lsp extra (pygls) is not installed")
NVIM = shutil.which("nvim")
INIT = Path(__file__).parent / "fixtures" / "lsp" / "neovim_init.lua"


@pytest.mark.skipif(NVIM is None, reason="Neovim is not installed (apt-get install neovim)")
def test_neovim_reads_the_diagnostics_and_sees_them_go(tmp_path: Path) -> None:
    assert NVIM is not None
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "pyproject.toml").write_text('[tool.reviewer]\nselect = ["RV101"]\n')
    (tmp_path / "m.py").write_text("def f(x=[]):\n    return x\n")
    out = tmp_path / "out.json"
    env = {**os.environ, "REVIEWER_OUT": str(out), "REVIEWER_PY": sys.executable,
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data")}
    proc = subprocess.run([NVIM, "--headless", "--clean", "-u", str(INIT), "m.py"],
                          cwd=tmp_path, env=env, capture_output=True, timeout=120, check=False)
    assert out.is_file(), proc.stderr.decode(errors="replace")
    got = json.loads(out.read_text())
    assert got["opened"] is True
    assert [(d["code"], d["lnum"], d["col"], d["source"], d["severity"]) for d in got["first"]
            ] == [("RV101", 0, 8, "reviewer", 2)]  # 2: vim.diagnostic.severity.WARN
    assert got["cleared"] is True and got["after"] == []
