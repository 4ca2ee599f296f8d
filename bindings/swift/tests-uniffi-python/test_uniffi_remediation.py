"""Guarded remediation and the operations agent through the uniffi layer (Swift's FFI): plans
are dry runs, requests wait for a second person's approval, refusals are typed and change
nothing."""

import asyncio
import json

import pytest

from hxb_uniffi import AppSpec, AskOptions, HxbError, RemediationPolicy

NS = "acme-dev-web"
VIEWER, DEV, LEAD = "viewer@acme.example", "dev@acme.example", "lead@acme.example"
RESTART = json.dumps({"action": "restart", "namespace": NS, "name": "api"})


def run(coro):
    return asyncio.run(coro)


async def world(engine):
    await engine.create_organization("acme", plan="starter")
    await engine.create_workspace("acme", "dev")
    await engine.create_project("acme", "dev", "web")
    for who, role in ((VIEWER, "viewer"), (DEV, "developer"), (LEAD, "admin")):
        await engine.add_member("acme", who, role, workspace="dev")
    await engine.create_app("acme", "dev", "web", "api", AppSpec(image="nginx", replicas=2))


async def deployment(engine):
    d = json.loads(await engine.get("Deployment", "api", namespace=NS))
    d.pop("status", None)
    return d


def test_a_viewer_cannot_restart_and_nothing_changes(engine):
    async def story():
        await world(engine)
        before = await deployment(engine)
        with pytest.raises(HxbError.Forbidden):
            await engine.remediate(VIEWER, RESTART, apply=True)
        assert await deployment(engine) == before
        assert await engine.pending_remediations() == []
        audit = [json.loads(a) for a in await engine.remediation_audit()]
        assert [a["actor"] for a in audit] == [VIEWER]

    run(story())


def test_dry_run_then_approval(engine):
    async def story():
        await world(engine)
        before = await deployment(engine)
        plan = json.loads(await engine.remediate(DEV, RESTART))
        assert plan["decision"] == "dry_run" and plan["disrupted_pods"] == 2
        asked = json.loads(await engine.remediate(DEV, RESTART, apply=True))
        assert asked["decision"] == "needs_approval"
        with pytest.raises(HxbError.Forbidden):
            await engine.approve_remediation(asked["pending"], DEV)
        with pytest.raises(HxbError.NotFound):
            await engine.approve_remediation("rem-0", LEAD)
        assert len(await engine.pending_remediations()) == 1
        assert await deployment(engine) == before
        done = json.loads(await engine.approve_remediation(asked["pending"], LEAD))
        assert done["decision"] == "executed"
        after = await deployment(engine)
        annotations = after["spec"]["template"]["metadata"]["annotations"]
        assert "kubectl.kubernetes.io/restartedAt" in annotations
        assert await engine.pending_remediations() == []
        last = json.loads((await engine.remediation_audit(limit=1))[0])
        assert last["action"] == "approve_remediation" and last["actor"] == LEAD

    run(story())


def test_reject(engine):
    async def story():
        await world(engine)
        asked = json.loads(await engine.remediate(DEV, RESTART, apply=True))
        with pytest.raises(HxbError.Forbidden):
            await engine.reject_remediation(asked["pending"], VIEWER)
        assert len(await engine.pending_remediations()) == 1
        rejected = json.loads(await engine.reject_remediation(asked["pending"], LEAD))
        assert rejected["id"] == asked["pending"]
        assert await engine.pending_remediations() == []

    run(story())


def test_policy_and_bad_input(engine):
    async def story():
        await world(engine)
        engine.set_remediation_policy(RemediationPolicy(automatic=["scale"], max_pods_per_hour=1))
        policy = engine.remediation_policy()
        assert policy.automatic == ["scale"] and policy.max_scale_up_factor == 2.0
        with pytest.raises(HxbError.Forbidden):
            await engine.remediate(DEV, RESTART)
        with pytest.raises(HxbError.InvalidInput):
            engine.set_remediation_policy(RemediationPolicy(automatic=["reboot"]))
        with pytest.raises(HxbError.InvalidInput):
            engine.set_remediation_policy(RemediationPolicy(max_scale_up_factor=float("nan")))
        with pytest.raises((TypeError, ValueError)):
            engine.set_remediation_policy(RemediationPolicy(max_pods_per_hour=-1))
        assert engine.remediation_policy() == policy
        before = await deployment(engine)
        for bad in ("not json", '{"action": "reboot"}', '"restart"',
                    json.dumps({"action": "scale", "namespace": NS, "name": "api",
                                "replicas": -1})):
            with pytest.raises(HxbError.InvalidInput):
                await engine.remediate(DEV, bad, apply=True)
        with pytest.raises(TypeError):
            await engine.remediate(None, RESTART)
        assert await deployment(engine) == before
        done = json.loads(await engine.remediate(
            DEV, json.dumps({"action": "scale", "namespace": NS, "name": "api", "replicas": 3}),
            apply=True))
        assert done["decision"] == "executed"
        assert (await deployment(engine))["spec"]["replicas"] == 3

    run(story())


def test_the_agent_answers_offline(engine):
    async def story():
        await world(engine)
        reply = json.loads(await engine.ask(DEV, "Is anything wrong with my apps?"))
        assert reply["stop"] == "answered"
        assert reply["text"].startswith("offline summary")
        assert [c["name"] for c in reply["tool_calls"]] == ["analyze"]
        for opts in (AskOptions(provider="gpt"), AskOptions(provider="openai", model="m"),
                     AskOptions(write="always"), AskOptions(timeout_seconds=-1.0)):
            with pytest.raises(HxbError.InvalidInput):
                await engine.ask(DEV, "hello", opts)
        with pytest.raises(HxbError.Unavailable):
            await engine.ask(DEV, "hello", AskOptions(provider="ollama",
                                                      base_url="http://127.0.0.1:9", model="m",
                                                      timeout_seconds=5.0))

    run(story())
