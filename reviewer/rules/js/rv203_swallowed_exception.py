"""RV203 for JavaScript and TypeScript.

The rule and its docs: reviewer/rules/rv203_swallowed_exception.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


def _empty(block: Any, allow_commented: bool) -> bool:
    """A ``{}`` with no statement (a comment counts as one when ``allow_commented``)."""
    if block is None or block.type != "statement_block":
        return False
    return not any(c.type != "comment" or allow_commented for c in block.named_children)


class SwallowedJS(Implementation):
    """An empty ``catch {}`` block, and ``promise.catch(() => {})`` with an empty handler.

    A comment inside the block (``/* ignored: cache miss */``) says the error is meant to be
    ignored and is not reported while ``allow_commented`` is on (ESLint's no-empty agrees).
    """

    rule_id = "RV203"
    languages = ("javascript", "typescript")
    VALID = [
        Valid("try {\n  run();\n} catch (err) {\n  log.warn(err);\n}\n", path="example.js"),
        Valid("try {\n  run();\n} catch {\n  // optional: the cache may be cold\n}\n",
              path="example.js"),
        Valid("load().catch((err: Error) => report(err));\n", path="example.ts"),
    ]
    INVALID = [
        Invalid("try {\n  run();\n} catch (err) {\n}\n", line=3, path="example.js"),
        Invalid("load().catch(() => {});\n", line=1, path="example.ts"),
        Invalid("try {\n  run();\n} catch {}\n", line=3, path="example.ts"),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        allow_commented: bool = rule.settings["allow_commented"]
        for clause in ctx.nodes("catch_clause"):
            if _empty(clause.child_by_field_name("body"), allow_commented):
                yield ctx.report(rule, clause, "empty catch block: the error is swallowed")
        for call in ctx.nodes("call_expression"):
            fn = call.child_by_field_name("function")
            if fn is None or fn.type != "member_expression":
                continue
            prop = fn.child_by_field_name("property")
            if prop is None or ctx.text(prop) != "catch":
                continue
            args = call.child_by_field_name("arguments")
            handler = args.named_children[0] if args is not None and args.named_children else None
            if handler is not None and handler.type in (
                    "arrow_function", "function_expression", "function") and _empty(
                    handler.child_by_field_name("body"), allow_commented):
                yield ctx.report(rule, call, ".catch() with an empty handler swallows the"
                                                 " rejection")
