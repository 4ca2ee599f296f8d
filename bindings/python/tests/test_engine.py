"""The embedded engine through Python: namespaces, quota admission, async and sync use."""

import asyncio

import pytest

import hxb

from conftest import NAMESPACE, embedded_or_skip

QUOTA = {
    "apiVersion": "v1", "kind": "ResourceQuota",
    "metadata": {"name": "quota", "namespace": "team-a"},
    "spec": {"hard": {"requests.cpu": "1", "requests.memory": "1Gi", "pods": "10"}},
}


def pod(name, cpu):
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": "team-a", "labels": {"app": "web"}},
        "spec": {"containers": [{"name": "app", "image": "nginx",
                                 "resources": {"requests": {"cpu": cpu, "memory": "128Mi"}}}]},
    }


def test_namespaces_and_quota_admission(engine):
    async def story():
        ns = await engine.apply(NAMESPACE)
        assert ns["metadata"]["name"] == "team-a"
        await engine.apply(QUOTA)
        small = await engine.create(pod("small", "250m"))
        assert small["metadata"]["namespace"] == "team-a"
        with pytest.raises(hxb.QuotaExceededError) as exc:
            await engine.create(pod("big", "2"))
        assert [e.resource for e in exc.value.exceeded] == ["requests.cpu"]
        with pytest.raises(hxb.AlreadyExistsError):
            await engine.create(pod("small", "250m"))
        pods = await engine.list("Pod", "team-a", "app=web")
        assert [p["metadata"]["name"] for p in pods] == ["small"]
        got = await engine.get("pods", "small", "team-a")
        assert got["kind"] == "Pod"
        await engine.delete("Pod", "small", "team-a")
        with pytest.raises(hxb.NotFoundError):
            await engine.get("Pod", "small", "team-a")

    asyncio.run(story())


def test_scope_and_kind_errors(engine):
    async def bad():
        with pytest.raises(hxb.InvalidInputError):
            await engine.get("Pod", "x")  # namespaced kind without a namespace
        with pytest.raises(hxb.InvalidInputError):
            await engine.get("Namespace", "x", "team-a")  # cluster-scoped with one
        with pytest.raises(hxb.InvalidInputError):
            await engine.list("NoSuchKind")
        with pytest.raises(hxb.InvalidInputError):
            await engine.list("Pod", "team-a", "app in (")

    asyncio.run(bad())


def test_context_managers_close_the_engine():
    with embedded_or_skip() as e:
        assert not e.closed
    assert e.closed

    async def use():
        async with embedded_or_skip() as e2:
            assert not e2.closed
        return e2

    assert asyncio.run(use()).closed


def test_options_and_repr():
    e = embedded_or_skip(nodes=2, seed=7)
    assert repr(e) == "Engine(closed=False)"
    e.close()
    assert repr(e) == "Engine(closed=True)"


def test_connect_to_a_missing_kubeconfig_is_a_typed_error():
    with pytest.raises(hxb.HxbError):
        asyncio.run(hxb.Engine.connect("/nonexistent/kubeconfig"))


KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
contexts:
- name: nowhere
  context: {cluster: nowhere, user: nobody}
current-context: nowhere
users:
- name: nobody
  user: {token: x}
"""


def test_a_call_that_waits_is_woken_and_keeps_the_error_chain(tmp_path):
    # A real cluster that is not there (a closed loopback port): the call waits on I/O, is
    # woken by the runtime, and fails with a typed error whose cause chain is the Rust one.
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)

    async def call():
        engine = await hxb.Engine.connect(str(path))
        with pytest.raises((hxb.UnavailableError, hxb.BackendError)) as exc:
            await engine.get("Namespace", "x")
        assert isinstance(exc.value.__cause__, hxb.ErrorCause)
        engine.close()

    asyncio.run(call())
