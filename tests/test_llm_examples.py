"""The small-model prompt style: line-level few-shot examples, the splice, the schema bounds.

No model here: what a small model is shown and which findings it is asked to fix. The real
embedded model producing validated fixes is tested in tests/test_demo.py.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from reviewer.config import Config
from reviewer.engine import selected_rules
from reviewer.findings import Finding
from reviewer.languages.python import PYTHON
from reviewer.llm import answer as ans
from reviewer.llm.backend import Completion, Message, embedded_model_path, estimate_tokens
from reviewer.llm.explain import Explainer, _Job, prompt_style
from reviewer.llm.prompts import (
    LineExample,
    PromptBuilder,
    example_pool,
    find_target,
    lead_code,
    line_examples,
    load_template,
    pick_examples,
    region_of_lines,
    splice_replacement,
    swap_quotes,
)
from reviewer.llm.validate import FileValidator, changed_signatures, lost_inputs, region_fix
from reviewer.rules import all_rules

SOURCE = '''\
"""Stock."""

import yaml


def load(path):
    """Read counts."""
    with open(path) as fh:
        data = yaml.load(fh)
    return data


def store(rows):
    """Store rows."""
    for row in rows:
        try:
            save(int(row))
        except:
            print("skipped")
'''


def one(rule_id: str, source: str = SOURCE) -> Finding:
    found = PYTHON.review("stock.py", source, selected_rules(Config()))
    return next(f for f in found if f.rule_id == rule_id)


# -- fix_examples.toml ---------------------------------------------------------------------
def test_every_pool_entry_is_a_fix_the_validator_accepts() -> None:
    """Each entry derives into a line-level example (the rule flags `code`, not `fixed`, and
    they differ only in the flagged lines), and splicing its replacement into `code` passes
    the same validation as a model's fix: parses, rule gone, nothing new, no name dropped."""
    pool, digest = example_pool()
    assert len(digest) == 12 and pool
    rules = all_rules()
    for rule_id, entries in pool.items():
        rule = rules[rule_id]
        derived = [ex for ex in line_examples(rule) if ex.location.startswith("example.py")]
        assert len(derived) >= len(entries), f"{rule_id}: an entry does not derive"
        for entry, ex in zip(entries, derived[: len(entries)], strict=True):
            code = str(entry["code"]).lstrip("\n")
            finding = one(rule_id, code)
            region = find_target(code, finding).region
            assert region.code == ex.code
            fix = region_fix(region, ex.fixed, code, rule_id)
            validator = FileValidator("stock.py", code, selected_rules(Config()))
            assert validator.check(finding, fix, region.code) is None, (rule_id, ex.fixed)
            assert json.loads(ex.answer())["fixed_code"] == ex.fixed.rstrip("\n")


def test_rules_fixed_examples_become_line_examples_too() -> None:
    """RV101's INVALID examples carry fixed= code: the flagged def line and its replacement."""
    ex = {e.code: e for e in line_examples(all_rules()["RV101"])}
    add = ex["def add(item, items=[]):\n"]  # after the fix_examples.toml entries
    assert add.fixed.startswith("def add(item, items=None):\n    if items is None:\n")
    # The example's own finding message (it names items), never the rule's rationale,
    # which would fit every finding word for word.
    assert add.explanation.rstrip(".") == add.message.rstrip(".") and "items" in add.explanation
    assert not add.explanation.startswith("Python evaluates default values once")


def test_splice_replacement() -> None:
    src = "def f():\n    try:\n        go()\n    except:\n        pass\n"
    fixed = src.replace("except:", "except OSError:")
    region = region_of_lines(src.splitlines(keepends=True), 4, 4, "lines")
    assert region.indent == "    " and region.code == "except:\n"
    assert splice_replacement(src, fixed, region) == "except OSError:\n"
    # Two lines for one, dedented by the region's indent.
    two = src.replace("    except:\n", "    except OSError:\n        log()\n    except:\n")
    assert splice_replacement(src, two, region) == "except OSError:\n    log()\nexcept:\n"
    # A change outside the region: no line-level example.
    assert splice_replacement(src, fixed.replace("go()", "run()"), region) is None
    # A replacement less indented than the region cannot be re-indented.
    assert splice_replacement(src, src.replace("    except:", "except:"), region) is None


def test_pick_examples_puts_the_most_similar_last() -> None:
    def ex(code: str, lead: str = "") -> LineExample:
        return LineExample("e.py:1", "m", code, code.upper(), "why", lead)

    pool = [ex("return json.loads(b)\n"), ex("data = yaml.load(f)\n"), ex("y = yaml.load(c)\n")]
    got = pick_examples(pool, "data = yaml.load(fh)\n", 2)
    assert [e.code for e in got] == ["y = yaml.load(c)\n", "data = yaml.load(f)\n"]
    assert pick_examples(pool, "z", 0) == []
    # The lines before the flagged code decide between otherwise equal examples.
    handlers = [ex("except:\n", "port = int(text)\n"), ex("except:\n", "data = f.read()\n")]
    last = pick_examples(handlers, "except:\n", 2, lead="n = int(row)\n")[-1]
    assert last.lead == "port = int(text)\n"


def test_lead_code_only_for_except_clauses() -> None:
    handler = one("RV201")
    assert lead_code(SOURCE, find_target(SOURCE, handler)) == (
        "for row in rows:\n    try:\n        save(int(row))\n"
    )
    assert lead_code(SOURCE, find_target(SOURCE, one("RV605"))) == ""


# -- the small prompt ----------------------------------------------------------------------
def test_small_prompt_shows_the_lines_and_line_level_examples() -> None:
    rule = all_rules()["RV201"]
    f = one("RV201")
    small = PromptBuilder(estimate_tokens, style="small")
    prompt = small.build(rule, f, SOURCE, find_target(SOURCE, f))
    system, *turns, last = prompt.messages
    assert system["content"].startswith("You fix Python code that breaks rule RV201")
    assert len(turns) == 6  # three examples, each a question and its answer
    assert all(json.loads(t["content"])["fixed_code"].startswith("except ")
               for t in turns[1::2])
    # The example whose try body calls int() is the last (closest to `save(int(row))`).
    # (Broad still: a model's narrowing is refused, reviewer.llm.refusals; it logs instead.)
    assert json.loads(turns[-1]["content"])["fixed_code"].startswith(
        "except Exception:\n    logger.warning('bad port")
    content = last["content"]
    assert "stock.py:18" in content and "save(int(row))" in content
    assert "Lines to fix:\n```python\nexcept:\n```" in content
    assert "def store" not in content  # no whole function in the small style
    assert prompt.region.code == "except:\n"
    full = PromptBuilder(estimate_tokens).build(rule, f, SOURCE, find_target(SOURCE, f))
    assert "It is part of this function" in full.messages[-1]["content"]
    assert full.template_id == "explain-fix@3" and prompt.template_id == "explain-fix-small@3"


def test_small_template_sections() -> None:
    t = load_template("explain_fix_small")
    assert {"system", "user", "lead", "retry"} <= set(t.sections)
    with pytest.raises(ValueError, match="style"):
        PromptBuilder(estimate_tokens, style="tiny")


# -- the answer schema ---------------------------------------------------------------------
def test_schema_bounds_and_explanation_only() -> None:
    assert ans.code_bound("x = 1\n") == 256
    assert ans.code_bound("x" * 300) == 1024
    assert ans.code_bound("x" * 600) is None
    bounded = ans.answer_schema("except", max_code=256)
    fixed = bounded["properties"]["fixed_code"]["anyOf"][0]
    assert fixed == {"type": "string", "pattern": "^except.{0,256}$", "maxLength": 262}
    assert ans.schema_prefix(bounded) == "except"
    assert ans.schema_prefix(ans.answer_schema("def f(")) == "def f("
    only = ans.answer_schema("except", fix=False)
    assert only["properties"]["fixed_code"] == {"type": "null"}
    assert ans.schema_prefix(only) is None


# -- which findings a small model is asked to fix -------------------------------------------
class Recorder:
    """A backend that answers every request with the same JSON and records the schemas."""

    name = "fake"

    def __init__(self, answer: dict[str, Any], model_path: Path | None = None) -> None:
        self.answer = json.dumps(answer)
        self.schemas: list[Any] = []
        if model_path is not None:
            self.model_path = model_path

    def identity(self) -> str:
        return "fake:recorder"

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def complete(self, messages: Sequence[Message], **kw: Any) -> Completion:
        self.schemas.append(kw.get("json_schema"))
        return Completion(self.answer)

    def close(self) -> None:
        return None


def test_prompt_style_follows_the_model_size(tmp_path: Path) -> None:
    embedded = embedded_model_path()
    assert embedded is not None
    assert prompt_style(Recorder({}, embedded)) == "small"  # type: ignore[arg-type]
    assert prompt_style(Recorder({})) == "full"  # type: ignore[arg-type]  # a server
    big = tmp_path / "big.gguf"
    with big.open("wb") as fh:  # sparse: 2 GB on paper (a 3B model at Q4)
        fh.truncate(2_000_000_000)
    assert prompt_style(Recorder({}, big)) == "full"  # type: ignore[arg-type]
    tuned = Recorder({}, embedded)
    tuned.lora_path = tmp_path / "adapter.gguf"  # type: ignore[attr-defined]
    assert prompt_style(tuned) == "full"  # type: ignore[arg-type]  # trained on full prompts


def test_small_style_asks_for_fixes_only_where_an_example_shows_the_edit() -> None:
    rules = all_rules()
    shell = textwrap.dedent('''\
        """Archive."""
        import subprocess


        def compress(path):
            """Compress path in place."""
            subprocess.run(f"gzip {path}", shell=True, check=True)
        ''')
    said = "With shell=True the shell parses the file name; pass a list without a shell."
    answer = {"explanation": said,
              "fixed_code": 'subprocess.run(["gzip", str(path)], check=True)'}
    backend = Recorder(answer)
    explainer = Explainer(backend, rules=selected_rules(Config()), style="small",  # type: ignore[arg-type]
                          fix_passes=0)
    out = explainer.explain_one(_Job(one("RV602", shell), rules["RV602"], shell))
    assert out.model_fix is not None and out.explanation == said
    schema = backend.schemas[-1]
    assert schema["properties"]["fixed_code"]["anyOf"][0]["pattern"].startswith("^subprocess")
    patched = "".join(e.text for e in out.model_fix.edits)
    assert patched == '    subprocess.run(["gzip", str(path)], check=True)\n'
    # RV501 (print) has its own fix (and no line-level example): an explanation only,
    # fixed_code must be null.
    out = explainer.explain_one(_Job(one("RV501"), rules["RV501"], SOURCE))
    assert backend.schemas[-1]["properties"]["fixed_code"] == {"type": "null"}
    assert out.model_fix is None and out.explanation
    # RV201's own fix is unsafe and a model may better it (Rule.model_betters_fix): asked.
    bare = one("RV201")
    assert bare.fix is not None and not bare.fix.safe
    out = explainer.explain_one(_Job(bare, rules["RV201"], SOURCE))
    assert backend.schemas[-1]["properties"]["fixed_code"]["anyOf"][0]["pattern"] == (
        "^except.{0,256}$")
    assert explainer.report.fixes_asked == 2
    # The full style asks for a fix everywhere a rule has no deterministic one; where it
    # has one (RV501: print -> a module logger, unsafe), the rule's fix is shown.
    full = Explainer(Recorder(answer), rules=selected_rules(Config()), style="full")  # type: ignore[arg-type]
    job = _Job(one("RV602", shell), rules["RV602"], shell)
    assert full.wants_fix(job, find_target(shell, job.finding))
    job = _Job(one("RV501"), rules["RV501"], SOURCE)
    assert job.finding.fix is not None and not job.finding.fix.safe
    assert not full.wants_fix(job, find_target(SOURCE, job.finding))
    job = _Job(bare, rules["RV201"], SOURCE)
    assert full.wants_fix(job, find_target(SOURCE, job.finding))


def test_rule_examples_without_a_pool_are_unchanged() -> None:
    """Rules with no line-level examples keep the rule's own few-shot turns in both styles."""
    rule = all_rules()["RV601"]
    src = textwrap.dedent('''\
        """M."""


        def run(expr: str) -> object:
            """Run."""
            return eval(expr)
    ''')
    f = one("RV601", src)
    small = PromptBuilder(estimate_tokens, style="small").build(rule, f, src,
                                                                find_target(src, f))
    full = PromptBuilder(estimate_tokens).build(rule, f, src, find_target(src, f))
    assert [m["content"] for m in small.messages[2:-1:2]] == [
        m["content"] for m in full.messages[2:-1:2]
    ]


# -- the validator keeps signatures --------------------------------------------------------
def test_a_fix_must_keep_how_functions_are_called() -> None:
    """Adding type hints is no licence to drop a default: callers of load(path) would break."""
    src = '"""M."""\n\n\ndef load(path, defaults={}):\n    """Load."""\n    return defaults\n'
    f = one("RV402", src)
    t = find_target(src, f)
    v = FileValidator("stock.py", src, selected_rules(Config()))
    dropped = region_fix(t.region, "def load(path: str, defaults: dict) -> dict:\n", src,
                         "RV402")
    assert v.check(f, dropped, t.region.code) == (
        "the fix changes how load() is called (its parameters or their defaults), which"
        " breaks its callers; keep the parameters and defaults"
    )
    kept = region_fix(t.region, "def load(path: str, defaults: dict = {}) -> dict:\n", src,
                      "RV402")
    assert v.check(f, kept, t.region.code) is None
    assert changed_signatures("def f(a, *, k=1):\n pass\n", "def f(a, *, k=2):\n pass\n") == []
    assert changed_signatures("def f(a, b):\n pass\n", "def f(b, a):\n pass\n") == ["f"]


def test_explanations_lose_repeated_clauses_and_a_cut_tail() -> None:
    said = ("A dict default is shared by all calls; default to None; it is shared by all"
            " calls; it is shared by all calls; it is sha")
    assert ans.tidy_explanation(said) == (
        "A dict default is shared by all calls; default to None; it is shared by all calls."
    )
    whole = "A bare except: catches Ctrl-C; int() fails with ValueError, so name that."
    assert ans.tidy_explanation(whole) == whole


def test_a_fix_must_keep_reading_its_inputs() -> None:
    """Turning the f-string into a constant silences RV603 but stops using `text`."""
    src = ('"""M."""\n\n\ndef search(conn: object, text: str) -> object:\n    """Find."""\n'
           '    return conn.execute(f"SELECT name FROM t WHERE name LIKE \'%{text}%\'")\n')
    f = one("RV603", src)
    t = find_target(src, f)
    v = FileValidator("stock.py", src, selected_rules(Config()))
    constant = region_fix(t.region, "return conn.execute('SELECT name FROM t WHERE name LIKE"
                          " %{text}%')\n", src, "RV603")
    assert v.check(f, constant, t.region.code) == (
        "the fix no longer uses text (a parameter of search()): it changes what the code"
        " does; keep using every input and change only what the rule asks"
    )
    bound = region_fix(t.region, "return conn.execute('SELECT name FROM t WHERE name LIKE ?',"
                       " (f'%{text}%',))\n", src, "RV603")
    assert v.check(f, bound, t.region.code) is None
    assert lost_inputs("def f(a, b):\n    return a + b\n", "def f(a, b):\n    return a\n") == [
        "b (a parameter of f())"
    ]


def test_quotes_are_swapped_for_the_small_model_and_back() -> None:
    code = ('assert n >= 0, f"negative count for {name}"\nx = "it\'s"\n'
            'y = """doc"""\nz = rb"raw" + ""\nw = f"{d[\'k\']}"\n')
    shown = swap_quotes(code)
    assert shown == ("assert n >= 0, f'negative count for {name}'\nx = \"it's\"\n"
                     "y = \"\"\"doc\"\"\"\nz = rb'raw' + ''\nw = f\"{d['k']}\"\n")
    assert swap_quotes(shown, '"') == code
    assert swap_quotes("call(f\"{x}\"\n") == "call(f'{x}'\n"  # cut code: what was read


def test_small_style_shows_single_quotes_and_answers_get_the_files_quotes() -> None:
    rules = all_rules()
    src = SOURCE.replace("yaml.load(fh)", 'yaml.load(fh) or {"n": 0}')
    # Without its safe deterministic fix, as for a rule that has none: the model is asked.
    f = one("RV605", src).with_(fix=None)
    small = PromptBuilder(estimate_tokens, style="small")
    prompt = small.build(rules["RV605"], f, src, find_target(src, f))
    assert "data = yaml.load(fh) or {'n': 0}" in prompt.messages[-1]["content"]
    answer = {"explanation": "Use safe_load.",
              "fixed_code": "data = yaml.safe_load(fh) or {'n': 0}"}
    explainer = Explainer(Recorder(answer), rules=selected_rules(Config()),  # type: ignore[arg-type]
                          style="small", fix_passes=0)
    out = explainer.explain_one(_Job(f, rules["RV605"], src))
    assert out.model_fix is not None
    assert out.model_fix.edits[0].text == '        data = yaml.safe_load(fh) or {"n": 0}\n'
