"""The protocol side of ``reviewer lsp``: documents in, diagnostics and actions out.

Open, changed (debounced) and saved documents are reviewed from the text the client sent;
diagnostics are pushed (``textDocument/publishDiagnostics``) unless the client pulls them
(``textDocument/diagnostic``, LSP 3.17). Code actions offer validated quick fixes, an
"Ignore RVxxx on this line" suppression, ``source.fixAll.reviewer`` and the model's
explanation (a command run in the background). Nothing a client sends may crash the server:
bad requests get an LSP error response, review problems a log line.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from reviewer import __version__
from reviewer.config import Config
from reviewer.errors import ReviewerError
from reviewer.findings import Finding, Fix
from reviewer.lsp.actions import (
    FIX_ALL_KIND,
    ignore_edit,
    lsp_edits,
    validated,
    workspace_edit,
)
from reviewer.lsp.convert import SOURCE, Lines, diagnostic, unused_diagnostic
from reviewer.lsp.explain import Remote
from reviewer.lsp.folders import Folders, Place
from reviewer.suppressions import Unused

DEBOUNCE_S = 0.15
EXPLAIN_COMMAND = "reviewer.explain"
CONFIG_GLOBS = ("**/pyproject.toml", "**/.reviewer/**")
log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Doc:
    """What the server knows about one open document."""

    uri: str
    language_id: str
    place: Place
    language: str | None = None
    version: int | None = None
    findings: list[Finding] = field(default_factory=list)
    diagnostics: list[types.Diagnostic] = field(default_factory=list)  # one per finding
    unused: list[types.Diagnostic] = field(default_factory=list)  # unused suppressions
    reviewed_version: int | None = None
    # fingerprint -> the finding with the model's explanation and validated fix
    explained: dict[str, Finding] = field(default_factory=dict)
    # fingerprint -> the rule's deterministic fix, built when a code action of
    # ``fixes_version`` first needs a finding of the rule (a keystroke's review builds no
    # libcst fix); ``fixed_rules``: the rules whose fixes are in ``fixes``
    fixes: dict[str, Fix | None] = field(default_factory=dict)
    fixed_rules: set[str] = field(default_factory=set)
    fixes_version: int | None = None
    pending: asyncio.TimerHandle | None = None


class ReviewerServer(LanguageServer):
    """The server and its state: open documents, folders and their configurations."""

    def __init__(self, remote: Remote | None = None) -> None:
        super().__init__("reviewer", __version__,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.remote = remote  # explanations through a reviewer server (see lsp.explain)
        self.docs: dict[str, Doc] = {}
        self.folders = Folders()
        self.only_changed = False
        self.said: set[str] = set()  # log lines already sent once

    # -- state helpers -------------------------------------------------------------------
    @property
    def pull(self) -> bool:
        """Whether the client pulls diagnostics (then none are pushed)."""
        caps = self.client_capabilities.text_document
        return caps is not None and caps.diagnostic is not None

    @property
    def encoding(self) -> str:
        """The negotiated position encoding ("utf-16", "utf-8" or "utf-32")."""
        enc = self.workspace.position_encoding
        return str(enc.value if isinstance(enc, types.PositionEncodingKind) else enc)

    def doc(self, uri: str) -> Doc:
        """The open document ``uri``; an LSP error for a document that is not open."""
        got = self.docs.get(uri)
        if got is None:
            raise JsonRpcInvalidParams(f"document not open: {uri} (send didOpen first)")
        return got

    def text(self, doc: Doc) -> str:
        """The text the client sent for ``doc`` (never re-read from disk)."""
        return self.workspace.get_text_document(doc.uri).source

    def log_once(self, message: str, kind: types.MessageType = types.MessageType.Warning
                 ) -> None:
        """A window/logMessage, sent once per distinct line."""
        if message not in self.said:
            self.said.add(message)
            self.window_log_message(types.LogMessageParams(type=kind, message=message))

    def show(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        """A window/showMessage."""
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))

    def place(self, uri: str) -> Place:
        """The repository and relative path of a document."""
        path = to_fs_path(uri) if uri.startswith("file:") else None
        if path is None:  # untitled: buffers and other schemes: the first folder's config
            root = self.folders.folders[0] if self.folders.folders else Path.cwd()
            return Place(root, uri.rsplit("/", 1)[-1].rsplit(":", 1)[-1], False)
        return self.folders.place(Path(path))

    def config(self, root: Path) -> Config:
        """The configuration of ``root`` (a failed first load is shown once)."""
        cfg, problem = self.folders.config(root)
        if problem is not None:
            self.show(f"reviewer: {problem} (using the default configuration)")
        return cfg

    # -- reviewing -----------------------------------------------------------------------
    def review(self, doc: Doc) -> list[types.Diagnostic]:
        """Review the document's current text (once per version) and keep the results."""
        version = self.workspace.get_text_document(doc.uri).version
        if doc.reviewed_version is not None and version == doc.reviewed_version:
            return doc.diagnostics + doc.unused
        text = self.text(doc)
        lines = Lines(text, self.encoding)
        unused: list[Unused] = []
        try:
            # No libcst fix per keystroke: built lazily, for code actions (see with_fixes).
            findings = self._findings(doc, text, unused)
        except ReviewerError as exc:
            self.log_once(f"reviewer: {doc.place.rel}: {exc}")
            findings = []
        # One document must never take the server down.
        except Exception:  # reviewer: ignore[RV202] logged with its traceback
            self.log_once(f"reviewer: internal error on {doc.place.rel}:\n"
                          f"{traceback.format_exc()}", types.MessageType.Error)
            findings = []
        doc.findings = [doc.explained.get(f.fingerprint, f) for f in findings]
        doc.diagnostics = [diagnostic(f, lines, doc.uri) for f in doc.findings]
        doc.unused = [unused_diagnostic(u, lines) for u in unused]
        doc.reviewed_version = version
        doc.fixes_version = None
        return doc.diagnostics + doc.unused

    def with_fixes(self, doc: Doc, wanted: list[Finding] | None = None) -> list[Finding]:
        """The document's findings with the rules' deterministic (libcst) fixes, which a
        keystroke's review does not build: the rules of ``wanted`` (default: of every
        finding) review the text again with them, once per version, and their fixes are
        matched to the findings by fingerprint."""
        self.review(doc)
        if doc.fixes_version != doc.reviewed_version or doc.fixes_version is None:
            doc.fixes, doc.fixed_rules = {}, set()
            doc.fixes_version = doc.reviewed_version
        needed = {f.rule_id for f in (doc.findings if wanted is None else wanted)
                  if f.fix is None} - doc.fixed_rules
        if needed and doc.language is not None:
            from reviewer import engine

            cfg = self.config(doc.place.root)
            rules = [r for r in engine.selected_rules(cfg) if r.id in needed and r.fixable]
            if rules:
                result = engine.review_buffer(
                    doc.place.root, doc.place.rel, self.text(doc), cfg,
                    language=doc.language, rules=rules, use_baseline=False)
                doc.fixes.update((f.fingerprint, f.fix) for f in result.findings)
            doc.fixed_rules |= needed
        return [f if f.fix is not None else f.with_(fix=doc.fixes.get(f.fingerprint))
                for f in doc.findings]

    def _findings(self, doc: Doc, text: str, unused: list[Unused]) -> list[Finding]:
        from reviewer import engine

        place = doc.place
        cfg = self.config(place.root)
        doc.language = engine.buffer_language(place.rel, text, doc.language_id)
        if doc.language is None:
            return []
        changes = None
        if self.only_changed:
            from reviewer.lsp.changes import changed_lines

            changes = {place.rel: changed_lines(place.root, place.rel, text)}
        result = engine.review_buffer(place.root, place.rel, text, cfg,
                                      language=doc.language, changes=changes, fixes=False)
        for s in result.skipped:
            self.log_once(f"reviewer: {s.path}: {s.reason}", types.MessageType.Info)
        if cfg.report_unused_suppressions and result.unused_suppressions:
            from reviewer.lsp.unused import relevant

            unused.extend(relevant(result.unused_suppressions, place.root, cfg, changes))
        if result.findings:
            from reviewer.feedback.learned import apply_learned

            data = text.encode("utf-8", "surrogatepass")
            for warning in apply_learned(result, place.root, cfg, {place.rel: data}):
                self.log_once(f"reviewer: {warning}")
        return result.findings

    def publish(self, uri: str) -> None:
        """Push the diagnostics of ``uri`` (clients that pull get none pushed)."""
        doc = self.docs.get(uri)
        if doc is None or self.pull:
            return
        diags = self.review(doc)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, diagnostics=diags, version=doc.reviewed_version))

    def schedule(self, uri: str) -> None:
        """Review ``uri`` once the edits have paused for DEBOUNCE_S."""
        doc = self.docs.get(uri)
        if doc is None or self.pull:
            return
        if doc.pending is not None:
            doc.pending.cancel()
        loop = asyncio.get_running_loop()
        doc.pending = loop.call_later(DEBOUNCE_S, self.publish, uri)

    def refresh_all(self) -> None:
        """Review every open document again (after a configuration change)."""
        for doc in self.docs.values():
            doc.reviewed_version = None
            doc.place = self.place(doc.uri)
        if self.pull:
            caps = self.client_capabilities.workspace
            pulls = caps.diagnostics if caps is not None else None
            if pulls is not None and pulls.refresh_support:
                self.workspace_diagnostic_refresh(None)
            return
        for uri in list(self.docs):
            self.publish(uri)

    def reload(self, changed: list[Path]) -> None:
        """Reload the configurations the changed files belong to; keep the last good one."""
        roots = {r for path in changed for r in self.folders.roots_for(path)}
        for root in sorted(roots):
            problem = self.folders.reload(root)
            if problem is not None:
                self.show(f"reviewer: {problem} (keeping the last good configuration)")
        if roots:
            self.refresh_all()

    # -- finding lookups -----------------------------------------------------------------
    def finding_of(self, doc: Doc, diag: types.Diagnostic) -> Finding | None:
        """The finding behind one of our diagnostics (by the fingerprint in its data)."""
        data = diag.data if isinstance(diag.data, dict) else {}
        fp = data.get("fingerprint")
        for f in doc.findings:
            if f.fingerprint == fp and fp:
                return f
        return None


def build(remote: Remote | None = None) -> ReviewerServer:
    """The server with every feature registered (``remote``: see :mod:`reviewer.lsp.explain`)."""
    server = ReviewerServer(remote)
    _lifecycle(server)
    _documents(server)
    _closing(server)
    _pull(server)
    _code_actions(server)
    _hover(server)
    _explain(server)
    return server


def _lifecycle(server: ReviewerServer) -> None:
    @server.feature(types.INITIALIZE)
    def initialize(ls: ReviewerServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict):
            ls.only_changed = bool(options.get("onlyChanged", False))
        folders = [to_fs_path(f.uri) for f in params.workspace_folders or []]
        if not folders and params.root_uri:
            folders = [to_fs_path(params.root_uri)]
        elif not folders and params.root_path:
            folders = [params.root_path]
        ls.folders.set_folders([Path(p) for p in folders if p])

    @server.feature(types.INITIALIZED)
    def initialized(ls: ReviewerServer, params: types.InitializedParams) -> None:
        caps = ls.client_capabilities.workspace
        watch = caps.did_change_watched_files if caps is not None else None
        if watch is None or not watch.dynamic_registration:
            return  # such clients get reloads on didSave of the configuration file
        options = types.DidChangeWatchedFilesRegistrationOptions(
            watchers=[types.FileSystemWatcher(glob_pattern=g) for g in CONFIG_GLOBS])
        ls.client_register_capability(types.RegistrationParams(registrations=[
            types.Registration(id="reviewer-config", register_options=options,
                               method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES)]))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: ReviewerServer, params: types.DidChangeWatchedFilesParams) -> None:
        paths = [to_fs_path(c.uri) for c in params.changes]
        ls.reload([Path(p) for p in paths if p])

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders_changed(ls: ReviewerServer,
                        params: types.DidChangeWorkspaceFoldersParams) -> None:
        gone = {Path(p).resolve() for f in params.event.removed if (p := to_fs_path(f.uri))}
        added = [Path(p) for f in params.event.added if (p := to_fs_path(f.uri))]
        ls.folders.set_folders([f for f in ls.folders.folders if f not in gone] + added)
        ls.refresh_all()


def _documents(server: ReviewerServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ReviewerServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        ls.docs[item.uri] = Doc(item.uri, item.language_id, ls.place(item.uri),
                                version=item.version)
        ls.publish(item.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ReviewerServer, params: types.DidChangeTextDocumentParams) -> None:
        doc = ls.docs.get(params.text_document.uri)
        if doc is not None:
            doc.version = params.text_document.version
            doc.explained.clear()  # the model's fix was validated against the old text
            ls.schedule(doc.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ReviewerServer, params: types.DidSaveTextDocumentParams) -> None:
        uri = params.text_document.uri
        path = to_fs_path(uri)
        if path is not None and _is_config(Path(path)):
            ls.reload([Path(path)])
        doc = ls.docs.get(uri)
        if doc is not None:
            if doc.pending is not None:
                doc.pending.cancel()
            doc.reviewed_version = None  # baseline, verdicts may have changed on disk
            ls.publish(uri)



def _closing(server: ReviewerServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ReviewerServer, params: types.DidCloseTextDocumentParams) -> None:
        doc = ls.docs.pop(params.text_document.uri, None)
        if doc is not None and doc.pending is not None:
            doc.pending.cancel()
        if not ls.pull:
            ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
                uri=params.text_document.uri, diagnostics=[]))



def _is_config(path: Path) -> bool:
    return path.name == "pyproject.toml" or ".reviewer" in path.parts


def _pull(server: ReviewerServer) -> None:
    @server.feature(
        types.TEXT_DOCUMENT_DIAGNOSTIC,
        types.DiagnosticOptions(identifier=SOURCE, inter_file_dependencies=False,
                                workspace_diagnostics=False),
    )
    def pull(ls: ReviewerServer, params: types.DocumentDiagnosticParams
             ) -> types.DocumentDiagnosticReport:
        doc = ls.doc(params.text_document.uri)
        diags = ls.review(doc)
        result_id = f"{doc.reviewed_version}:{len(ls.said)}"
        if params.previous_result_id == result_id:
            return types.RelatedUnchangedDocumentDiagnosticReport(result_id=result_id)
        return types.RelatedFullDocumentDiagnosticReport(items=diags, result_id=result_id)


def _code_actions(server: ReviewerServer) -> None:
    kinds: list[Any] = [types.CodeActionKind.QuickFix, FIX_ALL_KIND]

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=kinds))
    def code_action(ls: ReviewerServer, params: types.CodeActionParams
                    ) -> list[types.CodeAction]:
        doc = ls.doc(params.text_document.uri)
        ls.review(doc)
        only = params.context.only
        out: list[types.CodeAction] = []
        if only is None or any(str(k).startswith("quickfix") for k in only):
            out.extend(_quick_fixes(ls, doc, params))
        if only is None or any(FIX_ALL_KIND.startswith(str(k)) for k in only):
            fix_all = _fix_all(ls, doc)
            if fix_all is not None:
                out.append(fix_all)
        return out


def _own_diagnostics(ls: ReviewerServer, doc: Doc, params: types.CodeActionParams
                     ) -> list[tuple[types.Diagnostic, Finding]]:
    """The findings the action request is about: the diagnostics it names that are ours,
    else every finding whose range touches the requested range."""
    named = [(d, ls.finding_of(doc, d)) for d in params.context.diagnostics
             if d.source == SOURCE]
    pairs = [(d, f) for d, f in named if f is not None]
    if pairs or params.context.diagnostics:
        return pairs
    want = params.range
    return [(d, f) for d, f in zip(doc.diagnostics, doc.findings, strict=True)
            if not (d.range.end.line < want.start.line or d.range.start.line > want.end.line)]


def _fixed(ls: ReviewerServer, doc: Doc, pairs: list[tuple[types.Diagnostic, Finding]]
           ) -> list[tuple[types.Diagnostic, Finding]]:
    """``pairs`` with each finding's deterministic fix (built now, see ``with_fixes``)."""
    if not pairs:
        return pairs
    by_fp = {f.fingerprint: f for f in ls.with_fixes(doc, [f for _, f in pairs])}
    return [(d, by_fp.get(f.fingerprint, f)) for d, f in pairs]


def _quick_fixes(ls: ReviewerServer, doc: Doc, params: types.CodeActionParams
                 ) -> list[types.CodeAction]:
    text = ls.text(doc)
    lines = Lines(text, ls.encoding)
    cfg = ls.config(doc.place.root)
    out: list[types.CodeAction] = []
    for diag, f in _fixed(ls, doc, _own_diagnostics(ls, doc, params)):
        lang = doc.language or "python"
        if f.fix is not None and validated(doc.place.rel, text, lang, cfg, [f]):
            # A safe fix is the preferred action; an unsafe one (it may change behaviour)
            # is offered too, but never by fix-all.
            what = f.fix.description or "apply the fix"
            out.append(types.CodeAction(
                title=f"{f.rule_id}: {what}" + ("" if f.fix.safe else " (unsafe: review it)"),
                kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
                is_preferred=f.fix.safe or None,
                edit=workspace_edit(doc.uri, doc.version,
                                            lsp_edits(f.fix, lines))))
        if f.model_fix is not None:
            trial = f.with_(fix=None)
            if validated(doc.place.rel, text, lang, cfg, [trial]):
                out.append(types.CodeAction(
                    title=f"{f.rule_id}: apply the model's fix (validated; review it)",
                    kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
                    edit=workspace_edit(doc.uri, doc.version,
                                                lsp_edits(f.model_fix, lines))))
        if f.rule_id != "RV000":
            edit = ignore_edit(f, lines, lang)
            if edit is not None:
                out.append(types.CodeAction(
                    title=f"Ignore {f.rule_id} on this line",
                    kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
                    edit=workspace_edit(doc.uri, doc.version, lsp_edits(
                        replace_fix(edit), lines))))
            if f.explanation is None and f.model_fix is None:
                out.append(types.CodeAction(
                    title=f"{f.rule_id}: explain and propose a fix (local model)",
                    kind=types.CodeActionKind.QuickFix, diagnostics=[diag],
                    command=types.Command(title="Explain and propose a fix",
                                          command=EXPLAIN_COMMAND,
                                          arguments=[doc.uri, f.fingerprint])))
    return out


def replace_fix(edit: Any) -> Any:
    """A one-edit fix (how suppression edits travel to ``lsp_edits``)."""
    from reviewer.findings import Fix

    return Fix("suppress", (edit,))


def _fix_all(ls: ReviewerServer, doc: Doc) -> types.CodeAction | None:
    fixable = [f for f in ls.with_fixes(doc) if f.fix is not None and f.fix.safe]
    if not fixable or doc.language is None:
        return None
    text = ls.text(doc)
    chosen = validated(doc.place.rel, text, doc.language,
                               ls.config(doc.place.root), fixable)
    if not chosen:
        return None
    lines = Lines(text, ls.encoding)
    edits = [e for f in chosen if f.fix is not None for e in lsp_edits(f.fix, lines)]
    return types.CodeAction(
        title="reviewer: fix all safe problems", kind=FIX_ALL_KIND,
        edit=workspace_edit(doc.uri, doc.version, edits))


def _hover(server: ReviewerServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: ReviewerServer, params: types.HoverParams) -> types.Hover | None:
        from reviewer.lsp.hover import describe

        doc = ls.doc(params.text_document.uri)
        ls.review(doc)
        pos = params.position
        hits = [(d, f) for d, f in zip(doc.diagnostics, doc.findings, strict=True)
                if (d.range.start.line, d.range.start.character) <= (pos.line, pos.character)
                <= (d.range.end.line, d.range.end.character)]
        if not hits:
            return None
        text = "\n\n---\n\n".join(describe(f, doc.language) for _, f in hits)
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
            range=hits[0][0].range)


def _explain(server: ReviewerServer) -> None:
    @server.command(EXPLAIN_COMMAND)
    async def explain(ls: ReviewerServer, *args: Any) -> dict[str, Any]:
        return await run_explain(ls, args)


async def run_explain(ls: ReviewerServer, args: tuple[Any, ...]) -> dict[str, Any]:
    """The explain command: [document uri, finding fingerprint] -> what the model gave."""
    if len(args) != 2 or not all(isinstance(a, str) for a in args):
        raise JsonRpcInvalidParams("reviewer.explain takes [document uri, fingerprint]")
    doc = ls.doc(args[0])
    # With its deterministic fix: the model is not asked for a fix where a safe one exists.
    named = [f for f in doc.findings if f.fingerprint == args[1]]
    finding = next((f for f in ls.with_fixes(doc, named) if f.fingerprint == args[1]), None)
    if finding is None:
        raise JsonRpcInvalidParams("no such finding in the document (edited since?)")
    from reviewer.lsp.explain import explain_one

    text = ls.text(doc)
    version = doc.reviewed_version
    cfg = replace(ls.config(doc.place.root), explain=True)
    work = _in_daemon_thread(explain_one, doc.place.root, finding, text, cfg, ls.remote)
    token = await _progress_begin(ls, f"reviewer: explaining {finding.rule_id}")
    try:
        if token is not None:
            cancel = asyncio.wrap_future(ls.work_done_progress.tokens[token])
            await asyncio.wait({work, cancel}, return_when=asyncio.FIRST_COMPLETED)
            if not work.done():  # cancelled by the user: the answer will be dropped
                return {"explained": False, "fix": False, "cancelled": True}
            cancel.cancel()
        got = await work
    finally:
        if token is not None:
            ls.work_done_progress.end(token, types.WorkDoneProgressEnd())
            ls.work_done_progress.tokens.pop(token, None)
    return _take(ls, doc, finding, got, version)


def _take(ls: ReviewerServer, doc: Doc, finding: Finding, got: Any, version: int | None
          ) -> dict[str, Any]:
    """Keep the model's answer for the document (unless it changed meanwhile) and say what
    came of it."""
    if got.problem is not None:
        ls.log_once(f"reviewer: explanations skipped: {got.problem}")
    if got.finding.explanation is None and got.finding.model_fix is None:
        ls.show("reviewer: the model gave no explanation"
                + (f" ({got.problem})" if got.problem else ""),
                types.MessageType.Info)
        return {"explained": False, "fix": False}
    if got.finding.model_fix is None:
        ls.show(f"reviewer: {finding.rule_id}: no model fix validated; "
                "the explanation is in the diagnostic", types.MessageType.Info)
    if version == doc.reviewed_version:
        doc.explained[finding.fingerprint] = got.finding
        doc.reviewed_version = None
        if ls.pull:
            ls.refresh_all()
        else:
            ls.publish(doc.uri)
    return {"explained": got.finding.explanation is not None,
            "fix": got.finding.model_fix is not None}


def _in_daemon_thread(fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """Run ``fn`` in a daemon thread: a model call the user cancelled, still waiting for
    its answer, must not keep the server from exiting."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if fut.done():
            return
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(result)  # type: ignore[arg-type]

    def target() -> None:
        try:
            result = fn(*args)
        except BaseException as exc:  # reviewer: ignore[RV202] handed to the awaiting task
            loop.call_soon_threadsafe(settle, None, exc)
            return
        loop.call_soon_threadsafe(settle, result, None)

    threading.Thread(target=target, daemon=True, name="reviewer-explain").start()
    return fut


async def _progress_begin(ls: ReviewerServer, title: str) -> str | None:
    """A cancellable work-done progress for the model's work, when the client has them."""
    import uuid

    caps = ls.client_capabilities.window
    if caps is None or not caps.work_done_progress:
        return None
    token = f"reviewer-explain-{uuid.uuid4().hex}"
    try:
        await ls.work_done_progress.create_async(token)
    except (JsonRpcException, RuntimeError):  # refused: explain without a progress bar
        return None
    ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title,
                                                                   cancellable=True))
    return token


def uri_of(path: Path) -> str:
    """A file URI for ``path`` (tests and benchmarks)."""
    return str(from_fs_path(str(path)))
