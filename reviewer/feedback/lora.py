"""LoRA fine-tuning of the local model with mlx-lm, fusing, and GGUF export.

Training runs ``python -m mlx_lm lora`` in a child process (its memory is returned when it
ends, and its progress lines are passed through as they come) on the Hugging Face folder the
MLX backend converts the model to (see :func:`reviewer.llm.mlx.converted_dir`): batch size 1
with gradient accumulation (mlx-lm's ``--grad-accumulation-steps``), the loss computed on the
answer only (``--mask-prompt``). The adapter is written to a temporary folder next to its
destination and renamed into place, so an interrupted run leaves no half-written adapter.

``fuse`` merges the adapter into a new model folder (``mlx_lm fuse``); with ``gguf`` it also
writes an f16 GGUF of the fused model for the llama.cpp backend (mlx-lm exports llama,
mistral and mixtral architectures; SmolLM2 is a llama).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from reviewer.errors import ReviewerError
from reviewer.llm.adapters import DEFAULT_LINK, GGUF_NAME, INFO_FILE, adapters_root

ADAPTER_FILES = ("adapters.safetensors", "adapter_config.json")

Echo = Callable[[str], None]


@dataclass(frozen=True)
class TrainOptions:
    """What ``reviewer train`` passes to mlx-lm."""

    iters: int = 200
    batch_size: int = 1
    grad_accum: int = 8
    lora_layers: int = 8
    learning_rate: float = 1e-4
    max_seq_length: int = 2048
    val_batches: int = 4
    seed: int = 0
    steps_per_report: int = 10

    def args(self) -> list[str]:
        return [
            "--train", "--fine-tune-type", "lora", "--mask-prompt",
            "--batch-size", str(self.batch_size),
            "--grad-accumulation-steps", str(self.grad_accum),
            "--iters", str(self.iters),
            "--num-layers", str(self.lora_layers),
            "--learning-rate", str(self.learning_rate),
            "--max-seq-length", str(self.max_seq_length),
            "--val-batches", str(self.val_batches),
            "--steps-per-report", str(self.steps_per_report),
            "--steps-per-eval", str(self.iters),  # validate at the start and at the end
            "--save-every", str(self.iters),
            "--seed", str(self.seed),
        ]


@dataclass(frozen=True)
class TrainResult:
    """Where the adapter went and what training cost."""

    adapter: Path
    base_model: str  # the Hugging Face folder trained on
    seconds: float
    seconds_per_step: float
    train_loss: float | None
    val_loss: float | None
    options: TrainOptions


def require_mlx_lm() -> None:
    """Raise ReviewerError (one line) when mlx-lm cannot be imported."""
    import importlib.util

    missing = [m for m in ("mlx", "mlx_lm") if importlib.util.find_spec(m) is None]
    if missing:
        raise ReviewerError(f"training needs {' and '.join(missing)} (pip install "
                            "'reviewer[mlx]'; on Linux mlx[cpu])")


def default_name() -> str:
    """A new adapter's folder name: the UTC time (sorts by age)."""
    return time.strftime("%Y%m%d-%H%M%S", time.gmtime())


def check_data(data: Path) -> None:
    """Raise ReviewerError unless ``data`` holds a non-empty train and valid split."""
    for name in ("train", "valid"):
        path = data / f"{name}.jsonl"
        if not path.is_file() or not path.read_text(encoding="utf-8").strip():
            raise ReviewerError(f"no training data: {path} is missing or empty (run "
                                "`reviewer export-training` after accepting some findings)")


def is_adapter(path: Path) -> bool:
    """True for a folder holding an mlx-lm adapter."""
    return all((path / name).is_file() for name in ADAPTER_FILES)


def train(model_dir: Path, data: Path, out: Path, options: TrainOptions,
          echo: Echo = print) -> TrainResult:
    """Train a LoRA adapter on ``data`` into ``out`` (must not exist yet)."""
    require_mlx_lm()
    check_data(data)
    if out.exists():
        raise ReviewerError(f"{out} already exists; choose another --adapter-path")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    cmd = [sys.executable, "-m", "reviewer.feedback.lora", "--model", str(model_dir),
           "--data", str(data), "--adapter-path", str(tmp), *options.args()]
    start = time.perf_counter()
    try:
        losses = _run(cmd, echo, options.iters)
        seconds = time.perf_counter() - start
        if not is_adapter(tmp):
            raise ReviewerError("mlx-lm finished without writing an adapter")
        for checkpoint in tmp.glob("0*_adapters.safetensors"):
            checkpoint.unlink()  # mlx-lm's numbered copies of the final weights
        per_step = losses.train_seconds / options.iters if losses.train_seconds else (
            seconds / options.iters)
        result = TrainResult(out, str(model_dir), round(seconds, 2), round(per_step, 2),
                             losses.train, losses.val, options)
        info = {**asdict(result), "adapter": str(out), "options": asdict(options),
                "data": str(data)}
        (tmp / INFO_FILE).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return result


@dataclass
class _Losses:
    train: float | None = None
    val: float | None = None
    train_seconds: float = 0.0
    reported: int = 0  # the last step a train loss was reported for


REPORT = "@@reviewer "


def _run(cmd: Sequence[str], echo: Echo, iters: int = 0) -> _Losses:
    """Run a child process, echoing its progress; raise ReviewerError when it fails.

    The training worker reports as ``@@reviewer {json}`` lines (shown as loss lines); of
    other output only mlx-lm's headline messages are shown.
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"}
    losses = _Losses()
    tail: list[str] = []
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=env)
    except OSError as exc:
        raise ReviewerError(f"cannot start mlx-lm: {exc.strerror or exc}") from None
    assert proc.stdout is not None
    with proc:
        for raw in proc.stdout:
            line = raw.rstrip()
            if line.startswith(REPORT):
                shown = _report_line(json.loads(line[len(REPORT):]), losses, iters)
                if shown:
                    echo(shown)
                continue
            if line.strip():
                tail = [*tail[-5:], line]
            if line.startswith(("Loading", "Converting")):
                echo(line)
    if proc.returncode != 0:
        why = next((ln for ln in reversed(tail) if "Error" in ln), tail[-1] if tail else "")
        raise ReviewerError(f"mlx-lm failed (exit {proc.returncode}): {why.strip()[:300]}")
    return losses


def _report_line(info: dict[str, float], losses: _Losses, iters: int) -> str:
    if "train_dropped" in info:
        dropped = int(info["train_dropped"]) + int(info["valid_dropped"])
        return (f"records: {int(info['train'])} train, {int(info['valid'])} valid"
                + (f" ({dropped} longer than --max-seq-length left out)" if dropped else ""))
    if "val_loss" in info:
        losses.val = float(info["val_loss"])
        return (f"step {int(info['iteration'])}: validation loss {losses.val:.3f} "
                f"({info.get('val_time', 0.0):.1f}s)")
    if "train_loss" in info:
        losses.train = float(info["train_loss"])
        seconds = float(info.get("train_time", 0.0))
        losses.train_seconds += seconds
        steps = max(1, int(info["iteration"]) - losses.reported)
        losses.reported = int(info["iteration"])
        return (f"step {int(info['iteration'])}/{iters}: train loss {losses.train:.3f} "
                f"({seconds / steps:.1f}s per step)")
    return ""


# -- the training worker (run as ``python -m reviewer.feedback.lora``) ----------------------
def worker(argv: Sequence[str]) -> int:
    """Train with mlx-lm's own training loop, reporting through a callback as JSON lines.

    ``--val-batches 0`` trains without validation passes (on a CPU each one costs as much
    as several training steps).
    """
    import importlib
    import types

    import numpy as np
    from mlx_lm.tuner.callbacks import TrainingCallback

    mlx_lora: Any = importlib.import_module("mlx_lm.lora")
    datasets: Any = importlib.import_module("mlx_lm.tuner.datasets")
    utils: Any = importlib.import_module("mlx_lm.utils")
    values = dict(vars(mlx_lora.build_parser().parse_args(list(argv))))
    for key, default in mlx_lora.CONFIG_DEFAULTS.items():
        if values.get(key) is None:
            values[key] = default
    args = types.SimpleNamespace(**values)
    validate = args.val_batches != 0
    if not validate:
        args.val_batches = 1

    class Reporter(TrainingCallback):
        """Progress as JSON lines for the parent process."""

        def __init__(self) -> None:
            self.last = time.perf_counter()

        def on_train_loss_report(self, train_info: dict[str, float]) -> None:
            now = time.perf_counter()
            info = {**train_info, "train_time": now - self.last}
            self.last = now
            print(REPORT + json.dumps(info), flush=True)

        def on_val_loss_report(self, val_info: dict[str, float]) -> None:
            print(REPORT + json.dumps(val_info), flush=True)
            self.last = time.perf_counter()

    np.random.seed(args.seed)
    print("Loading the model", flush=True)
    model, tokenizer = utils.load(args.model)[:2]
    with tempfile.TemporaryDirectory(prefix="reviewer-train-") as tmp:
        kept = fitting_records(Path(args.data), Path(tmp), tokenizer, args.max_seq_length)
        print(REPORT + json.dumps(kept), flush=True)
        if not kept["train"]:
            print(f"Error: every training record's prompt is longer than --max-seq-length "
                  f"{args.max_seq_length}", flush=True)
            return 2
        args.data = tmp
        train_set, valid_set, _ = datasets.load_dataset(args, tokenizer)
        if not kept["valid"]:
            validate = False
        mlx_lora.train_model(args, model, train_set, valid_set if validate else [], Reporter())
    return 0


# Answer tokens a record must keep after truncation to be worth training on.
MIN_ANSWER_TOKENS = 8


def fitting_records(data: Path, out: Path, tokenizer: Any,
                    max_seq_length: int) -> dict[str, int]:
    """Copy the splits of ``data`` to ``out`` without the records whose prompt leaves fewer
    than MIN_ANSWER_TOKENS answer tokens within ``max_seq_length`` (truncated away, they
    would give a loss over nothing: NaN). Returns the records kept per split."""
    kept: dict[str, int] = {}
    template = tokenizer.apply_chat_template
    for name in ("train", "valid"):
        lines = []
        path = data / f"{name}.jsonl"
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
        for line in text.splitlines():
            if not line.strip():
                continue
            messages = json.loads(line)["messages"]
            prompt = template(messages[:-1], add_generation_prompt=True, return_dict=False)
            if len(prompt) + MIN_ANSWER_TOKENS <= max_seq_length:
                lines.append(line)
        (out / f"{name}.jsonl").write_text("".join(ln + "\n" for ln in lines),
                                           encoding="utf-8")
        kept[name] = len(lines)
        kept[f"{name}_dropped"] = len(text.splitlines()) - len(lines)
    return kept


# -- fuse and GGUF --------------------------------------------------------------------------
def fuse(model_dir: Path, adapter: Path, out: Path, base_gguf: Path | None = None,
         echo: Echo = print) -> Path:
    """Fuse ``adapter`` into ``model_dir``'s weights as a new folder ``out``; with
    ``base_gguf`` also write ``out/model.gguf`` for llama.cpp (see :func:`export_gguf`).
    Returns ``out`` (or the GGUF file)."""
    require_mlx_lm()
    if not is_adapter(adapter):
        raise ReviewerError(f"{adapter} is not an adapter folder (no {ADAPTER_FILES[0]})")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    cmd = [sys.executable, "-m", "mlx_lm", "fuse", "--model", str(model_dir),
           "--adapter-path", str(adapter), "--save-path", str(tmp)]
    try:
        _run(cmd, echo)
        if base_gguf is not None:
            echo("Converting to GGUF")
            export_gguf(base_gguf, model_dir, tmp, tmp / GGUF_NAME)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out / GGUF_NAME if base_gguf is not None else out


def _safetensors(folder: Path) -> dict[str, Any]:
    from safetensors.numpy import load_file

    weights: dict[str, Any] = {}
    for path in sorted(folder.glob("*.safetensors")):
        weights.update(load_file(str(path)))
    return weights


def permute_qk(weights: Any, n_head: int) -> Any:
    """Hugging Face's rotary layout of a q/k projection back to llama.cpp's (the inverse of
    what transformers undoes when it reads a GGUF)."""
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def export_gguf(base_gguf: Path, base_dir: Path, fused_dir: Path, out: Path) -> int:
    """Write ``out``: the base GGUF with every tensor the adapter changed replaced by its
    fused value (F16; norms F32), all else (tokenizer, metadata, untouched quantized
    tensors) copied as is. Returns how many tensors were replaced.

    mlx-lm's own ``--export-gguf`` writes a SentencePiece vocabulary, which is wrong for
    byte-level BPE models such as SmolLM2 (llama.cpp refuses the file), hence this.
    """
    import gguf
    import numpy as np

    reader = gguf.GGUFReader(str(base_gguf))
    arch = str(reader.get_field(gguf.Keys.General.ARCHITECTURE).contents())  # type: ignore[union-attr]
    config = json.loads((fused_dir / "config.json").read_text(encoding="utf-8"))
    n_head = int(config["num_attention_heads"])
    n_kv = int(config.get("num_key_value_heads") or n_head)
    n_blocks = int(config["num_hidden_layers"])
    fused, base = _safetensors(fused_dir), _safetensors(base_dir)
    try:
        names = gguf.get_tensor_name_map(gguf.MODEL_ARCH[arch.upper()], n_blocks)
    except KeyError:
        raise ReviewerError(f"cannot export a GGUF for architecture {arch!r}") from None
    changed: dict[str, Any] = {}
    for hf_name, value in fused.items():
        old = base.get(hf_name)
        if old is None or np.array_equal(value, old):
            continue
        gguf_name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if gguf_name is None:
            raise ReviewerError(f"no GGUF name for tensor {hf_name}")
        array = np.asarray(value, dtype=np.float32)
        if "self_attn.q_proj" in hf_name:
            array = permute_qk(array, n_head)
        elif "self_attn.k_proj" in hf_name:
            array = permute_qk(array, n_kv)
        changed[gguf_name] = array.astype(np.float16) if array.ndim > 1 else array
    known = {t.name for t in reader.tensors}
    missing = sorted(set(changed) - known)
    if missing:
        raise ReviewerError(f"the base GGUF has no tensor {missing[0]}")
    writer = gguf.GGUFWriter(str(out), arch)
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)
    for t in reader.tensors:
        new = changed.get(t.name)
        if new is not None:
            writer.add_tensor_info(t.name, new.shape, new.dtype, new.nbytes)
        else:
            writer.add_tensor_info(t.name, t.data.shape, t.data.dtype, t.data.nbytes,
                                   t.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for t in reader.tensors:
        new = changed.get(t.name)
        writer.write_tensor_data(new if new is not None else t.data,
                                 tensor_endianess=None if new is not None else reader.endianess)
    writer.close()
    return len(changed)


# -- the default adapter ---------------------------------------------------------------------


def promote(root: Path, adapter: Path) -> Path:
    """Make ``adapter`` the default (written atomically to ``.reviewer/adapters/default``)."""
    from reviewer.fileio import atomic_write_text

    base = adapters_root(root).resolve()
    target = adapter.resolve()
    name = str(target.relative_to(base)) if target.is_relative_to(base) else str(target)
    marker = adapters_root(root) / DEFAULT_LINK
    atomic_write_text(marker, name + "\n")
    return marker


if __name__ == "__main__":
    raise SystemExit(worker(sys.argv[1:]))
