"""Bad input gets a typed, catchable error, never a crash of the interpreter."""

import asyncio
import math

import pytest

import hxb

from conftest import NAMESPACE, embedded_or_skip


@pytest.mark.parametrize("value", [None, 42, b"1Gi", ["1"], 1.5])
def test_wrong_types_are_type_errors(value):
    with pytest.raises(TypeError):
        hxb.Quantity(value)
    with pytest.raises(TypeError):
        hxb.validate_name(value)


def test_non_utf8_strings_are_invalid_input():
    with pytest.raises(hxb.InvalidInputError):
        hxb.Quantity("1\udcffGi")
    with pytest.raises(hxb.InvalidInputError):
        hxb.validate_name("team\ud800")
    with pytest.raises(hxb.InvalidInputError):
        hxb.sum_quantities(["1", "\udcff"])


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e300])
def test_non_finite_or_huge_floats_are_invalid_input(value):
    with pytest.raises(hxb.InvalidInputError):
        hxb.Quantity.from_float(value)


def test_huge_integers():
    with pytest.raises(TypeError):  # binary operators: Python reports unsupported operands
        hxb.Quantity("1") * (10 ** 30)
    with pytest.raises(hxb.InvalidInputError):
        hxb.Quantity("100E") * (2 ** 62)
    with pytest.raises(hxb.InvalidInputError):
        hxb.Quantity("1e40")
    with pytest.raises(OverflowError):
        hxb.Engine.embedded(nodes=10 ** 30)
    with pytest.raises(OverflowError):
        hxb.Engine.embedded(nodes=-1)


def test_admission_with_bad_maps():
    with pytest.raises(hxb.InvalidInputError):
        hxb.admit("q", {"cpu": "lots"}, {}, {})
    with pytest.raises(TypeError):
        hxb.admit("q", {"cpu": 1}, {}, {})
    with pytest.raises(TypeError):
        hxb.admit("q", None, {}, {})


def _manifest_errors():
    cyclic = []
    cyclic.append(cyclic)
    deep = {}
    cur = deep
    for _ in range(200):
        cur["x"] = {}
        cur = cur["x"]
    return [
        ({**NAMESPACE, "spec": {"n": 10 ** 30}}, "64 bits"),
        ({**NAMESPACE, "spec": {"n": math.nan}}, "NaN"),
        ({**NAMESPACE, "spec": {"s": "\udcff"}}, "unicode"),
        ({**NAMESPACE, "spec": {1: "x"}}, "keys"),
        ({**NAMESPACE, "spec": {"o": object()}}, "object"),
        ({**NAMESPACE, "spec": cyclic}, "nested"),
        ({**NAMESPACE, "spec": deep}, "nested"),
    ]


@pytest.mark.parametrize("manifest,hint", _manifest_errors())
def test_manifests_that_are_not_json_are_invalid_input(manifest, hint):
    e = embedded_or_skip()
    with pytest.raises(hxb.InvalidInputError) as exc:
        asyncio.run(e.apply(manifest))
    assert hint in str(exc.value)


@pytest.mark.parametrize("manifest", [None, 42, "text", [1, 2]])
def test_manifests_of_the_wrong_shape(manifest):
    e = embedded_or_skip()
    with pytest.raises(hxb.InvalidInputError):
        asyncio.run(e.apply(manifest))


def test_calls_after_close_raise_closed_error():
    e = embedded_or_skip()
    e.close()
    e.close()  # idempotent
    assert e.closed

    async def calls():
        for coro in (e.apply(NAMESPACE), e.get("Namespace", "team-a"), e.list("Namespace"),
                     e.delete("Namespace", "team-a"), e.create(NAMESPACE)):
            with pytest.raises(hxb.ClosedError):
                await coro

    asyncio.run(calls())


def test_batch_reads_any_text_in_place_and_refuses_bad_items():
    assert str(hxb.sum_quantities(["1", "2"] * 1000)) == "3k"
    with pytest.raises(hxb.InvalidInputError) as exc:
        hxb.sum_quantities(["1", "１"])  # non-ASCII text is read, then refused by the parser
    assert "１" in str(exc.value)
    with pytest.raises(hxb.InvalidInputError) as exc:
        hxb.sum_quantities(["1", "2", "\udcff"])
    assert "items[2]" in str(exc.value)
    with pytest.raises(TypeError):
        hxb.sum_quantities(None)
    with pytest.raises(TypeError):
        hxb.sum_quantities(5)
