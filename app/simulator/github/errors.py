"""GitHub-shaped error responses: `{"message", "documentation_url"}` (422 adds `errors`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

DOCS = "https://docs.github.com/rest"


class GitHubError(Exception):
    """Raised anywhere in a request; answered as GitHub would answer it."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        # GitHub's `errors` holds objects ({resource, field, code}) or, on some routes, strings.
        errors: list[Any] | None = None,
        headers: dict[str, str] | None = None,
        documentation_url: str = DOCS,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        self.documentation_url = documentation_url

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message": self.message,
            "documentation_url": self.documentation_url,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        body["status"] = str(self.status)
        return body


def not_found() -> GitHubError:
    return GitHubError(404, "Not Found")


def bad_credentials() -> GitHubError:
    return GitHubError(401, "Bad credentials")


def validation_failed(
    resource: str, field: str, code: str = "invalid", message: str | None = None
) -> GitHubError:
    error: dict[str, Any] = {"resource": resource, "field": field, "code": code}
    if message is not None:
        error["message"] = message
    return GitHubError(422, "Validation Failed", errors=[error])


def error_response(error: GitHubError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


def install_error_handlers(app: FastAPI) -> None:
    async def on_github_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, GitHubError)
        return error_response(exc)

    async def on_http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            return error_response(not_found())
        return error_response(GitHubError(exc.status_code, str(exc.detail)))

    async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
        return error_response(GitHubError(422, "Invalid request.", errors=[]))

    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        # A bug in the simulator; answer like GitHub's 500 (the server still logs the traceback).
        return error_response(GitHubError(500, f"Server Error: {type(exc).__name__}: {exc}"))

    app.add_exception_handler(GitHubError, on_github_error)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
