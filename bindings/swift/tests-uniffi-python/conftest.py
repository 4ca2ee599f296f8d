"""Runs the uniffi layer (the exact FFI Swift uses) through uniffi's generated Python module.

bindings/test.sh generates ``hxb_uniffi.py`` next to a link to the built library in a
temporary directory and passes it as ``HXB_UNIFFI_DIR``.
"""

import os
import sys

import pytest

sys.path.insert(0, os.environ["HXB_UNIFFI_DIR"])

import hxb_uniffi  # noqa: E402


@pytest.fixture
def engine():
    """An embedded engine; skipped while the embedded cluster is not built into the engine."""
    try:
        e = hxb_uniffi.Engine.embedded()
    except hxb_uniffi.HxbError.Internal as err:
        if "not implemented" in err.message:
            pytest.skip("the embedded cluster is not implemented in this build")
        raise
    yield e
    e.close()
