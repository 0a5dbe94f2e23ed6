"""Style learning: the repository's conventions, stored in .reviewer/style.json."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Callable
from typing import Any

import pytest
from conftest import Repo

from reviewer.context.style import conclude, file_facts, merge, render_style

GOOGLE = textwrap.dedent('''\
    """Helpers."""
    from __future__ import annotations

    import logging

    logger = logging.getLogger(__name__)
    MAX_SIZE = 10


    class ConfigError(ValueError):
        """A bad setting."""


    def load(path: str, strict: bool = False) -> dict[str, str] | None:
        """Load the settings.

        Args:
            path: Where they are.

        Returns:
            The settings.
        """
        try:
            return read(path)
        except OSError as exc:
            logger.warning("cannot read %s", path)
            raise ConfigError(f"cannot read {path}") from exc


    async def fetch(url: str) -> bytes:
        """Fetch it.

        Raises:
            ConfigError: Always.
        """
        raise ConfigError(url)
''')
NUMPY = textwrap.dedent('''\
    def area(width, height):
        """Compute an area.

        Parameters
        ----------
        width : float
            The width.
        """
        print(width)
        return width * height
''')
REST = '''def area(width, height):\n    """Area.\n\n    :param width: The width.\n    """\n'''
PYTEST = textwrap.dedent('''\
    import pytest


    @pytest.fixture
    def data():
        return 1


    def test_load(data):
        assert data == 1
''')
UNITTEST = textwrap.dedent('''\
    import unittest


    class TestLoad(unittest.TestCase):
        def test_load(self):
            self.assertEqual(1, 1)
            self.assertTrue(True)
''')


def profile_of(files: dict[str, str]) -> dict[str, Any]:
    facts = [file_facts(path, text) for path, text in files.items()]
    return conclude(merge(f for f in facts if f is not None))


def test_google_style_typed_logging_project() -> None:
    p = profile_of({"pkg/config.py": GOOGLE, "pkg/other.py": GOOGLE.replace("load", "save"),
                    "tests/test_config.py": PYTEST})
    assert p["python_files"] == 3 and p["test_files"] == 1
    assert p["docstrings"]["style"] == "google"
    assert p["docstrings"]["counts"]["google"] == 4
    assert p["docstrings"]["public_coverage"] == 1.0
    assert p["naming"] == {"functions": "snake_case", "classes": "PascalCase",
                           "constants": "UPPER_CASE"}
    typing_ = p["typing"]
    assert typing_["annotated_share"] == 1.0
    assert (typing_["optional"], typing_["generics"]) == ("X | None", "list[int]")
    assert typing_["future_annotations_share"] == pytest.approx(2 / 3, abs=0.001)
    errors = p["errors"]
    assert errors["project_exceptions"] == ["ConfigError"]
    assert errors["most_raised"] == ["ConfigError"]
    assert errors["raise_from_share"] == 0.5
    log = p["logging"]
    assert (log["library"], log["logger_name"], log["get_logger_arg"]) == (
        ["logging"], "logger", "__name__")
    assert log["message_format"] == "%-style arguments"
    assert p["tests"]["framework"] == "pytest" and p["tests"]["fixtures"] == 1
    assert p["async"]["share"] == pytest.approx(2 / 6, abs=0.001)


@pytest.mark.parametrize(("code", "style"), [(NUMPY, "numpy"), (REST, "rest")])
def test_docstring_styles(code: str, style: str) -> None:
    p = profile_of({f"m{i}.py": code for i in range(3)})
    assert p["docstrings"]["style"] == style


def test_unittest_and_untyped_code() -> None:
    p = profile_of({"tests/test_a.py": UNITTEST, "lib.py": NUMPY})
    assert p["tests"]["framework"] == "unittest"
    assert p["typing"]["annotated_share"] == 0.0
    assert p["logging"]["prints_outside_tests"] == 1
    assert p["logging"]["library"] == ["none"]


def test_a_file_that_does_not_parse_is_skipped() -> None:
    assert file_facts("bad.py", "def (:\n") is None


def test_render_style_puts_what_the_rule_needs_first() -> None:
    p = profile_of({"pkg/config.py": GOOGLE, "tests/test_config.py": PYTEST})
    text = render_style(p, "RV401")
    lines = text.splitlines()
    assert lines[0] == "Conventions of this repository (follow them):"
    assert lines[1].startswith("- Docstrings: Google style (a summary line, then Args:")
    assert len(lines) == 5
    assert render_style(p, "RV501").splitlines()[1].startswith(
        "- Logging: `logger = logging.getLogger(__name__)`, messages with %-style arguments")
    assert render_style(p, "RV202").splitlines()[1] == (
        "- Errors: the project's own exceptions: ConfigError; most raised: ConfigError; "
        "re-raise with `raise ... from`.")
    assert render_style(None) == "" and render_style(profile_of({})) == ""


# -- the command ---------------------------------------------------------------------------
RunCli = Callable[..., tuple[int, str, str]]


def test_cli_style(repo: Repo, run_cli: RunCli) -> None:
    repo.write("pkg/config.py", GOOGLE)
    repo.write("tests/test_config.py", PYTEST)
    repo.write("examples/skip.py", NUMPY)
    repo.write("pyproject.toml", '[tool.reviewer]\nexclude = ["examples/"]\n')
    repo.commit_all()
    code, out, err = run_cli("style", "--no-refresh")
    assert code == 2 and "no style profile yet" in err
    code, out, err = run_cli("style")
    assert code == 0, err
    assert out.splitlines()[0] == "Learned from 2 Python files (1 test files)."
    assert "Docstrings: Google style" in out and "Tests: pytest with fixtures." in out
    stored = json.loads((repo.path / ".reviewer/style.json").read_text())
    assert stored["docstrings"]["style"] == "google"
    cache = json.loads((repo.path / ".reviewer/index/style-cache.json").read_text())
    assert sorted(cache["files"]) == ["pkg/config.py", "tests/test_config.py"]
    code, out, _ = run_cli("style", "--format", "json", "--no-refresh")
    assert json.loads(out) == stored
    code, out, _ = run_cli("style", "--format", "prompt")
    assert out.startswith("Conventions of this repository")


def test_refresh_reparses_only_changed_files(repo: Repo, run_cli: RunCli,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from reviewer.context import style

    repo.write("a.py", GOOGLE)
    repo.write("b.py", NUMPY)
    assert run_cli("style")[0] == 0
    parsed: list[str] = []
    real = style.file_facts

    def spy(path: str, text: str) -> Any:
        parsed.append(path)
        return real(path, text)

    monkeypatch.setattr(style, "file_facts", spy)
    repo.write("b.py", NUMPY + "\n\ndef more():\n    pass\n")
    assert run_cli("style")[0] == 0
    assert parsed == ["b.py"]
