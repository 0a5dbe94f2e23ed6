"""Taught principles: the team's own rules, in plain language, in a committed TOML file.

``reviewer teach "Prefer pathlib over os.path"`` adds one to ``taught-file`` (default
``.reviewer/principles.toml``). Each principle has a stable ID of its own (``T001``,
``T002``...; a removed ID is never given out again, the file keeps the next number), a slug
derived from the text, a severity (default low), optional examples of code that breaks and
code that follows it, and optional path globs limiting where it applies. The local model
judges changed functions against them (:mod:`reviewer.feedback.judge`).

The file is written by hand-rolled serialisation (``tomllib`` only reads), atomically, and
read back and compared before it replaces the old one, so a bug here can never leave a
half-written or different catalogue behind. A file that does not parse or holds something
odd is a one-line :class:`~reviewer.errors.ReviewerError`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reviewer.config import is_taught_selector as is_taught_selector
from reviewer.errors import ReviewerError
from reviewer.findings import Severity

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

if TYPE_CHECKING:
    from reviewer.config import Config

FORMAT_VERSION = 1
ID_PREFIX = "T"
ID_PATTERN = re.compile(r"^T\d{3,}$")
# A selector naming taught principles: "T" (all of them), an ID or an ID prefix ("T00").
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_TEXT = 500
MAX_SLUG_WORDS = 6
MAX_SLUG = 48
DEFAULT_SEVERITY = Severity.LOW

HEADER = (
    "# The team's taught principles (`reviewer teach`); commit this file with the code.\n"
    "# `reviewer teach list` shows them, `reviewer teach remove ID` drops one. IDs are never\n"
    "# reused: next_id is the number the next principle gets.\n"
)


@dataclass(frozen=True)
class Principle:
    """One taught principle."""

    id: str  # "T001"
    slug: str  # "prefer-pathlib-over-os-path"
    text: str  # the principle in the team's words (the findings' message)
    severity: Severity = DEFAULT_SEVERITY
    # Root-relative globs (gitignore-like, as ``exclude``) of files it applies to; () = all.
    paths: tuple[str, ...] = ()
    examples_bad: tuple[str, ...] = ()  # code that breaks it
    examples_good: tuple[str, ...] = ()  # code that follows it
    author: str = ""
    created: str = ""

    def applies_to(self, path: str) -> bool:
        """Whether the principle covers the root-relative ``path``."""
        if not self.paths:
            return True
        from reviewer.engine import is_excluded

        return is_excluded(path, self.paths)

    def summary(self) -> str:
        """The first sentence-like line of the text (SARIF short description)."""
        return self.text.strip().splitlines()[0]

    def metadata(self) -> dict[str, Any]:
        """The principle as JSON-able data, shaped like a built-in rule's metadata."""
        return {
            "id": self.id,
            "slug": self.slug,
            "language": "python",
            "principle": self.slug,
            "severity": self.severity.label,
            "message": self.text,
            "summary": self.summary(),
            "rationale": "",
            "counterparts": {},
            "options": {},
            "tags": ["taught"],
            "security_severity": None,
            "fixable": False,
            "examples": {
                "valid": list(self.examples_good),
                "invalid": [{"code": c, "line": None, "fixed": None} for c in self.examples_bad],
            },
            "taught": True,
            "paths": list(self.paths),
            "author": self.author,
            "created": self.created,
        }


@dataclass(frozen=True)
class Catalogue:
    """The taught principles of a repository, and the number the next one gets."""

    principles: tuple[Principle, ...] = ()
    next_id: int = 1
    path: Path | None = field(default=None, compare=False)

    def get(self, pid: str) -> Principle | None:
        """The principle with ID ``pid`` (case-insensitive), or None."""
        want = pid.strip().upper()
        return next((p for p in self.principles if p.id == want), None)

    def add(self, principle: Principle) -> Catalogue:
        """A catalogue with ``principle`` added under the next ID (its own ID is ignored)."""
        number = self.next_number()
        new = replace(principle, id=format_id(number))
        return replace(self, principles=(*self.principles, new), next_id=number + 1)

    def remove(self, pid: str) -> tuple[Catalogue, Principle]:
        """A catalogue without principle ``pid``; raises ReviewerError when there is none."""
        gone = self.get(pid)
        if gone is None:
            known = ", ".join(p.id for p in self.principles) or "none"
            raise ReviewerError(f"no taught principle {pid!r} (taught: {known})")
        kept = tuple(p for p in self.principles if p.id != gone.id)
        return replace(self, principles=kept, next_id=self.next_number()), gone

    def next_number(self) -> int:
        """The next ID's number: never one that exists or existed (as far as the file knows)."""
        used = [int(p.id[1:]) for p in self.principles]
        return max([self.next_id, *(n + 1 for n in used)])


def format_id(number: int) -> str:
    """``7`` -> ``T007``."""
    return f"{ID_PREFIX}{number:03d}"


def make_slug(text: str, taken: Iterable[str] = ()) -> str:
    """A slug from the first words of ``text``, made unique against ``taken``."""
    words = re.findall(r"[a-z0-9]+", text.lower())[:MAX_SLUG_WORDS]
    base = "-".join(words)[:MAX_SLUG].strip("-") or "principle"
    used = set(taken)
    slug, n = base, 2
    while slug in used:
        slug, n = f"{base}-{n}", n + 1
    return slug


def taught_path(root: Path, config: Config) -> Path:
    """The principles file for the ``taught-file`` setting (relative to the root)."""
    path = Path(config.taught_file).expanduser()
    return path if path.is_absolute() else root / path


# -- reading ---------------------------------------------------------------------------------
def load(path: Path) -> Catalogue:
    """The catalogue in ``path`` (empty when the file does not exist).

    Raises ReviewerError (one line) when it cannot be read or holds something invalid.
    """
    if not path.exists() and not path.is_symlink():
        return Catalogue(path=path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ReviewerError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ReviewerError(f"{path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ReviewerError(f"{path} is not valid TOML: {exc}") from None
    try:
        return replace(from_data(doc), path=path)
    except ValueError as exc:
        raise ReviewerError(f"{path}: {exc}") from None


def from_data(doc: Mapping[str, Any]) -> Catalogue:
    """Validate parsed TOML; raise ValueError naming the first problem."""
    version = doc.get("version", FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ValueError(f"unsupported version {version!r} (this reviewer reads {FORMAT_VERSION})")
    unknown = set(doc) - {"version", "next_id", "principle"}
    if unknown:
        raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))}")
    next_id = doc.get("next_id", 1)
    if not isinstance(next_id, int) or isinstance(next_id, bool) or next_id < 1:
        raise ValueError(f"next_id must be a positive integer, got {next_id!r}")
    entries = doc.get("principle", [])
    if not isinstance(entries, list):
        raise ValueError("principle must be an array of tables ([[principle]])")
    principles: list[Principle] = []
    for n, entry in enumerate(entries, 1):
        if not isinstance(entry, Mapping):
            raise ValueError(f"principle #{n} is not a table")
        principles.append(_principle(entry, n))
    for attr in ("id", "slug"):
        values = [getattr(p, attr) for p in principles]
        dup = next((v for v in values if values.count(v) > 1), None)
        if dup is not None:
            raise ValueError(f"two principles have the {attr} {dup!r}")
    return Catalogue(tuple(principles), next_id)


_KEYS = ("id", "slug", "text", "severity", "paths", "examples_bad", "examples_good",
         "author", "created")


def _principle(entry: Mapping[str, Any], n: int) -> Principle:
    where = f"principle #{n}"
    unknown = set(entry) - set(_KEYS)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    pid = entry.get("id")
    if not isinstance(pid, str) or not ID_PATTERN.match(pid):
        raise ValueError(f"{where}: id must look like T001, got {pid!r}")
    where = f"principle {pid}"
    text = entry.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: text must be a non-empty string")
    slug = entry.get("slug", make_slug(text))
    if not isinstance(slug, str) or not SLUG_PATTERN.match(slug):
        raise ValueError(f"{where}: slug must be lowercase words joined by '-', got {slug!r}")
    try:
        severity = Severity.parse(str(entry.get("severity", DEFAULT_SEVERITY.label)))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    lists = {key: _strings(entry.get(key, []), f"{where}: {key}")
             for key in ("paths", "examples_bad", "examples_good")}
    extra = {key: entry.get(key, "") for key in ("author", "created")}
    for key, value in extra.items():
        if not isinstance(value, str):
            raise ValueError(f"{where}: {key} must be a string")
    return Principle(pid, slug, text.strip(), severity, lists["paths"], lists["examples_bad"],
                     lists["examples_good"], extra["author"], extra["created"])


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} must be a list of strings")
    return tuple(value)


# -- writing ---------------------------------------------------------------------------------
def toml_string(text: str) -> str:
    """``text`` as a TOML basic string (multi-line when it has line breaks)."""
    escaped = []
    for ch in text:
        if ch == "\\":
            escaped.append("\\\\")
        elif ch == '"':
            escaped.append('\\"')
        elif ch == "\n":
            escaped.append("\n")
        elif ch == "\t":
            escaped.append("\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            escaped.append(f"\\u{ord(ch):04x}")
        else:
            escaped.append(ch)
    body = "".join(escaped)
    if "\n" not in text:
        return f'"{body}"'
    return f'"""\n{body}"""'  # the newline right after the opening quotes is trimmed


def _array(values: Sequence[str]) -> str:
    if not values:
        return "[]"
    if all("\n" not in v for v in values) and sum(len(v) for v in values) < 60:
        return "[" + ", ".join(toml_string(v) for v in values) + "]"
    return "[\n" + "".join(f"    {toml_string(v)},\n" for v in values) + "]"


def dumps(catalogue: Catalogue) -> str:
    """The catalogue as TOML text (read back by :func:`load` to the same catalogue)."""
    out = [HEADER, f"version = {FORMAT_VERSION}\n", f"next_id = {catalogue.next_number()}\n"]
    for p in catalogue.principles:
        out.append("\n[[principle]]\n")
        out.append(f"id = {toml_string(p.id)}\n")
        out.append(f"slug = {toml_string(p.slug)}\n")
        out.append(f"text = {toml_string(p.text)}\n")
        out.append(f"severity = {toml_string(p.severity.label)}\n")
        for key in ("paths", "examples_bad", "examples_good"):
            values: tuple[str, ...] = getattr(p, key)
            if values:
                out.append(f"{key} = {_array(values)}\n")
        for key in ("author", "created"):
            value: str = getattr(p, key)
            if value:
                out.append(f"{key} = {toml_string(value)}\n")
    return "".join(out)


def save(catalogue: Catalogue, path: Path) -> None:
    """Write the catalogue atomically, after checking that the text reads back the same."""
    from reviewer.fileio import atomic_write_text

    text = dumps(catalogue)
    back = from_data(tomllib.loads(text))
    if back != replace(catalogue, next_id=catalogue.next_number(), path=None):
        raise ReviewerError(f"internal error: {path} would not read back as written")
    try:
        atomic_write_text(path, text)
    except OSError as exc:
        raise ReviewerError(f"cannot write {path}: {exc.strerror or exc}") from None


# -- lookups for the review and the reporters -----------------------------------------------
def _matches(p: Principle, selectors: Iterable[str]) -> bool:
    for sel in selectors:
        s = sel.strip()
        if s.upper() == "ALL" or p.id.startswith(s.upper()) or p.slug == s.lower():
            return True
    return False


def selected(catalogue: Catalogue, config: Config) -> list[Principle]:
    """The principles ``select``/``ignore`` leave on (by "ALL", ID, ID prefix or slug)."""
    return [p for p in catalogue.principles
            if _matches(p, config.select) and not _matches(p, config.ignore)]


def taught_rules(root: Path, config: Config) -> tuple[Principle, ...]:
    """Every taught principle of the repository, for reporters and listings.

    Never raises: a missing or broken file gives none (``check`` reports a broken file
    itself when it needs the principles).
    """
    try:
        return load(taught_path(root, config)).principles
    except ReviewerError:
        return ()
