"""Settings: ``[tool.reviewer]`` in pyproject.toml, as a frozen dataclass.

Unknown keys are reported (as warnings, not errors, so a config written for a newer
version still works); wrong types and unknown rule IDs are errors (exit code 2).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from reviewer.errors import ReviewerError
from reviewer.findings import Severity

DIFF_FILTERS = ("added", "context", "file", "none")
# Taught principles are selected by ID ("T", "T001"): see reviewer.feedback.taught.
TAUGHT_SELECTOR = re.compile(r"^T\d*$", re.IGNORECASE)


def is_taught_selector(selector: str) -> bool:
    """Whether ``selector`` names taught principles by ID ("T", "T001", "T00")."""
    return bool(TAUGHT_SELECTOR.match(selector.strip()))
LLM_BACKENDS = ("auto", "llama_cpp", "mlx", "openai", "none")
LEARNED_SUPPRESSION = ("hide", "downgrade", "off")


@dataclass(frozen=True)
class Config:
    """Everything that shapes a review. Defaults are what a new user gets."""

    # Rule selection: IDs ("RV101"), prefixes ("RV1"), slugs, or "ALL".
    select: tuple[str, ...] = ("ALL",)
    ignore: tuple[str, ...] = ()
    # Per-rule option overrides: {"RV301": {"max_statements": 60}}.
    rule_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # {"glob": ("RV501", ...)}: rules ignored in files matching the glob.
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Glob patterns (gitignore-like: "dir/", "*.py", "**/x") of files never reviewed.
    exclude: tuple[str, ...] = ()
    # Findings at or above this severity make `check` exit 1.
    fail_on: Severity = Severity.LOW
    # Files larger than this are skipped with a warning.
    max_file_size: int = 1_000_000
    diff_filter: str = "added"
    # Lines of context around changes kept by the `context` diff filter.
    context_lines: int = 3
    report_unused_suppressions: bool = False
    # Other tools' suppressions (
    honor_foreign_suppressions: bool = True
    # Baseline file (relative to the root); used by `check` when it exists.
    baseline: str = ".reviewer/baseline.json"
    cache: bool = True
    cache_dir: str = ".reviewer/cache"
    # Worker processes for large reviews: 0 = one per core.
    jobs: int = 0
    # -- the local model (reviewer.llm) --
    # "auto" (derived from the machine), "llama_cpp", "mlx", "openai" or "none".
    llm_backend: str = "auto"
    # A GGUF path (llama_cpp), a Hugging Face or MLX folder (mlx), a name from
    # `reviewer models list`, an OpenAI-compatible server URL, or a served model name (openai);
    # "" = the embedded SmolLM2-135M-Instruct.
    model: str = ""
    # An http(s):// URL of a folder of model files that `reviewer models add NAME` fetches
    # catalogue models from ("" = none: nothing is ever downloaded unless the user names it).
    model_mirror: str = ""
    # Base URL of an OpenAI-compatible server, e.g. "http://127.0.0.1:8080/v1".
    server_url: str = ""
    explain: bool = False
    # At most this many findings are sent to the model per run.
    max_explained: int = 10
    # Seconds the model may take in one run (0: 60 s, or 10 s under pre-commit).
    llm_timeout: float = 0.0
    # Validation passes per proposed fix (the validator's complaint goes back each time).
    fix_passes: int = 2
    # Tokens per answer.
    llm_max_tokens: int = 384
    # Models with fewer parameters get explanations only, no model fixes (too small to
    # write them reliably; reviewer.llm.explain.fix_gate); 0 = no gate (`--model-fixes`).
    model_fix_min_params: int = 1_000_000_000
    # -- repository context (reviewer.context) --
    # Retrieve repository context into model prompts (needs `reviewer index`).
    context: bool = False
    # Where the embedded index lives (relative to the root), unless chroma-url is set.
    index_dir: str = ".reviewer/index"
    # A shared Chroma server, e.g. "http://127.0.0.1:8000" (`chroma run`); "" = embedded.
    chroma_url: str = ""
    # A sentence-transformers folder; "" = the bundled all-MiniLM-L6-v2.
    embedding_model: str = ""
    embedding_batch_size: int = 64
    # Tokens of repository context per prompt (approximated as characters / 4).
    context_tokens: int = 600
    # -- learning from the team (reviewer.feedback) --
    # The local verdicts database (relative to the root; git-ignored).
    feedback_db: str = ".reviewer/feedback.db"
    # `check` remembers the findings it reports so `reviewer feedback` can refer to them.
    record_findings: bool = True
    # What happens to a finding similar to enough dismissed ones: "hide", "downgrade", "off".
    learned_suppression: str = "downgrade"
    # Cosine similarity (0..1) of the flagged code above which a dismissed finding counts.
    learn_similarity: float = 0.85
    # Dismissed findings of the same rule needed before similar ones get quieter.
    learn_min_dismissed: int = 3
    # The team's taught principles (relative to the root; meant to be committed).
    taught_file: str = ".reviewer/principles.toml"
    # With the model in use (explain), judge changed functions against taught principles.
    taught: bool = True
    # At most this many (function, taught principle) pairs are sent to the model per run.
    max_judged: int = 20
    # A LoRA adapter for the model: an mlx-lm adapter folder or a GGUF LoRA file; "" = the one
    # `reviewer eval --promote` made the default (if any); "none" = none.
    llm_adapter: str = ""
    # -- reviewer describe / the PR bot --
    # `github review` puts the description of the change in its summary comment.
    describe_pr: bool = True
    # ...and writes it into the PR body when the author left it empty (opt-in).
    describe_fill_body: bool = False
    # -- the security rules' sink catalogue (reviewer/sinks.toml) --
    # [[tool.reviewer.extra-sinks]] tables: more sinks for RV601-RV606 (passed to each rule as
    # its extra_sinks option).
    extra_sinks: tuple[Mapping[str, Any], ...] = ()
    # Unknown keys found while loading (reported by the CLI as warnings).
    warnings: tuple[str, ...] = ()
    # Where the settings came from (None: defaults).
    source: Path | None = None


# -- loading -------------------------------------------------------------------------------
_KEYS = {
    f.name.replace("_", "-"): f.name for f in fields(Config) if f.name not in ("warnings", "source")
}


def _str_tuple(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ReviewerError(f"[tool.reviewer] {key} must be a list of strings")
    return tuple(value)


def from_mapping(data: Mapping[str, Any], source: Path | None = None) -> Config:
    """Build a Config from a ``[tool.reviewer]`` table (dashes or underscores in keys)."""
    values: dict[str, Any] = {}
    warnings: list[str] = []
    where = str(source) if source else "configuration"
    for raw_key, value in data.items():
        key = raw_key.replace("_", "-")
        if key == "rules" and isinstance(value, Mapping):  # [tool.reviewer.rules.RV301]
            key = "rule-options"
        name = _KEYS.get(key)
        if name is None:
            import difflib

            close = difflib.get_close_matches(key, list(_KEYS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            warnings.append(f"{where}: unknown key {raw_key!r} in [tool.reviewer] ignored{hint}")
            continue
        values[name] = _coerce(name, raw_key, value)
    if values.get("extra_sinks"):
        values["rule_options"] = _with_sinks(values.get("rule_options", {}), values["extra_sinks"])
    cfg = Config(**values)
    return replace(cfg, warnings=tuple(warnings), source=source)


Coercer = Callable[[str, Any], Any]


def _coerce(name: str, key: str, value: Any) -> Any:
    """``value`` of ``[tool.reviewer] key`` checked and converted for field ``name``."""
    special = _SPECIAL.get(name)
    if special is not None:
        return special(key, value)
    default = getattr(Config(), name)
    for kind, coercer in ((bool, _flag), (float, _number), (int, _count)):
        if isinstance(default, kind):
            return coercer(key, value)
    return _text(key, value)


def _bad(key: str, expected: str, value: Any) -> ReviewerError:
    return ReviewerError(f"[tool.reviewer] {key} must be {expected}, got {value!r}")


def _severity(key: str, value: Any) -> Severity:
    try:
        return Severity.parse(str(value))
    except ValueError as exc:
        raise ReviewerError(f"[tool.reviewer] {key}: {exc}") from None


def _choice(options: tuple[str, ...]) -> Coercer:
    def coerce(key: str, value: Any) -> str:
        if not isinstance(value, str) or value not in options:
            raise _bad(key, f"one of {', '.join(options)}", value)
        return value

    return coerce


def _globs_to_codes(key: str, value: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise ReviewerError(f"[tool.reviewer] {key} must be a table of glob = [rules]")
    return {str(k): _str_tuple(f"{key}.{k}", v) for k, v in value.items()}


def _rule_options(key: str, value: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(value, Mapping) or not all(isinstance(v, Mapping) for v in value.values()):
        raise ReviewerError(f"[tool.reviewer] {key} must be a table of rule = {{option = value}}")
    return {str(k).upper() if str(k)[:2].upper() == "RV" else str(k): dict(v)
            for k, v in value.items()}


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _bad(key, "true or false", value)
    return value


def _number(key: str, value: Any) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise _bad(key, "a non-negative number", value)
    return float(value)


def _count(key: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise _bad(key, "a non-negative integer", value)
    return value


def _fraction(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise _bad(key, "a number between 0 and 1", value)
    return float(value)


def _text(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _bad(key, "a string", value)
    return value


def _extra_sinks(key: str, value: Any) -> tuple[dict[str, Any], ...]:
    from reviewer import sinks as _sinks

    try:
        _sinks.rule_options(value, f"[tool.reviewer] {key}")
    except _sinks.SinkError as exc:
        raise ReviewerError(str(exc)) from None
    return tuple(dict(e) for e in (value if isinstance(value, list) else [value]))


def _with_sinks(
    options: Mapping[str, Mapping[str, Any]], sinks: tuple[Mapping[str, Any], ...]
) -> dict[str, dict[str, Any]]:
    """Rule options with the extra sinks added to each reading rule's ``extra_sinks``."""
    from reviewer import sinks as _sinks

    out = {rule: dict(opts) for rule, opts in options.items()}
    for rule, added in _sinks.rule_options(list(sinks), "extra-sinks").items():
        opts = out.setdefault(rule, {})
        opts["extra_sinks"] = (*opts.get("extra_sinks", ()), *added["extra_sinks"])
    return out


_SPECIAL: dict[str, Coercer] = {
    "fail_on": _severity,
    "diff_filter": _choice(DIFF_FILTERS),
    "llm_backend": _choice(LLM_BACKENDS),
    "learned_suppression": _choice(LEARNED_SUPPRESSION),
    "learn_similarity": _fraction,
    "select": _str_tuple,
    "ignore": _str_tuple,
    "exclude": _str_tuple,
    "per_file_ignores": _globs_to_codes,
    "rule_options": _rule_options,
    "extra_sinks": _extra_sinks,
}


def load(root: Path, explicit: Path | None = None) -> Config:
    """Read the settings from ``explicit`` or else ``root/pyproject.toml``.

    In a pyproject.toml the settings are the ``[tool.reviewer]`` table; any other TOML file
    given with ``--config`` may hold them at the top level or under ``[tool.reviewer]``.
    A missing pyproject.toml means defaults, and so does one whose text never says
    ``reviewer`` (it is not parsed: other tools own it); an unreadable file, or a malformed
    one that may hold our table, is an error.
    """
    path = explicit if explicit is not None else root / "pyproject.toml"
    if explicit is None and not path.exists() and not path.is_symlink():
        return Config()
    doc = _read_toml(path, explicit is None)
    tool = doc.get("tool", {})
    table = tool.get("reviewer") if isinstance(tool, Mapping) else None
    if table is None and explicit is not None and path.name != "pyproject.toml":
        table = {k: v for k, v in doc.items() if k != "tool"}
    if table is None:
        return replace(Config(), source=path)
    if not isinstance(table, Mapping):
        raise ReviewerError(f"{path}: [tool.reviewer] must be a table")
    return from_mapping(table, path)


def _read_toml(path: Path, ours_only: bool = False) -> dict[str, Any]:
    """The parsed file; with ``ours_only`` (a project's own ``pyproject.toml``), nothing
    when its text cannot hold a ``[tool.reviewer]`` table (the parse is skipped)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ReviewerError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ReviewerError(f"cannot read config {path}: {exc.strerror or exc}") from None
    if ours_only and b"reviewer" not in raw:
        return {}
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    try:
        doc: dict[str, Any] = tomllib.loads(raw.decode("utf-8"))
        return doc
    except UnicodeDecodeError:
        raise ReviewerError(f"config {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ReviewerError(f"config {path} is not valid TOML: {exc}") from None
