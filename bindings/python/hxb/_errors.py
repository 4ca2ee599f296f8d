"""The exception hierarchy: ``HxbError`` and one subclass per stable error kind.

The native module raises these through :func:`_from_native`, the single Python half of the
error mapping. The Rust ``source()`` chain becomes ``__cause__`` (a chain of
:class:`ErrorCause`), and each error carries ``code``, ``details`` and ``retryable``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Type

from ._native import ERROR_KINDS, Quantity

__all__ = [
    "HxbError", "ErrorCause", "InvalidInputError", "NotFoundError", "AlreadyExistsError",
    "ConflictError", "QuotaExceededError", "ForbiddenError", "FailedPreconditionError",
    "UnschedulableError", "UnavailableError", "TimeoutError", "BackendError", "ClosedError",
    "InternalError", "Exceeded",
]


class HxbError(Exception):
    """Every error raised by hxb. ``code`` is the stable kind (``"quota_exceeded"``)."""

    code: str = "internal"

    def __init__(self, message: str, *, details: Optional[Dict[str, Any]] = None,
                 retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.details: Dict[str, Any] = details or {}
        self.retryable = retryable

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"


class ErrorCause(Exception):
    """One message of the native error's ``source()`` chain (found in ``__cause__``)."""


class InvalidInputError(HxbError, ValueError):
    """Malformed input (a name, a quantity, a manifest). Nothing changed."""
    code = "invalid_input"


class NotFoundError(HxbError, LookupError):
    """The object does not exist."""
    code = "not_found"


class AlreadyExistsError(HxbError):
    """An object with that identity already exists."""
    code = "already_exists"


class ConflictError(HxbError):
    """A concurrent change won; re-read and retry."""
    code = "conflict"


@dataclass(frozen=True)
class Exceeded:
    """One resource a request would push over its quota."""
    resource: str
    requested: Quantity
    used: Quantity
    limit: Quantity


class QuotaExceededError(HxbError):
    """Quota admission refused the request; ``exceeded`` lists each offending resource."""
    code = "quota_exceeded"

    @property
    def quota(self) -> str:
        return str(self.details.get("quota", ""))

    @property
    def exceeded(self) -> List[Exceeded]:
        return [
            Exceeded(e["resource"], Quantity(e["requested"]), Quantity(e["used"]),
                     Quantity(e["limit"]))
            for e in self.details.get("exceeded", [])
        ]


class ForbiddenError(HxbError, PermissionError):
    """RBAC or a policy refused the request."""
    code = "forbidden"


class FailedPreconditionError(HxbError):
    """The current state does not allow the request."""
    code = "failed_precondition"


class UnschedulableError(HxbError):
    """No node can run the workload."""
    code = "unschedulable"


class UnavailableError(HxbError):
    """A dependency is temporarily unavailable; retry later."""
    code = "unavailable"


class TimeoutError(HxbError):  # noqa: A001 - deliberately hxb.TimeoutError
    """The operation did not finish in time."""
    code = "timeout"


class BackendError(HxbError):
    """The backend failed."""
    code = "backend"


class ClosedError(HxbError):
    """The engine was closed."""
    code = "closed"


class InternalError(HxbError):
    """A bug in hxb (an invariant broke, or native code panicked); please report it."""
    code = "internal"


ERROR_CLASSES: Dict[str, Type[HxbError]] = {
    cls.code: cls
    for cls in (InvalidInputError, NotFoundError, AlreadyExistsError, ConflictError,
                QuotaExceededError, ForbiddenError, FailedPreconditionError, UnschedulableError,
                UnavailableError, TimeoutError, BackendError, ClosedError, InternalError)
}
assert set(ERROR_CLASSES) == set(ERROR_KINDS), "error classes out of step with the engine"


def _from_native(kind: str, message: str, causes: List[str], details: Dict[str, Any],
                 retryable: bool) -> HxbError:
    cls = ERROR_CLASSES.get(kind, HxbError)
    err = cls(message, details=details, retryable=retryable)
    if cls is HxbError:
        err.code = kind
    below: Optional[BaseException] = None
    for text in reversed(causes):
        cause = ErrorCause(text)
        cause.__cause__ = below
        below = cause
    err.__cause__ = below
    return err

for _cls in (HxbError, ErrorCause, Exceeded, *ERROR_CLASSES.values()):
    _cls.__module__ = "hxb"
