"""action.yml: its conventions, and its steps run the way the Actions runner runs them.

The steps run through tests/action_runner.py (bash -eo pipefail per `run` step, expressions
only in env/with/if, step outputs through $GITHUB_OUTPUT). The install step is exercised
for real in one slow test; the others give the action this checkout's `reviewer` through
its `reviewer` input, which skips the install.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
import yaml
from action_runner import ActionRun, run_action
from tree_snapshot import copy_tree

if TYPE_CHECKING:
    from conftest import Repo

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
WORKFLOW = ROOT / "docs" / "workflows" / "reviewer.yml"
REVIEWER = str(Path(sys.executable).parent / "reviewer")
SCHEMA = ROOT.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")

VIOLATING = "def add(item, items=[]):\n    items.append(item)\n    return items\n"
CLEAN = '''\
"""Greeting helpers."""


def greet(name: str) -> str:
    """Return a greeting for ``name``."""
    return f"hello {name}"
'''


def action() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return data


# -- conventions (GUIDE.md section 6) -------------------------------------------------------
def test_composite_with_bash_steps_and_no_expressions_in_scripts() -> None:
    spec = action()
    assert spec["runs"]["using"] == "composite"
    for step in spec["runs"]["steps"]:
        assert step.get("name"), step
        if "run" in step:
            assert step["shell"] == "bash", step["name"]
            assert "${{" not in step["run"], f"{step['name']}: inputs go through env:"


def test_nested_actions_are_pinned_by_sha_with_the_version_noted() -> None:
    text = ACTION.read_text(encoding="utf-8")
    uses = [s["uses"] for s in action()["runs"]["steps"] if "uses" in s]
    assert "github/codeql-action/upload-sarif@" in " ".join(uses)
    for ref in uses:
        assert PINNED.match(ref), ref
        assert re.search(re.escape(ref) + r" # v\d+(\.\d+)*\n", text), f"{ref}: note the tag"


def test_inputs_are_documented_and_every_reference_is_declared() -> None:
    spec = action()
    declared = set(spec["inputs"])
    assert {"base-ref", "fail-on", "sarif", "sarif-file", "pr-comments", "max-comments",
            "args", "python", "reviewer", "token"} <= declared
    for name, inp in spec["inputs"].items():
        assert inp.get("description"), name
    text = ACTION.read_text(encoding="utf-8")
    used = set(re.findall(r"inputs\.([\w-]+)", text))
    assert used <= declared
    assert declared - used == set(), "declared but never used"
    ids = {s.get("id") for s in spec["runs"]["steps"]}
    assert set(re.findall(r"steps\.([\w-]+)\.", text)) <= ids


def test_workflow_in_docs_has_the_permissions_and_full_history() -> None:
    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert set(flow[True]) == {"pull_request"}  # `on:` parses as True; never pull_request_target
    (job,) = flow["jobs"].values()
    assert job["permissions"] == {"contents": "read", "pull-requests": "write",
                                  "checks": "write", "security-events": "write"}
    assert "self-hosted" in job["runs-on"] and "macOS" in job["runs-on"]
    checkout, *_ = job["steps"]
    assert PINNED.match(checkout["uses"]) and checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0
    assert checkout["with"]["ref"] == "${{ github.event.pull_request.head.sha }}"
    names = [s.get("uses", "") for s in job["steps"]]
    assert any(u.startswith("reviewer-dev/reviewer@") for u in names)


# -- running the steps -----------------------------------------------------------------------
@pytest.fixture
def validator() -> Any:
    if not SCHEMA.is_file():
        pytest.skip(f"SARIF schema not found at {SCHEMA}")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return jsonschema.validators.validator_for(schema)(schema)


def pull_request_event(repo: Repo, base: str, *, fork: bool = False) -> dict[str, Any]:
    head = repo.git("rev-parse", "HEAD").strip()
    return {
        "action": "synchronize", "number": 7,
        "pull_request": {
            "number": 7,
            "base": {"sha": base, "ref": "main", "repo": {"full_name": "octo/demo"}},
            "head": {"sha": head, "ref": "topic",
                     "repo": {"full_name": "someone/demo" if fork else "octo/demo"}},
        },
        "repository": {"full_name": "octo/demo"},
    }


def pr_repo(repo: Repo, change: str) -> str:
    """A base commit (with an old violation) and a topic commit; returns the base SHA."""
    repo.write("old.py", VIOLATING)
    repo.write("greet.py", CLEAN)
    repo.commit_all("base")
    base = repo.git("rev-parse", "HEAD").strip()
    repo.git("checkout", "-q", "-b", "topic")
    repo.write("pkg/new.py", change)
    repo.commit_all("change")
    return base


def run(repo: Repo, tmp_path: Path, event_name: str, event: dict[str, Any],
        **inputs: str) -> ActionRun:
    given = {"reviewer": REVIEWER, "pr-comments": "false", **inputs}
    return run_action(ACTION, inputs=given, workspace=repo.path, action_path=ROOT,
                      event_name=event_name, event=event, temp=tmp_path / "runner")


def test_pull_request_with_a_violation(repo: Repo, tmp_path: Path, validator: Any) -> None:
    base = pr_repo(repo, VIOLATING)
    result = run(repo, tmp_path, "pull_request", pull_request_event(repo, base))

    review = result.step("review")
    assert review.outcome == "success", review.log  # findings fail the last step only
    assert f"reviewer check --base {base}" in review.log
    assert review.outputs == {"sarif-file": "reviewer.sarif", "exit-code": "1"}
    assert "::warning file=pkg/new.py,line=1,endLine=1,col=21," in review.log
    assert "old.py" not in review.log  # only the PR's changes

    log = json.loads((repo.path / "reviewer.sarif").read_text(encoding="utf-8"))
    errors = list(validator.iter_errors(log))
    assert not errors, errors[0].message
    rules = {r["ruleId"] for r in log["runs"][0]["results"]}
    assert "RV101" in rules

    upload = result.step("Upload SARIF to code scanning")
    assert upload.outcome == "success"
    assert upload.uses is not None and upload.uses.startswith("github/codeql-action/upload-sarif@")
    assert upload.with_ == {"sarif_file": "reviewer.sarif", "category": "reviewer",
                            "token": "ghs_test_token"}
    assert result.step("Post the pull-request review").outcome == "skipped"  # pr-comments off

    final = result.step("Fail on findings")
    assert final.outcome == "failure" and final.exit_code == 1
    assert not result.ok
    assert result.outputs == {"sarif-file": "reviewer.sarif", "exit-code": "1"}
    assert repo.git("status", "--porcelain", "--untracked-files=no") == ""


def test_clean_pull_request_passes(repo: Repo, tmp_path: Path) -> None:
    base = pr_repo(repo, CLEAN.replace("greet", "wave"))
    result = run(repo, tmp_path, "pull_request", pull_request_event(repo, base))
    assert result.ok, result.log
    assert result.outputs["exit-code"] == "0"
    assert result.step("Fail on findings").outcome == "success"


def test_fork_pull_request_skips_the_upload(repo: Repo, tmp_path: Path) -> None:
    base = pr_repo(repo, VIOLATING)
    result = run(repo, tmp_path, "pull_request", pull_request_event(repo, base, fork=True))
    assert result.step("Upload SARIF to code scanning").outcome == "skipped"
    assert result.step("review").outputs["exit-code"] == "1"


def test_push_reviews_the_pushed_range(repo: Repo, tmp_path: Path) -> None:
    base = pr_repo(repo, VIOLATING)
    result = run(repo, tmp_path, "push", {"before": base, "after": "x"}, sarif="false")
    review = result.step("review")
    assert f"reviewer check --base {base}" in review.log
    assert "pkg/new.py" in review.log and "old.py" not in review.log
    assert review.outputs["sarif-file"] == ""
    assert not (repo.path / "reviewer.sarif").exists()
    assert result.step("Upload SARIF to code scanning").outcome == "skipped"


def test_new_branch_or_manual_run_reviews_everything(repo: Repo, tmp_path: Path) -> None:
    pr_repo(repo, CLEAN.replace("greet", "wave"))
    for event_name, event in (("push", {"before": "0" * 40}), ("workflow_dispatch", {})):
        result = run(repo, tmp_path, event_name, event, sarif="false")
        review = result.step("review")
        assert "reviewer check --all" in review.log
        assert "::warning file=old.py" in review.log
        assert review.outputs["exit-code"] == "1"


def test_fail_on_args_and_base_ref_inputs(repo: Repo, tmp_path: Path) -> None:
    base = pr_repo(repo, VIOLATING)
    event = pull_request_event(repo, base)
    result = run(repo, tmp_path, "pull_request", event, **{"fail-on": "high"})
    assert result.ok and result.outputs["exit-code"] == "0"  # RV101 is medium

    result = run(repo, tmp_path, "pull_request", event, args="--select RV101  --no-cache")
    annotations = [ln for ln in result.step("review").log.splitlines() if ln.startswith("::")]
    assert annotations and all("title=RV101 " in ln for ln in annotations)

    # base-ref wins over the event: from the topic commit itself nothing changed.
    result = run(repo, tmp_path, "pull_request", event, **{"base-ref": "HEAD"})
    assert result.ok and result.outputs["exit-code"] == "0"


def test_inputs_never_run_as_shell(repo: Repo, tmp_path: Path) -> None:
    base = pr_repo(repo, VIOLATING)
    event = pull_request_event(repo, base)
    hostile = {"base-ref": "$(touch pwned-base)", "args": "; touch pwned-args `touch pwned-bq`",
               "sarif-file": "out/$(touch pwned-file).sarif"}
    result = run(repo, tmp_path, "pull_request", event, **hostile)
    assert not result.ok
    review = result.step("review")
    assert review.outcome == "failure" and review.exit_code == 2
    assert "reviewer: error:" in review.log and "Traceback" not in review.log
    assert not list(repo.path.glob("pwned*")) and not list(tmp_path.rglob("pwned*"))


def test_install_step_reports_a_missing_or_old_python(repo: Repo, tmp_path: Path) -> None:
    old = tmp_path / "python3.9"
    old.write_text("#!/bin/sh\ncase \"$2\" in *version_info*) exit 1 ;; esac\necho 3.9.6\n",
                   encoding="utf-8")
    old.chmod(0o755)
    for python, message in ((str(old), "needs Python 3.10 or newer; "
                                       f"{old} is 3.9.6"),
                            ("no-such-python", "no-such-python not found")):
        result = run(repo, tmp_path, "workflow_dispatch", {}, reviewer="", python=python)
        install = result.step("install")
        assert install.outcome == "failure" and install.exit_code == 2
        assert "::error title=reviewer::" in install.log and message in install.log
        assert result.step("review").outcome == "skipped"
        assert result.step("Fail on findings").outcome == "skipped"
    result = run(repo, tmp_path, "workflow_dispatch", {}, reviewer="/no/such/reviewer")
    assert "the reviewer input names no executable" in result.step("install").log


@pytest.mark.slow
def test_install_step_builds_a_venv_from_the_action_path(repo: Repo, tmp_path: Path) -> None:
    action_path = copy_tree(tmp_path / "action")  # what `uses: owner/reviewer@ref` unpacks
    base = pr_repo(repo, VIOLATING)
    result = run_action(
        action_path / "action.yml",
        inputs={"python": sys.executable, "extras": "", "pr-comments": "false"},
        workspace=repo.path, action_path=action_path, event_name="pull_request",
        event=pull_request_event(repo, base), temp=tmp_path / "runner",
    )
    install = result.step("install")
    assert install.outcome == "success", install.log
    venv_reviewer = tmp_path / "runner" / "runner-temp" / "reviewer-venv" / "bin" / "reviewer"
    assert install.outputs == {"reviewer": str(venv_reviewer)}
    proc = subprocess.run([str(venv_reviewer), "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and "reviewer" in proc.stdout
    assert result.step("review").outputs["exit-code"] == "1"
    assert "::warning file=pkg/new.py,line=1,endLine=1,col=21," in result.step("review").log


@pytest.mark.slow  # PyGithub's real pauses between writes
def test_pull_request_review_step_posts_through_the_api(repo: Repo, tmp_path: Path) -> None:
    from github_fake import APP, State, patches_from_git, serve

    base = pr_repo(repo, VIOLATING)
    head = repo.git("rev-parse", "HEAD").strip()
    state = State(head_sha=head, base_sha=base, files=patches_from_git(repo.path, base, head))
    with serve(state) as fake:
        result = run_action(
            ACTION, inputs={"reviewer": REVIEWER, "token": APP, "max-comments": "2"},
            workspace=repo.path, action_path=ROOT, event_name="pull_request",
            event=pull_request_event(repo, base), temp=tmp_path / "runner",
            extra_env={"GITHUB_API_URL": fake.url},
        )
    step = result.step("Post the pull-request review")
    assert step.outcome == "success", step.log
    assert step.env["PR_NUMBER"] == "7" and step.env["GITHUB_TOKEN"] == APP
    assert "reviewer: octo/demo#7: 4 findings, 2 new inline comments" in step.log
    assert len(state.reviews) == 1 and len(state.review_comments) == 2
    assert "RV101" in state.review_comments[0]["body"]
    assert len(state.issue_comments) == 1
    assert not state.check_runs  # the job's own annotations do that part
    assert result.step("Fail on findings").exit_code == 1


@pytest.mark.slow  # PyGithub's real pauses between writes
def test_server_url_input_explains_once_for_every_step(repo: Repo, tmp_path: Path) -> None:
    from github_fake import APP, State, patches_from_git, serve
    from model_fake import EXPLANATION, serve_model

    base = pr_repo(repo, VIOLATING)
    head = repo.git("rev-parse", "HEAD").strip()
    state = State(head_sha=head, base_sha=base, files=patches_from_git(repo.path, base, head))
    with serve(state) as fake, serve_model() as model:
        result = run_action(
            ACTION, inputs={"reviewer": REVIEWER, "token": APP, "server-url": model.url,
                            "llm-timeout": "30"},
            workspace=repo.path, action_path=ROOT, event_name="pull_request",
            event=pull_request_event(repo, base), temp=tmp_path / "runner",
            extra_env={"GITHUB_API_URL": fake.url},
        )
    review = result.step("review")
    assert f"--explain --server-url {model.url} --llm-timeout 30" in review.log
    log = json.loads((repo.path / "reviewer.sarif").read_text(encoding="utf-8"))
    messages = [r["message"]["text"] for r in log["runs"][0]["results"]]
    assert any(m.startswith("Mutable default argument") and EXPLANATION in m for m in messages)
    assert EXPLANATION in review.log  # the annotations too
    assert any(EXPLANATION in c["body"] for c in state.review_comments)
    # Each finding went to the model once (the later steps answered from the cache), and
    # the change was described once for the PR summary (reviewer describe).
    described = [p for p in model.prompts if "You describe a code change" in json.dumps(p)]
    assert len(described) == 1
    assert len(model.prompts) - len(described) == 4
