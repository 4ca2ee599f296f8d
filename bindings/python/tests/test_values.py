import pytest

import hxb


def test_quantity_parses_and_prints_canonically():
    q = hxb.Quantity("1.5Gi")
    assert str(q) == "1536Mi"
    assert repr(q) == "Quantity('1536Mi')"
    assert q.value == 1_610_612_736
    assert hxb.Quantity.parse("0.1").milli_value == 100
    assert str(hxb.Quantity("2e3")) == "2e3"


def test_quantity_compares_hashes_and_adds_exactly():
    assert hxb.Quantity("1Gi") == hxb.Quantity("1024Mi")
    assert hash(hxb.Quantity("1Gi")) == hash(hxb.Quantity("1024Mi"))
    assert hxb.Quantity("999m") < hxb.Quantity("1")
    assert sorted([hxb.Quantity("2"), hxb.Quantity("100m")])[0] == hxb.Quantity("0.1")
    assert str(hxb.Quantity("0.1") + hxb.Quantity("0.2")) == "300m"
    assert str(hxb.Quantity("1") - hxb.Quantity("250m")) == "750m"
    assert str(hxb.Quantity("250m") * 4) == "1"
    assert float(hxb.Quantity("1500m")) == 1.5
    assert not hxb.Quantity("0")
    assert str(hxb.Quantity.from_float(0.25)) == "250m"


def test_names():
    assert hxb.validate_name("team-a") == "team-a"
    with pytest.raises(hxb.InvalidInputError) as exc:
        hxb.validate_name("Team_A")
    assert exc.value.details["value"] == "Team_A"
    assert isinstance(exc.value, ValueError)


def test_resource_maps_and_admission():
    assert hxb.add_resources({"memory": "1Gi"}, {"memory": "512Mi", "cpu": "1"}) == {
        "cpu": "1", "memory": "1536Mi"}
    hard = {"requests.cpu": "1", "pods": "2"}
    assert hxb.admit("team-a/quota", hard, {}, {"requests.cpu": "500m"}) is None
    with pytest.raises(hxb.QuotaExceededError) as exc:
        hxb.admit("team-a/quota", hard, {"requests.cpu": "800m", "pods": "2"},
                  {"requests.cpu": "500m", "pods": "1"})
    err = exc.value
    assert err.quota == "team-a/quota"
    assert err.exceeded == [
        hxb.Exceeded("pods", hxb.Quantity("1"), hxb.Quantity("2"), hxb.Quantity("2")),
        hxb.Exceeded("requests.cpu", hxb.Quantity("500m"), hxb.Quantity("800m"),
                     hxb.Quantity("1")),
    ]
    assert "Exceeded(resource='pods'" in repr(err.exceeded)


def test_batch_sum():
    assert str(hxb.sum_quantities(["100m"] * 10_000)) == "1k"
    assert str(hxb.sum_quantities(iter(["1", "2"]))) == "3"
    assert str(hxb.sum_quantities(("1Ki", "1Ki"))) == "2Ki"
    assert hxb.sum_quantities([]) == hxb.Quantity("0")
    with pytest.raises(hxb.InvalidInputError):
        hxb.sum_quantities(["1", "oops"])
    with pytest.raises(hxb.InvalidInputError) as exc:
        hxb.sum_quantities(["1", 2])
    assert "items[1]" in str(exc.value)


def test_version():
    assert hxb.__version__ == hxb.VERSION
    assert [int(p) for p in hxb.VERSION.split(".")[:3]] >= [0, 1, 0]
