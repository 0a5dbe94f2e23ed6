"""The gate on model fixes (issue 12): a model under ``model-fix-min-params`` (SmolLM2-135M,
the embedded one) explains only, with one line saying why; the rules' own fixes stay.
The parameter count comes from the GGUF header, else from the file size."""

from __future__ import annotations

import importlib.util
import json
import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from model_layouts import _str, _value

from reviewer.llm.backend import embedded_model_path
from reviewer.llm.explain import MODEL_FIX_MIN_PARAMS, fix_gate, model_parameters

RunCli = Callable[..., tuple[int, str, str]]


class Local:
    """A backend as the gate sees it: a local model file."""

    def __init__(self, path: Path) -> None:
        self.model_path = path


def sparse_gguf(path: Path, rows: int, cols: int) -> Path:
    """A GGUF whose one F16 tensor is ``rows`` x ``cols`` (sparse: no disk used)."""
    meta = {"general.architecture": "qwen2", "general.name": "Qwen2.5 Coder 1.5B"}
    out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, 1, len(meta)))
    for k, v in meta.items():
        out += _str(k) + _value(v)
    out += _str("token_embd.weight") + struct.pack("<I", 2) + struct.pack("<QQ", cols, rows)
    out += struct.pack("<IQ", 1, 0)
    out += b"\0" * (-len(out) % 32)
    with path.open("wb") as fh:
        fh.write(out)
        fh.truncate(len(out) + rows * cols * 2)
    return path


def test_the_gate_counts_parameters(tmp_path: Path) -> None:
    embedded = embedded_model_path()
    assert embedded is not None
    note = fix_gate(Local(embedded), MODEL_FIX_MIN_PARAMS)  # type: ignore[arg-type]
    assert note is not None and "has 135M parameters" in note and "--model-fixes" in note
    assert fix_gate(Local(embedded), 0) is None  # type: ignore[arg-type]  # --model-fixes
    # Qwen2.5-Coder-1.5B's count (1.54B): asked for fixes.
    qwen = sparse_gguf(tmp_path / "qwen.gguf", 1_000_000, 1544)
    assert model_parameters(Local(qwen)) == 1_544_000_000  # type: ignore[arg-type]
    assert fix_gate(Local(qwen), MODEL_FIX_MIN_PARAMS) is None  # type: ignore[arg-type]
    # No count in the file: 4 bits a parameter (its Q4_K_M file is 1.1 GB).
    blob = tmp_path / "model.bin"
    with blob.open("wb") as fh:
        fh.truncate(1_100_000_000)
    assert fix_gate(Local(blob), MODEL_FIX_MIN_PARAMS) is None  # type: ignore[arg-type]
    with blob.open("wb") as fh:
        fh.truncate(98_000_000)  # the size of SmolLM2-135M at Q4_1
    assert fix_gate(Local(blob), MODEL_FIX_MIN_PARAMS) is not None  # type: ignore[arg-type]
    assert fix_gate(object(), MODEL_FIX_MIN_PARAMS) is None  # type: ignore[arg-type]  # server


PORT = '''"""Ports."""


def parse_port(text: str) -> int:
    """The port in text, 8080 when it is not a number."""
    try:
        return int(text)
    except:
        return 8080
'''


@pytest.mark.slow  # loads and runs the model: seconds idle, minutes on a busy machine
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                    reason="llama-cpp-python is not installed")
def test_the_embedded_model_explains_and_the_rule_fix_stays(
    repo: object, run_cli: RunCli
) -> None:
    Path("port.py").write_text(PORT, encoding="utf-8")
    code, out, err = run_cli("check", "port.py", "--select", "RV201", "--explain",
                             "--no-cache", "--format", "json", "--llm-timeout", "600")
    assert code == 1
    finding = json.loads(out)["findings"][0]
    assert finding["explanation"]  # the model's or the reviewer's own
    assert finding["model_fix"] is None
    assert finding["fix"] is not None  # except: -> except Exception:, the rule's own
    notes = [ln for ln in err.splitlines() if "model-fix-min-params" in ln]
    assert len(notes) == 1 and "has 135M parameters" in notes[0], err
