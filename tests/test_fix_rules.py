"""The rules' libcst fixes through `reviewer fix`: safe ones by default, unsafe ones with
--unsafe-fixes, each validated (parses, finding gone, nothing new, lines outside the edit
byte-identical). The expected fixed code of each rule is in its INVALID examples
(tests/test_rule_examples.py checks those)."""

from __future__ import annotations

from collections.abc import Callable

from conftest import Repo, RunResult

from reviewer.findings import Finding, Severity, TextEdit, apply_edits, lines_outside_kept
from reviewer.rules.base import Rule

LIBRARY = '''"""Storage."""
import sqlite3

import yaml

DB_PASSWORD = "hunter2"  # local only


def read(text: str) -> object:
    """Parse."""
    return yaml.load(text)  # trusted? no


def save(path: str):
    """Write."""
    print("saving", path)
    with open(path, "w") as fh:
        fh.write("x")


def find(cur: sqlite3.Cursor, uid: int) -> object:
    """Look up."""
    assert uid > 0, "uid"
    try:
        cur.execute(f"SELECT * FROM users WHERE id = {uid}")
    except:  # keep going
        return None
    return cur.fetchone()
'''


def test_safe_fixes_by_default_unsafe_ones_on_request(
    repo: Repo, run_cli: Callable[..., RunResult]
) -> None:
    path = repo.write("pkg/store.py", LIBRARY)
    select = ("--select", "RV201,RV402,RV501,RV603,RV605,RV606,RV607")
    code, out, err = run_cli("fix", "pkg/store.py", *select)
    assert (code, err) == (1, "")  # unsafe fixes left: findings remain
    text = path.read_text()
    # Safe: the default yaml loader and the missing return type.
    assert "return yaml.safe_load(text)  # trusted? no\n" in text
    assert "def save(path: str) -> None:\n" in text
    assert 'print("saving", path)' in text and "except:  # keep going" in text
    assert "2 fixed" in out
    # The rules' own unsafe fixes (no model: --backend none).
    code, out, err = run_cli("fix", "--unsafe-fixes", "--backend", "none", "pkg/store.py",
                             *select)
    assert err == "", err
    assert code == 0, out
    text = path.read_text()
    # The imports and the logger once, after the module's imports.
    assert text.startswith('"""Storage."""\nimport sqlite3\n\nimport yaml\nimport logging\n'
                           "import os\nlogger = logging.getLogger(__name__)\n\n"), text
    assert "DB_PASSWORD = os.environ['DB_PASSWORD']  # local only\n" in text
    assert "    logger.info('saving %s', path)\n" in text
    assert "    if not (uid > 0):\n        raise ValueError(\"uid\")\n" in text
    assert "cur.execute('SELECT * FROM users WHERE id = ?', (uid,))" in text
    assert "    except Exception:  # keep going\n" in text
    compile(text, "store.py", "exec")
    _, out, _ = run_cli("check", "pkg/store.py", *select, "--format", "json")
    assert '"RV605"' not in out and '"RV607"' not in out and '"RV603"' not in out


def test_fix_diff_shows_only_the_edited_lines(
    repo: Repo, run_cli: Callable[..., RunResult]
) -> None:
    repo.write("pkg/conf.py", "import yaml\n\n\ndef load(s):\n    # comment kept\n"
               "    return yaml.load(s)\n")
    code, out, _ = run_cli("fix", "--diff", "pkg/conf.py", "--select", "RV605")
    assert code == 1
    assert "-    return yaml.load(s)\n+    return yaml.safe_load(s)\n" in out
    changed = [ln for ln in out.splitlines()
               if ln.startswith(("-", "+")) and not ln.startswith(("---", "+++"))]
    assert len(changed) == 2  # one line out, one in: the comment and the rest are kept


def test_lines_outside_the_edits_must_be_kept() -> None:
    before = "a = 1\nb = 2\nc = 3\n"
    edit = TextEdit(2, 1, 3, 1, "b = 20\n")
    after = apply_edits(before, [edit])
    assert lines_outside_kept(before, after, [edit]) is None
    assert lines_outside_kept(before, after.replace("c = 3", "c = 4"), [edit]) == (
        "line 3 outside the edit changed")
    insert = TextEdit(1, 1, 1, 1, "import os\n")
    assert lines_outside_kept(before, apply_edits(before, [insert]), [insert]) is None
    assert apply_edits(before, [insert, insert]) == "import os\n" + before  # once


def test_swallowed_error_logged_and_bare_except_widened_in_one_run(
    repo: Repo, run_cli: Callable[..., RunResult]
) -> None:
    source = ('"""Env."""\nimport os\n\n\ndef unset(key: str) -> None:\n    """Drop."""\n'
              "    try:\n        del os.environ[key]\n    except:\n        pass\n")
    path = repo.write("pkg/env.py", source)
    select = ("--select", "RV201,RV203")
    code, out, err = run_cli("fix", "pkg/env.py", *select)
    assert code == 1 and path.read_text() == source  # both fixes are unsafe
    code, out, err = run_cli("fix", "--unsafe-fixes", "--backend", "none", "pkg/env.py",
                             *select)
    assert (code, err) == (0, ""), out
    assert path.read_text() == (
        '"""Env."""\nimport os\nimport logging\nlogger = logging.getLogger(__name__)\n\n\n'
        'def unset(key: str) -> None:\n    """Drop."""\n    try:\n        del os.environ[key]\n'
        "    except Exception:\n"
        '        logger.debug("del os.environ[key] failed; ignored", exc_info=True)\n'
    )
    code, out, _ = run_cli("check", "pkg/env.py", *select)
    assert code == 0, out


def one_rule(rule_id: str) -> tuple[Callable[[str], list[Finding]], type[Rule]]:
    """Review with only ``rule_id`` selected: (the findings of a source as ``m.py``, the rule's
    class, for its ``has_local_fix``)."""
    from reviewer.config import Config
    from reviewer.engine import review_source, selected_rules

    rules = {"python": selected_rules(Config(select=(rule_id,)))}
    return (lambda code: review_source("m.py", code, rules, "python").findings,
            type(rules["python"][0]))


def test_swallowing_handler_sharing_its_line_gets_no_fix() -> None:
    review, _ = one_rule("RV203")
    for code in ("try:\n    run()\nexcept Exception: pass\n",
                 "try:\n    run()\nexcept Exception:\n    pass  # pragma: no cover\n"):
        found = review(code)
        assert [f.rule_id for f in found] == ["RV203"] and found[0].fix is None, code


def test_a_platform_guard_assert_is_information_with_no_fix() -> None:
    review, rule = one_rule("RV607")
    code = ("import sys\n\nassert sys.platform == 'win32'\n"
            "assert sys.version_info[0] >= 3\n\n\ndef f(x):\n    assert x > 0\n")
    found = review(code)
    got = [(f.span.line, f.severity, f.fix is None) for f in found]
    assert got == [(3, Severity.INFO, True), (4, Severity.INFO, True),
                   (8, Severity.MEDIUM, False)]
    assert [rule.has_local_fix(f) for f in found] == [False, False, True]  # no model fix


def test_output_the_user_asked_for_gets_no_logger_fix() -> None:
    review, rule = one_rule("RV501")
    for code, fixed in (
        # django's post-migrate hook: printed under -v 2; logging at info would hide it.
        ("def create_permissions(verbosity):\n    if verbosity >= 2:\n"
         "        print('Adding permission')\n", False),
        ('def timer(subject):\n    """Print the elapsed time."""\n    print(subject)\n', False),
        ("def load(path):\n    print('loading', path)\n    return open(path)\n", True),
    ):
        (f,) = review(code)
        assert (f.fix is not None, rule.has_local_fix(f)) == (fixed, fixed), code


def test_a_module_level_default_is_copied_only_when_the_function_leaves_it_alone() -> None:
    review, _ = one_rule("RV101")
    head = "CHOICES = [1]\nTABLE = {}\nQUEUE = collections.deque()\n"
    for body, fixed in (
        # django's Field.get_choices: read only, so each call gets its own copy.
        ("def f(extra, blank=CHOICES):\n    return blank + extra\n",
         "def f(extra, blank=None):\n    if blank is None:\n        blank = list(CHOICES)\n"
         "    return blank + extra\n"),
        ("def f(t=TABLE):\n    '''Doc.'''\n    return t.get(1)\n",
         "def f(t=None):\n    '''Doc.'''\n    if t is None:\n        t = dict(TABLE)\n"
         "    return t.get(1)\n"),
        # Changed through the default (a registry), rebound, or no builtin copies it.
        ("def f(into=TABLE):\n    into['k'] = 1\n", None),
        ("def f(into=CHOICES):\n    into.append(1)\n", None),
        ("def f(into=CHOICES):\n    del into[0]\n", None),
        ("def f(into=CHOICES):\n    into += [2]\n    return into\n", None),
        ("def f(q=QUEUE):\n    return len(q)\n", None),
    ):
        code = "import collections\n" + head + body
        (f,) = review(code)
        if fixed is None:
            assert f.fix is None, body
        else:
            assert f.fix is not None and not f.fix.safe, body
            assert apply_edits(code, f.fix.edits) == "import collections\n" + head + fixed


def test_sql_that_splices_only_names_says_so_and_has_no_local_fix() -> None:
    """django's compiler, ``RawSQL("%s.%s" % (self.quote_name_unless_alias(table), col))``:
    a column name cannot be a placeholder, so the advice is quoting or an allow-list and the
    model is not asked for an edit of the line. A value beside the names keeps the old
    message (and its fix, where the driver is known)."""
    review, rule = one_rule("RV603")
    for code, names in (
        ("def ref(self, table, col):\n"
         "    return RawSQL('%s.%s' % (self.quote_name_unless_alias(table), col), [])\n", True),
        ("def top(cur, col):\n    cur.execute(f'SELECT id FROM t ORDER BY {col}')\n", True),
        ("def up(cur, col):\n    cur.execute(f'UPDATE t SET {col} = 1')\n", True),
        ("def get(cur, table, uid):\n"
         "    cur.execute(f'SELECT * FROM {table} WHERE id = {uid}')\n", False),
        ("def where(cur, clause):\n    cur.execute(f'SELECT * FROM t WHERE {clause}')\n", False),
    ):
        (f,) = review(code)
        assert ("names cannot be parameters" in f.message, rule.has_local_fix(f)) == (
            names, not names), code
        if names:
            assert f.fix is None
    sqlite = ("import sqlite3\n\ndef get(cur, uid):\n"
              "    cur.execute(f'SELECT * FROM users WHERE id = {uid}')\n")
    (f,) = review(sqlite)
    assert f.fix is not None and rule.has_local_fix(f)


def test_eval_given_objects_to_use_has_no_local_fix() -> None:
    """django's migration questioner, ``eval(code, {}, {"datetime": datetime, "timezone":
    timezone})`` of what the developer types at its prompt: ``ast.literal_eval`` would refuse
    ``timezone.now``, so the message offers no literal parser and the model is not asked for
    an edit of the line; a bare ``eval(expr)`` keeps its advice and a local fix."""
    review, rule = one_rule("RV601")
    asked = ("import datetime\nfrom django.utils import timezone\n\n"
             "def ask():\n    code = input()\n"
             "    return eval(code, {}, {'datetime': datetime, 'timezone': timezone})\n")
    (f,) = review(asked)
    assert "given datetime, timezone to use" in f.message and "literal_eval" not in f.message
    assert not rule.has_local_fix(f)
    for code in ("def calc(expr):\n    return eval(expr)\n",
                 "def calc(expr):\n    return eval(expr, {'__builtins__': {}}, {'x': 1})\n"):
        (f,) = review(code)
        assert "literal_eval" in f.message and rule.has_local_fix(f), code
