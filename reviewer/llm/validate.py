"""The validator: a model's fix is kept only if the reviewer itself accepts the result.

Checks, all in memory (no file is ever written): the patched file parses, the finding's rule
no longer fires in that scope, and no other finding appears; and the fix is not one of the
valid-but-wrong kinds of :mod:`reviewer.llm.refusals` (a narrowed broad handler, a dropped
comment, a generic RV401 docstring, a typing construct in a string). Findings are compared as counts
per (rule, enclosing symbol), so line shifts caused by the fix do not count as new findings.
The complaint, when there is one, is a sentence the model can act on.
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Sequence

from reviewer.findings import Finding, Fix, TextEdit, apply_edits, lines_outside_kept
from reviewer.llm.names import dropped_names
from reviewer.llm.prompts import Region
from reviewer.llm.refusals import (
    dropped_comments,
    generic_docstrings,
    lost_default,
    narrowed_handler,
    string_annotation,
)
from reviewer.rules.base import Rule

Key = tuple[str, str]
__all__ = ["FileValidator", "dropped_names", "region_fix", "wrong_but_valid"]


def region_fix(region: Region, fixed_code: str, source: str, rule_id: str) -> Fix:
    """A model fix replacing the region's lines with ``fixed_code`` (re-indented)."""
    body = fixed_code if fixed_code.endswith("\n") else fixed_code + "\n"
    if region.indent:
        body = "".join(
            region.indent + ln if ln.strip() else ln for ln in body.splitlines(keepends=True)
        )
    lines = source.splitlines(keepends=True)
    end_line, end_col = region.end + 1, 1
    if region.end >= len(lines) and lines and not lines[-1].endswith("\n"):
        # The region ends the file without a final newline: keep it that way.
        body = body.rstrip("\n")
        end_line, end_col = region.end, len(lines[-1]) + 1
    edit = TextEdit(region.start, 1, end_line, end_col, body)
    return Fix(f"Model fix for {rule_id} (validated)", (edit,), safe=False, origin="model")


class FileValidator:
    """Validates fixes for the findings of one file against the reviewer's own rules."""

    def __init__(
        self, path: str, source: str, rules: Sequence[Rule], language: str = "python"
    ) -> None:
        from reviewer.engine import _rules_by_language

        self.path = path
        self.source = source
        self.language = language
        self.by_lang = _rules_by_language(rules)
        self.before = self._review(source)

    def _review(self, source: str) -> list[Finding]:
        from reviewer.engine import review_source

        return review_source(self.path, source, self.by_lang, self.language).findings

    def check(self, finding: Finding, fix: Fix, original: str | None = None) -> str | None:
        """None when ``fix`` is acceptable, else the complaint for the model.

        ``original``: the code the fix replaces; when given, a fix that drops much of its
        code (names that no longer appear) is refused as an unrelated change.
        """
        try:
            patched = apply_edits(self.source, fix.edits)
        except ValueError as exc:
            return f"the fix could not be applied ({exc})"
        if patched == self.source:
            return (
                "fixed_code is the same as the original code;"
                " change it so the rule no longer applies"
            )
        after = self._review(patched)
        broken = [f for f in after if f.rule_id == "RV000"]
        if broken:
            why = broken[0].message.removeprefix("file does not parse: ")
            return (
                f"the code does not parse: {why}"
                f" (line {_relative_line(broken[0], fix)} of fixed_code)"
            )
        if original is not None and fix.edits:
            dropped = dropped_names(original, fix.edits[0].text)
            if dropped:
                return (
                    "the fix removes code the rule is not about ("
                    + ", ".join(dropped[:5])
                    + " no longer appear); keep the code and change only what the rule asks"
                )
        if self.language == "python" and finding.rule_id not in SIGNATURE_RULES:
            changed = changed_signatures(self.source, patched)
            if changed:
                return (
                    f"the fix changes how {changed[0]}() is called (its parameters or their"
                    " defaults), which breaks its callers; keep the parameters and defaults"
                )
        if self.language == "python":
            outside = lines_outside_kept(self.source, patched, fix.edits)
            if outside is not None:
                return f"the fix changes code it does not replace ({outside})"
            narrowed = narrowed_handlers(self.source, patched)
            if narrowed:
                return (
                    f"the fix narrows the handler of {narrowed[0]}, which the code re-raises"
                    " or keeps for later: other exceptions would now escape; keep the"
                    " handler's exceptions"
                )
            wrong = wrong_but_valid(self.source, patched, finding.rule_id, self.path)
            if wrong is not None:
                return wrong
            dropped_stmt = dropped_statements(self.source, patched)
            if dropped_stmt:
                return (
                    f"the fix drops a statement ({dropped_stmt}); keep every statement and"
                    " change only what the rule asks"
                )
        if self.language == "python" and finding.rule_id not in SIGNATURE_RULES:
            lost = lost_inputs(self.source, patched)
            if lost:
                return (
                    f"the fix no longer uses {lost[0]}: it changes what the code does;"
                    " keep using every input and change only what the rule asks"
                )
            unknown = sorted(undefined_at(patched) - undefined_at(self.source))
            if unknown:
                return (
                    f"{', '.join(unknown[:3])} {'is' if len(unknown) == 1 else 'are'} not"
                    " defined in the file; import or define what the fix uses"
                )
        allowed = Counter(_key(f) for f in self.before)
        allowed[_key(finding)] -= 1
        got = Counter(_key(f) for f in after)
        if got[_key(finding)] > allowed[_key(finding)]:
            still = next(
                (f for f in after if _key(f) == _key(finding)), finding
            )
            return f"{finding.rule_id} still applies: {still.message}"
        for f in after:
            k = _key(f)
            if got[k] > allowed[k]:
                return (
                    f"the fix introduces a new problem, {f.rule_id}: {f.message}"
                    f" (line {_relative_line(f, fix)} of fixed_code)"
                )
        return None


def wrong_but_valid(source: str, patched: str, rule_id: str, path: str = "") -> str | None:
    """The refusals of :mod:`reviewer.llm.refusals`: a narrowed broad handler, a dropped
    comment, a generic RV401 docstring, an RV101 default lost, a typing construct written as a
    string. ``path``: the file's, whose package and module names a module docstring may
    name."""
    why = narrowed_handler(source, patched) or dropped_comments(source, patched, rule_id)
    if why is None and rule_id == "RV401":
        why = generic_docstrings(source, patched, path)
    if why is None and rule_id == "RV101":
        why = lost_default(source, patched)
    return why or string_annotation(source, patched)


# Rules whose fix is a change of signature (fewer parameters): exempt from the checks that
# a fix keeps every function's signature and inputs.
SIGNATURE_RULES = frozenset({"RV303"})


def changed_signatures(source: str, patched: str) -> list[str]:
    """Functions of both versions whose call signature differs: parameter names, kinds, or
    which have a default (a changed default value, ``items=[]`` to ``items=None``, is not a
    change of how the function is called; a lost default is)."""
    before, after = _signatures(source), _signatures(patched)
    return sorted(name for name, sig in before.items() if name in after and after[name] != sig)


Signature = tuple[tuple[str, str, bool], ...]


def lost_inputs(source: str, patched: str) -> list[str]:
    """Parameters that their function reads before the fix and no longer after it, as
    ``"text (a parameter of search())"``: a fix that drops an input (the f-string that
    used ``text`` made a constant) changes behaviour, whatever the rules say."""
    before, after = _parameter_use(source), _parameter_use(patched)
    lost = []
    for name, used in before.items():
        for param in sorted(used - after.get(name, used)):
            lost.append(f"{param} (a parameter of {name}())")
    return lost


def _parameter_use(source: str) -> dict[str, set[str]]:
    """For each function (first of a name), the parameters its body reads."""
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    out: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node.name in out:
            continue
        a = node.args
        params = {x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)}
        params |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
        read = {
            n.id for stmt in node.body for n in ast.walk(stmt)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        }
        out[node.name] = params & read
    return out


def _signatures(source: str) -> dict[str, Signature]:
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    out: dict[str, Signature] = {}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        a = node.args
        positional = [*a.posonlyargs, *a.args]
        first_default = len(positional) - len(a.defaults)
        sig = [
            (arg.arg, "posonly" if i < len(a.posonlyargs) else "pos", i >= first_default)
            for i, arg in enumerate(positional)
        ]
        sig += [(arg.arg, "kwonly", d is not None)
                for arg, d in zip(a.kwonlyargs, a.kw_defaults, strict=True)]
        if a.vararg:
            sig.append((a.vararg.arg, "*", False))
        if a.kwarg:
            sig.append((a.kwarg.arg, "**", False))
        out.setdefault(node.name, tuple(sig))
    return out


def undefined_names(source: str) -> set[str]:
    """Names read somewhere in a module but bound nowhere in it (nor builtins).

    Deliberately coarse (no scopes): it exists to catch a fix that calls something it did
    not import (``ast.literal_eval`` without ``import ast``). A star import disables it.
    """
    import ast
    import builtins

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return set()
    bound = set(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__path__"}
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name == "*":
                    return set()
                bound.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            bound.add(node.rest)
    return used - bound


def undefined_at(source: str) -> set[str]:
    """Names used where they are not defined, scope by scope (pyflakes: a name bound only
    in another function, a local read before it is assigned); the coarse
    :func:`undefined_names` when pyflakes is not installed."""
    import ast

    try:
        from pyflakes import checker, messages
    except ImportError:
        return undefined_names(source)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return set()
    found = checker.Checker(tree, filename="fix.py").messages
    kinds = (messages.UndefinedName, messages.UndefinedLocal)
    return {str(m.message_args[0]) for m in found if isinstance(m, kinds)}


# Statements a fix may remove without changing what the code does.
_REMOVABLE = ("Global", "Nonlocal", "Pass")


def dropped_statements(source: str, patched: str) -> str | None:
    """A statement of ``source`` the fix removed (its kind and line), or None: a fix may
    rewrite statements, not drop them (``global``, ``nonlocal`` and ``pass`` excepted)."""
    import ast
    from collections import Counter as _Counter

    try:
        before, after = ast.parse(source), ast.parse(patched)
    except (SyntaxError, ValueError, RecursionError):
        return None

    def kinds(tree: ast.AST) -> _Counter[str]:
        return _Counter(type(n).__name__ for n in ast.walk(tree)
                        if isinstance(n, ast.stmt) and type(n).__name__ not in _REMOVABLE)

    old, new = kinds(before), kinds(after)
    total_old, total_new = sum(old.values()), sum(new.values())
    if total_new >= total_old:
        return None
    missing = [k for k in old if new[k] < old[k]]
    kind = missing[0] if missing else "statement"
    line = next((n.lineno for n in ast.walk(before)
                 if isinstance(n, ast.stmt) and type(n).__name__ == kind), 0)
    return f"a {kind.lower()} statement, line {line}" if line else kind.lower()


_BROAD = frozenset({"", "BaseException", "Exception"})


def narrowed_handlers(source: str, patched: str) -> list[str]:
    """``except <broad> as name`` handlers whose exceptions the fix narrowed although the
    handler keeps the exception (``error = err``, ``errors.append(err)``) or re-raises it:
    those errors were meant to reach the code after the handler."""
    import ast

    try:
        before, after = ast.parse(source), ast.parse(patched)
    except (SyntaxError, ValueError, RecursionError):
        return []
    old = [h for h in ast.walk(before) if isinstance(h, ast.ExceptHandler)]
    new = [h for h in ast.walk(after) if isinstance(h, ast.ExceptHandler)]
    if len(old) != len(new):
        return []
    out = []
    for h_old, h_new in zip(old, new, strict=True):
        was = "" if h_old.type is None else ast.unparse(h_old.type)
        now = "" if h_new.type is None else ast.unparse(h_new.type)
        if was == now or was not in _BROAD or now in _BROAD:
            continue
        if _keeps_or_reraises(h_old):
            out.append(f"except {was or ''}{' as ' + h_old.name if h_old.name else ''}".strip())
    return out


def _keeps_or_reraises(handler: ast.ExceptHandler) -> bool:
    name = handler.name
    for node in (n for stmt in handler.body for n in ast.walk(stmt)):
        if isinstance(node, ast.Raise) and (node.exc is None or (
                name and isinstance(node.exc, ast.Name) and node.exc.id == name)):
            return True
        if not name:
            continue
        value = node.value if isinstance(
            node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) else None
        if value is not None and any(
            isinstance(v, ast.Name) and v.id == name for v in ast.walk(value)
        ):
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in ("append", "add", "put", "set_exception") \
                and any(isinstance(a, ast.Name) and a.id == name for a in node.args):
            return True
    return False


def _key(f: Finding) -> Key:
    return (f.rule_id, f.symbol)


def _relative_line(f: Finding, fix: Fix) -> int:
    start = fix.edits[0].line if fix.edits else 1
    return max(1, f.span.line - start + 1)
