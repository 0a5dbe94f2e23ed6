"""RV202: broad exception handler that does not re-raise."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext, dotted_name
from reviewer.rules._boundaries import (
    falls_into_raise,
    kept_for_later,
    logged_failure_result,
    must_not_raise,
    optional_import,
    predicate_probe,
    says_why,
    warns_error,
    yields_error,
)
from reviewer.rules._handlers import (
    NORETURN_CALLS,
    always_raises,
    hands_on,
    never_returning,
    opt_out_reraise,
    protocol_probe,
)
from reviewer.rules._project import ends_in_imported_noreturn
from reviewer.rules.base import Invalid, Rule, Valid

__all__ = ["BROAD", "NORETURN_CALLS", "always_raises", "broad_parts", "module_aliases",
           "swallow_kind"]

BROAD = ("Exception", "BaseException")
_LOG_LEVELS = frozenset({"debug", "info", "warning", "warn", "error", "critical", "fatal", "log"})
_TRACEBACK_PRINTERS = frozenset({"traceback.print_exc", "traceback.print_exception",
                                 "traceback.format_exc", "traceback.format_exception"})
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


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
    if func.attr in ("exception", "handleError"):  # logging.Handler.handleError prints it
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
    (``sys.exit(1)``, ``pytest.fail(...)``, or a function or method of the same module, or
    of a module of the same repository that the file imports, annotated ``-> NoReturn``
    or whose body always raises, such as ``_fail("close failed", err)`` or jinja2's
    ``self.environment.handle_exception()``; abstract placeholders that raise
    ``NotImplementedError`` do not count); a handler whose only non-raising branch is
    taken for ``isinstance(err, Narrow)`` (a narrow handler written as a type dispatch);
    one that hands the exception on intact (returns or yields it, or passes it or
    ``sys.exc_info()`` to another function that is not a print, format or log call, as
    a framework's error boundary does with ``self.handle_exception(e)``, or keeps it on an
    object: ``self.error = e``); a handler that starts with ``if <condition>: raise``
    and re-raises unless a stated mode says to drop the error (``if not
    self.fail_silently: raise``, or ``if settings.DEBUG: raise`` followed by a fallback
    when the condition is about the program's state, not the error); a ``try`` of one
    or two simple statements calling only code the program does not control: an
    object's own protocol (``getattr``, ``str``, ``repr``, ``len``,
    ``obj.__rich_repr__()``), where a user-defined ``__getattr__`` or ``__str__`` may
    raise anything, a no-op probe of an unknown object (``stream.write(b"")``,
    ``stream.read(0)``), or ``eval``/``exec`` of text typed by a user; and, unless
    ``allow_logged`` is off, one that logs or shows the traceback (``log.exception(...)``,
    ``log.error(..., exc_info=True)``, ``traceback.print_exc()`` or ``format_exc()``, a
    logging handler's ``self.handleError(record)``): that is the usual top-level boundary
    of a worker or a request loop. ``broad_exceptions`` lists the names treated as broad
    (dotted names match their trailing components: ``pkg.errors.AppError`` matches
    ``AppError``).
    Nor, because the code states that catching everything is the decision (judged on
    real code, bench/precision.py; reviewer/rules/_boundaries.py): a comment at the
    handler, just above its ``except`` or right above its ``try`` that says why errors are
    caught (it speaks of raising, errors, failing, ignoring: ``# Filters must never
    raise``; ``allow_commented``); code whose contract forbids raising (a logging
    handler class's ``emit()``, a function decorated ``@<library>.filter``); a handler
    whose error is not lost: the code after the ``try`` always raises, a generator yields
    the error's text, the exception is kept in a variable that the function later raises,
    returns or hands on (``first = exc`` ... ``raise first``), or a warning carries it
    before a fallback; a handler that logs the failure at warning level or above in a
    function annotated ``-> X | None`` and returns ``None``; a re-raise that a stated mode
    decides (``if strict: raise`` / ``else: report``; ``if has_submodule(...): raise``
    after restoring state); a ``try`` that only imports an optional dependency and binds
    what it provides; a ``try`` calling the callable a wrapper was made for (a plug-in's
    callback, a parameter of the function around the handler's) or
    ``stream.seek(stream.tell())``; and a ``-> bool`` predicate asking an object it was
    given about itself (``return stream.isatty()`` / ``return False``).
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
    options = {"broad_exceptions": BROAD, "allow_logged": True, "defer_swallowed": True,
               "allow_commented": True}
    tags = ("error-handling", "correctness")
    # Which exceptions the try can raise is decided by the code it calls, which the flagged
    # lines do not show: a narrowing made from them is a guess that changes behaviour (every
    # model narrowing judged by hand on real code was wrong, and the validator refuses any
    # it cannot prove, reviewer/llm/refusals.py). The model explains; it is not asked.
    local_fix = False
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
        "try:\n    load()\nexcept Exception:\n    echo(traceback.format_exc(), err=True)\n",
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
        # The module's own functions that never return end the handler too.
        "from typing import NoReturn\ndef _fail(msg: str, err: BaseException) -> NoReturn:\n"
        "    raise SystemExit(f'{msg}: {err}')\ndef close(f):\n    try:\n        f.close()\n"
        "    except BaseException as err:\n        _fail('close failed', err)\n",
        "class Env:\n    def handle_exception(self):\n        raise rewrite_traceback()\n"
        "    def render(self):\n        try:\n            return run()\n"
        "        except Exception:\n            self.handle_exception()\n",
        "class T:\n    def handle_exception(self) -> 'te.NoReturn':\n        raise Rewritten()\n"
        "    async def generate(self):\n        try:\n            yield render()\n"
        "        except Exception:\n            yield self.handle_exception()\n",
        "def _die(code):\n    log.critical('fatal')\n    sys.exit(code)\ndef f():\n"
        "    try:\n        run()\n    except Exception:\n        _die(2)\n",
        # A type dispatch: only the isinstance branch is handled, everything else raises.
        "try:\n    run()\nexcept Exception as e:\n    if isinstance(e, KeyError) and lazy:\n"
        "        return DEFER\n    else:\n        raise Wrapped(e) from e\n",
        # A logging handler's emit() reports its own failures through handleError().
        "class H(logging.Handler):\n    def emit(self, record):\n        try:\n"
        "            self.console.print(record)\n        except Exception:\n"
        "            self.handleError(record)\n",
        # Handing the exception on: the callee or the caller decides.
        "def get_response(self, request):\n    try:\n        return self.view(request)\n"
        "    except Exception as e:\n        return self.process_exception(e, request)\n",
        "def safe_getattr(obj, name):\n    try:\n        return (None, getattr(obj, name))\n"
        "    except Exception as error:\n        return (error, None)\n",
        "def boundary(request):\n    try:\n        return handle(request)\n    except Exception:\n"
        "        return handle_uncaught(request, sys.exc_info())\n",
        # Re-raise unless the caller asked to drop errors.
        "def send(self, msgs):\n    try:\n        self.write(msgs)\n    except Exception:\n"
        "        if not self.fail_silently:\n            raise\n",
        "def parse(self, ctx, value):\n    try:\n        value = self.convert(value)\n"
        "    except Exception:\n        if not ctx.resilient_parsing:\n            raise\n"
        "        value = UNSET\n    return value\n",
        # Kept on the object for whoever re-raises it.
        "def run(self):\n    try:\n        self.serve()\n    except Exception as e:\n"
        "        self.error = e\n        self.ready.set()\n",
        # Probing what an unknown stream or value supports.
        "def is_binary(stream):\n    try:\n        stream.write(b'')\n    except Exception:\n"
        "        return False\n    return True\n",
        "def is_sequence(value):\n    try:\n        len(value)\n        value.__getitem__\n"
        "    except Exception:\n        return False\n    return True\n",
        "def write(self, out, data):\n    try:\n        self.ops.write(out, data)\n"
        "    except Exception:\n        if not os.path.exists(out):\n            raise\n"
        "        self.move_aside(out)\n",
        # Evaluating what the user typed may raise anything.
        "def ask_default(code):\n    try:\n        return eval(code, {}, {})\n"
        "    except Exception as e:\n        show(f'{type(e).__name__}: {e}')\n",
        # A user-defined __str__ or __getattr__ may raise anything.
        "def safe_str(obj):\n    try:\n        return str(obj)\n    except Exception:\n"
        "        return '<str() failed>'\n",
        # A callback the function received: a plug-in's code may raise anything.
        "def guard(check):\n    def run(text):\n        try:\n            rv = check(text)\n"
        "        except Exception:\n            return 0.0\n        return rv\n    return run\n",
        "def seekable(stream):\n    try:\n        stream.seek(stream.tell())\n"
        "    except Exception:\n        return False\n    return True\n",
        # A comment that says why everything is caught.
        "def to_local(value):\n    try:\n        value = convert(value)\n"
        "    # Formatting helpers used in templates must never raise.\n    except Exception:\n"
        "        return ''\n    return value\n",
        "try:\n    setup()\nexcept Exception:\n"
        "    # The error is raised again in the child process.\n    reset_registry()\n",
        # Contracts that forbid raising: a logging handler's emit(), a template filter.
        "class MailHandler(logging.Handler):\n    def emit(self, record):\n        try:\n"
        "            subject = describe(record.request)\n        except Exception:\n"
        "            subject = record.getMessage()\n        self.send(subject)\n",
        "@register.filter(is_safe=False)\ndef plus(value, arg):\n    try:\n"
        "        return value + arg\n    except Exception:\n        return ''\n",
        # The error is not lost: the code right after the try raises with its message,
        # or a generator renders it into its output.
        "def lookup(name, table):\n    f = table.get(name)\n    if f is None:\n"
        "        msg = f'no filter {name!r}'\n        if is_undefined(name):\n"
        "            try:\n                name.fail()\n            except Exception as e:\n"
        "                msg = f'{msg} ({e})'\n        raise LookupFailed(msg)\n    return f\n",
        "def render(tables):\n    for t in tables:\n        try:\n            info = describe(t)\n"
        "        except Exception as e:\n            yield f'# cannot inspect {t}: {e}'\n"
        "            continue\n        yield info\n",
        # A failure result the annotation declares, logged as a failure.
        "def build(name: str, backend: Backend) -> str | None:\n    try:\n"
        "        path = backend.build(name)\n    except Exception:\n"
        "        logger.error('Failed building %s', name)\n        return None\n    return path\n",
        # Re-raise unless the state says the error is the expected one.
        "def discover(apps, name):\n    for app in apps:\n        try:\n"
        "            import_module(f'{app.name}.{name}')\n        except Exception:\n"
        "            restore_registry()\n            if has_submodule(app.module, name):\n"
        "                raise\n",
        # The error is kept and raised, returned or handed on later.
        "async def gather(tasks):\n    first = None\n    for t in tasks:\n        try:\n"
        "            await t\n        except Exception as exc:\n            if first is None:\n"
        "                first = exc\n    if first is not None:\n        raise first\n",
        "def close_both(a, b):\n    err = None\n    try:\n        a.close()\n"
        "    except BaseException as e:\n        err = e\n    b.close()\n    return err\n",
        # A type dispatch through if/elif, every other exception re-raised.
        "try:\n    run()\nexcept BaseException as e:\n    if isinstance(e, Busy):\n"
        "        out = Timeout()\n    elif isinstance(e, ReadOnly) and writing:\n"
        "        out = ValueError('read-only')\n    else:\n        out = e\n    cleanup()\n"
        "    if out is not e:\n        raise out from None\n    raise\n",
        "def acquire(self):\n    try:\n        self.open()\n    except BaseException as e:\n"
        "        if not self.opened:\n"
        "            if not (isinstance(e, OSError) and e.errno == EEXIST):\n"
        "                raise\n            self.break_stale()\n            return\n"
        "        self.release()\n        raise\n",
        # A stated mode decides: strict re-raises, otherwise the error is reported.
        "def save(rows, strict, out):\n    for row in rows:\n        try:\n"
        "            store(row)\n        except Exception as e:\n            if strict:\n"
        "                raise\n            else:\n                out.write(f'failed: {e}')\n",
        # A predicate asking an object it was given about itself.
        "def isatty(stream) -> bool:\n    try:\n        return stream.isatty()\n"
        "    except Exception:\n        return False\n",
        # The error is shown in a warning, then a fallback is used.
        "def evaluate(f, xs):\n    try:\n        return fast_eval(f, xs)\n"
        "    except Exception as err:\n        warnings.warn(f'fast evaluation failed: {err}')\n"
        "        return slow_eval(f, xs)\n",
        # An optional dependency may be installed but broken.
        "try:\n    import fastjson\nexcept Exception:\n    fastjson = None\n",
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
        # An abstract placeholder is overridden: calling it does not end the handler.
        Invalid(
            "class Base:\n    def stop(self):\n        raise NotImplementedError\n"
            "    def run(self):\n        try:\n            work()\n"
            "        except Exception:\n            self.stop()\n",
            line=7,
        ),
        # Calling its own parameter does not make a function a wrapper that isolates it.
        Invalid(
            "def run(job):\n    try:\n        job()\n    except Exception as e:\n"
            "        print(e)\n",
            line=4,
        ),
        # Printing or logging the message loses the traceback: not handing it on.
        Invalid("try:\n    run()\nexcept Exception as e:\n    print(e)\n", line=3),
        Invalid(
            "def f(obj):\n    try:\n        return obj.fileno()\n    except Exception:\n"
            "        return -1\n",
            line=4,
        ),
        Invalid(
            "try:\n    run()\nexcept Exception as e:\n    if isinstance(e, KeyError):\n"
            "        return None\n    recover()\n",
            line=3,
        ),
        # A comment that does not say why errors are caught is not an explanation.
        Invalid(
            "def hook():\n    try:\n        ip = get_shell()\n        install(ip)\n"
            "    except Exception:\n        # otherwise use the default hook\n"
            "        return use_default()\n",
            line=5,
        ),
        Invalid(
            "try:\n    run()\nexcept Exception:\n    # see the docs\n    recover()\n",
            line=3,
        ),
        # Logging without a declared failure result, or returning a value the caller
        # cannot tell from a success.
        Invalid(
            "def build(name: str) -> str:\n    try:\n        return make(name)\n"
            "    except Exception:\n        logger.error('failed %s', name)\n        return ''\n",
            line=4,
        ),
        # A warning that does not carry the error loses it.
        Invalid(
            "try:\n    run()\nexcept Exception as e:\n    warnings.warn('run failed')\n",
            line=3,
        ),
        # Kept in a variable that is only logged is not handed on.
        Invalid(
            "def f():\n    try:\n        run()\n    except Exception as e:\n        err = e\n"
            "    log.info('done: %s', err)\n",
            line=4,
        ),
        # Code after the try that does not always raise.
        Invalid(
            "def f():\n    try:\n        run()\n    except Exception as e:\n"
            "        msg = str(e)\n    if strict:\n        raise Failed(msg)\n",
            line=4,
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
            if not parts or always_raises(handler.body, never_returning(ctx), handler.name or ""):
                continue
            if self.settings["allow_logged"] and logs_traceback(handler.body):
                continue
            if hands_on(handler) or protocol_probe(ctx, handler):
                continue
            if opt_out_reraise(handler.body, never_returning(ctx), handler.name or ""):
                continue
            if self.settings["defer_swallowed"] and swallow_kind(handler.body):
                continue  # RV203 reports it, with the more specific message
            if ends_in_imported_noreturn(ctx, handler.body, handler.name or ""):
                continue  # re-raised by a function of another module of the project
            if self._deliberate(ctx, handler):
                continue
            node, name = parts[0]
            yield ctx.report(
                self,
                node,
                f"Catching {name} without re-raising also hides unexpected errors:"
                " catch the specific exceptions the code can raise.",
            )

    def _deliberate(self, ctx: PyContext, handler: ast.ExceptHandler) -> bool:
        """The code states that catching everything is the decision (_boundaries.py)."""
        if self.settings["allow_commented"] and says_why(ctx, handler):
            return True
        return (
            must_not_raise(ctx, handler)
            or yields_error(handler)
            or kept_for_later(ctx, handler)
            or warns_error(handler)
            or predicate_probe(ctx, handler)
            or falls_into_raise(ctx, handler, never_returning(ctx))
            or logged_failure_result(ctx, handler)
            or optional_import(ctx, handler)
        )
