import pytest

import hxb
from hxb import _native

CLASSES = {
    "invalid_input": hxb.InvalidInputError,
    "not_found": hxb.NotFoundError,
    "already_exists": hxb.AlreadyExistsError,
    "conflict": hxb.ConflictError,
    "quota_exceeded": hxb.QuotaExceededError,
    "forbidden": hxb.ForbiddenError,
    "failed_precondition": hxb.FailedPreconditionError,
    "unschedulable": hxb.UnschedulableError,
    "unavailable": hxb.UnavailableError,
    "timeout": hxb.TimeoutError,
    "backend": hxb.BackendError,
    "closed": hxb.ClosedError,
    "internal": hxb.InternalError,
}


def test_one_class_per_engine_error_kind():
    assert list(CLASSES) == _native.ERROR_KINDS


@pytest.mark.parametrize("kind", list(CLASSES))
def test_each_kind_raises_its_class(kind):
    with pytest.raises(CLASSES[kind]) as exc:
        _native._raise_sample_error(kind)
    err = exc.value
    assert isinstance(err, hxb.HxbError)
    assert err.code == kind
    assert str(err) == err.message and err.message
    assert isinstance(err.details, dict)
    assert err.retryable == (kind in {"conflict", "unavailable", "timeout"})
    assert repr(err).startswith(type(err).__name__ + "(")


def test_rust_error_chain_is_the_cause_chain():
    with pytest.raises(hxb.BackendError) as exc:
        _native._raise_sample_error("backend")
    first = exc.value.__cause__
    assert isinstance(first, hxb.ErrorCause) and str(first) == "connection refused"
    assert str(first.__cause__) == "no route to host"
    assert first.__cause__.__cause__ is None


def test_errors_without_a_source_have_no_cause():
    with pytest.raises(hxb.NotFoundError) as exc:
        _native._raise_sample_error("not_found")
    assert exc.value.__cause__ is None
    assert exc.value.details == {"kind": "Namespace", "name": "ghost"}


def test_idiomatic_bases():
    assert issubclass(hxb.InvalidInputError, ValueError)
    assert issubclass(hxb.NotFoundError, LookupError)
    assert issubclass(hxb.ForbiddenError, PermissionError)
    assert hxb.InvalidInputError.__module__ == "hxb"


def test_unknown_sample_kind_is_invalid_input():
    with pytest.raises(hxb.InvalidInputError):
        _native._raise_sample_error("nonsense")
