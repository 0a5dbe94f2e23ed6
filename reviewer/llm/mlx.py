"""MLX through mlx-lm: the fast path on Apple Silicon (and ``mlx[cpu]`` on Linux).

mlx-lm reads models in Hugging Face format. A GGUF file (the embedded SmolLM2 included) is
converted once, locally, with transformers (which dequantizes GGUF) into a cache folder; no
download ever happens. MLX has no grammar-constrained decoding here, so the answer is decoded
one JSON string field at a time with the assistant turn pre-filled around it (see
:meth:`MlxBackend._complete_json`): the result always has the schema's shape, and a field
that is not a valid JSON string is asked for once more.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from reviewer.llm.answer import MAX_EXPLANATION, schema_prefix
from reviewer.llm.backend import (
    DEFAULT_PARAMS,
    NO_HOOKS,
    CompletesByStreaming,
    Completion,
    GenParams,
    Hooks,
    JsonSchema,
    LLMError,
    Message,
    ModelTimeout,
    ModelUnavailable,
    check_gguf,
    file_identity,
)

# Tokens the explanation may take before it is cut (the rest of the budget is the code's).
EXPLANATION_TOKENS = 96


def _import_mlx_lm() -> Any:
    try:
        import mlx_lm
    except ImportError as exc:
        raise ModelUnavailable(
            f"mlx-lm is not installed ({exc}); pip install 'reviewer[mlx]'"
        ) from None
    return mlx_lm


def cache_root() -> Path:
    """Where converted models are kept ($XDG_CACHE_HOME/reviewer/mlx)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "reviewer" / "mlx"


def converted_dir(gguf: Path) -> Path:
    """The folder a GGUF file converts to (keyed by the file's identity)."""
    return cache_root() / file_identity(gguf).replace("@", "-")


def convert_gguf(gguf: Path, out: Path) -> Path:
    """Write ``gguf`` as a Hugging Face model folder (transformers dequantizes it).

    A model loaded from GGUF does not save cleanly as is: build a fresh model from its
    config, load the state dict, then save. Written to a temporary folder and renamed, so
    an interrupted conversion leaves nothing half-written.
    """
    check_gguf(gguf)
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError as exc:
        raise ModelUnavailable(
            f"converting {gguf.name} for MLX needs transformers and gguf ({exc})"
        ) from None
    import shutil
    import tempfile

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=out.parent))
    with contextlib.suppress(ImportError, AttributeError):
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # the review's output is not the place for it
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        fresh = AutoModelForCausalLM.from_config(loaded.config)  # type: ignore[no-untyped-call]
        fresh.load_state_dict(loaded.state_dict())
        fresh.save_pretrained(str(tmp))
        tokenizer.save_pretrained(str(tmp))
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise ModelUnavailable(f"cannot convert {gguf.name} for MLX: {exc}") from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


class MlxBackend(CompletesByStreaming):
    """A Hugging Face format model run by mlx-lm in this process."""

    name = "mlx"

    def __init__(self, model_path: Path, adapter: Path | None = None) -> None:
        self.model_path = model_path
        self.adapter = adapter  # an mlx-lm LoRA adapter folder (reviewer train)
        self._model: Any = None
        self._tokenizer: Any = None
        self._identity: str | None = None
        self.load_seconds = 0.0

    def identity(self) -> str:
        if self._identity is None:
            path = self.model_path
            if path.is_file():
                ident = file_identity(path)
            else:
                ident = file_identity(path / "config.json") + ":" + path.name
                weights = sorted(path.glob("*.safetensors"))
                if weights:
                    ident += ":" + file_identity(weights[0])
            if self.adapter is not None:
                ident += ":adapter=" + file_identity(self.adapter / "adapters.safetensors")
            self._identity = f"mlx:{ident}"
        return self._identity

    def model_dir(self) -> Path:
        """The Hugging Face folder to load (converting a GGUF file on first use)."""
        path = self.model_path
        if path.is_dir():
            if not (path / "config.json").is_file():
                raise ModelUnavailable(f"{path} is not a Hugging Face model folder")
            return path
        out = converted_dir(path)
        if not (out / "config.json").is_file():
            convert_gguf(path, out)
        return out

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            mlx_lm = _import_mlx_lm()
            start = time.perf_counter()
            folder = self.model_dir()
            try:
                adapter = str(self.adapter) if self.adapter is not None else None
                self._model, self._tokenizer = mlx_lm.load(str(folder), adapter_path=adapter)[:2]
            except (OSError, ValueError, RuntimeError, KeyError) as exc:
                raise ModelUnavailable(f"mlx-lm cannot load {folder}: {exc}") from None
            self.load_seconds = time.perf_counter() - start
        return self._model, self._tokenizer

    def count_tokens(self, text: str) -> int:
        _, tokenizer = self._load()
        return len(tokenizer.encode(text, add_special_tokens=False))

    def _prompt(self, messages: Sequence[Message], prefill: str) -> str:
        _, tokenizer = self._load()
        text = tokenizer.apply_chat_template(
            [dict(m) for m in messages], add_generation_prompt=True, tokenize=False
        )
        return str(text) + prefill

    def _generate(
        self, prompt: str, params: GenParams, deadline: float | None, start: float,
        *, stop_at_quote: bool = False, max_tokens: int | None = None,
        hooks: Hooks = NO_HOOKS,
    ) -> tuple[str, int, float | None]:
        """Generate from ``prompt``; with ``stop_at_quote``, stop at the first unescaped
        double quote (the end of a JSON string) and return the text before it."""
        mlx_lm = _import_mlx_lm()
        from mlx_lm.sample_utils import make_sampler

        model, tokenizer = self._load()
        with contextlib.suppress(ImportError, AttributeError):
            import mlx.core as mx

            mx.random.seed(params.seed)
        sampler = make_sampler(temp=params.temperature)
        text = ""
        first: float | None = None
        n = 0
        try:
            for resp in mlx_lm.stream_generate(
                model, tokenizer, prompt, max_tokens=max_tokens or params.max_tokens,
                sampler=sampler,
            ):
                n += 1
                if resp.text:
                    if first is None:
                        first = time.perf_counter() - start
                    text += resp.text
                    if hooks.on_text is not None:
                        hooks.on_text(resp.text)
                    if stop_at_quote:
                        end = _string_end(text)
                        if end is not None:
                            return text[:end], n, first
                if hooks.cancelled():  # mlx-lm generates lazily: this stops it
                    break
                if deadline is not None and time.perf_counter() > deadline:
                    raise ModelTimeout("no complete answer within the time left")
        except (ValueError, RuntimeError) as exc:
            raise LLMError(f"generation failed: {exc}") from None
        return text, n, first

    def stream(
        self,
        messages: Sequence[Message],
        *,
        json_schema: JsonSchema | None = None,
        params: GenParams = DEFAULT_PARAMS,
        timeout: float | None = None,
        hooks: Hooks = NO_HOOKS,
    ) -> Completion:
        """Free text token by token (``mlx_lm.stream_generate``), each piece to
        ``hooks.on_text``; a JSON answer is assembled field by field, so it is handed over
        whole at the end. ``hooks.cancelled`` stops generation at the next token."""
        start = time.perf_counter()
        deadline = start + timeout if timeout is not None else None
        self._load()
        if json_schema is None:
            text, n, first = self._generate(self._prompt(messages, ""), params, deadline, start,
                                            hooks=hooks)
            return Completion(text, 0, n, time.perf_counter() - start, first,
                              hooks.cancelled())
        quiet = Hooks(cancelled=hooks.cancelled)
        done = self._complete_json(messages, json_schema, params, deadline, start, quiet)
        if hooks.on_text is not None and done.text:
            hooks.on_text(done.text)
        return replace(done, cancelled=hooks.cancelled())

    def _complete_json(
        self, messages: Sequence[Message], schema: JsonSchema, params: GenParams,
        deadline: float | None, start: float, hooks: Hooks = NO_HOOKS,
    ) -> Completion:
        """The answer object, decoded one string field at a time.

        The prompt is pre-filled up to the opening quote of ``explanation``; generation stops
        at its closing quote; then the prompt continues with ``", "fixed_code": "`` and the
        required start of the code, and generation stops at the next closing quote. The
        object is assembled here, so it is always valid JSON of the schema's shape; a field
        whose text is not a valid JSON string body is asked for once more.
        """
        prefix = schema_prefix(schema) or ""
        base = self._prompt(messages, "")
        budget = params.max_tokens
        head = '{"explanation": "'
        n_total = 0
        first: float | None = None
        explanation = ""
        for attempt in range(2):
            raw, n, t = self._generate(
                base + head, replace(params, seed=params.seed + attempt), deadline, start,
                stop_at_quote=True, max_tokens=min(budget, EXPLANATION_TOKENS), hooks=hooks,
            )
            n_total += n
            first = first if first is not None else t
            decoded = _json_string(raw)
            if decoded is not None:
                explanation = decoded[:MAX_EXPLANATION]
                break
        budget = max(1, params.max_tokens - n_total)
        code_head = head + _json_body(explanation) + '", "fixed_code": "' + _json_body(prefix)
        fixed: str | None = None
        for attempt in range(2):
            raw, n, _ = self._generate(
                base + code_head, replace(params, seed=params.seed + attempt), deadline,
                start, stop_at_quote=True, max_tokens=budget, hooks=hooks,
            )
            n_total += n
            decoded = _json_string(raw)
            if decoded is not None:
                fixed = prefix + decoded
                break
        text = json.dumps({"explanation": explanation, "fixed_code": fixed})
        return Completion(text, 0, n_total, time.perf_counter() - start, first)

    def close(self) -> None:
        self._model = self._tokenizer = None
        with contextlib.suppress(ImportError, AttributeError):
            import mlx.core as mx

            mx.clear_cache()


def _string_end(text: str) -> int | None:
    """Index of the first double quote in ``text`` not escaped by a backslash."""
    escaped = False
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            return i
    return None


def _json_string(body: str) -> str | None:
    """The value of a JSON string body (between the quotes), or None when it is invalid."""
    try:
        value = json.loads('"' + body + '"')
    except ValueError:
        return None
    return value if isinstance(value, str) else None


def _json_body(value: str) -> str:
    """``value`` as the body of a JSON string (without the quotes)."""
    return json.dumps(value)[1:-1]
