"""Tenancy, scaling and AI operations through the uniffi layer (Swift's FFI)."""

import asyncio
import json
import math

import pytest

from hxb_uniffi import AppSpec, HxbError, ReplicaRequest, ValueRange


def test_the_platform_story(engine):
    async def story():
        org = json.loads(await engine.create_organization("acme", plan="starter",
                                                          display_name="Acme"))
        assert org["name"] == "acme"
        await engine.create_workspace("acme", "dev")
        project = json.loads(await engine.create_project("acme", "dev", "web"))
        assert project["namespace"] == "acme-dev-web"
        spec = AppSpec(image="nginx:1.27", replicas=2, port=8080, requests={"cpu": "100m"})
        app = json.loads(await engine.create_app("acme", "dev", "web", "api", spec))
        assert app["replicas"] == 2
        with pytest.raises(HxbError.AlreadyExists):
            await engine.create_organization("acme")
        with pytest.raises(HxbError.InvalidInput):
            await engine.create_app("acme", "dev", "web", "bad",
                                    AppSpec(image="nginx", requests={"cpu": "lots"}))
        assert isinstance(await engine.analyze("acme-dev-web"), list)

    asyncio.run(story())


def test_recommend_forecast_detect(engine):
    rec = engine.recommend_replicas(ReplicaRequest(
        cpu_usage=[0.4, 0.4, 0.4], cpu_request="500m", target_cpu_utilization=50,
        current_replicas=3, max_replicas=10))
    assert rec.desired_replicas == 5
    with pytest.raises(HxbError.InvalidInput):
        engine.recommend_replicas(ReplicaRequest(
            cpu_usage=[math.nan], cpu_request="500m", target_cpu_utilization=50,
            current_replicas=1, max_replicas=3))
    day = [100 + 40 * math.sin(t * 2 * math.pi / 24) for t in range(24 * 14)]
    assert len(engine.forecast(day, 24, 24)) == 24
    ts = [i * 300_000 for i in range(2000)]
    vs = [50.0 if i == 1500 else math.sin(i / 20) for i in range(2000)]
    scores = engine.detect_anomalies(ts, vs)
    assert max(scores[1500:1506]) > 0.5 and max(scores[1000:1500]) < 0.5
    hinted = engine.detect_anomalies(ts, vs, ValueRange(min=min(vs), max=max(vs)))
    assert max(hinted[1500:1506]) > 0.5
    with pytest.raises(HxbError.InvalidInput):
        engine.detect_anomalies(ts, vs, ValueRange(min=1.0, max=1.0))
    for bad_ts, bad_vs in [([0, 1], [1.0, math.nan]), ([1, 0], [1.0, 1.0]), ([0], [])]:
        with pytest.raises(HxbError.InvalidInput):
            engine.detect_anomalies(bad_ts, bad_vs)
