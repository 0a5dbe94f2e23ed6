"""Facts from the repository's other files: functions that never return, defined in an
imported module, console scripts, set-up that a package's __init__ runs at import, and the
cache that must notice when those files change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import JsonRun, Repo, where

ENV = (
    "class Environment:\n"
    "    def handle_exception(self, source=None):\n"
    "        raise RuntimeError(source)\n"
)
RETURNS = (
    "class Environment:\n"
    "    def handle_exception(self, source=None):\n"
    "        return source\n"
)
TEMPLATE = (
    "from .environment import Environment\n\n\n"
    "class Template:\n"
    "    def render(self):\n"
    "        try:\n"
    "            return self.run()\n"
    "        except Exception:\n"
    "            return self.environment.handle_exception()\n"
)


def rv202(report: dict[str, object]) -> list[tuple[str, int, str]]:
    return [w for w in where(report) if w[2] == "RV202"]  # type: ignore[arg-type]


def write_package(repo: Repo) -> None:
    """pkg/ with template.py, whose handler ends in environment.py's method."""
    repo.write("pkg/__init__.py", "")
    repo.write("pkg/environment.py", ENV)
    repo.write("pkg/template.py", TEMPLATE)


def test_a_handler_ending_in_another_modules_noreturn_method_is_not_reported(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    write_package(repo)
    _, report, _ = run_json("--all", "--select", "RV202")
    assert rv202(report) == []
    # The same handler where the imported method returns: reported.
    repo.write("pkg/environment.py", RETURNS)
    _, report, _ = run_json("--all", "--select", "RV202", "--no-cache")
    assert rv202(report) == [("pkg/template.py", 8, "RV202")]


def test_the_cached_result_follows_a_change_of_the_imported_module(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    write_package(repo)
    _, report, _ = run_json("--all", "--select", "RV202")
    assert rv202(report) == []
    # Only the imported module changes; template.py's own cache entry is still valid.
    repo.write("pkg/environment.py", RETURNS)
    _, report, _ = run_json("--all", "--select", "RV202")
    assert rv202(report) == [("pkg/template.py", 8, "RV202")]
    repo.write("pkg/environment.py", ENV)
    _, report, _ = run_json("pkg/template.py", "--select", "RV202")
    assert rv202(report) == []


def test_a_module_outside_the_repository_is_not_read(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    repo.write("template.py", TEMPLATE.replace("from .environment", "from jinja2.environment"))
    _, report, _ = run_json("--all", "--select", "RV202")
    assert rv202(report) == [("template.py", 8, "RV202")]


TOOL = (
    "def start(argv=None):\n"
    "    _show(argv)\n"
    "    return 0\n\n\n"
    "def _show(argv):\n"
    "    print('usage: tool', argv)\n"
)


def rv501(report: dict[str, object]) -> list[tuple[str, int, str]]:
    return [w for w in where(report) if w[2] == "RV501"]  # type: ignore[arg-type]


def test_console_scripts_declared_in_pyproject_are_entry_points(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    repo.write("src/pkg/__init__.py", "")
    repo.write("src/pkg/run.py", TOOL)
    repo.write("pyproject.toml", '[project]\nname = "pkg"\n\n[project.scripts]\n'
               'tool = "pkg.run:start"\n')
    _, report, _ = run_json("--all", "--select", "RV501")
    assert rv501(report) == []
    # The script is no longer declared: the cached result of run.py must not stand.
    repo.write("pyproject.toml", '[project]\nname = "pkg"\n')
    _, report, _ = run_json("--all", "--select", "RV501")
    assert rv501(report) == [("src/pkg/run.py", 7, "RV501")]


def test_a_link_out_of_the_repository_is_not_read(
    repo: Repo, run_json: Callable[..., JsonRun], tmp_path: Path
) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text(ENV, encoding="utf-8")
    repo.write("pkg/__init__.py", "")
    (repo.path / "pkg" / "environment.py").symlink_to(outside)
    repo.write("pkg/template.py", TEMPLATE)
    _, report, _ = run_json("pkg/template.py", "--select", "RV202")
    assert rv202(report) == [("pkg/template.py", 8, "RV202")]


BACKENDS = (
    "INFO = {}\n\n\n"
    "def _configure():\n"
    "    INFO.update(load_plugins())\n"
    "    return dict(INFO)\n"
)


def rv103(report: dict[str, object]) -> list[tuple[str, int, str]]:
    return [w for w in where(report) if w[2] == "RV103"]  # type: ignore[arg-type]


def test_set_up_that_a_package_init_runs_at_import_is_not_module_state_mutation(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    repo.write("pkg/__init__.py", "from pkg import utils\nconfig = utils.backends._configure()\n")
    repo.write("pkg/utils/__init__.py", "from . import backends\n")
    repo.write("pkg/utils/backends.py", BACKENDS)
    _, report, _ = run_json("--all", "--select", "RV103")
    assert rv103(report) == []
    # The package's __init__ now calls it from a function, at run time: the cached result
    # of backends.py must not stand.
    repo.write("pkg/__init__.py", "from pkg import utils\n\n\ndef reload():\n"
               "    return utils.backends._configure()\n")
    _, report, _ = run_json("--all", "--select", "RV103")
    assert rv103(report) == [("pkg/utils/backends.py", 5, "RV103")]


# -- Go: the other files of the package ------------------------------------------------------
GO_QUERY = (
    "package store\n\nimport \"database/sql\"\n\n"
    "func find(db *sql.DB) {\n\tdb.Query(\"SELECT * FROM t WHERE kind = \" + kind)\n}\n"
)
GO_CONST = "package store\n\nconst kind = \"book\"\n"
GO_VAR_APPENDED = (
    "package store\n\nimport \"os\"\n\nvar query = \"SELECT * FROM t WHERE id = \"\n\n"
    "func init() {\n\tquery += os.Args[1]\n}\n"
)
GO_QUERY_VAR = (
    "package store\n\nimport \"database/sql\"\n\nfunc run(db *sql.DB) {\n\tdb.Query(query)\n}\n"
)


def rv603(report: dict[str, object]) -> list[tuple[str, int, str]]:
    return [w for w in where(report) if w[2] == "RV603"]  # type: ignore[arg-type]


def test_a_go_constant_of_another_file_of_the_package_is_a_constant(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    repo.write("store/find.go", GO_QUERY)
    repo.write("store/kinds.go", GO_CONST)
    _, report, _ = run_json("--all", "--select", "RV603")
    assert rv603(report) == []
    # Another package's file (a different folder) is not the package.
    repo.write("other/find.go", GO_QUERY)
    repo.write("other/sub/kinds.go", GO_CONST)
    _, report, _ = run_json("--all", "--select", "RV603")
    assert rv603(report) == [("other/find.go", 6, "RV603")]


def test_a_go_parameter_shadowing_a_package_constant_is_not_that_constant(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    repo.write("store/find.go", GO_QUERY.replace("db *sql.DB)", "db *sql.DB, kind string)"))
    repo.write("store/kinds.go", GO_CONST)
    _, report, _ = run_json("--all", "--select", "RV603")
    assert rv603(report) == [("store/find.go", 6, "RV603")]


def test_a_go_package_var_appended_to_in_another_file_is_reported(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    repo.write("store/run.go", GO_QUERY_VAR)
    repo.write("store/query.go", GO_VAR_APPENDED)
    _, report, _ = run_json("--all", "--select", "RV603")
    assert rv603(report) == [("store/run.go", 6, "RV603")]


def test_the_cached_go_result_follows_the_package_files(
    repo: Repo, run_json: Callable[..., JsonRun]
) -> None:
    repo.write("store/find.go", GO_QUERY)
    repo.write("store/kinds.go", GO_CONST)
    _, report, _ = run_json("--all", "--select", "RV603")
    assert rv603(report) == []
    # The constant becomes a variable that another file assigns: find.go is reviewed again.
    repo.write("store/kinds.go", "package store\n\nvar kind = \"book\"\n")
    repo.write("store/set.go", "package store\n\nfunc set(k string) {\n\tkind = k\n}\n")
    _, report, _ = run_json("store/find.go", "--select", "RV603")
    assert rv603(report) == [("store/find.go", 6, "RV603")]
    # A new file of the package alone (the listing changed) is noticed too.
    repo.write("store/kinds.go", GO_CONST)
    (repo.path / "store" / "set.go").unlink()
    _, report, _ = run_json("store/find.go", "--select", "RV603")
    assert rv603(report) == []
    repo.write("store/set.go", "package store\n\nfunc set(k string) {\n\tkind = k\n}\n")
    _, report, _ = run_json("store/find.go", "--select", "RV603")
    assert rv603(report) == [("store/find.go", 6, "RV603")]
