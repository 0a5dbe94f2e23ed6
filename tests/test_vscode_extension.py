"""editors/vscode builds (`npm ci && npm run compile`) and packages (`@vscode/vsce`).

No VS Code is downloaded: the test checks the compiled extension and the .vsix it packs
(the language client library inside). Skipped with the reason where npm is not installed
or the npm registry cannot be reached.
"""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

NPM = shutil.which("npm")
NPX = shutil.which("npx")
SOURCE = Path(__file__).resolve().parents[1] / "editors" / "vscode"
OFFLINE = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "ENETUNREACH")


def npm(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600,
                          check=False)


@pytest.mark.slow
@pytest.mark.skipif(NPM is None or NPX is None, reason="npm is not installed")
def test_the_extension_compiles_and_packages(tmp_path: Path) -> None:
    assert NPM is not None and NPX is not None
    work = tmp_path / "vscode"
    shutil.copytree(SOURCE, work, ignore=shutil.ignore_patterns("node_modules", "out", "*.vsix"))
    installed = npm([NPM, "ci", "--prefer-offline", "--no-audit", "--no-fund"], work)
    if installed.returncode != 0 and any(code in installed.stderr for code in OFFLINE):
        pytest.skip(f"the npm registry cannot be reached: {installed.stderr.strip()[-200:]}")
    assert installed.returncode == 0, installed.stderr
    compiled = npm([NPM, "run", "compile"], work)
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
    assert "vscode-languageclient/node" in (work / "out" / "extension.js").read_text()
    vsix = tmp_path / "reviewer.vsix"
    packed = npm([NPX, "--no-install", "vsce", "package", "-o", str(vsix)], work)
    assert packed.returncode == 0, packed.stdout + packed.stderr
    names = zipfile.ZipFile(vsix).namelist()
    assert "extension/out/extension.js" in names
    assert "extension/node_modules/vscode-languageclient/node.js" in names
    assert not any(n.startswith("extension/src/") for n in names)
