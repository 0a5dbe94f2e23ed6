"""The text of a reviewed file and of a range of its lines, as verdict snapshots keep it
(shared by :mod:`reviewer.feedback.snapshot`, which records findings, and
:mod:`reviewer.feedback.store`, which fills a snapshot's function in at a verdict)."""

from __future__ import annotations

from pathlib import Path

from reviewer.findings import split_lines


def function_text(root: Path, path: str, line: int, code: str, start: int, end: int) -> str:
    """Lines ``start..end`` of the file ``path`` under ``root`` as it is now, as
    ``snapshot.enclosing_function`` gives them; "" when the file cannot be read or its line
    ``line`` is no longer the first line of the recorded ``code`` (the file changed)."""
    try:
        data = (root / path).read_bytes()
    except OSError:
        return ""
    lines = split_lines(decode(path, data), keepends=True)
    first = code.split("\n", 1)[0].strip()
    if not 0 < line <= len(lines) or lines[line - 1].strip() != first:
        return ""
    return joined(lines, start, end)


def joined(lines: list[str], start: int, end: int) -> str:
    """Lines ``start..end`` (1-based, inclusive) joined with LF endings, without the last."""
    text = "".join(lines[max(0, start - 1):end])
    if "\r" in text:
        text = "\n".join(ln.rstrip("\r\n") for ln in lines[max(0, start - 1):end]) + "\n"
    return text[:-1] if text.endswith("\n") else text


def decode(path: str, data: bytes) -> str:
    """The text of a reviewed file (its coding cookie honoured; undecodable bytes replaced)."""
    if not path.endswith(".py") or b"coding" not in b"\n".join(data.split(b"\n", 2)[:2]):
        # No coding cookie on the first two lines: UTF-8 (a BOM dropped, as tokenize does).
        return data.decode("utf-8-sig", "replace")
    import io
    import tokenize

    try:
        encoding = tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError:
        encoding = "utf-8"
    try:
        return data.decode(encoding, "replace")
    except LookupError:
        return data.decode("utf-8", "replace")
