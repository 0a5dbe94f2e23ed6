"""RV401 for Go.

The rule and its docs: reviewer/rules/rv401_missing_docstring.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from reviewer.findings import Finding
from reviewer.rules.base import Implementation, Invalid, Rule, Valid


class MissingGoDoc(Implementation):
    """An exported Go function, method or type without a doc comment that starts with its
    name (the Go convention: ``// Parse reads ...`` above ``func Parse``).

    Exported means capitalised; methods of unexported types and test files are left out.
    A comment that does not start with the name is reported too (revive's ``exported``).
    """

    rule_id = "RV401"
    languages = ("go",)
    VALID = [
        Valid("package p\n\n// Parse reads a config.\nfunc Parse() {}\n\nfunc helper() {}\n",
              path="example.go"),
        Valid("package p\n\n// A Point is a place.\ntype Point struct{}\n", path="example.go"),
    ]
    INVALID = [
        Invalid("package p\n\nfunc Parse() {}\n", line=3, path="example.go"),
        Invalid("package p\n\n// reads a config\nfunc Parse() {}\n", line=4, path="example.go"),
    ]

    def check(self, rule: Rule, ctx: Any) -> Iterator[Finding]:
        if ctx.is_test and not rule.settings["include_tests"]:
            return
        for node in ctx.root.named_children:
            if node.type in ("function_declaration", "method_declaration"):
                name_node = node.child_by_field_name("name")
                if node.type == "method_declaration" and not _exported_receiver(ctx, node):
                    continue
                targets = [(node, name_node)]
            elif node.type == "type_declaration":
                specs = [s for s in node.named_children if s.type in ("type_spec", "type_alias")]
                if len(specs) != 1:
                    continue  # a grouped type (...) block: documented per group
                targets = [(node, specs[0].child_by_field_name("name"))]
            else:
                continue
            for where, name_node in targets:
                if name_node is None:
                    continue
                name = ctx.text(name_node)
                if not name[:1].isupper():
                    continue
                doc = " ".join(ctx.text(c).lstrip("/ ").strip()
                               for c in ctx.comments_before(where))
                words = doc.split()
                if words[:1] == [name] or words[:2] in (["A", name], ["An", name],
                                                        ["The", name]):
                    continue
                why = "no doc comment" if not doc else f"a doc comment not starting with {name}"
                yield ctx.report(rule, name_node, f"exported '{name}' has {why}",
                                 symbol_of=where)


def _exported_receiver(ctx: Any, method: Any) -> bool:
    receiver = ctx.text(method.child_by_field_name("receiver")).strip("()")
    rtype = receiver.split()[-1].lstrip("*") if receiver.split() else ""
    return rtype[:1].isupper()
