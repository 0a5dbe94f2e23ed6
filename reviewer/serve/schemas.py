"""Request bodies of the service (pydantic; FastAPI validates them and answers 422)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ReviewerOptions(BaseModel):
    """The ``reviewer`` field of a chat request (OpenAI clients send it as extra_body)."""

    model_config = ConfigDict(extra="forbid")
    refine: int | None = Field(default=None, ge=0, le=10)  # refinement passes
    principles: bool = True  # add the principle guidance to the system prompt


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1, le=32768)
    max_completion_tokens: int | None = Field(default=None, ge=1, le=32768)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    seed: int | None = None
    stop: str | list[str] | None = None
    stream: bool = False
    response_format: dict[str, Any] | None = None
    reviewer: ReviewerOptions | None = None


class ReviewFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str = Field(min_length=1, max_length=4096)
    content: str | None = None
    content_base64: str | None = None  # raw bytes, for files that may not be UTF-8
    language: str | None = None


class LineRange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    start: int = Field(ge=1)
    end: int = Field(ge=1)


class ClientContext(BaseModel):
    model_config = ConfigDict(extra="forbid")
    snippets: list[str] = Field(default_factory=list)
    style: str = ""
    # The prompt's repository-context text per finding (fingerprint -> text), as the
    # client's own index retrieved it; findings not named get ``style`` and ``snippets``.
    by_finding: dict[str, str] = Field(default_factory=dict)


class ReviewRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    request_id: str = Field(min_length=1, max_length=200)
    files: list[ReviewFile] = Field(default_factory=list)
    diff: str | None = None
    base: list[ReviewFile] = Field(default_factory=list)  # base contents for ``diff``
    changed_lines: list[LineRange] | None = None
    select: list[str] | None = None
    ignore: list[str] | None = None
    explain: bool = False
    fixes: bool = True  # ask the model for fixes too (validated before they are returned)
    # Fingerprints of the findings to report and explain (the client's own findings, after
    # its baseline and verdicts); None: every finding of the files.
    findings: list[str] | None = None
    max_explained: int | None = Field(default=None, ge=0, le=1000)
    fix_passes: int | None = Field(default=None, ge=0, le=10)
    max_tokens: int | None = Field(default=None, ge=1, le=32768)
    context: ClientContext | None = None
    # The change described as `reviewer describe --format json` does (its facts; the
    # model's type, title, summary and risks too when ``explain``).
    describe: bool = False


class ValidateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str
    language: str = "python"
