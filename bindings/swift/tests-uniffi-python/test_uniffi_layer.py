"""The uniffi layer (Swift's FFI), exercised through uniffi's Python bindings."""

import asyncio
import json
import math
import threading

import pytest

from hxb_uniffi import (
    Engine,
    EngineOptions,
    HxbError,
    Quantity,
    add_resources,
    admit,
    error_kinds,
    raise_sample_error,
    sum_quantities,
    validate_name,
    version,
)

CASES = {
    "invalid_input": HxbError.InvalidInput,
    "not_found": HxbError.NotFound,
    "already_exists": HxbError.AlreadyExists,
    "conflict": HxbError.Conflict,
    "quota_exceeded": HxbError.QuotaExceeded,
    "forbidden": HxbError.Forbidden,
    "failed_precondition": HxbError.FailedPrecondition,
    "unschedulable": HxbError.Unschedulable,
    "unavailable": HxbError.Unavailable,
    "timeout": HxbError.Timeout,
    "backend": HxbError.Backend,
    "closed": HxbError.Closed,
    "internal": HxbError.Internal,
}


def test_version_and_kinds():
    assert version().count(".") == 2
    assert error_kinds() == list(CASES)


def test_quantity_parse_display_and_arithmetic():
    q = Quantity("1.5Gi")
    assert str(q) == "1536Mi"
    assert q.value() == 1_610_612_736
    assert Quantity("0.1").milli_value() == 100
    assert q == Quantity("1536Mi")
    assert hash(q) == hash(Quantity("1536Mi"))
    assert str(q.add(Quantity("512Mi"))) == "2Gi"
    assert str(Quantity("1").sub(Quantity("250m"))) == "750m"
    assert str(Quantity("250m").mul(4)) == "1"
    assert Quantity("1").compare(Quantity("999m")) == 1
    assert Quantity.from_double(0.25).to_double() == 0.25


@pytest.mark.parametrize("bad", ["", "1.5.5Gi", "12XB", "Gi", "1e", "--1"])
def test_bad_quantities_are_invalid_input(bad):
    with pytest.raises(HxbError.InvalidInput) as exc:
        Quantity(bad)
    assert json.loads(exc.value.details_json)["field"] == "quantity"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_doubles_are_invalid_input(value):
    with pytest.raises(HxbError.InvalidInput):
        Quantity.from_double(value)


def test_overflow_is_invalid_input_not_a_crash():
    big = Quantity("100E")
    with pytest.raises(HxbError.InvalidInput):
        big.mul(2**62)
    with pytest.raises(HxbError.InvalidInput):
        Quantity("1e40")


def test_names():
    assert validate_name("team-a") == "team-a"
    with pytest.raises(HxbError.InvalidInput) as exc:
        validate_name("Team_A")
    details = json.loads(exc.value.details_json)
    assert details["value"] == "Team_A"
    assert "lower case" in details["reason"]


def test_wrong_types_and_non_utf8_are_catchable():
    with pytest.raises(TypeError):
        validate_name(42)
    with pytest.raises(TypeError):
        validate_name(None)
    with pytest.raises(UnicodeEncodeError):
        validate_name("bad\udcff")


@pytest.mark.parametrize("kind", list(CASES))
def test_every_error_kind_maps_to_its_case(kind):
    with pytest.raises(CASES[kind]) as exc:
        raise_sample_error(kind)
    assert isinstance(exc.value, HxbError)
    assert exc.value.message
    assert isinstance(json.loads(exc.value.details_json), dict)


def test_error_chain_is_kept():
    with pytest.raises(HxbError.Backend) as exc:
        raise_sample_error("backend")
    assert exc.value.causes == ["connection refused", "no route to host"]


def test_quota_admission():
    hard = {"requests.cpu": "1", "pods": "2"}
    admit("team-a/quota", hard, {}, {"requests.cpu": "500m"})
    with pytest.raises(HxbError.QuotaExceeded) as exc:
        admit("team-a/quota", hard, {"requests.cpu": "800m"}, {"requests.cpu": "500m"})
    details = json.loads(exc.value.details_json)
    assert details["quota"] == "team-a/quota"
    assert details["exceeded"] == [
        {"resource": "requests.cpu", "requested": "500m", "used": "800m", "limit": "1"}
    ]
    assert add_resources({"memory": "1Gi"}, {"memory": "512Mi"}) == {"memory": "1536Mi"}


def test_batch_sum():
    items = ["100m"] * 10_000
    assert str(sum_quantities(items)) == "1k"
    with pytest.raises(HxbError.InvalidInput):
        sum_quantities(["1", "oops"])


def test_concurrent_calls_from_threads():
    errors = []

    def work():
        try:
            for _ in range(200):
                assert str(sum_quantities(["1", "2"])) == "3"
                with pytest.raises(HxbError.InvalidInput):
                    validate_name("-x")
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}


def test_engine_story(engine):
    async def story():
        ns = json.loads(await engine.apply(json.dumps(NS)))
        assert ns["metadata"]["name"] == "team-a"
        quota = {
            "apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": "quota", "namespace": "team-a"},
            "spec": {"hard": {"requests.cpu": "1", "pods": "10"}},
        }
        await engine.apply(json.dumps(quota))
        pod = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "big", "namespace": "team-a"},
            "spec": {"containers": [{"name": "app", "image": "nginx",
                                     "resources": {"requests": {"cpu": "2"}}}]},
        }
        with pytest.raises(HxbError.QuotaExceeded):
            await engine.create(json.dumps(pod))
        names = [json.loads(o)["metadata"]["name"] for o in await engine.list("Namespace")]
        assert "team-a" in names
        got = json.loads(await engine.get("Namespace", "team-a"))
        assert got["kind"] == "Namespace"
        with pytest.raises(HxbError.NotFound):
            await engine.get("Namespace", "ghost")

    asyncio.run(story())


def test_engine_bad_manifests_and_close(engine):
    async def bad():
        with pytest.raises(HxbError.InvalidInput):
            await engine.apply("{not json")
        with pytest.raises(HxbError.InvalidInput):
            await engine.apply(json.dumps({"kind": "Namespace"}))
        engine.close()
        assert engine.is_closed()
        with pytest.raises(HxbError.Closed):
            await engine.apply(json.dumps(NS))

    asyncio.run(bad())


def test_engine_open_with_options():
    try:
        e = asyncio.run(Engine.open(EngineOptions(nodes=2, seed=7)))
    except HxbError.Internal as err:
        if "not implemented" in err.message:
            pytest.skip("the embedded cluster is not implemented in this build")
        raise
    assert not e.is_closed()
    e.close()


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
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)

    async def call():
        engine = await Engine.open(EngineOptions(kubeconfig=str(path)))
        with pytest.raises((HxbError.Unavailable, HxbError.Backend)) as exc:
            await engine.get("Namespace", "x")
        assert exc.value.causes
        engine.close()

    asyncio.run(call())
