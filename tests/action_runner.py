"""A small stand-in for the GitHub Actions runner, enough to run a composite action's steps.

It does what the runner does for composite steps: evaluates ``if:`` conditions and the
``${{ }}`` expressions of ``env:``, ``with:`` and ``working-directory:`` (contexts
``inputs``, ``steps``, ``github``; operators ``||``, ``&&``, ``==``, ``!=``, ``!``; status
functions), runs each ``run`` script as ``bash --noprofile --norc -eo pipefail FILE`` (the
runner's command for ``shell: bash``), collects ``$GITHUB_OUTPUT``, honours
``continue-on-error`` and records ``uses`` steps instead of running them. It never puts
an expression into a script: ``run`` text containing ``${{`` is an error here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>&&|\|\||==|!=|!|\(|\))"
    r"|(?P<name>[A-Za-z_][\w.-]*))"
)


class ExpressionError(Exception):
    """An expression this runner does not understand."""


@dataclass
class StepResult:
    """One step's outcome."""

    id: str
    name: str
    outcome: str  # success, failure or skipped
    outputs: dict[str, str] = field(default_factory=dict)
    log: str = ""
    exit_code: int | None = None
    uses: str | None = None
    with_: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class ActionRun:
    """Every step's result, and whether the action as a whole succeeded."""

    steps: list[StepResult]
    outputs: dict[str, str]

    @property
    def ok(self) -> bool:
        return all(s.outcome != "failure" for s in self.steps)

    def step(self, key: str) -> StepResult:
        """A step by id or name."""
        for s in self.steps:
            if key in (s.id, s.name):
                return s
        raise KeyError(key)

    @property
    def log(self) -> str:
        return "".join(s.log for s in self.steps)


class Evaluator:
    """GitHub expression evaluation over plain dict contexts (missing values are '')."""

    def __init__(self, contexts: dict[str, Any], failed: bool) -> None:
        self.contexts = contexts
        self.failed = failed
        self.tokens: list[tuple[str, str]] = []
        self.pos = 0

    def evaluate(self, text: str) -> Any:
        self.tokens = self._tokenize(text)
        self.pos = 0
        value = self._or()
        if self.pos != len(self.tokens):
            raise ExpressionError(f"unexpected {self.tokens[self.pos][1]!r} in {text!r}")
        return value

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens, pos = [], 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise ExpressionError(f"cannot read {text[pos:]!r}")
            kind = m.lastgroup or ""
            tokens.append((kind, m.group(kind)))
            pos = m.end()
        return tokens

    def _peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def _take(self) -> tuple[str, str]:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _or(self) -> Any:
        value = self._and()
        while self._peek() == "||":
            self._take()
            right = self._and()
            value = value if truthy(value) else right
        return value

    def _and(self) -> Any:
        value = self._compare()
        while self._peek() == "&&":
            self._take()
            right = self._compare()
            value = right if truthy(value) else value
        return value

    def _compare(self) -> Any:
        value = self._unary()
        if self._peek() in ("==", "!="):
            op = self._take()[1]
            right = self._unary()
            same = str(value).lower() == str(right).lower()
            return same if op == "==" else not same
        return value

    def _unary(self) -> Any:
        if self._peek() == "!":
            self._take()
            return not truthy(self._unary())
        return self._primary()

    def _primary(self) -> Any:
        kind, text = self._take()
        if text == "(":
            value = self._or()
            if self._take()[1] != ")":
                raise ExpressionError("missing )")
            return value
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind != "name":
            raise ExpressionError(f"unexpected {text!r}")
        if self._peek() == "(":
            self._take()
            if self._take()[1] != ")":
                raise ExpressionError("functions take no arguments here")
            return self._call(text)
        if text in ("true", "false"):
            return text == "true"
        return self._lookup(text)

    def _call(self, name: str) -> bool:
        calls = {"always": True, "success": not self.failed, "failure": self.failed,
                 "cancelled": False}
        if name not in calls:
            raise ExpressionError(f"unknown function {name}()")
        return calls[name]

    def _lookup(self, path: str) -> Any:
        head, *rest = path.split(".")
        if head not in self.contexts:
            raise ExpressionError(f"unknown context {head!r}")
        value: Any = self.contexts[head]
        for part in rest:
            value = value.get(part, "") if isinstance(value, dict) else ""
        return "" if value is None else value


def truthy(value: Any) -> bool:
    return value not in ("", False, 0, None)


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def interpolate(text: str, ev: Evaluator) -> str:
    """Replace every ``${{ expr }}`` in a value (not a script) by its result."""
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: as_text(ev.evaluate(m.group(1))), text)


def _read_outputs(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, delim = line.split("<<", 1)
            end = lines.index(delim, i + 1)
            out[key] = "\n".join(lines[i + 1:end])
            i = end + 1
            continue
        key, _, value = line.partition("=")
        out[key] = value
        i += 1
    return out


def run_action(
    action_file: Path,
    *,
    inputs: dict[str, str],
    workspace: Path,
    action_path: Path,
    event_name: str,
    event: dict[str, Any],
    repository: str = "octo/demo",
    temp: Path,
    extra_env: dict[str, str] | None = None,
) -> ActionRun:
    """Run the composite action in ``action_file`` the way the runner would."""
    action = yaml.safe_load(action_file.read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    temp.mkdir(parents=True, exist_ok=True)
    event_path = temp / "event.json"
    event_path.write_text(json.dumps(event), encoding="utf-8")
    github = {
        "event_name": event_name, "event": event, "repository": repository,
        "workspace": str(workspace), "token": "ghs_test_token", "action_path": str(action_path),
    }
    declared = action.get("inputs", {})
    unknown = set(inputs) - set(declared)
    assert not unknown, f"inputs not declared in action.yml: {unknown}"
    ctx_inputs: dict[str, Any] = {}
    for name, spec in declared.items():
        default = str(spec.get("default", ""))
        base_ev = Evaluator({"github": github}, failed=False)
        ctx_inputs[name] = inputs.get(name, interpolate(default, base_ev))
    steps_ctx: dict[str, Any] = {}
    base_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(temp)),
        "CI": "true", "GITHUB_ACTIONS": "true",
        "GITHUB_ACTION_PATH": str(action_path), "GITHUB_WORKSPACE": str(workspace),
        "GITHUB_EVENT_NAME": event_name, "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_REPOSITORY": repository, "RUNNER_TEMP": str(temp / "runner-temp"),
        "GITHUB_STEP_SUMMARY": str(temp / "summary.md"),
        "GITHUB_API_URL": "https://api.github.com",
        **(extra_env or {}),
    }
    (temp / "runner-temp").mkdir(exist_ok=True)
    results: list[StepResult] = []
    failed = False
    for index, step in enumerate(action["runs"]["steps"]):
        sid = step.get("id", f"__{index}")
        ev = Evaluator({"inputs": ctx_inputs, "steps": steps_ctx, "github": github}, failed)
        condition = str(step.get("if", "success()"))
        condition = condition.strip().removeprefix("${{").removesuffix("}}")
        if not truthy(ev.evaluate(condition)):
            results.append(StepResult(sid, step.get("name", sid), "skipped"))
            steps_ctx[sid] = {"outputs": {}, "outcome": "skipped"}
            continue
        env = {k: interpolate(str(v), ev) for k, v in step.get("env", {}).items()}
        if "uses" in step:
            with_ = {k: interpolate(str(v), ev) for k, v in step.get("with", {}).items()}
            res = StepResult(sid, step.get("name", sid), "success", uses=step["uses"],
                             with_=with_, env=env)
        else:
            res = _run_script(step, sid, env, base_env, ev, workspace, temp)
        if res.outcome == "failure" and step.get("continue-on-error") is True:
            res.outcome = "success"
        failed = failed or res.outcome == "failure"
        results.append(res)
        steps_ctx[sid] = {"outputs": res.outputs, "outcome": res.outcome}
    ev = Evaluator({"inputs": ctx_inputs, "steps": steps_ctx, "github": github}, failed)
    outputs = {k: interpolate(str(v.get("value", "")), ev)
               for k, v in action.get("outputs", {}).items()}
    return ActionRun(results, outputs)


def _run_script(step: dict[str, Any], sid: str, env: dict[str, str], base_env: dict[str, str],
                ev: Evaluator, workspace: Path, temp: Path) -> StepResult:
    script = step["run"]
    if "${{" in script:
        raise ExpressionError(f"step {sid}: an expression inside a script")
    if step.get("shell") != "bash":
        raise ExpressionError(f"step {sid}: shell must be bash")
    script_file = temp / f"step-{sid}.sh"
    script_file.write_text(script, encoding="utf-8")
    output_file = temp / f"output-{sid}"
    output_file.write_text("", encoding="utf-8")
    cwd = interpolate(str(step.get("working-directory", workspace)), ev)
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
        cwd=cwd, env={**base_env, **env, "GITHUB_OUTPUT": str(output_file)},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    return StepResult(sid, step.get("name", sid),
                      "success" if proc.returncode == 0 else "failure",
                      outputs=_read_outputs(output_file), log=proc.stdout,
                      exit_code=proc.returncode, env=env)
