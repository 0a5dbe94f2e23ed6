"""The plain git hooks and `reviewer install-hooks`, with real commits and pushes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from reviewer import githooks

if TYPE_CHECKING:
    from conftest import Repo

ROOT = Path(__file__).resolve().parent.parent
RunCli = Callable[..., tuple[int, str, str]]

VIOLATING = "def add(item, items=[]):\n    items.append(item)\n    return items\n"
CLEAN = '''\
"""Greeting helpers."""


def greet(name: str) -> str:
    """Return a greeting for ``name``."""
    return f"hello {name}"
'''
FOREIGN = "#!/bin/sh\necho \"local $0 $*\" >> \"$(git rev-parse --git-dir)/local.log\"\n{tail}\n"


def git(repo: Repo, *args: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo.path, capture_output=True, text=True,
                          env=env)


def hook_path(repo: Repo, name: str) -> Path:
    return repo.path / ".git" / "hooks" / name


def write_foreign(path: Path, tail: str = "exit 0") -> str:
    text = FOREIGN.format(tail=tail)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return text


def local_log(repo: Repo) -> str:
    log = repo.path / ".git" / "local.log"
    return log.read_text(encoding="utf-8") if log.exists() else ""


def local_runs(repo: Repo) -> int:
    return sum(line.startswith("local ") for line in local_log(repo).splitlines())


def commit(repo: Repo, rel: str, text: str, message: str) -> subprocess.CompletedProcess[str]:
    repo.write(rel, text)
    repo.stage(rel)
    return git(repo, "commit", "-m", message)


def subjects(repo: Repo) -> list[str]:
    return repo.git("log", "--format=%s").split("\n")


# -- the scripts ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", githooks.HOOK_TYPES)
def test_scripts_ship_in_the_package_and_hooks_folder_points_at_them(name: str) -> None:
    packaged = ROOT / "reviewer" / "hooks" / name
    assert (ROOT / "hooks" / name).resolve() == packaged.resolve()
    assert os.access(packaged, os.X_OK)
    text = githooks.script(name)  # read through importlib.resources, as when installed
    assert text == packaged.read_text(encoding="utf-8")
    assert text.startswith("#!/bin/sh\n") and f"{githooks.MARKER}{name}\n" in text
    assert "INSTALL_PYTHON=''" in text
    proc = subprocess.run(["sh", "-n", str(packaged)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_script_is_set_to_the_installing_python() -> None:
    text = githooks.script("pre-commit", "/opt/my python/bin/python3")
    assert "INSTALL_PYTHON='/opt/my python/bin/python3'\n" in text


# -- pre-commit ------------------------------------------------------------------------------
def test_install_then_commits_are_reviewed(repo: Repo, run_cli: RunCli) -> None:
    repo.write("old.py", VIOLATING)  # committed before: not part of later reviews
    repo.commit_all("base")
    code, out, err = run_cli("install-hooks")
    assert code == 0, err
    for name in githooks.HOOK_TYPES:
        hook = hook_path(repo, name)
        assert f"{hook}: installed" in out
        assert hook.stat().st_mode & stat.S_IXUSR
        assert f"INSTALL_PYTHON={sys.executable}" in hook.read_text(encoding="utf-8")

    rejected = commit(repo, "bad.py", VIOLATING, "violating")
    assert rejected.returncode != 0
    assert "bad.py:1:21: RV101 Mutable default argument" in rejected.stdout + rejected.stderr
    assert "violating" not in subjects(repo)

    repo.git("rm", "-q", "--cached", "bad.py")
    accepted = commit(repo, "greet.py", CLEAN, "clean")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert subjects(repo)[0] == "clean"


def test_commit_reviews_the_staged_content_not_the_disk(repo: Repo, run_cli: RunCli) -> None:
    repo.commit("base")
    assert run_cli("install-hooks", "-t", "pre-commit")[0] == 0
    repo.write_staged("mod.py", VIOLATING)
    repo.write("mod.py", CLEAN)  # fixed on disk, not staged
    assert git(repo, "commit", "-m", "staged violation").returncode != 0
    # `git commit -a` stages the fix in a temporary index: that is what gets reviewed.
    accepted = git(repo, "commit", "-a", "-m", "with the fix")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_existing_hook_is_kept_run_first_and_restored(repo: Repo, run_cli: RunCli) -> None:
    repo.commit("base")
    hook = hook_path(repo, "pre-commit")
    original = write_foreign(hook)
    code, out, _ = run_cli("install-hooks", "--hook-type", "pre-commit")
    assert code == 0
    assert "kept as pre-commit.local" in out
    local = hook_path(repo, "pre-commit.local")
    assert local.read_text(encoding="utf-8") == original
    assert githooks.is_ours(hook)

    assert commit(repo, "greet.py", CLEAN, "clean").returncode == 0
    assert local_runs(repo) == 1  # the kept hook ran

    # The kept hook runs first, and its failure stops the commit before the review.
    write_foreign(local, tail="exit 7")
    failed = commit(repo, "more.py", CLEAN.replace("greet", "wave"), "refused by local")
    assert failed.returncode != 0
    assert local_runs(repo) == 2
    assert "RV" not in failed.stdout + failed.stderr
    write_foreign(local)

    # Reinstalling is idempotent: the kept hook is not replaced by ours.
    code, out, _ = run_cli("install-hooks", "-t", "pre-commit")
    assert code == 0 and "already installed" in out
    assert local.read_text(encoding="utf-8") == original

    code, out, _ = run_cli("install-hooks", "--uninstall", "-t", "pre-commit")
    assert code == 0 and "pre-commit.local restored" in out
    assert hook.read_text(encoding="utf-8") == original
    assert hook.stat().st_mode & stat.S_IXUSR
    assert not local.exists()
    # And the repository works as before: no review, only the original hook.
    assert commit(repo, "bad.py", VIOLATING, "unreviewed").returncode == 0
    assert local_runs(repo) == 3


def test_install_twice_and_update(repo: Repo, run_cli: RunCli) -> None:
    run_cli("install-hooks")
    hooks = sorted(p.name for p in (repo.path / ".git" / "hooks").iterdir()
                   if not p.name.endswith(".sample"))
    code, out, _ = run_cli("install-hooks")
    assert code == 0
    assert out.count("already installed") == 2
    assert sorted(p.name for p in (repo.path / ".git" / "hooks").iterdir()
                  if not p.name.endswith(".sample")) == hooks == ["pre-commit", "pre-push"]
    # An outdated script of ours is replaced, not kept as a local hook.
    hook = hook_path(repo, "pre-commit")
    hook.write_text("#!/bin/sh\n# reviewer-hook: pre-commit\nexit 0\n", encoding="utf-8")
    code, out, _ = run_cli("install-hooks")
    assert f"{hook}: installed\n" in out
    assert not hook_path(repo, "pre-commit.local").exists()
    assert hook.read_text(encoding="utf-8") == githooks.script("pre-commit", sys.executable)


def test_respects_core_hooks_path(repo: Repo, run_cli: RunCli) -> None:
    repo.commit("base")
    repo.git("config", "core.hooksPath", "tools/githooks")
    (repo.path / "sub").mkdir()
    os.chdir(repo.path / "sub")  # from a subfolder: the path is still the root's
    code, out, err = run_cli("install-hooks")
    assert code == 0, err
    hook = repo.path / "tools" / "githooks" / "pre-commit"
    assert githooks.is_ours(hook)
    assert not hook_path(repo, "pre-commit").exists()
    assert commit(repo, "bad.py", VIOLATING, "violating").returncode != 0
    code, out, _ = run_cli("install-hooks", "--uninstall")
    assert not hook.exists() and "removed" in out


def test_uninstall_leaves_foreign_hooks_alone(repo: Repo, run_cli: RunCli) -> None:
    foreign = write_foreign(hook_path(repo, "pre-push"))
    code, out, _ = run_cli("install-hooks", "--uninstall")
    assert code == 0
    assert "pre-commit: not installed" in out
    assert "pre-push: not reviewer's, left alone" in out
    assert hook_path(repo, "pre-push").read_text(encoding="utf-8") == foreign


def test_refuses_to_lose_a_hook(repo: Repo, run_cli: RunCli) -> None:
    current = write_foreign(hook_path(repo, "pre-commit"))
    kept = write_foreign(hook_path(repo, "pre-commit.local"), tail="exit 3")
    code, _, err = run_cli("install-hooks")
    assert code == 2
    assert err.count("\n") == 1 and "pre-commit.local exists too" in err
    assert hook_path(repo, "pre-commit").read_text(encoding="utf-8") == current
    assert hook_path(repo, "pre-commit.local").read_text(encoding="utf-8") == kept


def test_outside_a_repository(nogit: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli("install-hooks")
    assert code == 2 and not out
    assert err.startswith("reviewer: error: not a git repository") and err.count("\n") == 1


def test_hand_copied_hook_uses_reviewer_on_path(repo: Repo) -> None:
    repo.commit("base")
    hook = hook_path(repo, "pre-commit")
    hook.write_bytes((ROOT / "hooks" / "pre-commit").read_bytes())
    hook.chmod(0o755)
    venv_bin = str(Path(sys.executable).parent)
    on_path = {**os.environ, "PATH": venv_bin + os.pathsep + os.environ["PATH"]}
    repo.write_staged("bad.py", VIOLATING)
    rejected = git(repo, "commit", "-m", "violating", env=on_path)
    assert rejected.returncode != 0
    assert "bad.py:1:21: RV101" in rejected.stdout + rejected.stderr
    # Without reviewer anywhere: a clear message, and the commit is stopped.
    git_dir = os.path.dirname(subprocess.run(["sh", "-c", "command -v git"], text=True,
                                             capture_output=True).stdout.strip())
    bare = {**os.environ, "PATH": os.pathsep.join(p for p in (git_dir, "/usr/bin", "/bin")
                                                   if p)}
    missing = git(repo, "commit", "-m", "violating", env=bare)
    if "reviewer" in subprocess.run(["sh", "-c", "command -v reviewer || true"], text=True,
                                    capture_output=True, env=bare).stdout:
        pytest.skip("a reviewer is installed system-wide")
    assert missing.returncode != 0
    assert "`reviewer` not found" in missing.stderr


# -- pre-push --------------------------------------------------------------------------------
@pytest.fixture
def remote(repo: Repo, tmp_path: Path) -> Path:
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    repo.git("remote", "add", "origin", str(bare))
    return bare


def remote_head(remote: Path, branch: str = "main") -> str:
    return subprocess.run(["git", "rev-parse", "-q", "--verify", branch], cwd=remote,
                          capture_output=True, text=True).stdout.strip()


def test_push_reviews_only_the_new_commits(repo: Repo, remote: Path, run_cli: RunCli) -> None:
    repo.write("old.py", VIOLATING)
    repo.commit_all("old debt")
    assert git(repo, "push", "-q", "origin", "main").returncode == 0
    assert run_cli("install-hooks", "-t", "pre-push")[0] == 0

    # Clean new commits go through although the remote already holds a violation.
    repo.write("greet.py", CLEAN)
    repo.commit_all("clean")
    pushed = git(repo, "push", "origin", "main")
    assert pushed.returncode == 0, pushed.stderr
    assert remote_head(remote) == repo.git("rev-parse", "HEAD").strip()

    # A violation committed past the hooks is stopped at the push...
    repo.write("pkg/bad.py", VIOLATING)
    repo.commit_all("violating")
    repo.write("greet.py", CLEAN + "\n")
    repo.commit_all("later clean commit")  # reviewed as the range, not only the tip
    refused = git(repo, "push", "origin", "main")
    assert refused.returncode != 0
    assert "pkg/bad.py:1:21: RV101" in refused.stdout + refused.stderr
    assert remote_head(remote) != repo.git("rev-parse", "HEAD").strip()

    # ... on a new branch too (reviewed from where it left the remote's history).
    repo.git("checkout", "-q", "-b", "topic")
    refused = git(repo, "push", "origin", "topic")
    assert refused.returncode != 0
    assert "pkg/bad.py:1:21: RV101" in refused.stdout + refused.stderr
    assert "old.py" not in refused.stdout + refused.stderr
    assert remote_head(remote, "topic") == ""

    # Deleting a remote branch is not reviewed.
    repo.git("push", "-q", "--no-verify", "origin", "topic")
    deleted = git(repo, "push", "origin", "--delete", "topic")
    assert deleted.returncode == 0, deleted.stderr


def test_push_runs_the_kept_hook_with_its_input(repo: Repo, remote: Path,
                                                run_cli: RunCli) -> None:
    repo.write("greet.py", CLEAN)
    repo.commit_all("clean")
    log = repo.path / ".git" / "local.log"
    hook = hook_path(repo, "pre-push")
    write_foreign(hook, tail=f"cat >> {log}")
    assert run_cli("install-hooks")[0] == 0
    pushed = git(repo, "push", "origin", "main")
    assert pushed.returncode == 0, pushed.stderr
    sha = repo.git("rev-parse", "HEAD").strip()
    # Arguments (remote name and URL) and the ref lines on stdin reached the kept hook.
    assert f"local .git/hooks/pre-push.local origin {remote}" in local_log(repo)
    assert f"refs/heads/main {sha} refs/heads/main " in log.read_text(encoding="utf-8")


def test_first_push_of_a_new_history_reviews_every_file(repo: Repo, remote: Path,
                                                        run_cli: RunCli) -> None:
    assert run_cli("install-hooks", "-t", "pre-push")[0] == 0
    repo.write("bad.py", VIOLATING)
    repo.commit_all("root")
    refused = git(repo, "push", "origin", "main")
    assert refused.returncode != 0
    assert "reviewing every file" in refused.stderr
    assert "bad.py:1:21: RV101" in refused.stdout
