"""RV301 for JavaScript and TypeScript.

The rule and its docs: reviewer/rules/rv301_too_many_statements.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules._tsmeasure import over
from reviewer.rules.base import Implementation, Invalid, Rule, Valid

# The nodes that start a function of their own for ESLint's max-statements (its function
# stack): functions, arrows, methods, class static blocks (field initialisers are not).
_STACKED = frozenset({
    "function_declaration", "generator_function_declaration", "function_expression",
    "function", "generator_function", "arrow_function", "method_definition",
    "class_static_block",
})


class TooManyStatementsJS(Implementation):
    """Counted on the tree-sitter tree as reviewer/rules/_tsmeasure.py describes.

    With ``ignore_top_level_functions`` the functions outside every other function (and
    outside class static blocks) are counted apart, and left out when there is exactly
    one, as ESLint does; static blocks themselves are never reported.
    """

    rule_id = "RV301"
    languages = ("javascript", "typescript")
    VALID = [
        Valid('function f(a) {\n  const b = a + 1;\n  return b;\n}\n', path="example.js"),
        Valid('function f(a) {\n  const b = a + 1;\n  return b;\n}\n', path="example.ts"),
        # The module wrapper, the file's one top-level function, is left out.
        Valid("define(['dep'], function (dep) {\n  var a = 1;\n  var b = 2;\n});\n",
              path="example.js",
              options={"max_statements": 1, "ignore_top_level_functions": True}),
    ]
    INVALID = [
        Invalid(
            """\
            function f(a) {
              const b = a + 1;
              if (b) {
                a++;
              }
              return b;
            }
            """,
            line=1, path="example.js", options={'max_statements': 3},
        ),
        Invalid(
            """\
            function f(a) {
              const b = a + 1;
              if (b) {
                a++;
              }
              return b;
            }
            """,
            line=1, path="example.ts", options={'max_statements': 3},
        ),
        # Two top-level functions: both are measured.
        Invalid("function a() { one(); two(); }\nfunction b() { one(); }\n", line=1,
                path="example.js",
                options={"max_statements": 1, "ignore_top_level_functions": True}),
        # A function nested in the module wrapper is not top-level.
        Invalid("(function () {\n  setup();\n  return function () { one(); two(); };\n})();\n",
                line=3, path="example.js",
                options={"max_statements": 1, "ignore_top_level_functions": True}),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        skip: list[Any] = []
        if rule.settings["ignore_top_level_functions"]:
            top = [fn for fn in ctx.functions() if fn.type in _STACKED
                   and fn.type != "class_static_block"
                   and not any(a.type in _STACKED for a in ctx.ancestors(fn))]
            if len(top) == 1:
                skip = top
        return over(ctx, rule, "max_statements", "has {value} statements", "statements", skip)
