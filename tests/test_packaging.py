"""The installed package, not only the checkout: build a real wheel and run the CLI from it.

The wheel is built from the files a fresh clone would have (tracked plus untracked,
not ignored), so a package directory that exists only on this machine fails here rather
than on a user's. The CLI then runs with ``python -S`` and PYTHONPATH holding only the
unpacked wheel and click, so neither the checkout nor the editable install can stand in.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import click
import pytest

from reviewer.principles import catalogue
from reviewer.rules import all_rules

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("pyproject.toml", "README.md", "reviewer", "rules")


def fresh_clone_files() -> list[str]:
    """The files of SHIPPED a fresh clone would have once the work tree is committed."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *SHIPPED],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return sorted(f for f in out.split("\0") if f and (ROOT / f).is_file())


def pyproject() -> dict:  # type: ignore[type-arg]
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)


class Built:
    """A wheel built from a fresh-clone copy, and the folder it was unpacked into."""

    def __init__(self, base: Path) -> None:
        src = base / "src"
        for rel in fresh_clone_files():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, src / rel)
        dist = base / "dist"
        proc = subprocess.run(
            [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist),
             str(src)],
            capture_output=True, text=True,
        )
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        (self.wheel,) = dist.glob("reviewer-*.whl")
        self.site = base / "site"
        with zipfile.ZipFile(self.wheel) as zf:
            self.names = set(zf.namelist())
            zf.extractall(self.site)
        # The only third-party runtime dependencies, copied next to (not over) the wheel.
        self.deps = base / "deps"
        shutil.copytree(Path(click.__file__).parent, self.deps / "click")
        if sys.version_info < (3, 11):  # pragma: no cover
            import tomli

            shutil.copytree(Path(tomli.__file__).parent, self.deps / "tomli")
        self.cwd = base

    def python(self, code: str, *args: str) -> subprocess.CompletedProcess[str]:
        """``python -S -c CODE ARGS`` seeing only the unpacked wheel and its dependencies."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONPATH"] = os.pathsep.join([str(self.site), str(self.deps)])
        return subprocess.run(
            [sys.executable, "-S", "-c", code, *args],
            cwd=self.cwd, env=env, capture_output=True, text=True,
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``reviewer ARGS`` from the unpacked wheel."""
        return self.python(
            "import sys; from reviewer.cli import main; sys.exit(main(sys.argv[1:]))", *args
        )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return Built(tmp_path_factory.mktemp("wheel"))


def test_wheel_holds_the_catalogue(built: Built) -> None:
    shipped = {p.name for p in (ROOT / "rules").glob("*.toml")}
    assert len(shipped) == 12
    in_wheel = {n.split("/")[-1] for n in built.names if n.startswith("reviewer/catalogue/")}
    assert shipped <= in_wheel


def test_wheel_holds_every_module_and_data_file(built: Built) -> None:
    under_reviewer = [f for f in fresh_clone_files() if f.startswith("reviewer/")]
    rule_modules = [f for f in under_reviewer if f.startswith("reviewer/rules/rv")]
    assert len(rule_modules) == len(all_rules())
    missing = sorted(set(under_reviewer) - built.names)
    assert not missing, f"not in the wheel: {missing}"


def test_wheel_declares_the_console_script(built: Built) -> None:
    (entry_points,) = [n for n in built.names if n.endswith(".dist-info/entry_points.txt")]
    text = (built.site / entry_points).read_text(encoding="utf-8")
    assert "reviewer = reviewer.cli:run" in text


def test_cli_from_the_wheel_lists_every_rule_with_its_principle(built: Built) -> None:
    proc = built.python(
        "import reviewer.principles as p, reviewer.catalogue as c;"
        " print(p.__file__); print(c.__file__); print(len(p.catalogue()))"
    )
    assert proc.returncode == 0, proc.stderr
    module, data, count = proc.stdout.splitlines()
    assert module.startswith(str(built.site)) and data.startswith(str(built.site))
    assert int(count) == len(catalogue())

    proc = built.run("rules", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    listed = {m["id"]: m["principle"] for m in json.loads(proc.stdout)}
    assert listed == {rid: cls.principle for rid, cls in all_rules().items()}
    assert set(listed.values()) <= set(catalogue())


def test_principles_from_the_wheel(built: Built) -> None:
    proc = built.run("principles", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    entries = {e["id"]: e for e in json.loads(proc.stdout)}
    assert set(entries) == set(catalogue())
    enforced = {rid for e in entries.values() for rid in e["checks"]}
    assert enforced == set(all_rules())


def test_every_package_directory_is_listed() -> None:
    tool = pyproject()["tool"]["setuptools"]
    listed = set(tool["packages"])
    mapped = tool.get("package-dir", {})
    folders = {str(Path(f).parent.as_posix()) for f in fresh_clone_files()}
    # Every folder of the package holding a file (code or data) is a package to list...
    on_disk = {".".join(Path(d).parts) for d in folders if d.split("/")[0] == "reviewer"}
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"
    # ...and every listed one must exist in a fresh clone, or installing it fails.
    for package in sorted(listed):
        folder = mapped.get(package, package.replace(".", "/"))
        assert folder in folders, f"{package}: {folder}/ holds no file in a fresh clone"
    assert "rules/__init__.py" in fresh_clone_files()  # the catalogue is a regular package
