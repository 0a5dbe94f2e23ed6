"""RV203: exception handler that silently swallows the error."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Fix, Severity, TextEdit, split_lines
from reviewer.languages.python import PyContext
from reviewer.rules import _cst
from reviewer.rules._boundaries import must_not_raise, optional_import, says_why, success_flag
from reviewer.rules._handlers import best_effort_cleanup, explained, protocol_probe
from reviewer.rules.base import Invalid, Rule
from reviewer.rules.rv202_broad_except import (
    BROAD,
    broad_parts,
    module_aliases,
    swallow_kind,
)


class SwallowedException(Rule):
    """An exception handler does nothing: the error vanishes without a trace.

    ``except Exception: pass`` (or ``continue``, or ``return None``) turns every failure in
    the ``try`` block into silence: no log line, no changed result the caller can check.
    When the failure later shows up somewhere else, nothing points back here. Handle the
    error, log it, or let it propagate.

    By default, like bandit, only handlers that catch everything are reported: a bare
    ``except:`` or a broad one (``broad_exceptions``, default ``Exception`` and
    ``BaseException``, also inside a tuple). Ignoring one named exception
    (``except KeyError: pass``) is a deliberate decision in most code; set
    ``check_typed_exceptions`` to report those too (and prefer ``contextlib.suppress``).
    A broad handler that does nothing is reported here only, not also by RV202 (keep the
    two rules' ``broad_exceptions`` in step); a bare one also gets RV201, which says what
    else a bare ``except:`` catches.

    Not flagged either, because ignoring the error there is the decision and not an
    accident: best-effort cleanup (inside ``__del__``/``__exit__`` or a ``close()`` method,
    or a ``try`` that only closes or removes things: ``x.close()``, ``os.remove(tmp)``); a
    ``try`` of one or two simple statements calling only code the program does not
    control (an object's own protocol: ``getattr``, ``str``, ``repr``,
    ``obj.__rich_repr__()``, where a user-defined ``__getattr__`` may raise anything; a
    no-op probe such as ``stream.write(b"")``; ``eval``/``exec``; the callable a wrapper was
    made for); code whose contract forbids raising (a logging handler's ``emit()``, a
    template filter); an optional import (a ``try`` that imports a dependency and binds
    what it provides); a capability probe whose ``try`` ends by setting a flag to ``True``
    that was ``False`` before it; and, unless ``allow_commented`` is off, a handler whose
    comment says why the error is ignored (``# still in use: ignore``), or a comment right
    above the ``try`` that says so (``# If rustc fails for any reason, ignore it``): the
    comment is the trace a reader needs.

    The fix (unsafe: it adds a log line, and the module's logger when it has none) logs the
    ignored error at debug level with its traceback, ``logger.debug("self.flush() failed;
    ignored", exc_info=True)``, and keeps what the handler did: the error is still
    ignored, but the log shows it. Narrowing the handler instead would let other errors
    escape; that is a decision for the author.
    """

    id = "RV203"
    slug = "swallowed-exception"
    principle = "handle-exceptions"
    severity = Severity.MEDIUM
    message = "The exception handler silently swallows the error."
    counterparts = {"bandit": "B110, B112", "ruff": "S110, S112", "eslint": "no-empty"}
    options = {"check_typed_exceptions": False, "broad_exceptions": BROAD,
               "allow_commented": True}
    tags = ("error-handling", "correctness")
    fixable = True
    VALID = [
        "try:\n    run()\nexcept Exception:\n    log.warning('run failed')\n",
        "try:\n    run()\nexcept KeyError:\n    pass\n",
        "for x in xs:\n    try:\n        run(x)\n    except (KeyError, IndexError):\n"
        "        continue\n",
        "try:\n    run()\nexcept Exception:\n    pass\n    fallback()\n",
        "try:\n    run()\nexcept Exception:\n    raise\n",
        # Returning a real value is a decision the caller sees.
        "def f():\n    try:\n        return run()\n    except Exception:\n        return False\n",
        "try:\n    run()\nexcept Exception:\n    fallback = True\n",
        "try:\n    import fast\nexcept ImportError:\n    pass\n",
        # Best-effort cleanup: nothing useful can be done with the error.
        "class W:\n    def __del__(self):\n        try:\n            self.detach()\n"
        "        except Exception:\n            pass\n",
        "try:\n    value.close()\nexcept Exception:\n    pass\n",
        "def _remove_tempdir(tmp):\n    try:\n        shutil.rmtree(tmp)\n    except Exception:\n"
        "        pass\n",
        "class Conn:\n    def close(self):\n        try:\n            self.sock.sendall(BYE)\n"
        "        except Exception:\n            pass\n",
        # An arbitrary object's __getattr__ may raise anything.
        "def probe(obj):\n    try:\n"
        "        if hasattr(obj, '__rich_repr__') and not isclass(obj):\n"
        "            r = obj.__rich_repr__()\n    except Exception:\n        pass\n",
        # A callback the function received: it is the caller's to isolate.
        "def safecall(func):\n    def wrapper(*args):\n        try:\n"
        "            return func(*args)\n        except Exception:\n            pass\n"
        "    return wrapper\n",
        # A capability probe: the flag is the answer, any failure means no.
        "def has_ipv6(host):\n    ok = False\n    try:\n        s = socket.socket(AF_INET6)\n"
        "        s.bind((host, 0))\n        ok = True\n    except Exception:\n        pass\n"
        "    return ok\n",
        "try:\n    import speedups\nexcept Exception:\n    pass\n",
        "BACKEND = 'python'\ntry:\n    try:\n        import gmpy2 as gmpy\n"
        "    except ImportError:\n        import gmpy\n    if gmpy.version() >= '2':\n"
        "        BACKEND = 'gmpy'\nexcept:\n    pass\n",
        # A comment right above the try that says why its errors are ignored.
        "def version():\n    # If the tool fails for any reason, leave the field out.\n    try:\n"
        "        out = run_tool()\n    except Exception:\n        pass\n",
        # The comment says why the error is ignored.
        "try:\n    os.remove(tmp)\n    log.info('removed')\nexcept Exception:\n"
        "    pass  # still in use - ignore\n",
    ]
    INVALID = [
        Invalid("try:\n    run()\nexcept:\n    pass\n", line=3),
        Invalid("try:\n    run()\nexcept Exception:\n    ...\n", line=3),
        Invalid("try:\n    run()\nexcept BaseException as exc:\n    'ignored'\n", line=3),
        Invalid(
            "while True:\n    try:\n        run()\n    except Exception:\n        continue\n",
            line=4,
        ),
        Invalid(
            "def f():\n    try:\n        run()\n    except (OSError, Exception):\n"
            "        return None\n",
            line=4,
        ),
        Invalid(
            "async def f():\n    try:\n        await run()\n    except Exception:\n"
            "        return\n",
            line=4,
        ),
        Invalid("try:\n    run()\nexcept* Exception:\n    pass\n", line=3),
        Invalid("try:\n    run()\nexcept ValueError:\n    pass\nexcept:\n    pass\n", line=5),
        Invalid(
            "try:\n    run()\nexcept KeyError:\n    pass\n",
            line=3,
            options={"check_typed_exceptions": True},
        ),
        # Closing something and then more work is not cleanup only.
        Invalid("try:\n    f.close()\n    publish()\nexcept Exception:\n    pass\n", line=4),
        Invalid(
            "try:\n    run()\nexcept Exception:\n    pass  # ignore\n",
            line=3,
            options={"allow_commented": False},
        ),
        # A comment above the try that says what it does, not why errors are ignored.
        Invalid(
            "# remove the variable\ntry:\n    del env[key]\nexcept Exception:\n    pass\n",
            line=4,
        ),
        # An import followed by other work is not only an optional import.
        Invalid(
            "try:\n    import plugin\n    plugin.setup()\nexcept Exception:\n    pass\n",
            line=4,
        ),
        # Setting a flag to True with no False before it is not a probe's answer.
        Invalid(
            "def f():\n    try:\n        run()\n        done = True\n    except Exception:\n"
            "        pass\n",
            line=5,
        ),
        # A tool's pragma is not an explanation.
        Invalid("try:\n    run()\nexcept Exception:  # pragma: no cover\n    pass\n", line=3),
        # The fix logs the error (the module's logger, added when there is none).
        Invalid(
            "import os\n\n\ndef unset(key):\n    try:\n        del os.environ[key]\n"
            "    except Exception:\n        pass\n",
            line=7,
            fixed="import os\nimport logging\nlogger = logging.getLogger(__name__)\n\n\n"
            "def unset(key):\n    try:\n        del os.environ[key]\n    except Exception:\n"
            "        logger.debug(\"del os.environ[key] failed; ignored\", exc_info=True)\n",
        ),
        Invalid(
            "import logging\nlog = logging.getLogger(__name__)\ndef drain(jobs):\n"
            "    for job in jobs:\n        try:\n            job.run()\n            job.close()\n"
            "        except Exception:\n            continue\n",
            line=8,
            fixed="import logging\nlog = logging.getLogger(__name__)\ndef drain(jobs):\n"
            "    for job in jobs:\n        try:\n            job.run()\n            job.close()\n"
            "        except Exception:\n"
            "            log.debug(\"ignoring an error in drain()\", exc_info=True)\n"
            "            continue\n",
        ),
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        handlers = ctx.nodes(ast.ExceptHandler)
        if not handlers:
            return
        typed = self.settings["check_typed_exceptions"]
        patterns: tuple[str, ...] = self.settings["broad_exceptions"]
        aliases: dict[str, ast.expr] | None = None
        for handler in handlers:
            assert isinstance(handler, ast.ExceptHandler)
            kind = swallow_kind(handler.body)
            if not kind:
                continue
            what = "everything" if handler.type is None else ctx.segment(handler.type)
            if handler.type is not None and not typed:
                if aliases is None:
                    aliases = module_aliases(ctx.tree)
                if not broad_parts(ctx, handler, patterns, aliases):
                    continue
            if best_effort_cleanup(ctx, handler) or protocol_probe(ctx, handler):
                continue
            if (must_not_raise(ctx, handler) or optional_import(ctx, handler)
                    or success_flag(ctx, handler)):
                continue
            if self.settings["allow_commented"] and (
                explained(ctx, handler) or says_why(ctx, handler)
            ):
                continue
            action = {"pass": "does nothing", "continue": "just continues",
                      "return": "just returns None"}[kind]
            yield ctx.report(
                self,
                handler,
                f"The handler for {what} {action}: the error vanishes silently;"
                " handle it, log it, or let it propagate.",
                fix=_log_fix(ctx, handler) if ctx.want_fixes else None,
            )


# The longest ``try`` body quoted in the fix's log message (else the function is named),
# and the longest log line the fix writes when a shorter message fits (black's width).
_QUOTED = 48
_WIDTH = 88


def _log_fix(ctx: PyContext, handler: ast.ExceptHandler) -> Fix | None:
    """Log the ignored error at debug level with its traceback, before what the handler
    does (a lone ``pass`` is replaced); None when the handler's statements share lines with
    other code or no logger can be set up before the handler."""
    lines = split_lines(ctx.source, keepends=True)
    body = handler.body
    if body[0].lineno <= handler.lineno:
        return None  # ``except Exception: pass`` on one line
    for stmt in body:
        end = stmt.end_lineno or stmt.lineno
        if lines[stmt.lineno - 1][: stmt.col_offset].strip() \
                or lines[end - 1][stmt.end_col_offset or 0:].strip():
            return None  # shares its line with code or a comment
    name, setup = _cst.logger_setup(ctx)
    if not name or (setup and setup[0].line > handler.lineno):
        return None
    first = body[0]
    indent = lines[first.lineno - 1][: first.col_offset]
    messages = _messages(ctx, handler)
    call = ""
    for message in messages:  # the first that keeps the line within _WIDTH
        call = f"{indent}{name}.debug({_quote(message)}, exc_info=True)\n"
        if len(call) <= _WIDTH + 1:
            break
    if len(body) == 1 and isinstance(first, ast.Pass):
        edit = TextEdit(first.lineno, 1, first.lineno + 1, 1, call)
    else:
        edit = TextEdit(first.lineno, 1, first.lineno, 1, call)
    return _cst.make_fix(f"Log the ignored error with {name}.debug(..., exc_info=True)",
                         *setup, edit, safe=False)


def _messages(ctx: PyContext, handler: ast.ExceptHandler) -> list[str]:
    """The log messages to choose from, most specific first: the call the ``try`` body
    makes when it is one short line (``import_module(entry) failed; ignored``), the
    function, a plain phrase."""
    out = []
    parent = ctx.parent(handler)
    body = getattr(parent, "body", [])
    if len(body) == 1 and body[0].lineno == (body[0].end_lineno or body[0].lineno):
        stmt = body[0]
        node: ast.AST = stmt
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.Return, ast.Expr)) \
                and isinstance(stmt.value, ast.Call):
            node = stmt.value  # what failed is the call, not the assignment
        code = ctx.segment(node).strip()
        if 0 < len(code) <= _QUOTED:
            out.append(f"{code} failed; ignored")
    fn = ctx.enclosing_function(handler)
    if fn is not None:
        out.append(f"ignoring an error in {fn.name}()")
    out.append("ignoring an error")
    return out


def _quote(text: str) -> str:
    """A string literal of ``text``, double-quoted where it can be."""
    if '"' not in text and "\\" not in text and "{" not in text:
        return f'"{text}"'
    return repr(text)
