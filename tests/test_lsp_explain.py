"""`reviewer lsp`: "Explain and propose a fix" through the `check --explain` path.

One test with the embedded SmolLM2 model (llama.cpp): it asserts the plumbing (the action is
offered, the command answers, the explanation reaches the diagnostic or a showMessage says
nothing came, a model fix is offered only when it validated), not the tiny model's prose.
One without a model: a server URL nobody listens on gives one log line and a showMessage.
"""

from __future__ import annotations

import asyncio
import importlib.util
import socket
import threading
from pathlib import Path

import pytest

pytest.importorskip("pygls", reason="the lsp extra (pygls) is not installed")
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.test_lsp import BAD, actions_for, change, codes, git_repo, open_doc, run, until


async def explain(client: LanguageClient, uri: str) -> dict[str, bool]:
    got = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=client.diagnostics[uri][0].range,
        context=types.CodeActionContext(diagnostics=list(client.diagnostics[uri]))))
    # lsprotocol reads an action that carries a command as a Command (title kept).
    offered = [a for a in got or [] if "explain and propose a fix" in a.title]
    assert len(offered) == 1
    fp = client.diagnostics[uri][0].data["fingerprint"]
    result = await client.workspace_execute_command_async(types.ExecuteCommandParams(
        command="reviewer.explain", arguments=[uri, fp]))
    assert isinstance(result, dict)
    return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_explain_without_a_model_says_so_once(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    root = git_repo(tmp_path, f'[tool.reviewer]\nselect = ["RV101"]\nllm-backend = "openai"\n'
                              f'server-url = "{url}"\nllm-timeout = 5\n')

    async def scenario(client: LanguageClient) -> None:
        uri = open_doc(client, root / "m.py", BAD)
        await until(lambda: codes(client, uri) == ["RV101"])
        assert await explain(client, uri) == {"explained": False, "fix": False}
        assert await explain(client, uri) == {"explained": False, "fix": False}
        logged = [m for m in client.log_messages if "explanations skipped" in m.message]
        assert len(logged) == 1
        assert [m.type for m in client.messages] == [types.MessageType.Info] * 2
        assert "no explanation" in client.messages[0].message
        assert codes(client, uri) == ["RV101"]  # the diagnostics stand

    run(root, scenario)


def test_explain_is_cancellable_from_the_progress(tmp_path: Path) -> None:
    """A model server that accepts and never answers: the user cancels the progress and
    the command returns at once (the diagnostics never waited for it)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])  # read nothing, answer nothing
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    root = git_repo(tmp_path, f'[tool.reviewer]\nselect = ["RV101"]\nllm-backend = "openai"\n'
                              f'server-url = "{url}"\nllm-timeout = 60\n')

    async def scenario(client: LanguageClient) -> None:
        uri = open_doc(client, root / "m.py", BAD)
        await until(lambda: codes(client, uri) == ["RV101"])
        fp = client.diagnostics[uri][0].data["fingerprint"]
        pending = asyncio.ensure_future(client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="reviewer.explain", arguments=[uri, fp])))
        token = await until(lambda: next((t for t, r in client.progress_reports.items() if r),
                                         None))
        begin = client.progress_reports[token][0]
        assert isinstance(begin, types.WorkDoneProgressBegin) and begin.cancellable
        change(client, uri, 2, "x = 1\n" + BAD)  # diagnostics go on meanwhile
        await until(lambda: client.diagnostics[uri][0].range.start.line == 1)
        assert not pending.done()
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        result = await asyncio.wait_for(pending, 10)
        assert result == {"explained": False, "fix": False, "cancelled": True}
        await until(lambda: isinstance(client.progress_reports[token][-1],
                                       types.WorkDoneProgressEnd))

    try:
        run(root, scenario, progress=True)
    finally:
        stop.set()
        for conn in held:
            conn.close()
        listener.close()


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                    reason="llama-cpp-python is not installed")
def test_explain_with_the_embedded_model(tmp_path: Path) -> None:
    root = git_repo(tmp_path, '[tool.reviewer]\nselect = ["RV101"]\nllm-backend = "llama_cpp"\n'
                              'llm-max-tokens = 160\nfix-passes = 1\nllm-timeout = 600\n')

    async def scenario(client: LanguageClient) -> None:
        uri = open_doc(client, root / "m.py", BAD)
        await until(lambda: codes(client, uri) == ["RV101"])
        result = await explain(client, uri)
        if result["explained"]:
            await until(lambda: any(
                r.message.startswith("model: ")
                for r in client.diagnostics[uri][0].related_information or []))
        else:
            await until(lambda: client.messages)
        model_fixes = [a for a in await actions_for(client, uri)
                       if "the model's fix" in a.title]
        assert len(model_fixes) == (1 if result["fix"] else 0)
        if not result["fix"]:
            await until(lambda: any("no model fix validated" in m.message
                                    or "no explanation" in m.message
                                    for m in client.messages))

    run(root, scenario, timeout=900)


def test_explain_a_javascript_finding_offers_the_validated_model_fix(tmp_path: Path) -> None:
    """The model's fix of a JavaScript finding is validated with the JavaScript rules: one
    that removes the eval is offered and clears the diagnostic; one that keeps it is not."""
    pytest.importorskip("tree_sitter_javascript", reason="the treesitter extra is not installed")
    from tests.model_fake import serve_model
    from tests.test_lsp import apply

    text = "function run(code) {\n  return eval(code);\n}\n"
    for fixed, offered in (("  return JSON.parse(code);\n", True),
                           ("  return eval(code );\n", False)):
        with serve_model(fixed_code=fixed) as model:
            root = git_repo(tmp_path / str(offered), '[tool.reviewer]\nselect = ["RV601"]\n'
                            f'llm-backend = "openai"\nserver-url = "{model.url}"\n'
                            "llm-timeout = 20\nfix-passes = 1\n")

            async def scenario(client: LanguageClient, offered: bool = offered,
                               root: Path = root) -> None:
                uri = open_doc(client, root / "run.js", text, "javascript")
                await until(lambda: codes(client, uri) == ["RV601"])
                result = await explain(client, uri)
                assert result == {"explained": True, "fix": offered}
                await until(lambda: any(r.message.startswith("model: ") for r in
                                        client.diagnostics[uri][0].related_information or []))
                fixes = [a for a in await actions_for(client, uri)
                         if "the model's fix" in a.title]
                assert len(fixes) == int(offered)
                if offered:
                    after = apply(text, fixes[0])
                    assert after == text.replace("eval(code)", "JSON.parse(code)")
                    change(client, uri, 2, after)
                    await until(lambda: codes(client, uri) == [])
                else:
                    assert any("no model fix validated" in m.message for m in client.messages)

            run(root, scenario)


BARE = ("def load(path):\n    try:\n        return open(path).read()\n    except:\n"
        "        return ''\n")


def served_explain(tmp_path: Path, backend: list[str], pyproject: str, timeout: float,
                   want_fix: bool) -> None:
    """"Explain and propose a fix" with ``server-url`` naming a real ``reviewer serve`` on
    127.0.0.1: the finding goes to its /v1/review (the server's /metrics count it), and a
    model fix offered passed validation (applied, it clears the finding)."""
    pytest.importorskip("fastapi", reason="the serve extra is not installed")
    from tests.serve_proc import serve
    from tests.test_lsp import apply

    box = tmp_path / "model-machine"
    box.mkdir()
    with serve(box, *backend) as reviewer:
        root = git_repo(tmp_path / "repo", pyproject + f'server-url = "{reviewer.url}/v1"\n')

        async def scenario(client: LanguageClient) -> None:
            uri = open_doc(client, root / "m.py", BARE)
            await until(lambda: codes(client, uri) == ["RV201"])
            result = await explain(client, uri)
            if want_fix:
                assert result == {"explained": True, "fix": True}
            fixes = [a for a in await actions_for(client, uri) if "the model's fix" in a.title]
            assert len(fixes) == int(result["fix"])
            if fixes:
                after = apply(BARE, fixes[0])
                change(client, uri, 2, after)
                await until(lambda: codes(client, uri) == [])

        run(root, scenario, timeout=timeout)
        metrics = reviewer.request("GET", "/metrics")[2]
    assert 'reviewer_requests_total{endpoint="/v1/review",status="200"} 1' in metrics


def test_explain_goes_to_a_reviewer_server_behind_server_url(tmp_path: Path) -> None:
    """The reviewer server's backend is a fixed-answer model (the fix is known)."""
    from tests.model_fake import BROAD_FIX, serve_model

    (tmp_path / "repo").mkdir()
    with serve_model(fixed_code=BROAD_FIX) as model:
        served_explain(tmp_path, ["--backend", "openai", "--server-url", model.url],
                       '[tool.reviewer]\nselect = ["RV201"]\nllm-backend = "openai"\n'
                       "llm-timeout = 30\nfix-passes = 1\n", 60, want_fix=True)
        assert model.prompts  # the reviewer server, not the editor, asked the model


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None,
                    reason="llama-cpp-python is not installed")
def test_explain_through_a_reviewer_server_with_the_embedded_model(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    served_explain(tmp_path, ["--backend", "llama_cpp"],
                   '[tool.reviewer]\nselect = ["RV201"]\nllm-backend = "openai"\n'
                   "llm-max-tokens = 160\nfix-passes = 1\nllm-timeout = 600\n", 900,
                   want_fix=False)
