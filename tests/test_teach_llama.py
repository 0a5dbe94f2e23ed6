"""The taught-principles judge with the real embedded model (SmolLM2-135M-Instruct) on
llama.cpp: the plumbing runs end to end and the answer has the schema's shape.

A 135M model judges poorly, so nothing here asserts whether it flags the function; a
bigger GGUF (``model = "..."``) goes through exactly the same path.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from collections.abc import Callable

import jsonschema
import pytest
from conftest import Repo, RunResult

from reviewer.feedback.judge import JUDGE_SCHEMA
from reviewer.feedback.taught import Principle

# Not importorskip: importing llama_cpp here would start OpenMP before the backend sets
# OMP_WAIT_POLICY (see reviewer/llm/llama_cpp.py).
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                       reason="llama-cpp-python is not installed"),
]

SOURCE = '''\
import os


def data_file(name):
    return os.path.join("data", name)
'''
PRINCIPLE = Principle("T001", "prefer-pathlib-over-os-path", "Prefer pathlib over os.path",
                      examples_bad=("p = os.path.join(a, 'b')\n",),
                      examples_good=("p = Path(a) / 'b'\n",))


def test_check_with_the_embedded_model_end_to_end(
    repo: Repo, run_cli: Callable[..., RunResult]
) -> None:
    repo.write("pyproject.toml", "[tool.reviewer]\nllm-backend = \"llama_cpp\"\n"
                                 "max-explained = 0\nllm-timeout = 300\nllm-max-tokens = 128\n")
    code, _, err = run_cli("teach", "Prefer pathlib over os.path", "--example-bad",
                           PRINCIPLE.examples_bad[0], "--example-good",
                           PRINCIPLE.examples_good[0])
    assert code == 0, err
    repo.write("app.py", SOURCE)
    repo.stage("app.py")
    code, out, err = run_cli("check", "--explain", "--format", "json", "--select", "T001")
    assert code in (0, 1), err
    assert "taught principles not judged" not in err and "unusable" not in err, err
    findings = json.loads(out)["findings"]
    assert code == (1 if findings else 0)
    for f in findings:  # whether it flags is the model's call; where it reports is not
        assert (f["rule_id"], f["symbol"], f["scope"]) == ("T001", "data_file", [4, 5])
        assert 4 <= f["line"] <= 5 and f["message"] == PRINCIPLE.text

    # The model's raw answer (cached for the next run) has the schema's shape.
    db = sqlite3.connect(repo.path / ".reviewer" / "cache" / "llm-answers.sqlite3")
    rows = db.execute("SELECT text FROM answers WHERE meta LIKE '%judge-principle%'").fetchall()
    db.close()
    assert len(rows) == 1
    answer = json.loads(rows[0][0])
    jsonschema.validate(answer, JUDGE_SCHEMA)
    assert bool(findings) == answer["violates"]
