"""hxb: the Hexabase.AI platform as an embeddable engine.

>>> import asyncio, hxb
>>> hxb.Quantity("1.5Gi")
Quantity('1536Mi')
>>> hxb.validate_name("team-a")
'team-a'

The :class:`Engine` runs on an embedded, in-process cluster by default; its operations are
coroutines (``await engine.apply(manifest)``). Every error is an :class:`HxbError` subclass.
"""

from ._native import (
    VERSION,
    Engine,
    EventStream,
    Quantity,
    add_resources,
    admit,
    sum_quantities,
    validate_name,
)
from ._errors import (
    AlreadyExistsError,
    BackendError,
    ClosedError,
    ConflictError,
    ErrorCause,
    Exceeded,
    FailedPreconditionError,
    ForbiddenError,
    HxbError,
    InternalError,
    InvalidInputError,
    NotFoundError,
    QuotaExceededError,
    TimeoutError,
    UnavailableError,
    UnschedulableError,
)

__version__ = VERSION

__all__ = [
    "VERSION", "Engine", "EventStream", "Quantity", "add_resources", "admit", "sum_quantities",
    "validate_name", "AlreadyExistsError", "BackendError", "ClosedError", "ConflictError",
    "ErrorCause", "Exceeded", "FailedPreconditionError", "ForbiddenError", "HxbError",
    "InternalError", "InvalidInputError", "NotFoundError", "QuotaExceededError",
    "TimeoutError", "UnavailableError", "UnschedulableError",
]

# --- backup, policy, fleet ---
from ._native import Backups  # noqa: E402

__all__ += ["Backups"]
