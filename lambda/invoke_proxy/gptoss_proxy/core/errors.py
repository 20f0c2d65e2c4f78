"""OpenAI-shaped errors, and the backend failures adapters report to the core."""

from __future__ import annotations


class ProxyError(Exception):
    """An error the client sees as OpenAI's error object with an HTTP status."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


class BackendError(Exception):
    """A model backend failed. ``fallback`` says whether another route may be tried instead."""

    status = 502
    type = "api_error"
    code = "backend_error"
    fallback = False

    def to_proxy_error(self) -> ProxyError:
        return ProxyError(self.status, str(self) or self.code, type=self.type, code=self.code)


class BackendThrottled(BackendError):
    status, type, code, fallback = 429, "rate_limit_error", "rate_limit_exceeded", True

    def __init__(self, message: str = "the model backend is throttling requests", retry_after: int = 2) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def to_proxy_error(self) -> ProxyError:
        err = super().to_proxy_error()
        err.headers["Retry-After"] = str(self.retry_after)
        return err


class BackendCapacity(BackendError):
    """No capacity (e.g. a scaled-to-zero endpoint waking up)."""

    status, type, code, fallback = 503, "api_error", "model_capacity", True

    def to_proxy_error(self) -> ProxyError:
        err = super().to_proxy_error()
        err.headers["Retry-After"] = "60"
        return err


class BackendTimeout(BackendError):
    status, type, code, fallback = 504, "timeout", "backend_timeout", True


class BackendFailure(BackendError):
    status, type, code = 502, "api_error", "backend_error"


class BackendRejected(BackendError):
    """The backend refused the request as invalid (a 400 the client can fix)."""

    status, type, code = 400, "invalid_request_error", "invalid_request"
