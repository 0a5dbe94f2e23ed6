"""The sink catalogue (reviewer/sinks.toml) and the user's extra sinks in [tool.reviewer]:
what the rules' examples cannot show (the catalogue's shape, configuration, bad input)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import JsonRun, RunResult, where

from reviewer import config as config_mod
from reviewer.errors import ReviewerError
from reviewer.languages.python import PYTHON, PyContext
from reviewer.rules import all_rules
from reviewer.rules.rv601_eval_exec import EvalExec
from reviewer.rules.rv602_shell_injection import ShellInjection
from reviewer.rules.rv604_unsafe_deserialization import UnsafeDeserialization
from reviewer.sinks import KINDS, SinkError, builtin_sinks, catalogue, parse_sink


def parse(code: str) -> PyContext:
    ctx = PYTHON.parse("mod.py", textwrap.dedent(code))
    assert isinstance(ctx, PyContext)
    return ctx


def test_every_catalogued_sink_names_an_existing_rule_and_gives_advice() -> None:
    sinks = builtin_sinks()
    assert len(sinks) > 100
    rules = all_rules()
    for sink in sinks:
        assert KINDS[sink.kind] in rules
        assert sink.fix, f"{sink.call} has no fix advice"
        assert sink.arg >= 0 or sink.keyword
    keys = [(s.call, s.kind, s.keyword) for s in sinks]
    assert len(keys) == len(set(keys)), "a sink is listed twice"
    every_kind = {s.kind for s in sinks}
    assert every_kind == set(KINDS)


def test_the_issue_families_are_in_the_catalogue() -> None:
    calls = {s.call for s in builtin_sinks()}
    for name in (
        "os.popen", "os.spawnv", "os.execvp", "os.posix_spawn", "pty.spawn",
        "asyncio.create_subprocess_shell", "asyncio.create_subprocess_exec",
        "subprocess.getoutput", "commands.getstatusoutput", "*.exec_command", "invoke.run",
        "*.execute", "*.executemany", "*.executescript", "*.exec_driver_sql", "sqlalchemy.text",
        "*.raw", "*.extra", "django.db.models.expressions.RawSQL", "*.fetch",
        "eval", "exec", "compile", "*.runsource", "importlib.import_module", "__import__",
        "pickle.loads", "cPickle.load", "_pickle.loads", "dill.loads", "shelve.open",
        "marshal.loads", "jsonpickle.decode", "torch.load", "numpy.load", "pandas.read_pickle",
        "yaml.unsafe_load", "jwt.encode", "jwt.decode", "*.client", "itsdangerous.Signer",
        "hashids.Hashids",
    ):
        assert name in calls, name


def test_the_shipped_catalogue_file_is_package_data() -> None:
    root = Path(__file__).resolve().parent.parent
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert 'reviewer = ["py.typed", "sinks.toml"]' in text


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"kind": "shell"}, "needs call"),
        ({"call": "a.b", "kind": "shel"}, "has kind 'shel'"),
        ({"call": "a.b", "kind": "sql", "arg": "0"}, "'arg' must be int"),
        ({"call": "a.b", "kind": "sql", "arg": True}, "'arg' must be int"),
        ({"call": "a.b", "kind": "sql", "arg": -1}, "needs a keyword"),
        ({"call": "a.b", "kind": "sql", "severity": "fatal"}, "sink 'a.b'"),
        ({"call": "a.b", "kind": "sql", "colour": "red"}, "unknown sink field 'colour'"),
        ("a.b", "must be a table"),
    ],
)
def test_a_malformed_sink_is_a_named_error(entry: object, message: str) -> None:
    with pytest.raises(SinkError, match=message):
        parse_sink(entry, "here")


def test_extra_sinks_reach_the_rules_as_their_option() -> None:
    cfg = config_mod.from_mapping(
        {
            "extra-sinks": [
                {"call": "mylib.sh", "kind": "shell"},
                {"call": "*.blob_load", "kind": "deserialization"},
            ],
            "rule-options": {"RV602": {"strict": True}},
        }
    )
    assert len(cfg.extra_sinks) == 2
    assert cfg.rule_options["RV602"]["strict"] is True
    (encoded,) = cfg.rule_options["RV602"]["extra_sinks"]
    assert '"mylib.sh"' in encoded
    assert len(cfg.rule_options["RV604"]["extra_sinks"]) == 1
    rule = ShellInjection(cfg.rule_options["RV602"])
    ctx = parse("from mylib import sh\n\ndef f(x):\n    sh('ls ' + x)\n    sh('ls')\n")
    assert [f.span.line for f in rule.check(ctx)] == [4, 5]  # strict: the constant one too
    loader = UnsafeDeserialization(cfg.rule_options["RV604"])
    found = loader.check(parse("def f(s, b):\n    return s.blob_load(b)\n"))
    assert [f.span.line for f in found] == [2]


def test_without_extra_sinks_a_wrapper_is_unknown() -> None:
    ctx = parse("from mylib import sh\n\ndef f(x):\n    sh('ls ' + x)\n")
    assert list(ShellInjection().check(ctx)) == []
    assert "mylib.sh" not in catalogue(frozenset({"shell"})).by_name


def test_a_bad_extra_sink_in_the_config_is_an_error() -> None:
    with pytest.raises(ReviewerError, match=r"extra-sinks entry 2: sink 'x.y' has kind 'bad'"):
        config_mod.from_mapping(
            {"extra-sinks": [{"call": "a.b", "kind": "sql"}, {"call": "x.y", "kind": "bad"}]}
        )
    with pytest.raises(ReviewerError, match="must be an array of tables"):
        config_mod.from_mapping({"extra-sinks": "mylib.sh"})


def test_extra_sinks_from_pyproject_end_to_end(
    nogit: Path, run_json: Callable[..., JsonRun], run_cli: Callable[..., RunResult]
) -> None:
    (nogit / "app.py").write_text(
        "from mylib.db import raw_query\n\n\ndef find(name):\n"
        "    return raw_query(f\"SELECT * FROM users WHERE name = '{name}'\")\n\n\n"
        "def count():\n    return raw_query('SELECT count(*) FROM users')\n"
    )
    (nogit / "pyproject.toml").write_text(
        "[tool.reviewer]\nselect = ['RV603']\n\n[[tool.reviewer.extra-sinks]]\n"
        "call = 'mylib.db.raw_query'\nkind = 'sql'\nkeyword = 'sql'\n"
    )
    code, report, _ = run_json("--no-cache", "app.py")
    assert code == 1 and where(report) == [("app.py", 5, "RV603")]
    (nogit / "pyproject.toml").write_text(
        "[tool.reviewer]\n[[tool.reviewer.extra-sinks]]\ncall = 'mylib.db.raw_query'\n"
        "kind = 'sql'\narg = 'first'\n"
    )
    code, out, err = run_cli("check", "--no-cache", "app.py")
    assert code == 2 and out == ""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert lines == [
        "reviewer: error: [tool.reviewer] extra-sinks entry 1: sink field 'arg' must be int,"
        " got 'first'"
    ]


def test_exec_of_compile_is_one_finding_on_exec() -> None:
    ctx = parse("def run(src, ns):\n    exec(compile(src, '<input>', 'exec'), ns)\n")
    (finding,) = EvalExec().check(ctx)
    assert finding.message.startswith("exec()") and finding.span.col == 5
    (alone,) = EvalExec().check(parse("def f(src):\n    return compile(src, '<s>', 'exec')\n"))
    assert alone.message.startswith("compile()")


def test_the_parsed_catalogue_is_kept_beside_the_bytecode_and_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sinks.toml is parsed once per version of the file; a damaged or unwritable cache
    only costs the parse."""
    import reviewer.sinks as sinks_mod

    pkg = tmp_path / "pkg"
    pkg.mkdir()
    toml = pkg / "sinks.toml"
    toml.write_text(Path(sinks_mod.__file__).with_name("sinks.toml").read_text("utf-8"))
    monkeypatch.setattr(sinks_mod, "__file__", str(pkg / "sinks.py"))
    first = sinks_mod._builtin_entries()
    cached = list((pkg / "__pycache__").glob("sinks.*.marshal"))
    assert len(cached) == 1 and first
    cached[0].write_bytes(b"\x00not marshal")
    assert sinks_mod._builtin_entries() == first  # damaged: parsed again, and rewritten
    assert sinks_mod._builtin_entries() == first
    toml.write_text('[[sink]]\ncall = "mod.run"\nkind = "shell"\narg = 0\nfix = "x"\n')
    changed = sinks_mod._builtin_entries()
    assert changed == [{"call": "mod.run", "kind": "shell", "arg": 0, "fix": "x"}]
    assert len(list((pkg / "__pycache__").glob("sinks.*.marshal"))) == 1  # the old one gone
    (pkg / "__pycache__").chmod(0o500)
    try:
        toml.write_text(toml.read_text() + "# edited\n")
        assert sinks_mod._builtin_entries() == changed
    finally:
        (pkg / "__pycache__").chmod(0o700)
