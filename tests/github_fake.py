"""A local stand-in for GitHub's REST API, strict where GitHub is strict.

An ``http.server`` on 127.0.0.1 in a thread, for the real PyGithub client (``base_url``).
It serves one repository with one pull request and behaves like GitHub where a reviewer
can go wrong:

- a review whose comments point at any line outside the diff's hunks fails as a whole with
  422 and no hint which comment was wrong (multi-line comments must stay in one hunk);
- check runs take at most 50 annotations per request (422 beyond), and each update adds
  its annotations to the ones before;
- only app tokens may create check runs (403 for personal tokens), read-only tokens (a
  fork's) may not write anything (403), unknown tokens get 401; an app token cannot read
  ``/user`` (403);
- lists are paginated with ``Link`` headers; comments carry their author and creation
  time, review comments their reaction counts (as GitHub's list does);
- people answer reviewer's comments: reactions (``POST``/``GET
  /pulls/comments/{id}/reactions``) and replies (``POST /pulls/{n}/comments/{id}/replies``,
  ``in_reply_to_id`` always the thread's first comment), with the personal tokens ``PAT``
  (octocat) and ``PAT2`` (monalisa).

Every request is recorded (method, path, JSON body) for assertions.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

APP = "ghs_app_token"  # an Actions GITHUB_TOKEN / app installation token
PAT = "ghp_personal_token"
PAT2 = "ghp_second_person"
READ_ONLY = "ghs_fork_token"
BOT = {"login": "github-actions[bot]", "type": "Bot", "id": 41898282}
HUMAN = {"login": "octocat", "type": "User", "id": 1}
HUMAN2 = {"login": "monalisa", "type": "User", "id": 2}
REACTION_KINDS = ("+1", "-1", "laugh", "confused", "heart", "hooray", "rocket", "eyes")
MAX_ANNOTATIONS = 50


def new_side_lines(patch: str) -> list[set[int]]:
    """Per hunk, the new-side line numbers GitHub lets a RIGHT comment point at."""
    hunks: list[set[int]] = []
    line = 0
    for text in patch.splitlines():
        m = re.match(r"@@ -\S+ \+(\d+)(?:,\d+)? @@", text)
        if m:
            line = int(m.group(1))
            hunks.append(set())
        elif hunks and text.startswith((" ", "+")):
            hunks[-1].add(line)
            line += 1
    return hunks


def patches_from_git(repo: Path, base: str, head: str) -> list[dict[str, Any]]:
    """The PR's files as GitHub lists them: filename, status and the hunks-only patch."""
    names = subprocess.run(
        ["git", "diff", "--name-status", "-z", f"{base}...{head}"], cwd=repo, check=True,
        capture_output=True, text=True,
    ).stdout.split("\0")
    files = []
    status_names = {"A": "added", "M": "modified", "D": "removed"}
    i = 0
    while i < len(names) - 1:
        status, name = names[i], names[i + 1]
        i += 2
        diff = subprocess.run(
            ["git", "diff", "--unified=3", f"{base}...{head}", "--", name], cwd=repo,
            check=True, capture_output=True, text=True,
        ).stdout
        patch = diff[diff.index("@@"):] if "@@" in diff else None
        files.append({"filename": name, "status": status_names.get(status[0], "modified"),
                      "patch": patch.rstrip("\n") if patch else None})
    return files


@dataclass
class State:
    """The repository, PR and everything posted to it."""

    owner: str = "octo"
    name: str = "demo"
    number: int = 7
    head_sha: str = "0" * 40
    base_sha: str = "0" * 40
    files: list[dict[str, Any]] = field(default_factory=list)
    reviews: list[dict[str, Any]] = field(default_factory=list)
    review_comments: list[dict[str, Any]] = field(default_factory=list)
    issue_comments: list[dict[str, Any]] = field(default_factory=list)
    check_runs: list[dict[str, Any]] = field(default_factory=list)
    reactions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    requests: list[tuple[str, str, Any]] = field(default_factory=list)
    next_id: int = 1000
    per_page_cap: int = 100

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def stamp(self) -> str:
        """A creation time: one second later for every object created (deterministic)."""
        self.next_id += 1
        minutes, seconds = divmod(self.next_id, 60)
        return f"2026-01-01T{minutes // 60 % 24:02d}:{minutes % 60:02d}:{seconds:02d}Z"

    def writes(self, method: str | None = None, kind: str = "") -> list[tuple[str, str, Any]]:
        """Recorded write requests (optionally one method, paths containing ``kind``)."""
        return [r for r in self.requests if r[0] != "GET" and (method is None or r[0] == method)
                and kind in r[1]]


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors: list[Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


class FakeGitHub:
    """The server; ``url`` is the API root to give PyGithub as ``base_url``."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)

    def for_path(self, path: str) -> FakeGitHub:
        """The server whose state answers ``path`` (this one; see ManyPulls)."""
        return self

    # -- helpers for the routes -----------------------------------------------------------
    @property
    def repo_url(self) -> str:
        return f"{self.url}/repos/{self.state.owner}/{self.state.name}"

    def user_for(self, token: str | None) -> dict[str, Any]:
        if token in (APP, READ_ONLY):
            return BOT
        if token == PAT:
            return HUMAN
        if token == PAT2:
            return HUMAN2
        raise ApiError(401, "Bad credentials")

    def repo_json(self) -> dict[str, Any]:
        s = self.state
        return {"id": 1, "name": s.name, "full_name": f"{s.owner}/{s.name}",
                "owner": {"login": s.owner, "type": "Organization"}, "url": self.repo_url,
                "html_url": f"https://github.example/{s.owner}/{s.name}", "private": False}

    def pull_json(self) -> dict[str, Any]:
        s = self.state
        return {
            "id": 77, "number": s.number, "state": "open", "title": "A change",
            "url": f"{self.repo_url}/pulls/{s.number}",
            "issue_url": f"{self.repo_url}/issues/{s.number}",
            "html_url": f"https://github.example/{s.owner}/{s.name}/pull/{s.number}",
            "head": {"sha": s.head_sha, "ref": "topic", "repo": self.repo_json()},
            "base": {"sha": s.base_sha, "ref": "main", "repo": self.repo_json()},
            "user": HUMAN,
        }

    def check_line(self, comment: dict[str, Any]) -> bool:
        files = {f["filename"]: f for f in self.state.files}
        f = files.get(comment.get("path", ""))
        if f is None or not f.get("patch") or comment.get("side", "RIGHT") != "RIGHT":
            return False
        line = comment.get("line")
        start = comment.get("start_line", line)
        if not isinstance(line, int) or not isinstance(start, int) or start > line:
            return False
        if "start_line" in comment and comment.get("start_side", "RIGHT") != "RIGHT":
            return False
        return any(set(range(start, line + 1)) <= hunk for hunk in new_side_lines(f["patch"]))

    def comment_json(self, c: dict[str, Any], kind: str) -> dict[str, Any]:
        base = (f"{self.repo_url}/pulls/comments" if kind == "review"
                else f"{self.repo_url}/issues/comments")
        out = {**c, "url": f"{base}/{c['id']}",
               "html_url": f"https://github.example/c/{c['id']}"}
        if kind == "review":
            given = self.state.reactions.get(c["id"], [])
            counts: dict[str, Any] = {k: sum(r["content"] == k for r in given)
                                      for k in REACTION_KINDS}
            out["reactions"] = {"url": f"{base}/{c['id']}/reactions",
                                "total_count": len(given), **counts}
        return out

    def __enter__(self) -> FakeGitHub:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        fake = self.fake.for_path(parts.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._send(400, {"message": "Problems parsing JSON"})
            return
        auth = self.headers.get("Authorization", "")
        token = auth.split(" ", 1)[1] if " " in auth else None
        with fake.lock:
            fake.state.requests.append((method, parts.path, body))
            try:
                status, payload, headers = _route(fake, method, parts.path, query, body, token)
            except ApiError as exc:
                err: dict[str, Any] = {"message": exc.message,
                                       "documentation_url": "https://docs.github.com/rest"}
                if exc.errors is not None:
                    err["errors"] = exc.errors
                status, payload, headers = exc.status, err, {}
        self._send(status, payload, headers)

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


def _page(fake: FakeGitHub, path: str, items: list[Any], query: dict[str, str]
          ) -> tuple[int, Any, dict[str, str]]:
    per_page = min(int(query.get("per_page", 30)), fake.state.per_page_cap)
    page = int(query.get("page", 1))
    chunk = items[(page - 1) * per_page: page * per_page]
    headers = {}
    if page * per_page < len(items):
        headers["Link"] = f'<{fake.url}{path}?per_page={per_page}&page={page + 1}>; rel="next"'
    return 200, chunk, headers


def _route(fake: FakeGitHub, method: str, path: str, query: dict[str, str], body: Any,
           token: str | None) -> tuple[int, Any, dict[str, str]]:
    s = fake.state
    user = fake.user_for(token)  # 401 for unknown tokens
    if path == "/user":
        if token != PAT:
            raise ApiError(403, "Resource not accessible by integration")
        return 200, {**HUMAN, "url": f"{fake.url}/users/octocat"}, {}
    prefix = f"/repos/{s.owner}/{s.name}"
    if not path.startswith(prefix):
        raise ApiError(404, "Not Found")
    rest = path[len(prefix):]
    writes = method in ("POST", "PATCH")
    if writes and token == READ_ONLY:
        raise ApiError(403, "Resource not accessible by integration")
    pr = f"/pulls/{s.number}"
    if method == "GET" and rest == "":
        return 200, fake.repo_json(), {}
    if method == "GET" and rest == pr:
        return 200, fake.pull_json(), {}
    if method == "GET" and rest == pr + "/files":
        items = [{**f, "sha": "f" * 40, "additions": 1, "deletions": 0, "changes": 1}
                 for f in s.files]
        return _page(fake, path, items, query)
    m = re.fullmatch(r"/commits/([0-9a-f]{40})", rest)
    if method == "GET" and m:
        return 200, {"sha": m.group(1), "url": f"{fake.repo_url}/commits/{m.group(1)}"}, {}
    if rest == pr + "/reviews":
        if method == "GET":
            return _page(fake, path, s.reviews, query)
        return _create_review(fake, body, user)
    if method == "GET" and rest == pr + "/comments":
        items = [fake.comment_json(c, "review") for c in s.review_comments]
        return _page(fake, path, items, query)
    m = re.fullmatch(r"/pulls/comments/(\d+)/reactions", rest)
    if m:
        return _reactions(fake, int(m.group(1)), method, path, query, body, user)
    m = re.fullmatch(pr + r"/comments/(\d+)/replies", rest)
    if m and method == "POST":
        return _reply(fake, int(m.group(1)), body, user)
    m = re.fullmatch(r"/pulls/comments/(\d+)", rest)
    if m:
        return _one_comment(fake, s.review_comments, int(m.group(1)), method, body, user,
                            "review")
    if rest == f"/issues/{s.number}/comments":
        if method == "GET":
            items = [fake.comment_json(c, "issue") for c in s.issue_comments]
            return _page(fake, path, items, query)
        if method == "POST":
            c = {"id": s.new_id(), "body": body["body"], "user": user,
                 "created_at": s.stamp()}
            s.issue_comments.append(c)
            return 201, fake.comment_json(c, "issue"), {}
    m = re.fullmatch(r"/issues/comments/(\d+)", rest)
    if m:
        return _one_comment(fake, s.issue_comments, int(m.group(1)), method, body, user,
                            "issue")
    if rest == "/check-runs" and method == "POST":
        return _check_run(fake, None, body, token)
    m = re.fullmatch(r"/check-runs/(\d+)", rest)
    if m and method == "PATCH":
        return _check_run(fake, int(m.group(1)), body, token)
    raise ApiError(404, "Not Found")


def _create_review(fake: FakeGitHub, body: Any, user: dict[str, Any]
                   ) -> tuple[int, Any, dict[str, str]]:
    s = fake.state
    if body.get("commit_id") not in (None, s.head_sha):
        raise ApiError(422, "Unprocessable Entity", ["commit_id is not part of the pull request"])
    comments = body.get("comments") or []
    if not all(fake.check_line(c) for c in comments):
        # As GitHub: the whole review fails, without saying which comment was wrong.
        raise ApiError(422, "Unprocessable Entity", ["Line could not be resolved"])
    review_id = s.new_id()
    for c in comments:
        s.review_comments.append({
            "id": s.new_id(), "pull_request_review_id": review_id, "body": c["body"],
            "path": c["path"], "line": c["line"], "start_line": c.get("start_line"),
            "side": "RIGHT", "commit_id": s.head_sha, "user": user,
            "created_at": s.stamp(),
        })
    review = {"id": review_id, "body": body.get("body", ""), "state": "COMMENTED",
              "commit_id": s.head_sha, "user": user,
              "html_url": f"https://github.example/r/{review_id}"}
    s.reviews.append(review)
    return 200, review, {}


def _reactions(fake: FakeGitHub, cid: int, method: str, path: str, query: dict[str, str],
               body: Any, user: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
    s = fake.state
    if not any(c["id"] == cid for c in s.review_comments):
        raise ApiError(404, "Not Found")
    given = s.reactions.setdefault(cid, [])
    if method == "GET":
        return _page(fake, path, given, query)
    if method != "POST":
        raise ApiError(404, "Not Found")
    content = (body or {}).get("content")
    if content not in REACTION_KINDS:
        raise ApiError(422, "Validation Failed", ["content is not a valid reaction"])
    for r in given:  # as GitHub: the same person's same reaction exists once (200)
        if r["content"] == content and r["user"]["login"] == user["login"]:
            return 200, r, {}
    reaction = {"id": s.new_id(), "content": content, "user": user,
                "created_at": s.stamp(), "node_id": f"R{len(given)}"}
    given.append(reaction)
    return 201, reaction, {}


def _reply(fake: FakeGitHub, cid: int, body: Any, user: dict[str, Any]
           ) -> tuple[int, Any, dict[str, str]]:
    s = fake.state
    found = [c for c in s.review_comments if c["id"] == cid]
    if not found:
        raise ApiError(404, "Not Found")
    top = found[0]
    thread = top.get("in_reply_to_id") or top["id"]  # replies point at the first comment
    c = {"id": s.new_id(), "pull_request_review_id": top.get("pull_request_review_id"),
         "body": (body or {}).get("body", ""), "path": top["path"], "line": top["line"],
         "start_line": None, "side": "RIGHT", "commit_id": s.head_sha, "user": user,
         "in_reply_to_id": thread, "created_at": s.stamp()}
    s.review_comments.append(c)
    return 201, fake.comment_json(c, "review"), {}


def _one_comment(fake: FakeGitHub, store: list[dict[str, Any]], cid: int, method: str,
                 body: Any, user: dict[str, Any], kind: str) -> tuple[int, Any, dict[str, str]]:
    found = [c for c in store if c["id"] == cid]
    if not found:
        raise ApiError(404, "Not Found")
    c = found[0]
    if method == "PATCH":
        if c["user"]["login"] != user["login"]:
            raise ApiError(403, "You cannot edit someone else's comment")
        c["body"] = body["body"]
    elif method != "GET":
        raise ApiError(404, "Not Found")
    return 200, fake.comment_json(c, kind), {}


def _check_run(fake: FakeGitHub, run_id: int | None, body: Any, token: str | None
               ) -> tuple[int, Any, dict[str, str]]:
    s = fake.state
    if token != APP:
        raise ApiError(403, "You must authenticate via a GitHub App.")
    output = body.get("output") or {}
    annotations = output.get("annotations") or []
    if len(annotations) > MAX_ANNOTATIONS:
        raise ApiError(422, "Invalid request.",
                       [f"Only {MAX_ANNOTATIONS} annotations are allowed per request"])
    for a in annotations:
        if not {"path", "start_line", "end_line", "annotation_level", "message"} <= set(a):
            raise ApiError(422, "Invalid request.", ["annotation is missing a field"])
    if run_id is None:
        run = {"id": s.new_id(), "name": body["name"], "head_sha": body["head_sha"],
               "status": body.get("status"), "conclusion": body.get("conclusion"),
               "output": {"title": output.get("title"), "summary": output.get("summary"),
                          "annotations": list(annotations)}}
        s.check_runs.append(run)
        status = 201
    else:
        found = [r for r in s.check_runs if r["id"] == run_id]
        if not found:
            raise ApiError(404, "Not Found")
        run = found[0]
        run["output"]["annotations"].extend(annotations)
        status = 200
    payload = {k: v for k, v in run.items() if k != "output"}
    payload.update({"url": f"{fake.repo_url}/check-runs/{run['id']}",
                    "output": {"title": run["output"]["title"],
                               "summary": run["output"]["summary"],
                               "annotations_count": len(run["output"]["annotations"])}})
    return status, payload, {}


class ManyPulls(FakeGitHub):
    """Several pull requests of one repository, one State each (``number`` set to the PR's):
    a request goes to the State of the PR its path names (``/pulls/N``, ``/issues/N``), or
    that holds the comment it names; comment ids are unique across the States."""

    def __init__(self, states: list[State]) -> None:
        super().__init__(states[0])
        self.states = {s.number: s for s in states}
        for i, s in enumerate(states):
            s.next_id = 1_000_000 * (i + 1)
        self._views: dict[int, FakeGitHub] = {}

    def _view(self, state: State) -> FakeGitHub:
        import copy

        view = self._views.get(state.number)
        if view is None:
            view = self._views[state.number] = copy.copy(self)
            view.state = state
        return view

    def for_path(self, path: str) -> FakeGitHub:
        m = re.search(r"/(?:pulls|issues)/(\d+)(?:/|$)", path)
        if m and int(m.group(1)) in self.states:
            return self._view(self.states[int(m.group(1))])
        m = re.search(r"/(?:pulls|issues)/comments/(\d+)", path)
        if m:
            cid = int(m.group(1))
            for s in self.states.values():
                if any(c["id"] == cid for c in (*s.review_comments, *s.issue_comments)):
                    return self._view(s)
        return self


@contextmanager
def serve(state: State) -> Iterator[FakeGitHub]:
    """Run a FakeGitHub for ``state`` while the block runs."""
    with FakeGitHub(state) as fake:
        yield fake


# -- a pull request of a real repository, served by the fake ------------------------------
class PR:
    """A repository with a base branch (``main``) and a topic branch at HEAD, served as
    PR #7 of octo/demo by the fake (its head and files follow the repository)."""

    def __init__(self, repo: Any, fake: FakeGitHub) -> None:
        self.repo, self.fake, self.state = repo, fake, fake.state
        self.refresh()

    def refresh(self) -> None:
        """Point the fake PR at the repository's current HEAD."""
        base = self.repo.git("rev-parse", "main").strip()
        head = self.repo.git("rev-parse", "HEAD").strip()
        self.state.base_sha, self.state.head_sha = base, head
        self.state.files = patches_from_git(self.repo.path, base, head)

    def push(self, rel: str, text: str) -> None:
        """Commit a new version of ``rel`` on the topic branch (the PR follows)."""
        self.repo.write(rel, text)
        self.repo.commit_all(f"edit {rel}")
        self.refresh()

    def person(self, token: str) -> Any:
        """The PR as somebody with ``token`` sees it through PyGithub."""
        from github import Auth, Github

        gh = Github(auth=Auth.Token(token), base_url=self.fake.url,
                    seconds_between_requests=None, seconds_between_writes=None, retry=None)
        return gh.get_repo("octo/demo").get_pull(7)

    def bot_comments(self) -> dict[str, dict[str, Any]]:
        """rule id -> reviewer's inline comment."""
        from reviewer.github import render

        out: dict[str, dict[str, Any]] = {}
        for c in self.state.review_comments:
            if render.marked_fp(c["body"]):
                rule = c["body"].split("**")[1].split()[0]
                out.setdefault(rule if rule not in out else rule + "'", c)
        return out


@contextmanager
def pull_request(repo: Any, monkeypatch: Any, base: dict[str, str],
                 head: dict[str, str]) -> Iterator[PR]:
    """Commit ``base`` on main and ``head`` on a topic branch, serve them as PR #7 with an
    app token in the environment (no step summary, no API URL from the environment)."""
    for rel, text in base.items():
        repo.write(rel, text)
    repo.commit_all("base")
    repo.git("checkout", "-q", "-b", "topic")
    for rel, text in head.items():
        repo.write(rel, text)
    repo.commit_all("topic")
    monkeypatch.setenv("GITHUB_TOKEN", APP)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.delenv("GITHUB_API_URL", raising=False)
    with serve(State()) as fake:
        yield PR(repo, fake)


def run_github(run_cli: Any, pr: PR, command: str, *args: str) -> tuple[int, str, str]:
    """``reviewer github COMMAND`` on the fake's PR #7."""
    result: tuple[int, str, str] = run_cli(
        "github", command, "--repo", "octo/demo", "--pr", "7", "--api-url", pr.fake.url,
        "--no-throttle", *args)
    return result
