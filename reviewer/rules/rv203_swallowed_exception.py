"""RV203: exception handler that silently swallows the error."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PyContext
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
    """

    id = "RV203"
    slug = "swallowed-exception"
    principle = "handle-exceptions"
    severity = Severity.MEDIUM
    message = "The exception handler silently swallows the error."
    counterparts = {"bandit": "B110, B112", "ruff": "S110, S112"}
    options = {"check_typed_exceptions": False, "broad_exceptions": BROAD}
    tags = ("error-handling", "correctness")
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
            action = {"pass": "does nothing", "continue": "just continues",
                      "return": "just returns None"}[kind]
            yield ctx.report(
                self,
                handler,
                f"The handler for {what} {action}: the error vanishes silently;"
                " handle it, log it, or let it propagate.",
            )
