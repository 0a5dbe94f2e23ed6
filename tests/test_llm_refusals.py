"""Fixes that pass the re-review but are wrong, as SmolLM2-135M wrote them on the perf
corpora (issue 12), each refused with a reason the model can act on; the code is real
(click's ``_compat.isatty``, rich's console set-up), cut down to one function."""

from __future__ import annotations

from reviewer.config import Config
from reviewer.engine import review_source, selected_rules
from reviewer.findings import Finding, Fix, TextEdit
from reviewer.llm.refusals import (
    dropped_comments,
    generic_docstring,
    lost_default,
    narrowed_handler,
    string_annotation,
)
from reviewer.llm.validate import FileValidator

RULES = selected_rules(Config())

# rich/console.py, module level: fileno() of a missing or closed stream.
FILENO = '''"""Console."""
import sys

try:
    _STDIN_FILENO = sys.__stdin__.fileno()  # type: ignore[union-attr]
except Exception:
    _STDIN_FILENO = 0
'''


def finding(source: str, rule_id: str) -> Finding:
    found = review_source("m.py", source, {"python": RULES}, "python").findings
    return next(f for f in found if f.rule_id == rule_id)


def check(source: str, rule_id: str, line: int, last: int, text: str) -> str | None:
    fix = Fix("model", (TextEdit(line, 1, last + 1, 1, text),), safe=False, origin="model")
    return FileValidator("m.py", source, RULES).check(finding(source, rule_id), fix)


def test_narrowing_a_broad_handler_is_refused() -> None:
    # fileno() raises AttributeError when __stdin__ is None, ValueError when it is closed,
    # io.UnsupportedOperation (an OSError) when it has no descriptor: ValueError alone
    # lets the others escape.
    why = check(FILENO, "RV202", 6, 6, "except ValueError:\n")
    assert why is not None and "narrows `except Exception:` (line 6) to ValueError" in why
    assert "escape" in why
    two = FILENO.replace("except Exception:", "except (OSError, ValueError):")
    assert narrowed_handler(FILENO, two) is not None
    # A bare except: made `except Exception:` (RV201's fix) stays broad: not narrowing.
    bare = FILENO.replace("except Exception:", "except:")
    assert narrowed_handler(bare, FILENO) is None
    assert narrowed_handler(bare, bare.replace("except:", "except ValueError:")) is not None


def test_narrowing_to_what_the_body_alone_raises_is_allowed() -> None:
    source = "try:\n    raise ValueError('bad')\nexcept Exception:\n    pass\n"
    assert narrowed_handler(source, source.replace("Exception", "ValueError")) is None
    # ... but not when the handler uses what it caught, nor when a call may raise more.
    kept = source.replace("pass", "print(err)").replace("Exception:", "Exception as err:")
    assert narrowed_handler(kept, kept.replace("Exception", "ValueError")) is not None
    called = source.replace("raise ValueError('bad')", "check()\n    raise ValueError('bad')")
    assert narrowed_handler(called, called.replace("Exception", "ValueError")) is not None


# click/_compat.py's isatty(), with a comment, as RV402 and RV401 see it.
ISATTY = '''"""Compat."""
import typing as t


def isatty(stream):
    """Whether stream is a terminal (False when asking fails)."""
    try:
        return stream.isatty()
    except Exception:  # closed or detached streams raise
        return False


def term_len(x: str) -> int:
    # the visible length
    return len(strip_ansi(x))


def strip_ansi(value: str) -> str:
    """The value without ANSI escapes."""
    return value
'''


def test_dropping_a_comment_is_refused() -> None:
    # The RV402 fix that SmolLM2 wrote dropped the handler's comment with the hints.
    why = check(ISATTY, "RV402", 5, 10, (
        "def isatty(stream: t.IO[t.Any]) -> bool:\n"
        '    """Whether stream is a terminal (False when asking fails)."""\n'
        "    try:\n        return stream.isatty()\n    except Exception:\n"
        "        return False\n"
    ))
    assert why is not None and "drops the comment `# closed or detached streams raise`" in why
    assert dropped_comments(ISATTY, ISATTY.replace("    # the visible length\n", ""),
                            "RV401") is not None
    # A type comment turned into the annotation is what RV402 asks for.
    typed = "def f(x):\n    # type: (int) -> int\n    return x\n"
    assert dropped_comments(typed, "def f(x: int) -> int:\n    return x\n", "RV402") is None



def test_a_comment_moved_onto_a_line_of_code_is_refused() -> None:
    """Qwen2.5-Coder-1.5B on django's AppConfig.__init__: the comment under the def line
    ended up after the new annotations."""
    source = ("class AppConfig:\n    def __init__(self, app_name, app_module):\n"
              "        # Full Python path to the application e.g. 'django.contrib.admin'.\n"
              "        self.name = app_name\n        self.module = app_module\n")
    joined = source.replace("app_module):\n        #", "app_module: object): #")
    why = dropped_comments(source, joined, "RV402")
    assert why is not None and "onto a line of code" in why and "Full Python path" in why
    kept = source.replace("app_module):", "app_module: object):")
    assert dropped_comments(source, kept, "RV402") is None
    # A comment already beside code may stay there.
    beside = "x = 1  # one\n"
    assert dropped_comments(beside, "x: int = 1  # one\n", "RV402") is None


def test_a_module_docstring_about_something_else_is_refused() -> None:
    """Qwen2.5-Coder-1.5B on requests' __version__.py, rich's __main__.py and click's
    _compat.py: the library described instead of the module, and Python 2 made up."""
    from reviewer.llm.refusals import generic_docstrings

    version = "__title__ = 'requests'\n__version__ = '2.34.2'\n"
    said = '"""Requests is a Python HTTP library."""\n'
    why = generic_docstrings(version, said + version, "src/requests/__version__.py")
    assert why is not None and "describes Requests as a whole" in why
    # The package's own __init__ may describe the package.
    assert generic_docstrings(version, said + version, "src/requests/__init__.py") is None
    compat = "import sys\n\ndef get_binary_stdin():\n    return sys.stdin.buffer\n"
    py2 = '"""Compatibility for Python 3.x with Python 2.x."""\n'
    why = generic_docstrings(compat, py2 + compat, "src/click/_compat.py")
    assert why is not None and "a Python version this code never tells apart" in why
    layer = '"""Compatibility layer for Python 3.x."""\n'
    why = generic_docstrings(compat, layer + compat, "src/click/_compat.py")
    assert why is not None and "Python 3.x, a Python version" in why
    checked = "import sys\nOLD = sys.version_info < (3, 10)\n"
    said = '"""OLD: whether the Python version is 3.9 or older."""\n'
    assert generic_docstrings(checked, said + checked, "pkg/compat.py") is None
    assert generic_docstrings("PY2 = False\n" + compat, py2 + "PY2 = False\n" + compat,
                              "src/click/_compat.py") is None


def test_a_script_docstring_must_name_what_the_script_runs() -> None:
    """Qwen2.5-Coder-1.5B on requests' setup.py: the version check described, setup() left
    out. flask's __main__.py may name the module main() comes from."""
    from reviewer.llm.refusals import generic_docstrings

    setup = ('import sys\n\nif sys.version_info < (3, 10):\n'
             '    sys.stderr.write("Requests requires Python 3.10 or later.\\n")\n'
             '    sys.exit(1)\n\nfrom setuptools import setup\n\nsetup()\n')
    said = '"""Check the Python version and exit if it\'s too old."""\n'
    why = generic_docstrings(setup, said + setup, "requests/setup.py")
    assert why is not None and "leaves out what the script runs (setup())" in why
    for doc in ("Build and install requests with setuptools.", "Setup script for requests."):
        assert generic_docstrings(setup, f'"""{doc}"""\n' + setup, "requests/setup.py") is None
    main = "from .cli import main\n\nmain()\n"
    assert generic_docstrings(main, '"""Run the Flask CLI."""\n' + main,
                              "src/flask/__main__.py") is None
    # A module that defines functions is no script: its calls are not what it is for.
    lib = "import logging\n\ndef f() -> None:\n    pass\n\nlogging.basicConfig()\n"
    assert generic_docstrings(lib, '"""Helpers: f."""\n' + lib, "pkg/helpers.py") is None


def test_a_generic_docstring_is_refused() -> None:
    why = check(ISATTY, "RV401", 13, 13,
                'def term_len(x: str) -> int:\n    """This function does something."""\n')
    assert why is not None and "generic" in why and "term_len" in why
    ok = check(ISATTY, "RV401", 13, 13, (
        'def term_len(x: str) -> int:\n'
        '    """The length of x on a terminal: ANSI escapes take no room."""\n'
    ))
    assert ok is None
    import ast

    node = ast.parse(ISATTY).body[3]
    assert generic_docstring("Returns the value.", node)
    assert generic_docstring("Term len.", node)  # repeats its name, says nothing more
    assert not generic_docstring("Measure x without its escape codes.", node)
    assert not generic_docstring("Count the visible characters.", node)  # a real verb



def test_a_module_docstring_may_name_its_own_module_not_its_package() -> None:
    import ast

    main = ast.parse("from .cli import main\nmain()\n")
    # flask's __main__.py: the package is no subject of the module that runs its CLI.
    for doc in ("Run the Flask application.", "The Flask application."):
        assert generic_docstring(doc, main, "src/flask/__main__.py")
    assert not generic_docstring("Run the flask command line: cli's main.", main,
                                 "src/flask/__main__.py")
    assert generic_docstring("The module.", main, "src/flask/__main__.py")
    # A package's __init__ may name the package; any module, its own name.
    init = ast.parse("from .app import Flask\n")
    assert not generic_docstring("Flask, a micro web framework.", init, "src/flask/__init__.py")
    blue = ast.parse("X = 1\n")
    assert not generic_docstring("Routes grouped as blueprints.", blue, "src/flask/blueprints.py")
    assert generic_docstring("Routes grouped as blueprints.", blue, "src/flask/views.py")
    # Its path said again is no docstring.
    assert generic_docstring("Flask blueprints.", blue, "src/flask/blueprints.py")
    assert generic_docstring("The Flask package.", init, "src/flask/__init__.py")


def test_a_docstring_that_repeats_itself_is_refused() -> None:
    from reviewer.llm.refusals import generic_docstrings

    source = "import colorsys\n\n\nclass ColorBox:\n    pass\n"
    doc = ("Rich console and color system: the rich console and color system,"
           " re-exported.")
    why = generic_docstrings(source, f'"""{doc}"""\n' + source, "rich/__main__.py")
    assert why is not None and "repeats itself" in why


def test_a_typing_construct_in_a_string_is_refused() -> None:
    fixed = (
        'def isatty(stream: "t.IO[t.Any]") -> bool:\n'
        '    """Whether stream is a terminal (False when asking fails)."""\n'
        "    try:\n        return stream.isatty()\n"
        "    except Exception:  # closed or detached streams raise\n"
        "        return False\n"
    )
    why = check(ISATTY, "RV402", 5, 10, fixed)
    assert why is not None and "'t.IO[t.Any]' is a typing construct written as a string" in why
    # A quoted forward reference is fine; so is the construct written as code.
    assert string_annotation(ISATTY, ISATTY.replace("(stream)", '(stream: "Stream")')) is None
    assert check(ISATTY, "RV402", 5, 5, "def isatty(stream: t.IO[t.Any]) -> bool:\n") is None


def test_an_annotation_naming_an_undefined_name_is_refused() -> None:
    why = check(ISATTY, "RV402", 5, 5, "def isatty(stream: IO[Any]) -> bool:\n")
    assert why is not None and "not defined" in why and "IO" in why


# django/db/models/fields/__init__.py: a module-level list as a default (RV101).
CHOICES = '''"""Fields."""
BLANK_CHOICE_DASH = [("", "---------")]


class Field:
    """A field."""

    def get_choices(self, include_blank=True, blank_choice=BLANK_CHOICE_DASH):
        """The choices."""
        if include_blank:
            return blank_choice + self.choices
        return self.choices
'''


def test_a_default_turned_into_none_and_never_restored_is_refused() -> None:
    # Qwen2.5-Coder-1.5B's fix on django: the dash entry is lost for every caller.
    lost = ("    def get_choices(self, include_blank=True, blank_choice=None):\n"
            '        """The choices."""\n        if include_blank:\n'
            "            return blank_choice + self.choices\n        return self.choices\n")
    why = check(CHOICES, "RV101", 8, 12, lost)
    assert why is not None and "never falls back to BLANK_CHOICE_DASH" in why
    kept = ("    def get_choices(self, include_blank=True, blank_choice=None):\n"
            '        """The choices."""\n        if blank_choice is None:\n'
            "            blank_choice = list(BLANK_CHOICE_DASH)\n        if include_blank:\n"
            "            return blank_choice + self.choices\n        return self.choices\n")
    assert check(CHOICES, "RV101", 8, 12, kept) is None
    # An empty literal may come back as its constructor, and the reverse.
    for old, new in (("[]", "list()"), ("dict()", "{}"), ("{}", "{}")):
        before = f"def f(seen={old}):\n    return seen\n"
        after = f"def f(seen=None):\n    seen = {new} if seen is None else seen\n    return seen\n"
        assert lost_default(before, after) is None, (old, new)
    assert lost_default("def f(seen=[1]):\n    return seen\n",
                        "def f(seen=None):\n    seen = []\n    return seen\n") is not None


def test_a_docstring_naming_one_type_for_a_type_variable_is_refused() -> None:
    """requests' _types.py, two sessions running: "Read up to length bytes from the
    stream." for ``SupportsRead.read -> _T_co``, which requests reads str through too."""
    from reviewer.llm.refusals import generic_docstrings

    source = (
        "from typing import Protocol, TypeVar\n\n"
        '_T_co = TypeVar("_T_co", covariant=True)\n\n\n'
        "class SupportsRead(Protocol[_T_co]):\n"
        '    """Anything with a read() method."""\n\n'
        "    def read(self, length: int = ..., /) -> _T_co:\n"
        "        {doc}...\n"
    )
    plain = source.replace("{doc}", "")
    bytes_doc = source.replace("{doc}", '"""Read up to length bytes from the stream."""\n        ')
    why = generic_docstrings(plain, bytes_doc, "src/requests/_types.py")
    assert why is not None and "returns _T_co, a type variable" in why and "bytes" in why
    items = source.replace("{doc}", '"""Read up to length items: what the object gives."""\n'
                                    "        ")
    assert generic_docstrings(plain, items, "src/requests/_types.py") is None
    # A concrete return type may be named.
    concrete = bytes_doc.replace("-> _T_co:", "-> bytes:")
    assert generic_docstrings(plain.replace("-> _T_co:", "-> bytes:"), concrete,
                              "src/requests/_types.py") is None
