"""RV201: bare ``except:``."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Fix, Severity, Span, TextEdit
from reviewer.languages.python import PyContext
from reviewer.rules._handlers import always_raises, never_returning
from reviewer.rules._project import ends_in_imported_noreturn
from reviewer.rules.base import Invalid, Rule


class BareExcept(Rule):
    """A bare ``except:`` catches every exception, including ``KeyboardInterrupt``.

    ``except:`` also catches ``SystemExit``, ``KeyboardInterrupt`` and ``GeneratorExit``:
    Ctrl-C stops working, ``sys.exit()`` is ignored, and every bug in the ``try`` block is
    treated like the failure the author had in mind. Name the exceptions the code can
    raise, or at least write ``except Exception:``.

    A handler that always ends in ``raise`` (clean up, then re-raise) or in a call that
    never returns (``sys.exit()``, or a function or method of the same module, or of a
    module of the repository that the file imports, annotated ``-> NoReturn`` or whose
    body always raises) is not flagged unless ``allow_reraise``
    is off: it cannot swallow anything.

    Fix (unsafe, like every change of what a handler catches): ``except:`` becomes
    ``except Exception:``, which lets ``KeyboardInterrupt`` and ``SystemExit`` through;
    what remains broad is then RV202's to report.
    """

    id = "RV201"
    slug = "bare-except"
    principle = "handle-exceptions"
    severity = Severity.MEDIUM
    message = "Bare except: also catches KeyboardInterrupt and SystemExit; name the exceptions."
    counterparts = {"ruff": "E722", "pylint": "bare-except"}
    options = {"allow_reraise": True}
    tags = ("error-handling", "correctness")
    fixable = True
    # ``except Exception:`` is the least the handler should say; a model may name why errors
    # are caught there (the validator refuses a narrowing it cannot prove).
    model_betters_fix = True
    # After the fix, ``except Exception:`` may be reported by RV202 in its place.
    fix_leaves = ("RV202", "RV203")
    VALID = [
        "try:\n    run()\nexcept ValueError:\n    recover()\n",
        "try:\n    run()\nexcept Exception:\n    recover()\n",
        "try:\n    run()\nexcept:\n    rollback()\n    raise\n",
        "try:\n    run()\nexcept:\n    raise RuntimeError('run failed')\n",
        "try:\n    run()\nfinally:\n    cleanup()\n",
        "def _abort(msg):\n    raise SystemExit(msg)\ntry:\n    run()\nexcept:\n"
        "    _abort('run failed')\n",
    ]
    INVALID = [
        Invalid("try:\n    run()\nexcept:  # best effort\n    pass\n", line=3,
                fixed="try:\n    run()\nexcept Exception:  # best effort\n    pass\n"),
        # The bare handler after typed ones.
        Invalid(
            "try:\n    run()\nexcept ValueError:\n    recover()\nexcept:\n    log('?')\n", line=5
        ),
        Invalid(
            "async def f():\n    for x in xs:\n        try:\n            await run(x)\n"
            "        except:\n            continue\n",
            line=5,
        ),
        # A re-raise on one path only still swallows on the other.
        Invalid(
            "try:\n    run()\nexcept:\n    if strict:\n        raise\n    recover()\n", line=3
        ),
        Invalid(
            "try:\n    run()\nexcept:\n    rollback()\n    raise\n",
            line=3,
            options={"allow_reraise": False},
        ),
    ]

    def check(self, ctx: PyContext) -> Iterator[Finding]:
        allow_reraise = self.settings["allow_reraise"]
        for handler in ctx.nodes(ast.ExceptHandler):
            assert isinstance(handler, ast.ExceptHandler)
            if handler.type is not None:
                continue
            if allow_reraise and (
                always_raises(handler.body, never_returning(ctx))
                or ends_in_imported_noreturn(ctx, handler.body)
            ):
                continue
            col = handler.col_offset + 1
            keyword = Span(handler.lineno, col, handler.lineno, col + len("except"))
            yield ctx.report(self, handler, fix=_fix(ctx, handler)).with_(span=keyword)


def _fix(ctx: PyContext, handler: ast.ExceptHandler) -> Fix | None:
    """``except:`` -> ``except Exception:`` (an insertion: the rest of the line is kept)."""
    line = ctx.lines[handler.lineno - 1].encode("utf-8")
    col = handler.col_offset
    if line[col : col + 6] != b"except" or not line[col + 6 :].lstrip().startswith(b":"):
        return None
    at = col + 7  # 1-based byte column just after "except"
    edit = TextEdit(handler.lineno, at, handler.lineno, at, " Exception")
    return Fix("Catch Exception instead of everything", (edit,), safe=False)
