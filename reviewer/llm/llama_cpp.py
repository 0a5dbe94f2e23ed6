"""llama.cpp through llama-cpp-python: the default backend, in-process.

The model loads on the first call that needs it; answers stream token by token so a run's
deadline is checked between tokens and the time to the first token is measured. JSON output
is constrained by a grammar built once per schema from the JSON schema.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reviewer.llm.answer import without_patterns
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

log = logging.getLogger("reviewer.llm")
_DOT_RULE = re.compile(r"^dot ::= .*$", re.MULTILINE)


def schema_grammar(schema: JsonSchema) -> str | None:
    """GBNF for a JSON schema: :func:`reviewer.llm.grammar.compile_schema` for the schemas
    the reviewer sends (strings as JSON admits them, compact length bounds); for anything
    else llama-cpp-python's converter, with its "." made one JSON string character. None
    when neither can translate the schema."""
    from reviewer.llm.grammar import CHAR, Unsupported, compile_schema

    try:
        return compile_schema(schema)
    except Unsupported:
        pass
    _import_llama_cpp()
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    try:
        gbnf: str = json_schema_to_gbnf(json.dumps(schema, sort_keys=True))
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
    if _DOT_RULE.search(gbnf):
        gbnf = _DOT_RULE.sub("dot ::= char", gbnf)
        if not re.search(r"^char ::=", gbnf, re.MULTILINE):
            gbnf += "\n" + CHAR
    return gbnf


def _import_llama_cpp() -> Any:
    # llama.cpp's OpenMP threads spin while waiting; on a machine busy with other work
    # (an editor, a test run, other hooks) that makes generation many times slower.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        import llama_cpp
    except ImportError as exc:
        raise ModelUnavailable(
            f"llama-cpp-python is not installed ({exc}); pip install 'reviewer[llm]'"
        ) from None
    return llama_cpp


class LlamaCppBackend(CompletesByStreaming):
    """A GGUF model run by llama-cpp-python in this process."""

    name = "llama_cpp"

    def __init__(
        self,
        model_path: Path,
        *,
        threads: int = 0,
        gpu_layers: int = 0,
        context_size: int = 4096,
        batch_size: int = 256,
        lora_path: Path | None = None,
        adapter: Path | None = None,
    ) -> None:
        self.model_path = model_path
        self.lora_path = lora_path  # a GGUF LoRA adapter applied on load
        # The adapter folder whose fused GGUF ``model_path`` is (reviewer train --fuse --gguf).
        self.adapter = adapter
        self.threads = threads
        self.gpu_layers = gpu_layers
        self.context_size = context_size
        self.batch_size = batch_size
        self._llm: Any = None
        self._vocab: Any = None
        self._grammars: dict[str, Any] = {}
        self._identity: str | None = None
        self.load_seconds = 0.0

    def identity(self) -> str:
        if self._identity is None:
            self._identity = (
                f"llama_cpp:{file_identity(self.model_path)}:ctx={self.context_size}"
            )
            if self.lora_path is not None:
                self._identity += f":lora={file_identity(self.lora_path)}"
        return self._identity

    # -- loading ---------------------------------------------------------------------------
    def _load(self, vocab_only: bool = False) -> Any:
        llama_cpp = _import_llama_cpp()
        check_gguf(self.model_path)
        kwargs: dict[str, Any] = {
            "model_path": str(self.model_path),
            "verbose": False,
            "vocab_only": vocab_only,
        }
        if not vocab_only:
            kwargs.update(
                n_ctx=self.context_size,
                n_batch=self.batch_size,
                n_gpu_layers=self.gpu_layers,
                seed=0,
            )
            if self.threads > 0:
                kwargs.update(n_threads=self.threads, n_threads_batch=self.threads)
            if self.lora_path is not None:
                kwargs.update(lora_path=str(self.lora_path))
        try:
            from llama_cpp._utils import suppress_stdout_stderr

            # verbose=False still lets llama.cpp print a context warning for a vocab-only load.
            with suppress_stdout_stderr(disable=False):
                return llama_cpp.Llama(**kwargs)
        except (ValueError, RuntimeError, OSError) as exc:
            from reviewer.models.detect import ModelFormatError, detect

            reason = str(exc)
            try:  # llama.cpp says only that it failed; the header says why (truncated, ...)
                detect(self.model_path)
            except ModelFormatError as bad:
                reason = str(bad).split(": ", 1)[-1]
            raise ModelUnavailable(
                f"cannot load model {self.model_path.name}: {reason}"
            ) from None

    def llm(self) -> Any:
        """The loaded ``llama_cpp.Llama`` (loads it on first use)."""
        if self._llm is None:
            start = time.perf_counter()
            self._llm = self._load()
            self.load_seconds = time.perf_counter() - start
        return self._llm

    def count_tokens(self, text: str) -> int:
        model = self._llm
        if model is None:
            if self._vocab is None:
                self._vocab = self._load(vocab_only=True)
            model = self._vocab
        return len(model.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def grammar(self, schema: JsonSchema) -> Any:
        """The llama.cpp grammar for a JSON schema (built and checked once per schema), or
        None: decode unconstrained (said once per schema in the log, never silently).

        llama.cpp parses a grammar only when generation starts, and a grammar it cannot
        parse crashes the process there; so each grammar is test-parsed first, and a schema
        whose ``pattern`` does not convert falls back to the schema without patterns.
        """
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            llama_cpp = _import_llama_cpp()
            self._grammars[key] = None
            for candidate in (schema, without_patterns(schema)):
                text = schema_grammar(candidate)
                if text is not None and self._parses(text):
                    self._grammars[key] = llama_cpp.LlamaGrammar.from_string(
                        text, verbose=False
                    )
                    break
            else:
                log.warning("reviewer: llama.cpp accepts no grammar for this answer schema;"
                            " decoding unconstrained (answers are still parsed and checked)")
        return self._grammars[key]

    def _parses(self, text: str) -> bool:
        llama_cpp = _import_llama_cpp()
        from llama_cpp._utils import suppress_stdout_stderr

        vocab = self.llm()._model.vocab
        with suppress_stdout_stderr(disable=False):
            sampler = llama_cpp.llama_sampler_init_grammar(vocab, text.encode(), b"root")
        if not sampler:
            return False
        llama_cpp.llama_sampler_free(sampler)
        return True

    # -- generation ------------------------------------------------------------------------
    def stream(
        self,
        messages: Sequence[Message],
        *,
        json_schema: JsonSchema | None = None,
        params: GenParams = DEFAULT_PARAMS,
        timeout: float | None = None,
        hooks: Hooks = NO_HOOKS,
    ) -> Completion:
        """The answer token by token: each piece to ``hooks.on_text``; ``hooks.cancelled``
        is checked after every token and stops the generation there."""
        start = time.perf_counter()
        deadline = start + timeout if timeout is not None else None
        llm = self.llm()
        if deadline is not None and time.perf_counter() > deadline:
            raise ModelTimeout(f"loading the model took longer than {timeout:.0f}s")
        grammar = self.grammar(json_schema) if json_schema is not None else None
        try:
            stream = llm.create_chat_completion(
                messages=[dict(m) for m in messages],
                max_tokens=params.max_tokens,
                temperature=params.temperature,
                seed=params.seed,
                grammar=grammar,
                stream=True,
            )
            parts: list[str] = []
            first: float | None = None
            n = 0
            cancelled = False
            for chunk in stream:  # one token per chunk: leaving the loop stops generating
                delta = chunk["choices"][0].get("delta", {}).get("content")
                if delta:
                    if first is None:
                        first = time.perf_counter() - start
                    parts.append(delta)
                    n += 1
                    if hooks.on_text is not None:
                        hooks.on_text(delta)
                if hooks.cancelled():
                    cancelled = True
                    break
                if deadline is not None and time.perf_counter() > deadline:
                    raise ModelTimeout(f"no complete answer within {timeout:.0f}s")
            if cancelled:
                close = getattr(stream, "close", None)
                if callable(close):
                    close()
        except (ValueError, RuntimeError) as exc:  # context overflow, decode failure
            raise LLMError(f"generation failed: {exc}") from None
        text = "".join(parts)
        prompt_tokens = max(0, _evaluated_tokens(llm) - n)
        return Completion(text, prompt_tokens, n, time.perf_counter() - start, first,
                          cancelled)

    def close(self) -> None:
        for attr in ("_llm", "_vocab"):
            model = getattr(self, attr)
            if model is not None:
                with contextlib.suppress(AttributeError):
                    model.close()
                setattr(self, attr, None)


def _evaluated_tokens(llm: Any) -> int:
    """Tokens in the model's context after the last call (prompt plus answer)."""
    try:
        return int(llm.n_tokens)
    except (AttributeError, TypeError, ValueError):
        return 0
