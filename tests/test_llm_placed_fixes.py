"""Fixes the rule places from the model's words (RV401's docstrings), and the module outline
a module-level finding is shown with.

The answers are the kind Qwen2.5-Coder-1.5B gave on requests and flask (bench/llm_fixes.py):
a module docstring written after the imports, a comment instead of a docstring, the whole
function echoed around its docstring. The rule takes the text and puts it where it belongs;
the validator then judges the result like any model fix.
"""

from __future__ import annotations

import ast
import json
import textwrap
from collections.abc import Sequence
from typing import Any

import pytest

from reviewer.config import Config
from reviewer.engine import selected_rules
from reviewer.findings import Finding, apply_edits
from reviewer.languages.python import PYTHON
from reviewer.llm.backend import Completion, Message, estimate_tokens
from reviewer.llm.explain import Explainer, _Job
from reviewer.llm.prompts import PromptBuilder, find_target, module_outline
from reviewer.llm.validate import FileValidator
from reviewer.rules import all_rules

RV401 = all_rules()["RV401"]


def findings(source: str, path: str = "pkg/mod.py") -> list[Finding]:
    return [f for f in PYTHON.review(path, source, selected_rules(Config()))
            if f.rule_id == "RV401"]


def placed(source: str, answer_code: str, path: str = "pkg/mod.py") -> str | None:
    """The file after the rule placed the answer's docstring (None: no fix built), checked
    by the validator like any model fix."""
    (finding,) = findings(source, path)
    fix = RV401.fix_from_answer(source, finding, answer_code)
    if fix is None:
        return None
    assert fix.origin == "model" and not fix.safe
    why = FileValidator(path, source, selected_rules(Config())).check(finding, fix)
    assert why is None, why
    return apply_edits(source, fix.edits)


@pytest.mark.parametrize(("source", "answer", "expected"), [
    # written after the imports: it goes on top
    ("import sys\n\nVERSION = sys.version_info\n",
     'import sys\n\n"""Report the running interpreter\'s version_info."""\n',
     '"""Report the running interpreter\'s version_info."""\n\n'
     "import sys\n\nVERSION = sys.version_info\n"),
    # a comment in the answer becomes the docstring, below the comments heading the file
    ("#!/usr/bin/env python\n# Copyright A. Person\nTITLE = 'requests'\nVERSION = '2'\n",
     "# Copyright A. Person\n# title and version of the requests package\n",
     "#!/usr/bin/env python\n# Copyright A. Person\n"
     '"""Title and version of the requests package."""\n\n'
     "TITLE = 'requests'\nVERSION = '2'\n"),
    # requests/__version__.py: ascii art, a blank line, then the assignments (an insertion
    # next to a blank line that difflib could align either side of it)
    ("# .-. .-.\n# |(  |-\n\n__title__ = 'requests'\n__version__ = '2.34.2'\n",
     '"""Title and version of the requests distribution."""\n',
     "# .-. .-.\n# |(  |-\n\n"
     '"""Title and version of the requests distribution."""\n\n'
     "__title__ = 'requests'\n__version__ = '2.34.2'\n"),
], ids=["after-imports", "comment", "blank-after-comments"])
def test_a_module_docstring_goes_before_the_first_statement(
        source: str, answer: str, expected: str) -> None:
    assert placed(source, answer) == expected


def test_a_label_in_front_of_the_text_is_dropped() -> None:
    """rich/_emoji_replace.py: the model wrote "Module docstring: Replace emoji code ..."."""
    source = "import re\n\n\ndef _emoji_replace(text):\n    return re.sub(':x:', 'x', text)\n"
    got = placed(source, '"""Module docstring: replace emoji codes in text with emoji."""\n')
    assert got is not None
    assert got.startswith('"""Replace emoji codes in text with emoji."""\n\nimport re\n')


def test_a_function_docstring_goes_under_the_header_whatever_else_the_answer_changed() -> None:
    source = textwrap.dedent('''\
        """Paths."""


        @cached
        def join_url(base, path):
            # trailing slashes are the caller's problem
            return base + "/" + path
        ''')
    # The model echoed the function, renamed a variable and dropped the comment: only its
    # docstring is kept.
    answer = textwrap.dedent('''\
        def join_url(base, p):
            """Join base and path with a slash between them."""
            return base + "/" + p
        ''')
    got = placed(source, answer)
    assert got == source.replace(
        "def join_url(base, path):\n",
        'def join_url(base, path):\n    """Join base and path with a slash between them."""\n')


def test_a_long_docstring_is_wrapped_and_an_empty_one_replaced() -> None:
    source = '"""Shop."""\n\n\nclass Cart:\n    """"""\n\n    def __init__(self):\n' \
             "        self.items = []\n"
    words = ("The items a customer has put in the basket, with their prices, the quantities"
             " asked for, the discounts that apply to each of them and the taxes due on them.")
    got = placed(source, f'class Cart:\n    """{words}"""\n')
    assert got is not None
    doc = got.split("class Cart:\n", 1)[1].split("\n\n", 1)[0]
    assert doc.startswith('    """The items a customer') and doc.endswith('    """')
    assert all(len(line) <= 88 for line in doc.splitlines())
    assert '""""""' not in got and got.endswith("        self.items = []\n")


@pytest.mark.parametrize(("source", "answer"), [
    # the body shares the header's line: no line of its own for a docstring
    ('"""M."""\n\n\ndef area(w, h): return w * h\n',
     'def area(w, h):\n    """Area of w by h."""\n'),
    # no words at all
    ('"""M."""\n\n\ndef area(w, h):\n    return w * h\n',
     "def area(w, h):\n    return w * h\n"),
])
def test_no_fix_where_there_is_no_place_or_no_text(source: str, answer: str) -> None:
    assert placed(source, answer) is None


def test_a_stub_on_its_header_line_moves_under_the_docstring() -> None:
    """requests' ``_types.py``: ``def read(self, length: int = ..., /) -> _T_co: ...`` in a
    Protocol; the model's docstring had no line of its own to go to."""
    source = ('"""M."""\nfrom typing import Protocol\n\n\nclass Reader(Protocol):\n'
              '    """Reads."""\n\n    def read(self, length: int = ..., /) -> bytes: ...\n')
    answer = 'def read(self, length: int = ..., /) -> bytes:\n    """Read up to length bytes."""\n'
    assert placed(source, answer) == source.replace(
        "-> bytes: ...\n", '-> bytes:\n        """Read up to length bytes."""\n        ...\n')
    source = '"""M."""\n\n\nclass Failed(Exception): pass\n'
    (cls,) = findings(source)
    fix = RV401.fix_from_answer(source, cls, '"""The request to the reader failed."""')
    assert fix is not None and apply_edits(source, fix.edits).endswith(
        'class Failed(Exception):\n    """The request to the reader failed."""\n    pass\n')
    # A stub followed by a comment, or more than a stub: no place.
    for tail in ("def run(self): ...  # later\n", "def run(self): return 1\n"):
        code = '"""M."""\n\n\n' + tail
        (f,) = findings(code)
        assert RV401.fix_from_answer(code, f, '"""Run the job."""') is None, tail


def test_a_generic_docstring_placed_by_the_rule_is_still_refused() -> None:
    source = '"""M."""\n\n\ndef area(width, height):\n    return width * height\n'
    (finding,) = findings(source)
    fix = RV401.fix_from_answer(source, finding, '"""This function does something."""\n')
    assert fix is not None
    why = FileValidator("pkg/mod.py", source, selected_rules(Config())).check(finding, fix)
    assert why is not None and "generic" in why


def test_a_module_finding_is_shown_with_the_module_outline() -> None:
    source = textwrap.dedent('''\
        import os

        LIMIT = 10


        def read_config(path):
            """Read the settings file at path."""
            with open(path) as fh:
                return fh.read()


        class Store:
            def put(self, key):
                return key
        ''')
    (finding,) = [f for f in findings(source) if f.span.line == 1]
    target = find_target(source, finding)
    assert target.region.code == "import os\n"
    assert target.context is not None and target.context.kind == "outline"
    assert target.context.code == (
        "import os\nLIMIT = 10\ndef read_config(path):\n"
        '    """Read the settings file at path."""\n    ...\nclass Store:\n'
        '    def put(self, key):\n    ...\n')
    prompt = PromptBuilder(estimate_tokens).build(RV401, finding, source, target)
    asked = prompt.messages[-1]["content"]
    assert "It is the first line of this module" in asked and "def read_config(path):" in asked
    assert "It is part of this function" not in asked


def test_the_outline_shows_what_a_block_runs_a_table_holds_and_a_class_offers() -> None:
    source = textwrap.dedent('''\
        import sys

        if sys.version_info < (3, 10):
            sys.stderr.write("needs 3.10\\n")
            sys.exit(1)

        CODES = {
            "a": 1,
            "b": 2,
            "c": 3,
            "d": 4,
        }


        class Store:
            def _slot(self):
                return 0

            def __len__(self):
                return 0

            def put(self, key):
                """Keep key."""
                return key
        ''')
    outline = module_outline(ast.parse(source), source.splitlines())
    assert outline == (
        "import sys\nif sys.version_info < (3, 10):\n"
        '    sys.stderr.write("needs 3.10\\n")\n    sys.exit(1)\n'
        'CODES = {\n    "a": 1,\n    "b": 2,\n    ...\n'
        "class Store:\n    def __len__(self):\n    def put(self, key):\n"
        '        """Keep key."""\n    ...\n')


def test_a_long_outline_keeps_the_first_imports_and_every_definition() -> None:
    imports = "".join(f"import mod{i}\n" for i in range(50))
    source = imports + "\n\ndef last():\n    return 1\n"
    outline = module_outline(ast.parse(source), source.splitlines())
    assert outline.splitlines() == [
        *(f"import mod{i}" for i in range(8)), "...", "def last():", "    ..."]


class Answers:
    """A backend that answers with the given JSON objects in turn."""

    name = "fake"

    def __init__(self, *answers: dict[str, Any]) -> None:
        self.answers = [json.dumps(a) for a in answers]
        self.asked: list[Sequence[Message]] = []

    def identity(self) -> str:
        return "fake:answers"

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def complete(self, messages: Sequence[Message], **kw: Any) -> Completion:
        self.asked.append(messages)
        return Completion(self.answers[min(len(self.asked), len(self.answers)) - 1])

    def close(self) -> None:
        return None


def test_the_model_path_shows_the_placed_docstring_at_the_first_pass() -> None:
    source = "import json\n\n\ndef dump(obj):\n    return json.dumps(obj)\n"
    (finding,) = [f for f in findings(source) if f.span.line == 1]
    said = "The module has no docstring, so readers of json and dump must guess its purpose."
    backend = Answers({"explanation": said,
                       "fixed_code": 'import json\n"""Serialize objects to JSON text."""\n'})
    explainer = Explainer(backend, rules=selected_rules(Config()), style="full",  # type: ignore[arg-type]
                          fix_passes=2)
    out = explainer.explain_one(_Job(finding, RV401, source))
    assert out.model_fix is not None and len(backend.asked) == 1
    assert apply_edits(source, out.model_fix.edits) == (
        '"""Serialize objects to JSON text."""\n\n' + source)
    assert explainer.report.fix_outcomes == [("RV401", 0)]


def test_the_small_style_shows_the_function_only_for_rules_whose_answer_is_about_it() -> None:
    source = textwrap.dedent('''\
        """Units."""


        def to_metres(feet):
            ratio = 0.3048
            return feet * ratio
        ''')
    rules = all_rules()
    builder = PromptBuilder(estimate_tokens, style="small")
    (doc,) = [f for f in findings(source) if f.span.line == 4]
    asked = builder.build(RV401, doc, source, find_target(source, doc)).messages[-1]["content"]
    assert "It is part of this code:" in asked and "return feet * ratio" in asked
    (hint,) = [f for f in PYTHON.review("pkg/mod.py", source, selected_rules(Config()))
               if f.rule_id == "RV402"]
    rv402 = rules["RV402"]
    asked = builder.build(rv402, hint, source, find_target(source, hint)).messages[-1]["content"]
    assert "return feet * ratio" not in asked and "def to_metres(feet):" in asked


def test_a_docstring_copied_from_the_file_or_from_an_example_is_refused() -> None:
    """Seen on django/__init__.py (the module given setup()'s docstring) and on
    requests/__version__.py (given the ISO-date docstring of a fix_examples.toml entry)."""
    source = textwrap.dedent('''\
        VERSION = (5, 2)


        def setup(set_prefix=True):
            """Configure the settings (this happens as a side effect of accessing the
            first setting), configure logging and populate the app registry."""
            return set_prefix
        ''')
    (finding,) = [f for f in findings(source) if f.span.line == 1]
    fix = RV401.fix_from_answer(source, finding, '"""Configure the settings (this happens."""\n')
    assert fix is not None
    why = FileValidator("pkg/mod.py", source, selected_rules(Config())).check(finding, fix)
    assert why is not None and "copies the docstring of setup" in why

    example = '"""Split an ISO date such as 2024-05-01 into its parts."""'
    backend = Answers({"explanation": "VERSION and setup are public; the module says nothing"
                       " of what it holds.", "fixed_code": example + "\n"})
    explainer = Explainer(backend, rules=selected_rules(Config()), style="small",  # type: ignore[arg-type]
                          fix_passes=1)
    out = explainer.explain_one(_Job(finding, RV401, source))
    assert out.model_fix is None and len(backend.asked) == 2
    retry = backend.asked[-1][-1]["content"]
    assert "copies `" + example[:40] in retry and "from an example" in retry


def test_no_model_code_is_used_where_the_rule_cannot_place_the_docstring() -> None:
    source = '"""M."""\n\n\ndef area(w, h): return w * h\n'
    (finding,) = findings(source)
    backend = Answers({"explanation": "area is public and has no docstring for w and h.",
                       "fixed_code": 'def area(w, h):\n    """Area of w by h."""\n'})
    explainer = Explainer(backend, rules=selected_rules(Config()), style="full",  # type: ignore[arg-type]
                          fix_passes=2)
    out = explainer.explain_one(_Job(finding, RV401, source))
    assert out.model_fix is None and len(backend.asked) == 1


def test_an_answer_with_no_docstring_is_asked_again() -> None:
    """Seen on flask's app.py and blueprints.py: Qwen2.5-Coder-1.5B echoed the module's
    first lines with no docstring; without a second pass that was the end of it."""
    source = "import json\n\n\ndef dump(obj):\n    return json.dumps(obj)\n"
    (finding,) = [f for f in findings(source) if f.span.line == 1]
    said = "The module has no docstring, so readers of json and dump must guess its purpose."
    backend = Answers({"explanation": said, "fixed_code": "import json\n"},
                      {"explanation": said,
                       "fixed_code": '"""Serialize objects to JSON text."""\n\nimport json\n'})
    explainer = Explainer(backend, rules=selected_rules(Config()), style="small",  # type: ignore[arg-type]
                          fix_passes=1)
    out = explainer.explain_one(_Job(finding, RV401, source))
    assert out.model_fix is not None and len(backend.asked) == 2
    assert "fixed_code holds no docstring; write the module's docstring" in (
        backend.asked[-1][-1]["content"])
    assert explainer.report.fix_outcomes == [("RV401", 1)]
    # No pass left: no fix, and no third question.
    backend = Answers({"explanation": said, "fixed_code": "import json\n"})
    explainer = Explainer(backend, rules=selected_rules(Config()), style="small",  # type: ignore[arg-type]
                          fix_passes=0)
    assert explainer.explain_one(_Job(finding, RV401, source)).model_fix is None
    assert len(backend.asked) == 1


def test_the_small_style_shows_module_examples_with_their_outline() -> None:
    source = "import json\n\n\ndef dump(obj):\n    return json.dumps(obj)\n"
    (finding,) = [f for f in findings(source) if f.span.line == 1]
    builder = PromptBuilder(estimate_tokens, style="small")
    messages = builder.build(RV401, finding, source, find_target(source, finding)).messages
    shown = [m["content"] for m in messages[1:-1] if m["role"] == "user"]
    modules = [m for m in shown if "Missing module docstring" in m]
    assert modules and all("It is the first line of this module" in m for m in modules)
    assert all("It is the first line" not in m for m in shown if m not in modules)


def test_a_module_docstring_answer_must_open_with_quotes() -> None:
    from reviewer.llm.answer import schema_prefix

    class Schemas(Answers):
        schemas: list[Any] = []

        def complete(self, messages: Sequence[Message], **kw: Any) -> Completion:
            self.schemas.append(kw.get("json_schema"))
            return super().complete(messages, **kw)

    source = "import json\n\n\ndef dump(obj):\n    return json.dumps(obj)\n"
    said = "The module has no docstring, so readers of json and dump must guess its purpose."
    for line, prefix in ((1, "'''"), (4, "def dump(")):
        (finding,) = [f for f in findings(source) if f.span.line == line]
        backend = Schemas({"explanation": said, "fixed_code": "'''Dump json.'''"})
        Explainer(backend, rules=selected_rules(Config()), style="small",  # type: ignore[arg-type]
                  fix_passes=0).explain_one(_Job(finding, RV401, source))
        assert schema_prefix(backend.schemas[-1]) == prefix


def test_a_docstring_that_copies_words_of_an_example_is_refused() -> None:
    """Seen on requests' setup.py: the module example's 'Run the order queue with the
    command-line arguments: ...' became 'Run the setup script with ...'."""
    source = "import sys\n\nfrom setuptools import setup\n\nsetup()\n"
    (finding,) = findings(source)
    said = "The module has no docstring, so readers of sys and setup must guess what it builds."
    copied = "'''Run the setup script on the command-line arguments and exit with its status.'''"
    fixed = "'''Install the package with setuptools.'''"
    backend = Answers({"explanation": said, "fixed_code": copied},
                      {"explanation": said, "fixed_code": fixed})
    explainer = Explainer(backend, rules=selected_rules(Config()), style="small",  # type: ignore[arg-type]
                          fix_passes=1)
    out = explainer.explain_one(_Job(finding, RV401, source))
    retry = backend.asked[1][-1]["content"]
    assert "the fix copies `on the command line arguments" in retry, retry
    assert out.model_fix is not None
    assert "Install the package with setuptools" in out.model_fix.edits[0].text
