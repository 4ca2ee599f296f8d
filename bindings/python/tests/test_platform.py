"""Tenancy, scaling and AI operations through Python, with their bad input."""

import array
import asyncio
import math

import pytest

import hxb


def spike_series(n=2000, at=1500):
    ts = [i * 300_000 for i in range(n)]
    vs = [50.0 if i == at else math.sin(i / 20) for i in range(n)]
    return ts, vs


def test_the_platform_story(engine):
    async def story():
        org = await engine.create_organization("acme", plan="starter", display_name="Acme")
        assert org["name"] == "acme"
        await engine.create_workspace("acme", "dev")
        project = await engine.create_project("acme", "dev", "web")
        assert project["namespace"] == "acme-dev-web"
        app = await engine.create_app("acme", "dev", "web", "api", image="nginx:1.27",
                                      replicas=2, port=8080, requests={"cpu": "100m"})
        assert app["replicas"] == 2
        deployments = await engine.list("Deployment", "acme-dev-web")
        assert [d["metadata"]["name"] for d in deployments] == ["api"]
        with pytest.raises(hxb.AlreadyExistsError):
            await engine.create_organization("acme")
        with pytest.raises(hxb.NotFoundError):
            await engine.create_project("acme", "nope", "web")
        with pytest.raises(hxb.InvalidInputError):
            await engine.create_app("acme", "dev", "web", "bad", image="nginx",
                                    requests={"cpu": "lots"})
        findings = await engine.analyze("acme-dev-web")
        assert isinstance(findings, list)

    asyncio.run(story())


def test_recommend_replicas_is_hpa_exact(engine):
    rec = engine.recommend_replicas(cpu_usage=[0.4, 0.4, 0.4], cpu_request="500m",
                                    target_cpu_utilization=50, current_replicas=3,
                                    max_replicas=10)
    # 80 % used against a 50 % target: ceil(3 * 1.6) = 5.
    assert rec["desired_replicas"] == 5
    assert rec["rescale"] is True
    assert any(c.startswith("AbleToScale=True") for c in rec["conditions"])
    with pytest.raises(hxb.InvalidInputError):
        engine.recommend_replicas(cpu_usage=[math.nan], cpu_request="500m",
                                  target_cpu_utilization=50, current_replicas=1,
                                  max_replicas=3)
    with pytest.raises(hxb.InvalidInputError):
        engine.recommend_replicas(cpu_usage=[0.1], cpu_request="lots",
                                  target_cpu_utilization=50, current_replicas=1,
                                  max_replicas=3)
    with pytest.raises(TypeError):
        engine.recommend_replicas(cpu_usage="fast", cpu_request="1",
                                  target_cpu_utilization=50, current_replicas=1,
                                  max_replicas=3)


def test_forecast(engine):
    day = [100 + 40 * math.sin(t * 2 * math.pi / 24) for t in range(24 * 14)]
    f = engine.forecast(day, 24, season=24)
    assert len(f) == 24
    assert isinstance(f, list)
    assert all(abs(v - day[h]) < 5 for h, v in enumerate(f))
    # A buffer in gives an array('d') out, with the same values.
    typed = engine.forecast(array.array("d", day), 24, season=24)
    assert isinstance(typed, array.array) and typed.typecode == "d"
    assert list(typed) == f
    with pytest.raises(hxb.InvalidInputError):
        engine.forecast(day[:10], 24, season=24)
    with pytest.raises(hxb.InvalidInputError):
        engine.forecast([1.0, math.nan], 1, season=1)


def test_detect_anomalies_flags_a_spike(engine):
    ts, vs = spike_series()
    scores = engine.detect_anomalies(ts, vs)
    assert len(scores) == len(vs)
    # The shape stage scores whole blocks: the spike alerts within a few points.
    assert max(scores[1500:1506]) > 0.5
    assert max(scores[1000:1500]) < 0.5
    assert isinstance(scores, list)
    # Buffers are read in one copy each; buffer values give an array('d') of scores.
    typed = engine.detect_anomalies(array.array("q", ts), array.array("d", vs))
    assert isinstance(typed, array.array) and typed.typecode == "d"
    assert list(typed) == scores
    assert list(engine.detect_anomalies(memoryview(array.array("q", ts)),
                                        memoryview(array.array("d", vs)))) == scores
    # Strided views are read in order.
    assert list(engine.detect_anomalies(memoryview(array.array("q", ts))[::2],
                                        memoryview(array.array("d", vs))[::2])) == \
        engine.detect_anomalies(ts[::2], vs[::2])
    # Timestamps kept as doubles; buffers of other item types are read as sequences.
    assert engine.detect_anomalies(array.array("d", ts), vs) == scores
    assert engine.detect_anomalies(array.array("l", ts), tuple(vs)) == scores


def test_detect_anomalies_with_a_value_range(engine):
    ts, vs = spike_series()
    plain = engine.detect_anomalies(ts, vs)
    hinted = engine.detect_anomalies(ts, vs, value_range=(min(vs), max(vs)))
    assert len(hinted) == len(vs) and max(hinted[1500:1506]) > 0.5
    assert max(plain[1500:1506]) > 0.5
    typed = engine.detect_anomalies(array.array("q", ts), array.array("d", vs),
                                    value_range=(min(vs), max(vs)))
    assert list(typed) == hinted
    for bad in [(1.0, 1.0), (2.0, 1.0), (math.nan, 1.0), (0.0, math.inf)]:
        with pytest.raises(hxb.InvalidInputError):
            engine.detect_anomalies(ts, vs, value_range=bad)
    with pytest.raises(TypeError):
        engine.detect_anomalies(ts, vs, value_range="0..1")
    halves = [v / 2 for v in range(100)]
    assert engine.detect_anomalies(array.array("i", range(100)), array.array("f", halves)) == \
        list(engine.detect_anomalies(range(100), array.array("d", halves)))


def test_detect_anomalies_reads_numpy_arrays_when_installed(engine):
    np = pytest.importorskip("numpy")
    ts, vs = spike_series()
    scores = engine.detect_anomalies(ts, vs)
    typed = engine.detect_anomalies(np.array(ts, dtype=np.int64), np.array(vs))
    assert list(typed) == scores


@pytest.mark.parametrize("ts,vs", [
    (array.array("d", [0, 0.5]), array.array("d", [1.0, 1.0])),
    (array.array("q", [2, 1]), array.array("d", [1.0, 1.0])),
    (array.array("q", [0, 1]), array.array("d", [1.0, math.nan])),
    (array.array("q", [0, 1]), array.array("d", [1.0])),
    (memoryview(array.array("q", [0, 1, 2, 3])).cast("B").cast("q", [2, 2]),
     array.array("d", [1.0] * 4)),
])
def test_bad_buffers_are_invalid_input(engine, ts, vs):
    with pytest.raises(hxb.InvalidInputError):
        engine.detect_anomalies(ts, vs)


@pytest.mark.parametrize("ts,vs", [
    ([0, 1, 2], [1.0, math.nan, 1.0]),
    ([0, 1, 2], [1.0, math.inf, 1.0]),
    ([0, 2, 1], [1.0, 1.0, 1.0]),
    ([0, 1, 1], [1.0, 1.0, 1.0]),
    ([0, 1], [1.0]),
])
def test_bad_series_are_invalid_input(engine, ts, vs):
    with pytest.raises(hxb.InvalidInputError):
        engine.detect_anomalies(ts, vs)


def test_series_of_wrong_types_are_type_errors(engine):
    with pytest.raises(TypeError):
        engine.detect_anomalies([0, 1], ["a", "b"])
    with pytest.raises(TypeError):
        engine.detect_anomalies(None, [1.0])


def test_closed_engine_refuses_the_new_operations():
    e = hxb.Engine.embedded()
    e.close()
    with pytest.raises(hxb.ClosedError):
        e.detect_anomalies([0], [1.0])
    with pytest.raises(hxb.ClosedError):
        asyncio.run(e.create_organization("acme"))
