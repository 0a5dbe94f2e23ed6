"""Model benchmark 1: the reviewer's model path against raw llama-cpp-python, and tokens/s
and time to first token per backend.

Overhead. For each seeded finding the reviewer's prompt (messages and JSON-schema grammar)
is generated twice per round, in one process: by raw llama-cpp-python
(``Llama.create_chat_completion`` with the same model file, context, threads, batch,
grammar, greedy decoding and max_tokens) and by the reviewer's whole model path
(``Explainer.explain_one``: target and prompt building with the tokenizer, streaming
generation, answer parsing, in-memory validation of a proposed fix; no cache, one pass).
The two alternate (ABAB, order flipped each round) so machine load hits both alike.
Overhead = reviewer time / raw time - 1 over all findings, median of the rounds. Target:
at most 10%.

Backends. The same prompts through each backend with streaming: llama.cpp in-process, the
OpenAI-compatible server (a real ``python -m llama_cpp.server`` on 127.0.0.1) and MLX
(when mlx-lm is installed; on Linux it is ``mlx[cpu]``). Median time to first token and
generation speed (tokens after the first / time after the first).

Usage: python bench/llm_overhead.py [--findings N] [--rounds R] [--max-tokens T]
       [--model GGUF] [--backends llama_cpp,openai,mlx] [--write]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llm_common import (
    demo_project,
    llama_server,
    machine_line,
    seeded_findings,
    write_section,
)

from reviewer import hardware
from reviewer.engine import selected_rules
from reviewer.findings import Finding
from reviewer.llm.answer import answer_schema, code_prefix
from reviewer.llm.backend import Backend, GenParams, resolve_model
from reviewer.llm.explain import Explainer, _Job
from reviewer.llm.llama_cpp import LlamaCppBackend
from reviewer.llm.prompts import PromptBuilder, find_target
from reviewer.rules import all_rules


@dataclass
class Case:
    """One seeded finding and the exact request the reviewer makes for it."""

    job: _Job
    messages: list[dict[str, str]]
    grammar_text: str


def build_cases(
    findings: list[Finding], root: Path, backend: LlamaCppBackend, max_tokens: int, n: int
) -> list[Case]:
    rules = all_rules()
    builder = PromptBuilder(backend.count_tokens, context_size=backend.context_size,
                            max_tokens=max_tokens)
    cases = []
    for f in findings:
        if f.fix is not None or f.rule_id not in rules:
            continue  # deterministic fixes need no model fix; keep the paths comparable
        source = (root / f.path).read_text(encoding="utf-8")
        job = _Job(f, rules[f.rule_id], source)
        prompt = builder.build(job.rule, f, source, find_target(source, f))
        grammar = backend.grammar(answer_schema(code_prefix(prompt.region.code)))
        cases.append(Case(job, [dict(m) for m in prompt.messages], grammar._grammar))
        if len(cases) >= n:
            break
    return cases


def raw_generate(llm: Any, case: Case, max_tokens: int) -> tuple[float, int]:
    from llama_cpp import LlamaGrammar

    start = time.perf_counter()
    out = llm.create_chat_completion(
        messages=case.messages, grammar=LlamaGrammar.from_string(case.grammar_text,
                                                                 verbose=False),
        max_tokens=max_tokens, temperature=0.0, seed=0,
    )
    took = time.perf_counter() - start
    return took, int(out["usage"]["completion_tokens"])


def reviewer_generate(explainer: Explainer, case: Case) -> tuple[float, int]:
    before = explainer.report.completion_tokens
    start = time.perf_counter()
    explainer.explain_one(case.job)
    took = time.perf_counter() - start
    return took, explainer.report.completion_tokens - before


def overhead(
    cases: list[Case], model: Path, settings: hardware.Settings, max_tokens: int, rounds: int,
    cfg: Any,
) -> dict[str, Any]:
    from llama_cpp import Llama

    raw = Llama(model_path=str(model), n_ctx=settings.context_size,
                n_batch=settings.batch_size, n_gpu_layers=settings.gpu_layers,
                n_threads=settings.threads, n_threads_batch=settings.threads, seed=0,
                verbose=False)
    backend = LlamaCppBackend(model, threads=settings.threads, gpu_layers=settings.gpu_layers,
                              context_size=settings.context_size,
                              batch_size=settings.batch_size)
    # The full prompt style on both paths (build_cases builds its requests): the reviewer
    # would pick the small style for the embedded model, with other prompts and schemas.
    explainer = Explainer(backend, rules=selected_rules(cfg), context_size=settings.context_size,
                          params=GenParams(max_tokens=max_tokens), fix_passes=0, style="full")
    ratios, raw_totals, rev_totals = [], [], []
    same_tokens = 0
    for r in range(rounds):
        raw_t = rev_t = 0.0
        for i, case in enumerate(cases):
            order = (0, 1) if (r + i) % 2 == 0 else (1, 0)
            got: dict[int, tuple[float, int]] = {}
            for which in order:
                got[which] = (raw_generate(raw, case, max_tokens) if which == 0
                              else reviewer_generate(explainer, case))
            raw_t += got[0][0]
            rev_t += got[1][0]
            if r == 0 and got[0][1] == got[1][1]:
                same_tokens += 1
        raw_totals.append(raw_t)
        rev_totals.append(rev_t)
        ratios.append(rev_t / raw_t - 1.0)
        print(f"  round {r + 1}: raw {raw_t:.2f}s, reviewer {rev_t:.2f}s,"
              f" overhead {100 * ratios[-1]:+.1f}%", flush=True)
    backend.close()
    return {
        "cases": len(cases), "rounds": rounds,
        "raw_s": statistics.median(raw_totals), "reviewer_s": statistics.median(rev_totals),
        "overhead": statistics.median(ratios), "same_tokens": same_tokens,
    }


def backend_speeds(
    backends: dict[str, Backend], cases: list[Case], max_tokens: int, rounds: int
) -> dict[str, dict[str, Any]]:
    """Median TTFT and generation tokens/s per backend, requests interleaved across the
    backends (order rotated) so machine load hits all of them alike."""
    ttft: dict[str, list[float]] = {n: [] for n in backends}
    rate: dict[str, list[float]] = {n: [] for n in backends}
    names = list(backends)
    for r in range(rounds):
        for i, case in enumerate(cases):
            schema = answer_schema(code_prefix(
                find_target(case.job.source, case.job.finding).region.code))
            k = (r + i) % len(names)
            for name in names[k:] + names[:k]:
                done = backends[name].complete(case.messages, json_schema=schema,
                                               params=GenParams(max_tokens=max_tokens),
                                               timeout=600)
                if done.first_token_s is None:
                    continue
                ttft[name].append(done.first_token_s)
                gen = done.seconds - done.first_token_s
                if done.completion_tokens > 1 and gen > 0:
                    rate[name].append((done.completion_tokens - 1) / gen)
    probe = next(iter(backends.values()))
    prompt_tokens = statistics.mean(
        probe.count_tokens("\n".join(m["content"] for m in c.messages)) for c in cases
    )
    return {
        n: {
            "prompts": len(cases) * rounds,
            "prompt_tokens": prompt_tokens,
            "ttft_s": statistics.median(ttft[n]) if ttft[n] else float("nan"),
            "tokens_s": statistics.median(rate[n]) if rate[n] else float("nan"),
        }
        for n in names
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--findings", type=int, default=8, help="seeded findings to use")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--model", help="a GGUF file (default: the embedded SmolLM2-135M)")
    ap.add_argument("--backends", default="llama_cpp,openai,mlx")
    ap.add_argument("--speed-prompts", type=int, default=4)
    ap.add_argument("--speed-rounds", type=int, default=2)
    ap.add_argument("--skip-overhead", action="store_true")
    ap.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = ap.parse_args()

    root = demo_project()
    findings, cfg = seeded_findings(root)
    model = resolve_model(args.model or "", root)
    settings = hardware.derive(hardware.detect())
    probe = LlamaCppBackend(model, threads=settings.threads, gpu_layers=settings.gpu_layers,
                            context_size=settings.context_size,
                            batch_size=settings.batch_size)
    cases = build_cases(findings, root, probe, args.max_tokens, args.findings)
    probe.close()
    print(f"{len(cases)} seeded findings; model {model.name}; threads {settings.threads},"
          f" context {settings.context_size}, batch {settings.batch_size}", flush=True)

    ov: dict[str, Any] | None = None
    if not args.skip_overhead:
        print("overhead (raw llama-cpp-python vs the reviewer's model path):", flush=True)
        ov = overhead(cases, model, settings, args.max_tokens, args.rounds, cfg)

    speeds: dict[str, dict[str, Any]] = {}
    wanted = [b.strip() for b in args.backends.split(",") if b.strip()]
    speed_cases = cases[: args.speed_prompts]
    with contextlib.ExitStack() as stack:
        live: dict[str, Backend] = {}
        if "llama_cpp" in wanted:
            live["llama_cpp (in-process)"] = LlamaCppBackend(
                model, threads=settings.threads, gpu_layers=settings.gpu_layers,
                context_size=settings.context_size, batch_size=settings.batch_size)
        if "openai" in wanted:
            from reviewer.llm.openai_compat import OpenAICompatBackend

            url = stack.enter_context(
                llama_server(model, settings.context_size, settings.threads))
            live["openai (llama_cpp.server on localhost)"] = OpenAICompatBackend(url)
        if live:
            print("tokens/s and time to first token (interleaved):", flush=True)
            speeds.update(backend_speeds(live, speed_cases, args.max_tokens,
                                         args.speed_rounds))
        for b in live.values():
            b.close()
    if "mlx" in wanted and importlib.util.find_spec("mlx_lm") is not None:
        from reviewer.llm.mlx import MlxBackend

        print("mlx:", flush=True)
        b3 = MlxBackend(model)  # far slower on CPU: two prompts, fewer tokens
        speeds["mlx (mlx-lm on the CPU)"] = backend_speeds(
            {"mlx": b3}, speed_cases[:2], min(args.max_tokens, 64), 1)["mlx"]
        b3.close()

    lines: list[str] = []
    if ov is not None:
        lines += [
            "### Overhead of the reviewer's model path over raw llama-cpp-python",
            "",
            f"Measured by `bench/llm_overhead.py` on {machine_line()}.",
            f"Model {model.name}; {ov['cases']} seeded findings of the demo project, one"
            f" generation each (max_tokens {args.max_tokens}, greedy, the same JSON-schema"
            f" grammar), {ov['rounds']} rounds, raw and reviewer alternating.",
            "",
            "| path | total time (median of rounds) |",
            "|---|---|",
            f"| raw llama-cpp-python `create_chat_completion` | {ov['raw_s']:.2f} s |",
            f"| reviewer `Explainer.explain_one` (prompt, stream, parse, validate) |"
            f" {ov['reviewer_s']:.2f} s |",
            f"| **overhead** (target <= 10%) | **{100 * ov['overhead']:+.1f}%** |",
            "",
            f"Both paths generated the same number of tokens for {ov['same_tokens']} of"
            f" {ov['cases']} findings (same model, grammar and greedy decoding).",
            "",
        ]
    overhead_text = "\n".join(lines)
    lines = [
        "### Tokens per second and time to first token, per backend",
        "",
        f"Measured by `bench/llm_overhead.py` on {machine_line()}; the seeded findings'"
        f" prompts, max_tokens {args.max_tokens}, llama.cpp and the server interleaved"
        f" request by request ({args.speed_rounds} rounds).",
        "",
        "| backend | requests | mean prompt tokens | time to first token (median) |"
        " generation tokens/s (median) |",
        "|---|---|---|---|---|",
    ]
    for name, s in speeds.items():
        lines.append(f"| {name} | {s['prompts']} | {s['prompt_tokens']:.0f} |"
                     f" {s['ttft_s']:.2f} s | {s['tokens_s']:.1f} |")
    speed_text = "\n".join(lines) + "\n"
    print()
    print(overhead_text)
    print(speed_text)
    if args.write:
        if ov is not None:
            write_section("model-overhead", overhead_text)
        if speeds:
            write_section("model-speed", speed_text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
