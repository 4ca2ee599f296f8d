"""Events, alerts, incidents, function invocation and logs through the uniffi layer (Swift's
FFI), each with its bad input, which is typed and changes nothing."""

import asyncio
import json

import pytest

from hxb_uniffi import HxbError


def run(coro):
    return asyncio.run(coro)


def signal(reason, scope="acme/dev"):
    return json.dumps({"scope": scope, "object": "Deployment acme-dev-web/web",
                       "kind": {"type": "event", "reason": reason}})


def test_events_arrive_as_json_and_end_on_close(engine):
    async def story():
        sub = engine.subscribe()
        await engine.create_organization("acme")
        first = json.loads(await sub.next())
        sub.close()
        assert sub.is_closed() and await sub.next() is None
        lagging = engine.subscribe()
        for i in range(1024 + 2):            # one incident per workspace
            engine.record_signal(signal("BackOff", scope=f"acme/w{i}"))
        lagged = json.loads(await lagging.next())
        assert json.loads(await lagging.next())["scope"] == "acme/w2"
        idle = engine.subscribe()
        waiting = asyncio.ensure_future(idle.next())
        await asyncio.sleep(0.01)
        engine.close()                        # closing the engine ends every subscription
        return first, lagged, await asyncio.wait_for(waiting, 10)

    first, lagged, end = run(story())
    assert first == {"type": "status_changed", "kind": "organization",
                     "path": {"organization": "acme"}, "from": None, "to": "Pending"}
    assert lagged == {"type": "lagged", "missed": 2}
    assert end is None


def test_alert_rules_and_bad_rules(engine):
    async def story():
        rule = json.loads(await engine.add_alert_rule("acme/dev", json.dumps(
            {"name": "HighCpu", "query": "cpu_usage", "comparison": "<=", "threshold": 0.1,
             "for": "90s", "severity": "info"})))
        assert rule == {"name": "HighCpu", "query": "cpu_usage", "comparison": "at_most",
                        "threshold": 0.1, "for": "90s", "severity": "info"}
        assert [json.loads(r) for r in await engine.alert_rules("acme/dev")] == [rule]
        assert json.loads(await engine.evaluate_alerts()) == {"fired": [], "resolved": [],
                                                              "errors": []}
        assert await engine.alerts() == []
        assert json.loads(await engine.health("acme/dev"))["health"] == "healthy"
        for scope, bad in [
            ("acme/dev", '{"name": "x", "query": "rate(("}'),
            ("acme/dev", '{"name": "x", "query": "up", "for": "soon"}'),
            ("acme/dev", '{"name": "x", "query": "up", "colour": "red"}'),
            ("acme/dev", "not json"),
            ("Acme/dev", '{"name": "x", "query": "up"}'),
        ]:
            with pytest.raises(HxbError.InvalidInput):
                await engine.add_alert_rule(scope, bad)
        with pytest.raises(TypeError):
            await engine.add_alert_rule("acme/dev", None)
        with pytest.raises(HxbError.NotFound):
            await engine.remove_alert_rule("acme/dev", "ghost")
        with pytest.raises(HxbError.NotFound):
            await engine.acknowledge_alert("acme/dev/HighCpu{}", "alice@example.com")
        assert [json.loads(r) for r in await engine.alert_rules("acme/dev")] == [rule]
        await engine.remove_alert_rule("acme/dev", "HighCpu")
        assert await engine.alert_rules("acme/dev") == []

    run(story())


def test_incidents_and_bad_signals(engine):
    first = json.loads(engine.record_signal(signal("OOMKilled")))
    second = json.loads(engine.record_signal(signal("BackOff")))
    assert (first["id"], second["id"], len(second["signals"])) == (1, 1, 2)
    for bad in [signal("x", scope=""), '{"scope": "acme/dev"}', "[]", "nope",
                json.dumps({"scope": "acme/dev", "object": "x", "kind": {"type": "rumour"}})]:
        with pytest.raises(HxbError.InvalidInput):
            engine.record_signal(bad)
    assert [len(json.loads(i)["signals"]) for i in engine.incidents()] == [2]
    assert engine.close_idle_incidents() == []


def test_invoke_and_logs_errors(engine):
    # A function needs an in-process image handler on the embedded cluster, which the FFI
    # cannot register; the answering path is tested in Rust (bindings/common observe tests).
    async def story():
        await engine.create_organization("acme")
        await engine.create_workspace("acme", "dev")
        await engine.create_project("acme", "dev", "web")
        with pytest.raises(HxbError.NotFound):
            await engine.invoke_function("acme", "dev", "web", "ghost", b"hi")
        with pytest.raises(HxbError.InvalidInput):
            await engine.invoke_function("acme", "dev", "web", "ghost", b"", method="FETCH")
        await engine.apply(json.dumps({"apiVersion": "v1", "kind": "Pod",
                                       "metadata": {"name": "p", "namespace": "acme-dev-web"},
                                       "spec": {"containers": [{"name": "c", "image": "x"}]}}))
        assert await engine.logs("acme-dev-web", "p", tail_lines=3) == ""
        with pytest.raises(HxbError.NotFound):
            await engine.logs("acme-dev-web", "ghost")
        with pytest.raises(HxbError.InvalidInput):
            await engine.logs("acme-dev-web", "p", tail_lines=-1)
        with pytest.raises(HxbError.InvalidInput):
            await engine.logs("acme-dev-web", "p", container="sidecar")

    run(story())
