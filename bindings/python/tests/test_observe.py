"""Events, alerts, incidents, function invocation and logs through Python — each with its bad
input, which is typed and changes nothing."""

import asyncio
import datetime

import pytest

import hxb

POD = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "team-a"},
       "spec": {"containers": [{"name": "app", "image": "nginx"}]}}


def run(coro):
    return asyncio.run(coro)


def signal(reason, scope="acme/dev"):
    return {"scope": scope, "object": "Deployment acme-dev-web/web",
            "kind": {"type": "event", "reason": reason}}


def test_events_arrive_as_dicts_and_end_when_the_engine_closes(engine):
    async def story():
        stream = engine.events()
        assert isinstance(stream, hxb.EventStream) and not stream.closed

        async def consume():
            return [ev async for ev in stream]

        task = asyncio.create_task(consume())
        await asyncio.sleep(0)
        await engine.create_organization("acme")
        engine.record_signal(signal("OOMKilled"))
        await asyncio.sleep(0.05)
        engine.close()
        return await asyncio.wait_for(task, 10)

    events = run(story())
    assert events[0] == {"type": "status_changed", "kind": "organization",
                         "path": {"organization": "acme"}, "from": None, "to": "Pending"}
    assert events[-1]["type"] == "incident_opened" and events[-1]["id"] == 1


def test_a_lagging_stream_says_how_many_it_missed_and_close_ends_it(engine):
    async def story():
        stream = engine.events()
        for i in range(1024 + 5):       # one incident per workspace
            engine.record_signal(signal("BackOff", scope=f"acme/w{i}"))
        first = await anext(stream)
        second = await anext(stream)
        stream.close()
        with pytest.raises(StopAsyncIteration):       # held events go with the stream
            await anext(stream)
        assert stream.closed
        idle = engine.events()
        waiting = asyncio.ensure_future(anext(idle))
        await asyncio.sleep(0.01)
        idle.close()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(waiting, 10)
        return first, second

    first, second = run(story())
    assert first == {"type": "lagged", "missed": 5}
    assert (second["type"], second["scope"]) == ("incident_opened", "acme/w5")


def test_alert_rules_alerts_and_health(engine):
    async def story():
        rule = await engine.add_alert_rule("acme/dev", {
            "name": "HighCpu", "query": "cpu_usage", "comparison": ">", "threshold": 0.9,
            "for": "5m", "severity": "critical"})
        assert rule == {"name": "HighCpu", "query": "cpu_usage", "comparison": "above",
                        "threshold": 0.9, "for": "300s", "severity": "critical"}
        assert await engine.alert_rules("acme/dev") == [rule]
        ev = await engine.evaluate_alerts()
        assert ev == {"fired": [], "resolved": [], "errors": []}   # no samples yet
        assert await engine.alerts() == []
        health = await engine.health("acme")
        assert (health["scope"], health["health"], health["pending"]) == ("acme", "healthy", 0)
        await engine.remove_alert_rule("acme/dev", "HighCpu")
        return await engine.alert_rules("acme/dev")

    assert run(story()) == []


def test_bad_alert_input_is_typed_and_changes_nothing(engine):
    async def story():
        await engine.add_alert_rule("acme/dev", {"name": "Up", "query": "up"})
        before = await engine.alert_rules("acme/dev")
        for scope, rule in [
            ("acme/dev", {"name": "x", "query": "rate(("}),            # bad expression
            ("acme/dev", {"name": "bad name!", "query": "up"}),
            ("acme/dev", {"name": "x", "query": "up", "comparison": "~"}),
            ("acme/dev", {"name": "x", "query": "up", "for": "soon"}),
            ("acme/dev", {"name": "x", "query": "up", "severity": "dire"}),
            ("acme/dev", {"name": "x", "query": "up", "colour": "red"}),  # unknown field
            ("acme/dev", {"query": "up"}),                                # missing name
            ("acme/dev", {"name": "x", "query": "up", "threshold": float("nan")}),
            ("Acme/dev", {"name": "x", "query": "up"}),                   # bad scope
            ("", {"name": "x", "query": "up"}),
            ("a/b/c/d", {"name": "x", "query": "up"}),
        ]:
            with pytest.raises(hxb.InvalidInputError):
                await engine.add_alert_rule(scope, rule)
        with pytest.raises(hxb.InvalidInputError):               # not JSON
            await engine.add_alert_rule("acme/dev", {"name": "x", "query": "up", "t": object()})
        with pytest.raises(hxb.InvalidInputError):               # not a mapping
            await engine.add_alert_rule("acme/dev", None)
        with pytest.raises(TypeError):
            await engine.add_alert_rule(None, {"name": "x", "query": "up"})
        with pytest.raises(hxb.InvalidInputError):
            await engine.health("Acme")
        with pytest.raises(hxb.NotFoundError):
            await engine.remove_alert_rule("acme/dev", "ghost")
        with pytest.raises(hxb.NotFoundError):
            await engine.acknowledge_alert("acme/dev/Up{}", "alice@example.com")
        with pytest.raises(hxb.InvalidInputError):
            await engine.acknowledge_alert("acme/dev/Up{}", "")
        assert await engine.alert_rules("acme/dev") == before
        assert await engine.alerts() == []

    run(story())


def test_signals_group_into_incidents_and_bad_signals_change_nothing(engine):
    first = engine.record_signal(signal("OOMKilled"))
    second = engine.record_signal({**signal("BackOff"), "message": "restarting",
                                   "at": datetime.datetime.now(datetime.timezone.utc).isoformat()})
    assert (first["id"], second["id"], len(second["signals"])) == (1, 1, 2)
    assert second["status"] == "open" and second["root_causes"]
    for bad in [
        signal("x", scope=""),
        signal("x", scope="acme/dev/web/extra"),
        {**signal("x"), "kind": {"type": "rumour"}},
        {**signal("x"), "at": "yesterday"},
        {"scope": "acme/dev"},
        {**signal("x"), "extra": 1},
    ]:
        with pytest.raises(hxb.InvalidInputError):
            engine.record_signal(bad)
    for not_a_mapping in (None, "OOMKilled", [signal("x")]):
        with pytest.raises(hxb.InvalidInputError):
            engine.record_signal(not_a_mapping)
    incidents = engine.incidents()
    assert [len(i["signals"]) for i in incidents] == [2]
    assert engine.close_idle_incidents() == []          # quiet for less than the window
    assert engine.incidents() == incidents


def test_invoke_function_errors_are_typed_and_change_nothing(engine):
    # A function needs an in-process image handler on the embedded cluster, which Python cannot
    # register; the answering path is tested in Rust (bindings/common observe tests).
    async def story():
        await engine.create_organization("acme")
        await engine.create_workspace("acme", "dev")
        await engine.create_project("acme", "dev", "web")
        await engine.create_app("acme", "dev", "web", "site", image="nginx")
        before = await engine.list_apps("acme", "dev", "web")
        with pytest.raises(hxb.InvalidInputError, match="not a function"):
            await engine.invoke_function("acme", "dev", "web", "site", b"hi")
        with pytest.raises(hxb.NotFoundError):
            await engine.invoke_function("acme", "dev", "web", "ghost", "hi")
        with pytest.raises(hxb.InvalidInputError):
            await engine.invoke_function("acme", "dev", "web", "site", method="FETCH")
        with pytest.raises(hxb.InvalidInputError):
            await engine.invoke_function("acme", "dev", "web", "site", path="/../secret")
        with pytest.raises(TypeError):
            await engine.invoke_function("acme", "dev", "web", "site", 42)
        assert await engine.list_apps("acme", "dev", "web") == before

    run(story())


def test_logs_read_back_and_bad_input_is_typed(engine):
    async def story():
        await engine.apply({"apiVersion": "v1", "kind": "Namespace",
                            "metadata": {"name": "team-a"}})
        await engine.apply(POD)
        assert await engine.logs("team-a", "web") == ""    # nothing has written to it
        assert await engine.logs("team-a", "web", container="app", tail_lines=10) == ""
        with pytest.raises(hxb.NotFoundError):
            await engine.logs("team-a", "ghost")
        with pytest.raises(hxb.InvalidInputError):
            await engine.logs("team-a", "web", container="sidecar")
        with pytest.raises(hxb.InvalidInputError):
            await engine.logs("team-a", "web", tail_lines=-1)
        with pytest.raises(TypeError):
            await engine.logs("team-a", "web", tail_lines="ten")

    run(story())


def test_closed_engine_refuses_every_new_call(engine):
    engine.close()
    with pytest.raises(hxb.ClosedError):
        engine.record_signal(signal("x"))
    with pytest.raises(hxb.ClosedError):
        engine.incidents()

    async def story():
        with pytest.raises(hxb.ClosedError):
            await engine.alerts()
        with pytest.raises(hxb.ClosedError):
            await engine.logs("team-a", "web")
        with pytest.raises(StopAsyncIteration):
            await anext(engine.events())

    run(story())
