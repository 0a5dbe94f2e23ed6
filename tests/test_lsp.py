"""`reviewer lsp` end to end: a pytest-lsp client drives the real server over stdio.

Each test starts `python -m reviewer lsp` in a temporary git repository, opens buffers,
edits them and asserts what the server sends back (diagnostics, code actions, hover,
messages). The buffers' text is never written to disk unless the test says so.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygls", reason="the lsp extra (pygls) is not installed")
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from reviewer.findings import TextEdit as EngineEdit
from reviewer.findings import apply_edits

BAD = "def f(x=[]):\n    return x\n"
QUIET = '[tool.reviewer]\nignore = ["RV401", "RV402"]\n'


def git_repo(root: Path, pyproject: str = QUIET) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "pyproject.toml").write_text(pyproject)
    return root


async def until(check: Callable[[], Any], timeout: float = 15.0) -> Any:
    """Poll ``check`` until it returns something true (or fail after ``timeout``)."""
    end = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for the server (last: {got!r})")
        await asyncio.sleep(0.02)


Scenario = Callable[[LanguageClient], Awaitable[None]]


def run(root: Path, scenario: Scenario, *, pull: bool = False, watch: bool = False,
        options: dict[str, Any] | None = None, folders: list[Path] | None = None,
        timeout: float = 60.0, progress: bool = False) -> None:
    """Start the server, initialise it for ``folders`` (default: ``root``), play
    ``scenario`` and shut down cleanly (a crashed server fails the test)."""

    async def main() -> None:
        config = ClientServerConfig(server_command=[sys.executable, "-m", "reviewer", "lsp"])
        client = await config.start()
        caps = types.ClientCapabilities(
            text_document=types.TextDocumentClientCapabilities(
                diagnostic=types.DiagnosticClientCapabilities() if pull else None),
            workspace=types.WorkspaceClientCapabilities(
                did_change_watched_files=types.DidChangeWatchedFilesClientCapabilities(
                    dynamic_registration=True) if watch else None,
                diagnostics=types.DiagnosticWorkspaceClientCapabilities(refresh_support=True)
                if pull else None),
            window=types.WindowClientCapabilities(work_done_progress=progress),
        )
        try:
            await client.initialize_session(types.InitializeParams(
                capabilities=caps, initialization_options=options,
                workspace_folders=[types.WorkspaceFolder(uri=f.as_uri(), name=f.name)
                                   for f in (folders or [root])]))
            await asyncio.wait_for(scenario(client), timeout)
            assert client.error is None
            await asyncio.wait_for(client.shutdown_session(), 20)
        except BaseException:
            server = client._server  # a failed scenario: do not wait for a clean exit
            if server is not None and server.returncode is None:
                server.kill()
            raise
        finally:
            await client.stop()

    asyncio.run(main())


def open_doc(client: LanguageClient, path: Path, text: str, language: str = "python") -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id=language, version=1,
                                             text=text)))
    return uri


def change(client: LanguageClient, uri: str, version: int, text: str) -> None:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


def codes(client: LanguageClient, uri: str) -> list[str]:
    return [str(d.code) for d in client.diagnostics.get(uri, [])]


def apply(text: str, action: types.CodeAction) -> str:
    """Apply a code action's workspace edit to ``text`` (as an editor would)."""
    assert action.edit is not None and action.edit.document_changes is not None
    edits = []
    for doc_edit in action.edit.document_changes:
        assert isinstance(doc_edit, types.TextDocumentEdit)
        for e in doc_edit.edits:
            r = e.range
            edits.append(EngineEdit(r.start.line + 1, r.start.character + 1, r.end.line + 1,
                                    r.end.character + 1, e.new_text))
    return apply_edits(text, edits)


async def actions_for(client: LanguageClient, uri: str, only: list[str] | None = None
                      ) -> list[types.CodeAction]:
    diags = list(client.diagnostics.get(uri, []))
    got = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(0, 0), end=types.Position(0, 0))
        if not diags else diags[0].range,
        context=types.CodeActionContext(diagnostics=diags, only=only)))
    # lsprotocol reads any action that carries a command as a bare Command: keep the rest.
    return [a for a in got or [] if isinstance(a, types.CodeAction)]


# -- diagnostics -------------------------------------------------------------------------
def test_diagnostics_on_open_change_and_save_follow_the_configuration(tmp_path: Path) -> None:
    root = git_repo(tmp_path, QUIET + '[tool.reviewer.per-file-ignores]\n"tests/*" = ["RV101"]\n')
    (root / "tests").mkdir()

    async def scenario(client: LanguageClient) -> None:
        uri = open_doc(client, root / "mod.py", BAD)  # never written to disk
        await until(lambda: "RV101" in codes(client, uri))
        diag = client.diagnostics[uri][0]
        assert codes(client, uri) == ["RV101"]  # RV401/RV402 ignored by the configuration
        assert diag.source == "reviewer"
        assert diag.severity == types.DiagnosticSeverity.Warning
        assert diag.code_description is not None
        assert diag.code_description.href.endswith("docs/rules.md#rv101")
        assert (diag.range.start.line, diag.range.start.character) == (0, 8)
        assert diag.related_information is not None
        assert diag.related_information[0].message == "principle: No hidden shared state"

        change(client, uri, 2, "def f(x=None):\n    return x\n")
        await until(lambda: uri in client.diagnostics and not codes(client, uri))
        change(client, uri, 3, "import os\n" + BAD)
        await until(lambda: codes(client, uri) == ["RV101"])
        assert client.diagnostics[uri][0].range.start.line == 1

        suppressed = open_doc(client, root / "other.py",
                              "def g(y={}):  # reviewer: ignore[RV101] on purpose\n    return y\n")
        ignored = open_doc(client, root / "tests" / "t.py", BAD)
        (root / "saved.py").write_text(BAD)
        saved = open_doc(client, root / "saved.py", BAD)
        await until(lambda: "RV101" in codes(client, saved))
        client.text_document_did_save(types.DidSaveTextDocumentParams(
            text_document=types.TextDocumentIdentifier(uri=saved)))
        await until(lambda: suppressed in client.diagnostics and ignored in client.diagnostics)
        assert codes(client, suppressed) == [] and codes(client, ignored) == []

    run(root, scenario)


def test_unused_suppressions_are_unnecessary_when_check_reports_them(tmp_path: Path) -> None:
    root = git_repo(tmp_path, QUIET + "report-unused-suppressions = true\n")
    text = "x = 1  # reviewer: ignore[RV101]\n" + BAD

    async def scenario(client: LanguageClient) -> None:
        uri = open_doc(client, root / "m.py", text)
        await until(lambda: len(codes(client, uri)) == 2)
        unused, finding = sorted(client.diagnostics[uri], key=lambda d: d.range.start.line)
        assert unused.code == "unused-suppression"
        assert list(unused.tags or ()) == [types.DiagnosticTag.Unnecessary]
        assert (unused.range.start.character, unused.range.end.character) == (7, 32)
        assert finding.code == "RV101" and finding.tags is None
        hover = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=1, character=9)))
        assert hover is not None  # hover and actions still line up with the findings

    run(root, scenario)


def test_changes_are_debounced_into_one_review(tmp_path: Path) -> None:
    """Ten quick edits: one publication for the last version, not ten."""
    root = git_repo(tmp_path)
    seen: list[int] = []

    async def scenario(client: LanguageClient) -> None:
        uri = open_doc(client, root / "m.py", "x = 1\n")
        await until(lambda: uri in client.diagnostics)
        original = client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS]

        def record(params: types.PublishDiagnosticsParams) -> None:
            seen.append(params.version or 0)
            original(params)

        client.protocol.fm.features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = record
        for v in range(2, 12):
            change(client, uri, v, "x = 1\n" * v + BAD)
        await until(lambda: seen)
        await asyncio.sleep(0.5)
        assert seen == [11]
        assert codes(client, uri) == ["RV101"]

    run(root, scenario)


def test_pull_diagnostics_when_the_client_asks_for_them(tmp_path: Path) -> None:
    root = git_repo(tmp_path)

    async def scenario(client: LanguageClient) -> None:
        uri = open_doc(client, root / "m.py", BAD)
        report = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=uri)))
        assert isinstance(report, types.RelatedFullDocumentDiagnosticReport)
        assert [d.code for d in report.items] == ["RV101"]
        again = await client.text_document_diagnostic_async(types.DocumentDiagnosticParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            previous_result_id=report.result_id))
        assert isinstance(again, types.RelatedUnchangedDocumentDiagnosticReport)
        await asyncio.sleep(0.4)
        assert uri not in client.diagnostics  # nothing pushed to a pulling client

    run(root, scenario, pull=True)


def test_only_changed_lines_against_head(tmp_path: Path) -> None:
    root = git_repo(tmp_path)
    committed = "def old(a=[]):\n    return a\n"
    (root / "m.py").write_text(committed)
    subprocess.run(["git", "-C", str(root), "add", "."], check=True)
    subprocess.run(["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@t",
                    "commit", "-qm", "c"], check=True)

    async def scenario(client: LanguageClient) -> None:
        uri = open_doc(client, root / "m.py", committed + BAD)
        await until(lambda: uri in client.diagnostics)
        lines = [d.range.start.line for d in client.diagnostics[uri]]
        assert lines == [2]  # the committed RV101 on line 0 is not shown
        new = open_doc(client, root / "new.py", committed)  # untracked: all of it counts
        await until(lambda: codes(client, new) == ["RV101"])

    run(root, scenario, options={"onlyChanged": True})


# -- code actions and hover --------------------------------------------------------------
def test_quick_fix_suppression_and_fix_all(tmp_path: Path) -> None:
    root = git_repo(tmp_path, '[tool.reviewer]\nselect = ["RV101", "RV102", "RV201"]\n')
    text = "def f(x=[], y={}):\n    try:\n        return x, y\n    except:\n        return None\n"

    async def scenario(client: LanguageClient) -> None:
        uri = open_doc(client, root / "m.py", text)
        await until(lambda: len(codes(client, uri)) == 3)
        acts = await actions_for(client, uri)
        titles = [a.title for a in acts]
        fix = next(a for a in acts if a.title.startswith("RV101:") and a.edit is not None)
        assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
        fixed = apply(text, fix)
        assert "x=None" in fixed and "if x is None:" in fixed
        assert "Ignore RV101 on this line" in titles

        ignore = next(a for a in acts if a.title == "Ignore RV101 on this line")
        once = apply(text, ignore)
        assert once.splitlines()[0] == "def f(x=[], y={}):  # reviewer: ignore[RV101]"
        change(client, uri, 2, once)
        await until(lambda: codes(client, uri) == ["RV201"])  # both RV101s of the line hidden
        extend = once.replace("    except:", "    except:  # reviewer: ignore[RV203] why")
        change(client, uri, 3, extend)
        await asyncio.sleep(0.3)
        await until(lambda: codes(client, uri) == ["RV201"])
        again = next(a for a in await actions_for(client, uri)
                     if a.title == "Ignore RV201 on this line")
        twice = apply(extend, again)
        assert "    except:  # reviewer: ignore[RV203, RV201] why" in twice.splitlines()
        change(client, uri, 4, twice)
        await until(lambda: codes(client, uri) == [])

        change(client, uri, 5, text)
        await until(lambda: len(codes(client, uri)) == 3)
        fix_all = await actions_for(client, uri, only=["source.fixAll.reviewer"])
        assert [a.kind for a in fix_all] == ["source.fixAll.reviewer"]
        after = apply(text, fix_all[0])
        assert "x=None, y=None" in after and "except:" in after  # RV201 has no safe fix
        change(client, uri, 6, after)
        await until(lambda: codes(client, uri) == ["RV201"])

    run(root, scenario)


def test_hover_shows_the_rule(tmp_path: Path) -> None:
    root = git_repo(tmp_path)

    async def scenario(client: LanguageClient) -> None:
        uri = open_doc(client, root / "m.py", BAD)
        await until(lambda: uri in client.diagnostics)
        hover = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=0, character=9)))
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        value = hover.contents.value
        assert value.startswith("**RV101 mutable-default-argument** (medium):")
        assert "Principle: No hidden shared state" in value and "```python" in value
        nothing = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(line=1, character=4)))
        assert nothing is None

    run(root, scenario)


# -- bad input ---------------------------------------------------------------------------
def test_bad_input_never_crashes_the_server(tmp_path: Path) -> None:
    root = git_repo(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()

    async def scenario(client: LanguageClient) -> None:
        broken = open_doc(client, root / "broken.py", "def f(:\n    pass\n")
        await until(lambda: codes(client, broken) == ["RV000"])
        assert client.diagnostics[broken][0].severity == types.DiagnosticSeverity.Error

        latin = open_doc(client, root / "latin.py",
                         "# -*- coding: latin-1 -*-\nname = 'café'\n" + BAD)
        await until(lambda: codes(client, latin) == ["RV101"])
        assert client.diagnostics[latin][0].range.start.line == 2

        # A lone surrogate: what an editor sends for a byte that was not UTF-8 (JSON "\udc80").
        undecodable = open_doc(client, root / "raw.py", 'x = "\udc80"\n' + BAD)
        await until(lambda: codes(client, undecodable) == ["RV000"])

        wide = open_doc(client, root / "wide.py", "def f(s='😀😀', x=[]):\n    return s, x\n")
        await until(lambda: codes(client, wide) == ["RV101"])
        assert client.diagnostics[wide][0].range.start.character == 18  # UTF-16 units

        far = open_doc(client, outside / "far.py", BAD)
        await until(lambda: "RV101" in codes(client, far))
        binary = open_doc(client, root / "bin.py", "x = 1\0\n")
        await until(lambda: binary in client.diagnostics)
        assert codes(client, binary) == []
        other = open_doc(client, root / "notes.txt", "def f(x=[]): pass\n", "plaintext")
        await until(lambda: other in client.diagnostics)
        assert codes(client, other) == []

        ghost = (root / "ghost.py").as_uri()
        with pytest.raises(Exception, match="document not open"):
            await client.text_document_hover_async(types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=ghost),
                position=types.Position(line=0, character=0)))
        with pytest.raises(Exception, match="document not open"):
            await client.text_document_code_action_async(types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=ghost),
                range=types.Range(start=types.Position(0, 0), end=types.Position(0, 0)),
                context=types.CodeActionContext(diagnostics=[])))
        with pytest.raises(Exception, match=r"reviewer\.explain takes"):
            await client.workspace_execute_command_async(types.ExecuteCommandParams(
                command="reviewer.explain", arguments=[1]))
        # still alive and answering
        change(client, broken, 2, BAD)
        await until(lambda: codes(client, broken) == ["RV101"])

    run(root, scenario)


def test_config_reload_keeps_the_last_good_configuration(tmp_path: Path) -> None:
    root = git_repo(tmp_path, '[tool.reviewer]\nselect = ["RV101"]\n')
    text = BAD + "try:\n    pass\nexcept:\n    pass\n"

    async def scenario(client: LanguageClient) -> None:
        assert client.protocol  # registered the watchers
        uri = open_doc(client, root / "m.py", text)
        await until(lambda: codes(client, uri) == ["RV101"])
        pyproject = root / "pyproject.toml"

        def changed() -> None:
            client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(
                changes=[types.FileEvent(uri=pyproject.as_uri(),
                                         type=types.FileChangeType.Changed)]))

        pyproject.write_text('[tool.reviewer]\nselect = ["RV101", "RV201"]\n')
        changed()
        await until(lambda: codes(client, uri) == ["RV101", "RV201"])
        pyproject.write_text("[tool.reviewer\nselect = \n")
        changed()
        await until(lambda: client.messages)
        assert len(client.messages) == 1
        message = client.messages[0]
        assert message.type == types.MessageType.Error and "\n" not in message.message
        assert "keeping the last good configuration" in message.message
        change(client, uri, 2, text + "\n")
        await asyncio.sleep(0.4)
        assert codes(client, uri) == ["RV101", "RV201"]
        pyproject.write_text('[tool.reviewer]\nselect = ["RV2"]\n')
        changed()
        await until(lambda: "RV201" in codes(client, uri) and "RV101" not in codes(client, uri))

    run(root, scenario, watch=True)


def test_several_workspace_folders_each_with_its_configuration(tmp_path: Path) -> None:
    one = git_repo(tmp_path / "one", '[tool.reviewer]\nselect = ["RV101"]\n')
    two = git_repo(tmp_path / "two", '[tool.reviewer]\nselect = ["RV201"]\n')
    text = BAD + "try:\n    pass\nexcept:\n    pass\n"

    async def scenario(client: LanguageClient) -> None:
        a = open_doc(client, one / "m.py", text)
        b = open_doc(client, two / "m.py", text)
        await until(lambda: codes(client, a) == ["RV101"] and codes(client, b) == ["RV201"])

    run(tmp_path, scenario, folders=[one, two])


def test_workspace_folders_added_later_bring_their_configuration(tmp_path: Path) -> None:
    """A folder that is not a git repository is the root of the files below it once it is
    a workspace folder (before, a file's own folder is)."""
    one = git_repo(tmp_path / "one", '[tool.reviewer]\nselect = ["RV101"]\n')
    plain = tmp_path / "plain"
    (plain / "sub").mkdir(parents=True)
    (plain / "pyproject.toml").write_text('[tool.reviewer]\nselect = ["RV201"]\n')
    text = BAD + "try:\n    pass\nexcept:\n    pass\n"

    async def scenario(client: LanguageClient) -> None:
        uri = open_doc(client, plain / "sub" / "m.py", text)
        await until(lambda: "RV101" in codes(client, uri))  # the defaults: every rule
        client.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[types.WorkspaceFolder(uri=plain.as_uri(), name="plain")], removed=[])))
        await until(lambda: codes(client, uri) == ["RV201"])

    run(tmp_path, scenario, folders=[one])


# -- JavaScript, TypeScript and Go buffers (the treesitter extra) ------------------------
JS = "const r = eval(code);\nconsole.log(r);\n"
TS = "const f = new Function('a', body);\n"
GO = ('package p\n\nimport "crypto/md5"\n\n'
      "func H(b []byte) [16]byte {\n\treturn md5.Sum(b)\n}\n")
SQL = "db.query(`SELECT * FROM t WHERE id = ${id}\n  AND x = 1`);\n"
TREE = '[tool.reviewer]\nselect = ["RV000", "RV601", "RV603", "RV609"]\n'


def test_javascript_typescript_and_go_buffers(tmp_path: Path) -> None:
    """Each buffer is claimed and reviewed; a syntax error gives RV000 next to the other
    findings; the suppression edit is a ``//`` comment and hides the finding; the hover
    example is the buffer's language."""
    pytest.importorskip("tree_sitter_javascript", reason="the treesitter extra is not installed")
    root = git_repo(tmp_path, TREE)

    async def scenario(client: LanguageClient) -> None:
        js = open_doc(client, root / "a.js", JS, "javascript")
        ts = open_doc(client, root / "b.ts", TS, "typescript")
        go = open_doc(client, root / "c.go", GO, "go")
        broken = open_doc(client, root / "d.js", JS + "function (\n", "javascript")
        await until(lambda: all(u in client.diagnostics for u in (js, ts, go, broken)))
        assert codes(client, js) == ["RV601"] and codes(client, ts) == ["RV601"]
        assert codes(client, go) == ["RV609"]
        assert sorted(codes(client, broken)) == ["RV000", "RV601"]

        hover = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=js),
            position=client.diagnostics[js][0].range.start))
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        assert "```javascript\nfunction run(code)" in hover.contents.value
        go_hover = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=go),
            position=client.diagnostics[go][0].range.start))
        assert go_hover is not None and isinstance(go_hover.contents, types.MarkupContent)
        assert "```go\n" in go_hover.contents.value

        acts = await actions_for(client, js)
        assert not [a for a in acts if a.edit is not None and a.title.startswith("RV601:")]
        assert await actions_for(client, js, only=["source.fixAll.reviewer"]) == []
        ignore = next(a for a in acts if a.title == "Ignore RV601 on this line")
        once = apply(JS, ignore)
        assert once.splitlines()[0] == "const r = eval(code);  // reviewer: ignore[RV601]"
        change(client, js, 2, once)
        await until(lambda: codes(client, js) == [])
        go_ignore = next(a for a in await actions_for(client, go)
                         if a.title == "Ignore RV609 on this line")
        fixed_go = apply(GO, go_ignore)
        assert "\treturn md5.Sum(b)  // reviewer: ignore[RV609]" in fixed_go.splitlines()
        change(client, go, 2, fixed_go)
        await until(lambda: codes(client, go) == [])

        # A node script without a suffix: claimed by its #! line, its // comments honoured.
        script = "#!/usr/bin/env node\n" + once
        tool = open_doc(client, root / "bin" / "tool", script, "javascript")
        bare = open_doc(client, root / "bin" / "bare", "#!/usr/bin/env node\n" + JS,
                        "javascript")
        await until(lambda: tool in client.diagnostics and bare in client.diagnostics)
        assert codes(client, bare) == ["RV601"] and codes(client, tool) == []

        # A line that ends inside a template literal gets no comment (it would be SQL text).
        sql = open_doc(client, root / "q.js", SQL, "javascript")
        await until(lambda: codes(client, sql) == ["RV603"])
        assert not [a for a in await actions_for(client, sql) if a.title.startswith("Ignore")]

    run(root, scenario)


def test_no_suppression_comment_where_a_line_ends_inside_a_string() -> None:
    """The edit is offered only where the comment would be a comment: not inside a Python
    triple-quoted string, a Go raw string or a TypeScript template."""
    pytest.importorskip("tree_sitter_go", reason="the treesitter extra is not installed")
    from reviewer.findings import Finding, Severity, Span
    from reviewer.lsp.actions import ignore_edit
    from reviewer.lsp.convert import Lines

    def edit(text: str, line: int, language: str, path: str) -> EngineEdit | None:
        f = Finding("RV601", "eval-exec", "m", path, Span(line, 1), Severity.HIGH)
        return ignore_edit(f, Lines(text, "utf-16"), language)

    assert edit('x = eval("""1 +\n2""")\n', 1, "python", "a.py") is None
    assert edit('x = eval("1")\n', 1, "python", "a.py") is not None
    assert edit("package p\n\nvar s = `a\nb`\n", 3, "go", "a.go") is None
    assert edit("package p\n\nvar s = 1 // why\n", 3, "go", "a.go") is not None
    kept = edit("x = [1]  # noqa: E501\n", 1, "python", "a.py")  # goes on after a comment
    assert kept is not None and kept.text == "  # reviewer: ignore[RV601]"
    assert edit("const q = `a ${b}\nc`;\n", 1, "typescript", "a.ts") is None
    got = edit('const s = "é"; eval(x)\n', 1, "javascript", "a.js")
    assert got is not None and got.text == "  // reviewer: ignore[RV601]"


def test_plan_text_validates_javascript_fixes_with_the_javascript_rules(tmp_path: Path) -> None:
    """A fix for a JavaScript finding is checked by the rule's JavaScript implementation:
    one that leaves the eval in place does not validate, one that removes it does."""
    pytest.importorskip("tree_sitter_javascript", reason="the treesitter extra is not installed")
    from reviewer import autofix, engine
    from reviewer.config import load
    from reviewer.findings import Fix

    root = git_repo(tmp_path, TREE)
    cfg = load(root)
    found = engine.review_buffer(root, "a.js", JS, cfg, language="javascript").findings
    (f,) = found
    good = f.with_(model_fix=Fix("parse", (EngineEdit(1, 11, 1, 21, "JSON.parse(code)"),)))
    same = f.with_(model_fix=Fix("space", (EngineEdit(1, 11, 1, 21, "eval(code )"),)))
    got = autofix.plan_text("a.js", JS, "javascript", cfg, [good])
    assert not isinstance(got, str) and got[0].startswith("const r = JSON.parse(code);")
    refused = autofix.plan_text("a.js", JS, "javascript", cfg, [same])
    assert isinstance(refused, str) and "RV601 still reported" in refused
