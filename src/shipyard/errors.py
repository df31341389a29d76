"""Shipyard's one exception tree.

Every error a user can cause is a :class:`ShipyardError`. Each class knows its
machine-readable ``code``, the HTTP status the server answers with and the CLI
exit code; the server and the CLI each render them in exactly one place::

    ShipyardError                     INTERNAL            500
    ├── InvalidInputError             INVALID_INPUT       400
    │   └── FilterSyntaxError         INVALID_FILTER      400
    ├── UnauthorizedError             UNAUTHORIZED        401
    ├── PermissionDeniedError         PERMISSION_DENIED   403
    ├── NotFoundError                 NOT_FOUND           404
    ├── ConflictError                 CONFLICT            409
    │   └── AlreadyExistsError        ALREADY_EXISTS      409
    ├── PayloadTooLargeError          PAYLOAD_TOO_LARGE   413
    ├── DataCorruptionError           DATA_CORRUPTION     500
    └── ServiceUnavailableError       UNAVAILABLE         503
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AlreadyExistsError",
    "ConflictError",
    "DataCorruptionError",
    "EnvironmentMismatchError",
    "FilterSyntaxError",
    "InvalidInputError",
    "ModelRefusedInputError",
    "NoPredictionsError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "ServiceUnavailableError",
    "ShipyardError",
    "SignatureError",
    "UnauthorizedError",
    "UnsupportedMediaTypeError",
    "UntrustedModelError",
    "error_from_payload",
]


class ShipyardError(Exception):
    """Root of every error Shipyard raises on purpose."""

    code: ClassVar[str] = "INTERNAL"
    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_payload(self) -> dict[str, Any]:
        """The JSON error body the server sends: ``{"error": {"code", "message"}}``."""
        return {"error": {"code": self.code, "message": self.message}}


class InvalidInputError(ShipyardError):
    """A name, value, path or request that Shipyard refuses."""

    code = "INVALID_INPUT"
    http_status = 400


class FilterSyntaxError(InvalidInputError):
    """A search filter that does not parse; ``position`` is the 0-based offset at fault."""

    code = "INVALID_FILTER"

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.position = position

    def to_payload(self) -> dict[str, Any]:
        payload = super().to_payload()
        if self.position is not None:
            payload["error"]["position"] = self.position
        return payload


class SignatureError(InvalidInputError):
    """Model input that does not fit the model's signature; the message names the column or
    dimension at fault."""

    code = "SIGNATURE_MISMATCH"


class ModelRefusedInputError(InvalidInputError):
    """The model itself raised on a request's input (a ValueError or TypeError)."""

    code = "MODEL_REFUSED_INPUT"


class UnsupportedMediaTypeError(InvalidInputError):
    """A request body in a format the endpoint does not read (its Content-Type)."""

    code = "UNSUPPORTED_MEDIA_TYPE"
    http_status = 415


class UnauthorizedError(ShipyardError):
    code = "UNAUTHORIZED"
    http_status = 401


class PermissionDeniedError(ShipyardError):
    code = "PERMISSION_DENIED"
    http_status = 403


class UntrustedModelError(PermissionDeniedError):
    """Loading this model would run code from its files (a pickle) and nobody said to trust it."""

    code = "UNTRUSTED_MODEL"


class NotFoundError(ShipyardError):
    code = "NOT_FOUND"
    http_status = 404


class NoPredictionsError(NotFoundError):
    """A monitoring window that holds no logged prediction of the model version."""

    code = "NO_PREDICTIONS"


class ConflictError(ShipyardError):
    """The request contradicts what is stored (a param's new value, a deleted run...)."""

    code = "CONFLICT"
    http_status = 409


class AlreadyExistsError(ConflictError):
    code = "ALREADY_EXISTS"


class EnvironmentMismatchError(ConflictError):
    """A model's recorded environment differs from this one by a major version (``strict``)."""

    code = "ENVIRONMENT_MISMATCH"


class PayloadTooLargeError(ShipyardError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413


class DataCorruptionError(ShipyardError):
    """Stored bytes no longer match their content hash."""

    code = "DATA_CORRUPTION"
    http_status = 500


class ServiceUnavailableError(ShipyardError):
    """The server could not be reached, or answered 5xx after every retry."""

    code = "UNAVAILABLE"
    http_status = 503


def _all_subclasses(cls: type[ShipyardError]) -> list[type[ShipyardError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_all_subclasses(sub))
    return found


def error_from_payload(payload: Any, http_status: int) -> ShipyardError:
    """Rebuild the most specific error from a server's JSON error body."""
    body = payload.get("error") if isinstance(payload, dict) else None
    code = body.get("code") if isinstance(body, dict) else None
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str):
        message = f"server answered HTTP {http_status}"
    by_code = {cls.code: cls for cls in reversed(_all_subclasses(ShipyardError))}
    cls = by_code.get(code) if isinstance(code, str) else None
    if cls is None:
        by_status = {c.http_status: c for c in reversed(_all_subclasses(ShipyardError))}
        cls = by_status.get(http_status, ShipyardError)
    if cls is FilterSyntaxError:
        position = body.get("position") if isinstance(body, dict) else None
        return FilterSyntaxError(message, position if isinstance(position, int) else None)
    return cls(message)
