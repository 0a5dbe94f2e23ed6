"""The service's error answers: an exception the routes raise and the JSON OpenAI clients
expect (``{"error": {"message", "type", "code"}}``)."""

from __future__ import annotations

from fastapi.responses import JSONResponse, Response


class ApiError(Exception):
    """An error answer: status, message, OpenAI error type and code."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error",
                 code: str | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.code = status, message, type_, code
        self.headers = headers or {}


def error_response(status: int, message: str, type_: str = "invalid_request_error",
                   code: str | None = None, headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"message": message, "type": type_, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)
