"""Fine-tuning the local model on the team's verdicts: ``export-training``, ``train``, ``eval``.

``export-training`` writes ChatML JSONL (see :mod:`reviewer.feedback.training`), ``train``
runs LoRA fine-tuning with mlx-lm into ``.reviewer/adapters/<name>/`` (optionally fused, and
exported as GGUF for llama.cpp; see :mod:`reviewer.feedback.lora`), and ``eval`` compares the
base and the tuned model on the validation split, promoting the adapter to the default only
when it does not regress (see :mod:`reviewer.feedback.evaluate`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from reviewer.cli.common import root_and_config
from reviewer.errors import ReviewerError

if TYPE_CHECKING:
    from reviewer.config import Config
    from reviewer.llm.backend import Backend

DEFAULT_DATA = ".reviewer/training"


def _ignore(root: Path) -> None:
    """Training data and adapters stay out of git (they hold the repository's code)."""
    from reviewer.fileio import ensure_git_ignored

    ensure_git_ignored(root / ".reviewer", ["training/", "adapters/"])


def _under(root: Path, path: Path | None, default: str) -> Path:
    if path is None:
        return root / default
    return path if path.is_absolute() else Path.cwd() / path


def _model_dir(root: Path, cfg: Config) -> Path:
    """The configured model as the Hugging Face folder mlx-lm trains on (converted once)."""
    from reviewer.llm.backend import LLMError, resolve_model
    from reviewer.llm.mlx import MlxBackend

    try:
        return MlxBackend(resolve_model(cfg.model, root)).model_dir()
    except LLMError as exc:
        raise ReviewerError(str(exc)) from None


def _base_gguf(root: Path, cfg: Config) -> Path:
    """The configured model's GGUF file (the GGUF export copies its tokenizer and layout)."""
    from reviewer.llm.backend import LLMError, check_gguf, resolve_model

    try:
        path = resolve_model(cfg.model, root)
        check_gguf(path)
    except LLMError as exc:
        raise ReviewerError(f"--gguf needs a GGUF base model: {exc}") from None
    return path


@click.command("export-training")
@click.option("-o", "--output", type=click.Path(path_type=Path), metavar="DIR",
              help=f"Folder for train.jsonl and valid.jsonl (default {DEFAULT_DATA}).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the 90/10 train/validation split.")
@click.option("--min-chars", type=click.IntRange(min=0), default=20, show_default=True,
              help="Drop records whose explanation is shorter than this.")
@click.option("--no-catalogue", is_flag=True,
              help="Leave out the rule catalogue's own examples.")
@click.option("--few-shot", is_flag=True,
              help="Keep the rule's few-shot turns in each prompt, as the reviewer sends them.")
@click.option("--style", type=click.Choice(["full", "small"]), default="full",
              show_default=True,
              help="Prompt style of the records (the reviewer gives a model with an adapter "
                   "the full style).")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
def export_training(output: Path | None, seed: int, min_chars: int, no_catalogue: bool,
                    few_shot: bool, style: str, config_path: Path | None) -> None:
    """Write ChatML training data from accepted findings and the rule catalogue."""
    from reviewer.feedback.store import FeedbackStore, db_path
    from reviewer.feedback.training import collect, split, write_split
    from reviewer.rules import all_rules

    root, cfg = root_and_config(config_path)
    out = _under(root, output, DEFAULT_DATA)
    if output is None:
        _ignore(root)
    path = db_path(root, cfg.feedback_db)
    judged = []
    if path.is_file():
        with FeedbackStore.open(path, create=False) as store:
            judged = store.verdicts(verdict="accept")
    records, report = collect(judged, all_rules(), min_chars=min_chars,
                              catalogue=not no_catalogue, few_shot=few_shot, style=style)
    if not records:
        raise ReviewerError("nothing to export: no accepted finding with an explanation "
                            "(`reviewer feedback accept`) and no catalogue example")
    train, valid = split(records, seed)
    report.train, report.valid = len(train), len(valid)
    write_split(out, train, valid)
    click.echo(f"prompt style: {style}")
    for line in report.lines():
        click.echo(line)
    click.echo(f"wrote {out / 'train.jsonl'} and {out / 'valid.jsonl'}")


@click.command("train")
@click.option("--data", type=click.Path(path_type=Path), metavar="DIR",
              help=f"Folder with train.jsonl and valid.jsonl (default {DEFAULT_DATA}).")
@click.option("--iters", type=click.IntRange(min=1), default=200, show_default=True,
              help="Training steps.")
@click.option("--batch-size", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--grad-accum", type=click.IntRange(min=1), default=8, show_default=True,
              help="Steps whose gradients are accumulated before each update.")
@click.option("--lora-layers", type=click.IntRange(min=-1), default=8, show_default=True,
              help="Layers (from the top) that get LoRA weights; -1 for all.")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=1e-4,
              show_default=True)
@click.option("--max-seq-length", type=click.IntRange(min=16), default=2048, show_default=True,
              help="Longer records are truncated.")
@click.option("--val-batches", type=click.IntRange(min=-1), default=4, show_default=True,
              help="Validation batches per evaluation; -1 for the whole split.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--adapter-path", type=click.Path(path_type=Path), metavar="DIR",
              help="Where the adapter goes (default .reviewer/adapters/<UTC time>).")
@click.option("--fuse", is_flag=True, help="Also fuse the adapter into a model folder.")
@click.option("--gguf", is_flag=True, help="With --fuse: also export the fused model as GGUF.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
def train_cmd(data: Path | None, iters: int, batch_size: int, grad_accum: int,
              lora_layers: int, learning_rate: float, max_seq_length: int, val_batches: int,
              seed: int, adapter_path: Path | None, fuse: bool, gguf: bool,
              config_path: Path | None) -> None:
    """Fine-tune the local model (LoRA, mlx-lm) on the exported training data."""
    from reviewer.feedback import lora
    from reviewer.llm import adapters

    if gguf and not fuse:
        raise click.UsageError("--gguf needs --fuse")
    root, cfg = root_and_config(config_path)
    folder = _under(root, data, DEFAULT_DATA)
    lora.require_mlx_lm()
    lora.check_data(folder)
    if adapter_path is None:
        _ignore(root)
    out = adapter_path if adapter_path is not None else (
        adapters.adapters_root(root) / lora.default_name())
    if not out.is_absolute():
        out = Path.cwd() / out
    options = lora.TrainOptions(
        iters=iters, batch_size=batch_size, grad_accum=grad_accum, lora_layers=lora_layers,
        learning_rate=learning_rate, max_seq_length=max_seq_length, val_batches=val_batches,
        seed=seed, steps_per_report=max(1, min(10, iters // 10 or 1)),
    )
    model_dir = _model_dir(root, cfg)
    click.echo(f"training on {folder} with {model_dir.name} ({iters} steps, batch "
               f"{batch_size} x {grad_accum} accumulated)")
    result = lora.train(model_dir, folder, out, options, echo=click.echo)
    losses = ", ".join(f"{k} loss {v:.3f}" for k, v in (("train", result.train_loss),
                                                         ("validation", result.val_loss))
                       if v is not None)
    click.echo(f"adapter written to {out} in {result.seconds:.0f}s "
               f"({result.seconds_per_step:.1f}s per step{'; ' + losses if losses else ''})")
    if fuse:
        base_gguf = _base_gguf(root, cfg) if gguf else None
        made = lora.fuse(model_dir, out, out / "fused", base_gguf, echo=click.echo)
        click.echo(f"fused model written to {made}")
    click.echo(f"next: reviewer eval --adapter {out}")


@click.command("eval")
@click.option("--adapter", type=click.Path(path_type=Path), metavar="DIR",
              help="The adapter to evaluate (default: the newest in .reviewer/adapters).")
@click.option("--data", type=click.Path(path_type=Path), metavar="DIR",
              help=f"Folder with valid.jsonl (default {DEFAULT_DATA}).")
@click.option("--limit", type=click.IntRange(min=1), metavar="N",
              help="Evaluate only the first N validation records.")
@click.option("--max-tokens", type=click.IntRange(min=8), metavar="N",
              help="Tokens per answer (default: llm-max-tokens).")
@click.option("--backend", "backend_name", type=click.Choice(["auto", "mlx", "llama_cpp"]),
              default="auto", show_default=True,
              help="llama_cpp compares the base GGUF with the adapter's fused GGUF (train "
                   "--fuse --gguf); auto picks it when there is one, else mlx.")
@click.option("--promote", is_flag=True,
              help="Make the adapter the default when it does not regress.")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
def eval_cmd(adapter: Path | None, data: Path | None, limit: int | None,
             max_tokens: int | None, backend_name: str, promote: bool,
             config_path: Path | None) -> None:
    """Compare the base and the tuned model on the validation split."""
    from reviewer.feedback import evaluate, lora
    from reviewer.feedback.training import read_split
    from reviewer.llm import adapters

    root, cfg = root_and_config(config_path)
    chosen = _adapter(root, adapter)
    records = read_split(_under(root, data, DEFAULT_DATA), "valid")[:limit]
    if not records:
        raise ReviewerError("the validation split is empty")
    fused = adapters.fused_gguf(chosen)
    if backend_name == "auto":
        backend_name = "llama_cpp" if fused is not None else "mlx"
    if backend_name == "llama_cpp" and fused is None:
        raise ReviewerError(f"{chosen} has no fused GGUF (reviewer train --fuse --gguf)")
    tokens = max_tokens or cfg.llm_max_tokens
    scores = []
    for label, path in (("base", None), ("tuned", chosen)):
        backend = _eval_backend(root, cfg, backend_name, path)
        try:
            scores.append(evaluate.score(backend, records, max_tokens=tokens, label=label))
        finally:
            backend.close()
    base, tuned = scores
    regressed = evaluate.regressions(base, tuned)
    report = evaluate.write_report(chosen, scores, regressed)
    click.echo(evaluate.table(scores), nl=False)
    click.echo(f"table written to {report}")
    if regressed:
        click.echo(f"the adapter regresses on {', '.join(regressed)}")
    if promote:
        if regressed:
            click.echo("not promoted: the base model stays the default")
            raise SystemExit(1)
        marker = lora.promote(root, chosen)
        click.echo(f"promoted: {chosen} is the default adapter ({marker}; used while "
                   "llm-adapter is \"\")")


def _eval_backend(root: Path, cfg: Config, name: str, adapter: Path | None) -> Backend:
    """The base model (``adapter`` None) or the tuned one, on the MLX or llama.cpp backend."""
    from reviewer.feedback import lora
    from reviewer.llm import adapters

    if name == "llama_cpp":
        from reviewer.llm.llama_cpp import LlamaCppBackend

        fused = adapters.fused_gguf(adapter) if adapter is not None else None
        return LlamaCppBackend(fused or _base_gguf(root, cfg), context_size=4096,
                               adapter=adapter)
    from reviewer.llm.mlx import MlxBackend

    lora.require_mlx_lm()
    return MlxBackend(_model_dir(root, cfg), adapter=adapter)


def _adapter(root: Path, given: Path | None) -> Path:
    from reviewer.feedback import lora
    from reviewer.llm import adapters

    if given is not None:
        path = given if given.is_absolute() else Path.cwd() / given
        if not lora.is_adapter(path):
            raise ReviewerError(f"{given} is not an adapter folder (run `reviewer train`)")
        return path
    found = sorted(p for p in adapters.adapters_root(root).glob("*") if lora.is_adapter(p))
    if not found:
        raise ReviewerError("no adapter in .reviewer/adapters (run `reviewer train`)")
    return found[-1]


# What this module adds to the ``reviewer`` group.
COMMANDS: tuple[click.Command, ...] = (export_training, train_cmd, eval_cmd)
