"""Rules over the facts: what kind of file each path is, and the change type without a model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from reviewer.describe.deps import is_manifest
from reviewer.describe.readers import reader_for

if TYPE_CHECKING:
    from reviewer.describe.facts import Facts

TYPES = ("feature", "bug fix", "refactor", "performance", "tests", "docs", "build/CI", "chore")
CATEGORIES = ("code", "tests", "docs", "ci", "config", "dependencies", "other")

_CI_FILES = {".gitlab-ci.yml", ".travis.yml", "Jenkinsfile", "azure-pipelines.yml",
             ".pre-commit-config.yaml", ".pre-commit-hooks.yaml", "action.yml", "action.yaml",
             "Makefile", "Dockerfile", "tox.ini", "noxfile.py", "setup.py", "MANIFEST.in",
             "constraints.txt"}
_CI_DIRS = (".github/workflows/", ".github/actions/", ".circleci/", ".buildkite/", "ci/")
_DOC_EXT = (".md", ".rst", ".adoc", ".txt", ".markdown")
_DOC_NAMES = ("README", "CHANGELOG", "CHANGES", "LICENSE", "CONTRIBUTING", "AUTHORS", "NEWS")
_CONFIG_EXT = (".toml", ".ini", ".cfg", ".yaml", ".yml", ".json", ".conf", ".env")
_CODE_EXT = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".go", ".rs", ".java", ".c", ".h",
             ".cpp", ".rb", ".sh")
_TEST_MARKS = (".test.", ".spec.", "_test.go")


def category(path: str) -> str:
    """One of :data:`CATEGORIES` for a path."""
    base = path.rsplit("/", 1)[-1]
    if base in _CI_FILES or path.startswith(_CI_DIRS):
        return "ci"
    if is_manifest(path):
        return "dependencies"
    reader = reader_for(path)
    if reader is not None:
        return "tests" if reader.is_test(path) else "code"
    if any(m in base for m in _TEST_MARKS) or "/__tests__/" in f"/{path}":
        return "tests"
    if base.endswith(_CODE_EXT):
        return "code"
    if (base.endswith(_DOC_EXT) or base.upper().startswith(_DOC_NAMES)
            or path.startswith(("docs/", "doc/"))):
        return "docs"
    if base.endswith(_CONFIG_EXT) or base.startswith("."):
        return "config"
    return "other"


def scope(categories: Sequence[str]) -> str:
    """"docs-only", "tests-only", "ci-only", "config-only", "dependencies-only", "code",
    "mixed" or "empty"."""
    kinds = set(categories)
    if not kinds:
        return "empty"
    if len(kinds) == 1 and "code" not in kinds:
        return f"{next(iter(kinds))}-only"
    return "code" if "code" in kinds else "mixed"


def rule_type(facts: Facts) -> tuple[str, float, str]:
    """(type, confidence, why) from the facts alone."""
    kinds = {f.category for f in facts.files}
    if not kinds:
        return "chore", 0.3, "nothing changed"
    only = {"tests": ("tests", 0.9), "docs": ("docs", 0.9), "ci": ("build/CI", 0.85),
            "dependencies": ("build/CI", 0.75), "config": ("chore", 0.6)}
    if len(kinds) == 1 and next(iter(kinds)) in only:
        kind = next(iter(kinds))
        t, c = only[kind]
        return t, c, f"only {kind} files changed"
    if kinds <= {"ci", "dependencies", "config"}:
        return "build/CI", 0.7, "only build, CI, dependency and configuration files changed"
    code = [s for s in facts.symbols if not s.in_tests]
    added = [s for s in code if s.change == "added" and s.public]
    if added:
        return "feature", 0.6, f"{len(added)} public definition(s) added"
    if code and all(s.change in ("moved", "renamed", "removed") for s in code):
        return "refactor", 0.6, "definitions moved, renamed or removed only"
    if any(s.signature_changes for s in code):
        return "refactor", 0.45, "signatures changed, nothing added"
    if code and facts.tests.changed_tests:
        return "bug fix", 0.45, "code changed together with its tests"
    if code:
        return "bug fix", 0.35, "existing code changed"
    return "chore", 0.4, "no definition changed"
