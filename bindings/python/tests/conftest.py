import pytest

import hxb


def embedded_or_skip(**kwargs):
    """An embedded engine; skipped while the embedded cluster is not built into the engine."""
    try:
        return hxb.Engine.embedded(**kwargs)
    except hxb.InternalError as err:
        if "not implemented" in str(err):
            pytest.skip("the embedded cluster is not implemented in this build")
        raise


@pytest.fixture
def engine():
    e = embedded_or_skip()
    yield e
    e.close()


NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}
