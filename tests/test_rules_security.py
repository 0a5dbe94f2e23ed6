"""The security rules' data flow (reviewer/rules/_dataflow.py) and what examples cannot show:
severities, options read from the configuration, metadata for SARIF."""

from __future__ import annotations

import ast
import gc
import json
import textwrap

import pytest

from reviewer.findings import Finding, Severity
from reviewer.languages.python import PYTHON, PyContext
from reviewer.rules import all_rules
from reviewer.rules._dataflow import flow, is_sqlish
from reviewer.rules.rv602_shell_injection import ShellInjection
from reviewer.rules.rv603_sql_string_building import SqlStringBuilding
from reviewer.rules.rv606_hardcoded_secret import placeholder, secret_word
from reviewer.rules.rv607_assert_for_validation import AssertForValidation

SECURITY = ["RV601", "RV602", "RV603", "RV604", "RV605", "RV606", "RV607"]


def parse(code: str, path: str = "mod.py") -> PyContext:
    ctx = PYTHON.parse(path, textwrap.dedent(code))
    assert isinstance(ctx, PyContext)
    return ctx


def sink_args(code: str) -> list[tuple[str, bool]]:
    """(argument source, is_constant) for every ``sink(...)`` call in ``code``."""
    ctx = parse(code)
    df = flow(ctx)
    out = []
    for node in ctx.nodes(ast.Call):
        assert isinstance(node, ast.Call)
        if isinstance(node.func, ast.Name) and node.func.id == "sink":
            arg = node.args[0]
            out.append((ast.unparse(arg), df.is_constant(arg, frozenset({"shlex.quote"}))))
    return out


# -- constants ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("sink('ls -l')", True),
        ("sink(b'x' + b'y')", True),
        ("sink('a %s' % ('b',))", True),
        ("sink('{}-{}'.format('a', 1))", True),
        ("sink(f'{1 + 2}x')", True),
        ("sink(' '.join(['a', 'b']))", True),
        ("sink({'a': ['b']}['a'][0])", True),
        ("sink('a' if flag else 'b')", True),
        ("sink('?' * len(items))", True),
        ("sink(['%s'] * n)", True),
        ("sink(3 * text)", False),
        ("sink(2 * 3)", True),
        ("import os\nsink(os.path.join('a', 'b'))", True),
        ("sink(user)", False),
        ("sink(input())", False),
        ("sink(self.cmd)", False),
        ("sink('ls ' + path)", False),
        ("sink(f'ls {path}')", False),
        ("sink('ls %s' % path)", False),
        ("sink('{}'.format(path))", False),
        ("sink(lambda: 1)", False),
        ("sink([x for x in 'ab'])", True),  # every element is one of a constant's
        ("sink([x for x in names])", False),
        ("import shlex\nsink(' '.join(shlex.quote(a) for a in args))", True),
        ("sink({k: v for k, v in items})", False),
        ("sink('%(a)s' % {'a': 'x', 'b': user})", True),  # only the keys it names
        ("sink('%(a)s %(b)s' % {'a': 'x', 'b': user})", False),
        ("sink('%(a)s %s' % {'a': 'x', 'b': user})", False),
        ("sink('%(a)s' % {'a': 'x', **extra})", False),
        ("import shlex\nq = shlex.quote\nsink('ls ' + q(path))", True),
        ("import shlex\nq = shlex.quote\nq = str.upper\nsink('ls ' + q(path))", False),
        ("import shlex\nsink('ls ' + shlex.quote(path))", True),
        ("from shlex import quote as q\nsink('ls ' + q(path))", True),
        ("def str(x):\n    return x\nsink(str(1))", False),
    ],
)
def test_is_constant_expressions(code: str, expected: bool) -> None:
    [(_, got)] = sink_args(code)
    assert got is expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # a class constant through self, never assigned as an attribute in the file
        ("class C:\n    cmd = 'ls'\n    def f(self):\n        sink(self.cmd)\n", True),
        ("class C:\n    cmd = 'ls'\n    def f(self, c):\n        self.cmd = c\n"
         "    def g(self):\n        sink(self.cmd)\n", False),
        ("class C:\n    cmd = {'a': 'ls'}\n    def f(self, c):\n        self.cmd['a'] = c\n"
         "    def g(self):\n        sink(self.cmd['a'])\n", False),
        ("class C:\n    n = 1\n    def f(self):\n        self.n += 1\n        sink(self.n)\n",
         True),
        ("class C:\n    cmd = 'ls'\n    @staticmethod\n    def f(self):\n"
         "        sink(self.cmd)\n", False),
        ("class C:\n    cmd = 'ls'\n    def f(self, other):\n        sink(other.cmd)\n", False),
        # a private helper every call in the file gives a constant
        ("def _run(c):\n    sink(c)\n_run('ls')\n_run('pwd')\n", True),
        ("def _run(c):\n    sink(c)\n_run('ls')\n_run(user)\n", False),
        ("def _run(c='ls'):\n    sink(c)\n_run()\n", True),
        ("def _run(c):\n    sink(c)\n", False),  # never called here: unknown callers
        ("def _run(c):\n    sink(c)\n_run('ls')\nhooks = [_run]\n", False),
        ("def _run(c):\n    sink(c)\n_run(*args)\n", False),
        ("def run(c):\n    sink(c)\nrun('ls')\n", False),  # public: other modules call it
        ("class C:\n    def _run(self, c):\n        sink(c)\n"
         "    def f(self):\n        self._run('ls')\n        self._run(c='pwd')\n", True),
        ("def _run(c):\n    c = input()\n    sink(c)\n_run('ls')\n", False),
        # a function of the file whose every return is a sanitizer's result (or a
        # constant) is one; one that may return its argument is not
        ("import shlex\ndef _q(x):\n    return shlex.quote(x)\nsink('ls ' + _q(path))\n", True),
        ("import shlex\ndef _q(x):\n    y = x\n    return shlex.quote(y)\n"
         "sink('ls ' + _q(path))\n", True),
        ("import shlex\ndef _q(x):\n    if not x:\n        return ''\n    return shlex.quote(x)\n"
         "sink('ls ' + _q(path))\n", True),
        ("import shlex\ndef _q(x):\n    if x.isalnum():\n        return x\n"
         "    return shlex.quote(x)\nsink('ls ' + _q(path))\n", False),
        ("def _q(x):\n    return x\nsink('ls ' + _q(path))\n", False),
        # an item store puts its value in the container it names, wherever that is bound
        ("CMDS = {'a': 'ls'}\ndef f(x):\n    CMDS['b'] = x\n    sink(CMDS['a'])\n", False),
        ("CMDS = {'a': 'ls'}\ndef f():\n    CMDS['b'] = 'pwd'\n    sink(CMDS['a'])\n", True),
        ("from conf import CMDS\ndef f():\n    CMDS['b'] = 'pwd'\n    sink(CMDS['a'])\n", False),
        ("def f(user):\n    d = {}\n    d['k'] = user\n    sink(d['k'])\n", False),
        ("def _gen(x):\n    yield 'a'\n    return 'b'\nsink('ls ' + _gen(path))\n", False),
    ],
)
def test_constants_through_classes_helpers_and_sanitizer_wrappers(
    code: str, expected: bool
) -> None:
    [(_, got)] = sink_args(code)
    assert got is expected


def test_names_bound_only_to_constants_are_constant() -> None:
    code = """
        BASE = '/bin/ls'
        CMD = BASE + ' -l'
        def f():
            cmd = 'git'
            cmd += ' status'
            sink(cmd)
            sink(CMD)
        for tool in ('ls', 'pwd'):
            sink(tool)
        a, b = 'x', 'y'
        sink(b)
        if (n := 'walrus'):
            sink(n)
    """
    assert all(const for _, const in sink_args(code)), sink_args(code)


def test_any_non_constant_binding_taints_the_name_flow_insensitively() -> None:
    code = """
        cmd = 'ls'
        sink(cmd)
        cmd = input()
        def f(arg):
            x = arg
            sink(x)
        for line in open('f'):
            sink(line)
        with open('f') as fh:
            sink(fh)
        try:
            pass
        except Exception as exc:
            sink(exc)
        import os
        sink(os)
        sink(undefined_name)
    """
    assert not any(const for _, const in sink_args(code)), sink_args(code)


def test_global_and_nonlocal_move_bindings_to_the_scope_they_name() -> None:
    code = """
        CMD = 'ls'
        def configure(value):
            global CMD
            CMD = value
        sink(CMD)

        def outer():
            cmd = 'ls'
            def inner(value):
                nonlocal cmd
                cmd = value
            sink(cmd)

        def untouched():
            cmd = 'ls'
            def inner(value):
                cmd = value
            sink(cmd)
    """
    assert [c for _, c in sink_args(code)] == [False, False, True]


def test_class_bodies_are_not_visible_from_methods() -> None:
    code = """
        cmd = input()
        class C:
            cmd = 'ls'
            sink(cmd)
            def m(self):
                sink(cmd)
    """
    assert [c for _, c in sink_args(code)] == [True, False]


def test_comprehension_variables_and_lambdas_have_their_own_scope() -> None:
    code = """
        x = 'const'
        ys = [sink(x) for x in names]
        f = lambda x: sink(x)
        sink(x)
    """
    assert [c for _, c in sink_args(code)] == [False, False, True]


def test_self_referencing_bindings_terminate() -> None:
    code = """
        a = 'x'
        a = a + b
        b = a + input()
        sink(a)
        c = 'x'
        c = c + c
        sink(c)
    """
    assert [c for _, c in sink_args(code)] == [False, True]


# -- imports and truthiness ----------------------------------------------------------------
def test_qualified_names_follow_import_aliases() -> None:
    ctx = parse(
        """
        import os.path
        import subprocess as sp
        from pickle import loads as lp
        from . import sibling
        os.path.join('a')
        sp.Popen('x')
        lp(b'')
        sibling.run()
        unknown.call()
        (lambda: 1)()
        """
    )
    df = flow(ctx)
    names = [df.qualified_name(c.func) for c in ctx.nodes(ast.Call)]  # type: ignore[attr-defined]
    assert names == ["os.path.join", "subprocess.Popen", "pickle.loads", "..sibling.run",
                     "unknown.call", ""]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("True", True), ("'False'", True), ("1", True), ("[True]", True), ("{'a': 1}", True),
     ("False", False), ("0", False), ("None", False), ("[]", False), ("{}", False),
     ("not True", False), ("flag", None), ("use_shell", False), ("mixed", None)],
)
def test_truthiness(value: str, expected: bool | None) -> None:
    ctx = parse(
        f"""
        use_shell = False
        mixed = True
        mixed = 0
        def f(flag):
            sink({value})
        """
    )
    call = next(c for c in ctx.nodes(ast.Call) if isinstance(c, ast.Call))
    assert flow(ctx).truthiness(call.args[0]) is expected


def test_files_without_sinks_never_build_the_scope_table() -> None:
    ctx = parse("import json\n\ndef f(x):\n    return json.dumps({'a': x}) + str(x)\n")
    for rid in SECURITY:
        list(all_rules()[rid]().check(ctx))
    assert "scopes" not in vars(flow(ctx))


def test_the_flow_cache_does_not_keep_parsed_files_alive() -> None:
    from reviewer.rules import _dataflow

    before = len(_dataflow._CACHE)
    ctx = parse("def f(a):\n    x = a\n    eval(x)\n")
    assert len(findings_for(ctx, "RV601")) == 1
    assert len(_dataflow._CACHE) == before + 1
    del ctx
    gc.collect()
    assert len(_dataflow._CACHE) == before


# -- strings -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT * FROM users WHERE id = '%s'", True),
        ("select name from users where id = %s", True),
        ("  (SELECT a FROM b) UNION", True),
        ("INSERT INTO t VALUES (%s)", True),
        ("insert or replace into t values (?)", True),
        ("UPDATE users SET name = '%s'", True),
        ("DELETE FROM t WHERE k = %s", True),
        ("WITH cte AS (SELECT x FROM foo) SELECT x FROM cte", True),
        ("CREATE TABLE %s (id int)", True),
        (" WHERE id = %s", True),
        ("ORDER BY %s", True),
        ("Select from active instances", False),
        ("Please select a file from the list: %s", False),
        ("Delete from the cache as the first argument", False),
        ("Create index %s on %s on model %s", False),
        ("Selected %d items from %s", False),
        ("update available", False),
        ("", False),
    ],
)
def test_is_sqlish(text: str, expected: bool) -> None:
    assert is_sqlish(text) is expected


# -- rules: severities and options -----------------------------------------------------------
def findings_for(ctx: PyContext, rule_id: str, **options: object) -> list[Finding]:
    return list(all_rules()[rule_id](options or None).check(ctx))


def findings(rule_id: str, code: str, path: str = "mod.py", **options: object) -> list[Finding]:
    return findings_for(parse(code, path), rule_id, **options)


def test_shell_injection_severity_tracks_how_sure_the_rule_is() -> None:
    code = """
        import os, subprocess
        def f(cmd, runner):
            os.system(cmd)
            runner.run(cmd, shell=True)
            os.system('tar czf backup.tgz *')
            os.system('ls -l')
    """
    got = [(f.span.line, f.severity) for f in findings("RV602", code)]
    assert got == [(4, Severity.HIGH), (5, Severity.MEDIUM), (6, Severity.MEDIUM)]
    strict = [(f.span.line, f.severity) for f in findings("RV602", code, strict=True)]
    assert strict[-1] == (7, Severity.LOW)
    assert ShellInjection.security_severity == 9.8


def test_sql_building_is_high_inside_execute_and_medium_elsewhere() -> None:
    code = """
        def f(cur, uid):
            cur.execute("SELECT * FROM t WHERE id = '%s'" % uid)
            q = "SELECT * FROM t WHERE id = '" + uid + "'"
            return "SELECT * FROM t WHERE a = '%s' AND b = '%s'" % (uid, "x") + " LIMIT 1"
    """
    got = [(f.span.line, f.severity) for f in findings("RV603", code)]
    # One finding per statement: the outermost building expression is reported.
    assert got == [(3, Severity.HIGH), (4, Severity.MEDIUM), (5, Severity.MEDIUM)]
    assert SqlStringBuilding.security_severity == 8.8


def test_sql_run_by_a_cursor_of_unknown_type_is_related_to_the_run() -> None:
    # asyncpg's conn.cursor(query) with SQL-looking text: where it runs is a related
    # location and the finding is high; a psycopg named cursor stays quiet.
    code = """
        async def f(conn, table, job):
            query = 'SELECT * FROM {}'.format(table)
            rows = await conn.cursor(query)
            named = conn.cursor(f'export_{job}')
    """
    got = [(f.span.line, f.severity, [r.line for r in f.related])
           for f in findings("RV603", code)]
    assert got == [(3, Severity.HIGH, [4])]


def test_assert_narrowing_is_info_and_tests_are_exempt() -> None:
    code = (
        "def f(x, y):\n    assert isinstance(x, int)\n    assert y is not None\n"
        "    assert x > 0\n"
    )
    got = [(f.span.line, f.severity) for f in findings("RV607", code)]
    # The rule is unsure of type-narrowing asserts: info, below the default fail-on.
    assert got == [(2, Severity.INFO), (3, Severity.INFO), (4, Severity.MEDIUM)]
    assert findings("RV607", code, path="tests/unit/test_mod.py") == []
    assert findings("RV607", code, path="src/conftest.py") == []
    assert AssertForValidation.severity == Severity.MEDIUM


@pytest.mark.parametrize(
    ("name", "held"),
    [("password", "password"), ("DB_PASSWORD", "password"), ("email_pwd", "pwd"),
     ("passphrase", "passphrase"), ("SECRET_KEY", "secret_key"), ("apiKey", "api_key"),
     ("authToken", "token"), ("aws_secret_access_key", "access_key"),
     ("token_type", None), ("PASSWORD_RESET_TIMEOUT", None), ("password_field", None),
     ("REASON_TOKEN_MISSING", None), ("bypass", None), ("tokenizer", None), ("user", None)],
)
def test_secret_names(name: str, held: str | None) -> None:
    assert secret_word(name) == held


@pytest.mark.parametrize(
    ("value", "name", "word", "expected"),
    [("", "password", "password", True), ("****", "password", "password", True),
     ("${DB_PASSWORD}", "password", "password", True), ("<your token>", "token", "token", True),
     ("Password:", "label", "password", True), ("password", "PASSWORD", "password", True),
     ("%(password)s", "pw", "password", True), ("㊙", "secret", "secret", True),
     ("not in", "token", "token", True), ("changeme", "password", "password", False),
     ("root", "password", "password", False), ("9f8e7d6c5b", "token", "token", False)],
)
def test_secret_placeholders(value: str, name: str, word: str, expected: bool) -> None:
    assert placeholder(value, name, word) is expected


def test_strict_option_is_read_from_the_configuration(repo, run_cli) -> None:  # type: ignore[no-untyped-def]
    repo.write("app.py", "result = eval('1 + 1')\n")
    code, out, _ = run_cli("check", "--all", "--format", "json", "--select", "RV601")
    assert code == 0 and json.loads(out)["findings"] == []
    repo.write("pyproject.toml", "[tool.reviewer.rules.RV601]\nstrict = true\n")
    code, out, _ = run_cli("check", "--all", "--format", "json", "--select", "RV601")
    found = json.loads(out)["findings"]
    assert [(f["rule_id"], f["line"], f["severity"]) for f in found] == [("RV601", 1, "low")]


def test_security_metadata_for_code_scanning() -> None:
    for rid in SECURITY:
        cls = all_rules()[rid]
        assert cls.security_severity is not None and 0.1 <= cls.security_severity <= 10, rid
        assert "security" in cls.tags, rid
        assert any(t.startswith("external/cwe/cwe-") for t in cls.tags), rid
        assert "bandit" in cls.counterparts and "ruff" in cls.counterparts, rid
