"""RV202: broad exception handler that does not re-raise."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext, dotted_name
from reviewer.rules.base import Invalid, Rule, Valid

BROAD = ("Exception", "BaseException")
_LOG_LEVELS = frozenset({"debug", "info", "warning", "warn", "error", "critical", "fatal", "log"})
_TRACEBACK_PRINTERS = frozenset({"traceback.print_exc", "traceback.print_exception"})
# Calls that never return: they end the handler like a ``raise`` does.
NORETURN_CALLS = frozenset(
    {
        "sys.exit", "exit", "quit", "os._exit", "os.abort", "abort", "flask.abort",
        "pytest.fail", "pytest.skip", "pytest.exit", "self.fail", "self.skipTest",
    }
)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)


def matches(name: str, patterns: Sequence[str]) -> bool:
    """``name`` (as written) names one of ``patterns`` (dotted; either may be qualified).

    ``Exception`` matches ``builtins.Exception``; ``errors.AppError`` matches
    ``pkg.errors.AppError``: one must be the other's trailing dotted components.
    """
    for pattern in patterns:
        if name == pattern or pattern.endswith("." + name) or name.endswith("." + pattern):
            return True
    return False


def module_aliases(tree: ast.Module) -> dict[str, ast.expr]:
    """Top-level ``NAME = <name or tuple>`` bindings made exactly once (exception aliases)."""
    seen: dict[str, ast.expr | None] = {}
    for stmt in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        for t in targets:
            if isinstance(t, ast.Name):
                ok = isinstance(value, (ast.Name, ast.Attribute, ast.Tuple))
                seen[t.id] = value if ok and t.id not in seen else None
    return {k: v for k, v in seen.items() if v is not None}


def broad_parts(
    ctx: PyContext,
    handler: ast.ExceptHandler,
    patterns: Sequence[str],
    aliases: dict[str, ast.expr],
) -> list[tuple[ast.expr, str]]:
    """The parts of the handler's type that name a broad exception: (node, resolved name)."""
    if handler.type is None:
        return []
    found: list[tuple[ast.expr, str]] = []
    parts = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    for part in parts:
        name = _resolve(ctx, part, aliases, patterns, depth=0)
        if name:
            found.append((part, name))
    return found


def _resolve(
    ctx: PyContext, node: ast.expr, aliases: dict[str, ast.expr], patterns: Sequence[str],
    depth: int,
) -> str:
    """The broad exception ``node`` names, through module-level aliases ('' if none)."""
    if isinstance(node, ast.Tuple):
        for elt in node.elts:
            name = _resolve(ctx, elt, aliases, patterns, depth + 1)
            if name:
                return name
        return ""
    name = dotted_name(node)
    if not name:
        return ""
    if matches(name, patterns):
        # A local variable of that name is not the builtin (``Exception = ValueError``
        # inside a function is too odd to care about, a parameter is not).
        if isinstance(node, ast.Name) and ctx.resolve(node.id, node) is not ctx.tree:
            return ""
        return name
    target = aliases.get(name) if isinstance(node, ast.Name) else None
    if target is not None and depth < 3 and ctx.resolve(name, node) is ctx.tree:
        return _resolve(ctx, target, aliases, patterns, depth + 1)
    return ""


def swallow_kind(body: Sequence[ast.stmt]) -> str:
    """'pass', 'continue' or 'return' when the body only does that; '' otherwise.

    ``pass``, ``...`` and other bare constants (a string used as a comment) do nothing;
    after them at most one ``continue`` or ``return``/``return None`` may follow.
    """
    rest = [s for s in body if not _is_noop(s)]
    if not rest:
        return "pass"
    if len(rest) > 1:
        return ""
    last = rest[0]
    if isinstance(last, ast.Continue):
        return "continue"
    if isinstance(last, ast.Return) and (
        last.value is None or (isinstance(last.value, ast.Constant) and last.value.value is None)
    ):
        return "return"
    return ""


def _is_noop(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Pass) or (
        isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
    )


def always_raises(body: Sequence[ast.stmt]) -> bool:
    """Every path through ``body`` ends in a ``raise`` or a call that never returns
    (``sys.exit()``, ``pytest.fail()``...), and nothing escapes before it."""
    for stmt in body:
        if isinstance(stmt, ast.Raise) or _is_noreturn_call(stmt):
            return True
        if isinstance(stmt, ast.If) and always_raises(stmt.body) and always_raises(stmt.orelse):
            return True
        if isinstance(stmt, (ast.With, ast.AsyncWith)) and always_raises(stmt.body):
            return True
        if isinstance(stmt, ast.Try) and (
            always_raises(stmt.finalbody)
            or (always_raises(stmt.body) and all(always_raises(h.body) for h in stmt.handlers))
        ):
            return True
        if _escapes(stmt):
            return False  # a return/break/continue may leave before any raise
    return False


def _is_noreturn_call(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and dotted_name(stmt.value.func) in NORETURN_CALLS
    )


def _escapes(stmt: ast.stmt) -> bool:
    """``stmt`` contains a return, or a break/continue that leaves the handler's loop."""
    stack: list[tuple[ast.AST, bool]] = [(stmt, False)]
    while stack:
        node, in_loop = stack.pop()
        if isinstance(node, ast.Return):
            return True
        if isinstance(node, (ast.Break, ast.Continue)) and not in_loop:
            return True
        if isinstance(node, _SCOPES):
            continue
        inner = in_loop or isinstance(node, _LOOPS)
        stack.extend((child, inner) for child in ast.iter_child_nodes(node))
    return False


def logs_traceback(body: Sequence[ast.stmt]) -> bool:
    """The handler logs the exception with its traceback (``log.exception``, ``exc_info=``)."""
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, _SCOPES):
            continue
        if isinstance(node, ast.Call) and _is_traceback_log(node):
            return True
        stack.extend(ast.iter_child_nodes(node))
    return False


def _is_traceback_log(call: ast.Call) -> bool:
    func = call.func
    if dotted_name(func) in _TRACEBACK_PRINTERS:
        return True
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr == "exception":
        return True
    if func.attr not in _LOG_LEVELS:
        return False
    for kw in call.keywords:
        if kw.arg == "exc_info":
            v = kw.value
            return not (isinstance(v, ast.Constant) and not v.value)
    return False


class BroadExcept(Rule):
    """A handler catches ``Exception`` or ``BaseException`` and does not re-raise.

    Catching everything also catches the errors nobody anticipated: a typo's
    ``NameError``, an ``AttributeError`` from a refactoring, a ``MemoryError``. The handler
    then treats a bug like the expected failure, and the real cause is lost. Catch the
    exceptions the code in the ``try`` can actually raise.

    Not flagged: a handler that always ends in ``raise`` (re-raising, or raising another
    exception, ``from`` the original or not) or in a call that never returns
    (``sys.exit(1)``, ``pytest.fail(...)``), and, unless ``allow_logged`` is off, one
    that logs the traceback (``log.exception(...)``, ``log.error(..., exc_info=True)``,
    ``traceback.print_exc()``): that is the usual top-level boundary of a worker or a
    request loop. ``broad_exceptions`` lists the names treated as broad (dotted names
    match their trailing components: ``pkg.errors.AppError`` matches ``AppError``).
    Module-level aliases (``Error = Exception``, ``ERRORS = (OSError, Exception)``) are
    followed. A bare ``except:`` is RV201's, and a broad handler that does nothing at all
    (``pass``, ``continue``, ``return None``) is reported once, by RV203, unless
    ``defer_swallowed`` is off.
    """

    id = "RV202"
    slug = "broad-except"
    principle = "handle-exceptions"
    severity = Severity.LOW
    message = "Broad exception handler that does not re-raise: it also hides unexpected errors."
    counterparts = {"ruff": "BLE001", "pylint": "broad-exception-caught"}
    options = {"broad_exceptions": BROAD, "allow_logged": True, "defer_swallowed": True}
    tags = ("error-handling", "correctness")
    VALID = [
        "try:\n    run()\nexcept ValueError:\n    recover()\n",
        "try:\n    run()\nexcept Exception:\n    cleanup()\n    raise\n",
        "try:\n    run()\nexcept Exception as exc:\n    raise AppError('run failed') from exc\n",
        # Raising on every path counts; so does a re-raise inside ``with``.
        "try:\n    run()\nexcept BaseException as e:\n    if fatal(e):\n        raise\n"
        "    else:\n        raise Wrapped() from e\n",
        "try:\n    run()\nexcept Exception:\n    with lock:\n        raise\n",
        "import sys\ntry:\n    run()\nexcept Exception as e:\n    print(e)\n    sys.exit(1)\n",
        "import pytest\ndef test_run():\n    try:\n        run()\n    except Exception as e:\n"
        "        pytest.fail(f'raised {e}')\n",
        "import logging\nlog = logging.getLogger(__name__)\ntry:\n    run()\n"
        "except Exception:\n    log.exception('run failed')\n",
        "try:\n    run()\nexcept Exception as e:\n    log.error('failed: %s', e, exc_info=True)\n",
        # A parameter that shadows the name is not the builtin.
        "def f(Exception):\n    try:\n        run()\n    except Exception:\n        pass\n",
        # Narrow custom exceptions are fine; bare ``except:`` belongs to RV201.
        "class AppError(Exception):\n    pass\ntry:\n    run()\nexcept AppError:\n    pass\n",
        "try:\n    run()\nexcept:\n    pass\n",
        # Doing nothing at all is RV203's (reported once, there).
        "try:\n    run()\nexcept Exception:\n    pass\n",
        # Conditional re-raise with the other branch raising too.
        "try:\n    run()\nexcept Exception as e:\n    if retry(e):\n        raise Retry() from e\n"
        "    raise\n",
        Valid(
            "try:\n    run()\nexcept AppError:\n    pass\n",
            options={"broad_exceptions": ("Exception", "pkg.errors.Error")},
        ),
    ]
    INVALID = [
        Invalid("try:\n    run()\nexcept Exception:\n    print('error')\n", line=3),
        Invalid("try:\n    run()\nexcept BaseException as e:\n    return False\n", line=3),
        Invalid(
            "try:\n    run()\nexcept Exception:\n    pass\n",
            line=3,
            options={"defer_swallowed": False},
        ),
        Invalid("try:\n    run()\nexcept (ValueError, Exception):\n    recover()\n", line=3),
        Invalid("try:\n    run()\nexcept builtins.Exception:\n    recover()\n", line=3),
        # Python 3.11 exception groups.
        Invalid("try:\n    run()\nexcept* Exception:\n    recover()\n", line=3),
        # Re-raising on one path only still swallows on the other.
        Invalid(
            "try:\n    run()\nexcept Exception as e:\n    if fatal(e):\n        raise\n"
            "    recover()\n",
            line=3,
        ),
        # A return before the raise lets the error escape silently.
        Invalid(
            "def f():\n    try:\n        run()\n    except Exception:\n"
            "        if quiet:\n            return None\n        raise\n",
            line=4,
        ),
        # Aliases at module level are followed.
        Invalid("Error = Exception\ntry:\n    run()\nexcept Error:\n    recover()\n", line=4),
        Invalid(
            "ERRORS = (OSError, Exception)\ntry:\n    run()\nexcept ERRORS:\n    recover()\n",
            line=4,
        ),
        Invalid(
            "async def main():\n    try:\n        await run()\n    except Exception:\n"
            "        log.warning('failed')\n",
            line=4,
        ),
        Invalid(
            "try:\n    run()\nexcept Exception:\n    log.exception('x')\n",
            line=3,
            options={"allow_logged": False},
        ),
        Invalid(
            "class AppError(Exception):\n    pass\ntry:\n    run()\nexcept AppError:\n"
            "    recover()\n",
            line=5,
            options={"broad_exceptions": ("Exception", "BaseException", "myapp.AppError")},
        ),
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        handlers = ctx.nodes(ast.ExceptHandler)
        if not handlers:
            return
        patterns: tuple[str, ...] = self.settings["broad_exceptions"]
        aliases = module_aliases(ctx.tree)
        for handler in handlers:
            assert isinstance(handler, ast.ExceptHandler)
            parts = broad_parts(ctx, handler, patterns, aliases)
            if not parts or always_raises(handler.body):
                continue
            if self.settings["allow_logged"] and logs_traceback(handler.body):
                continue
            if self.settings["defer_swallowed"] and swallow_kind(handler.body):
                continue  # RV203 reports it, with the more specific message
            node, name = parts[0]
            yield ctx.report(
                self,
                node,
                f"Catching {name} without re-raising also hides unexpected errors:"
                " catch the specific exceptions the code can raise.",
            )
