"""`reviewer fix --unsafe-fixes`: model fixes are applied only with the flag, and only valid.

The model is a local OpenAI-compatible stand-in (tests/model_fake.py) giving one fixed
answer: the embedded 135M model cannot be made to produce a validating fix on demand.
"""

from __future__ import annotations

from collections.abc import Callable

from conftest import Repo, RunResult
from model_fake import BROAD_FIX, serve_model

SOURCE = (
    "def load(path):\n"
    "    try:\n"
    "        return open(path).read()\n"
    "    except:\n"
    '        return ""\n'
)


def test_model_fix_applied_only_with_unsafe_fixes(
    repo: Repo, run_cli: Callable[..., RunResult]
) -> None:
    path = repo.write("mod.py", SOURCE)
    # Not narrowed (a model's narrowing is refused: reviewer.llm.refusals), but not the
    # rule's own fix either: the comment shows whose fix was applied.
    fix = BROAD_FIX
    with serve_model(fixed_code=fix) as model:
        server = ["--server-url", model.url, "--llm-timeout", "20", "--select", "RV201"]
        code, out, err = run_cli("fix", "mod.py", *server)
        assert path.read_text() == SOURCE  # without the flag: nothing from the model
        assert not model.prompts and code == 1

        code, out, err = run_cli("fix", "mod.py", "--diff", "--unsafe-fixes", *server)
        assert code == 1 and "+    " + fix.rstrip() in out, err
        assert path.read_text() == SOURCE  # --diff writes nothing

        code, out, err = run_cli("fix", "mod.py", "--unsafe-fixes", *server)
    assert code == 0, err
    assert "fixed 1 (RV201)" in out
    assert path.read_text() == SOURCE.replace("    except:\n", "    " + fix)
    assert "Traceback" not in err


def test_model_fix_that_does_not_validate_is_never_written(
    repo: Repo, run_cli: Callable[..., RunResult]
) -> None:
    path = repo.write("mod.py", SOURCE)
    with serve_model(fixed_code="except (:\n") as model:  # does not parse
        code, _out, err = run_cli("fix", "mod.py", "--unsafe-fixes", "--server-url", model.url,
                                 "--llm-timeout", "20", "--select", "RV201")
        assert model.prompts  # the model was asked
    # The model's fix never validated: the rule's own unsafe fix is applied instead.
    assert code == 0, err
    assert path.read_text() == SOURCE.replace("    except:\n", "    except Exception:\n")
    assert "Traceback" not in err
