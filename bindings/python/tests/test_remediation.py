"""Guarded remediation and the operations agent through Python: plans are dry runs, requests
wait for a second person's approval, refusals are typed and change nothing."""

import asyncio
import http.server
import json
import threading

import pytest

import hxb

NS = "acme-dev-web"
VIEWER, DEV, LEAD = "viewer@acme.example", "dev@acme.example", "lead@acme.example"
RESTART = {"action": "restart", "namespace": NS, "name": "api"}


def run(coro):
    return asyncio.run(coro)


async def world(engine):
    await engine.create_organization("acme", plan="starter")
    await engine.create_workspace("acme", "dev")
    await engine.create_project("acme", "dev", "web")
    for who, role in ((VIEWER, "viewer"), (DEV, "developer"), (LEAD, "admin")):
        await engine.add_member("acme", who, role=role, workspace="dev")
    await engine.create_app("acme", "dev", "web", "api", image="nginx", replicas=2)


async def deployment(engine):
    d = await engine.get("Deployment", "api", NS)
    d.pop("status", None)
    return d


def restarted_at(d):
    annotations = d["spec"]["template"]["metadata"].get("annotations") or {}
    return annotations.get("kubectl.kubernetes.io/restartedAt")


def test_a_viewer_cannot_restart_and_nothing_changes(engine):
    async def story():
        await world(engine)
        before = await deployment(engine)
        with pytest.raises(hxb.ForbiddenError):
            await engine.remediate(VIEWER, RESTART, apply=True)
        with pytest.raises(hxb.ForbiddenError):
            await engine.remediate("mallory@evil.example", RESTART)
        # Project quotas belong to the organization's owners and admins, not to project roles.
        quota = (await engine.get_project("acme", "dev", "web"))["quota"]
        with pytest.raises(hxb.ForbiddenError):
            await engine.remediate(DEV, {"action": "raise_quota", "namespace": NS,
                                         "add": {"requests.cpu": "1"}}, apply=True)
        assert (await engine.get_project("acme", "dev", "web"))["quota"] == quota
        assert await deployment(engine) == before
        assert await engine.pending_remediations() == []
        audit = await engine.remediation_audit()
        assert [a["actor"] for a in audit] == [VIEWER, "mallory@evil.example", DEV]
        assert all(a["result"].startswith("refused: forbidden") for a in audit)

    run(story())


def test_dry_run_then_approval_by_a_second_person(engine):
    async def story():
        await world(engine)
        before = await deployment(engine)
        plan = await engine.remediate(DEV, RESTART)
        assert plan["decision"] == "dry_run" and plan["disrupted_pods"] == 2
        assert plan["pending"] is None
        asked = await engine.remediate(DEV, RESTART, apply=True)
        assert asked["decision"] == "needs_approval"
        pending = await engine.pending_remediations()
        assert [p["id"] for p in pending] == [asked["pending"]]
        assert pending[0]["requested_by"] == DEV
        assert pending[0]["action"]["action"] == "restart"
        # Not by the requester, not by a viewer, not an unknown id: nothing changes.
        for who in (DEV, VIEWER):
            with pytest.raises(hxb.ForbiddenError):
                await engine.approve_remediation(asked["pending"], who)
        with pytest.raises(hxb.NotFoundError):
            await engine.approve_remediation("rem-0", LEAD)
        assert await engine.pending_remediations() == pending
        assert await deployment(engine) == before

        done = await engine.approve_remediation(asked["pending"], LEAD)
        assert done["decision"] == "executed"
        assert restarted_at(await deployment(engine)) is not None
        assert await engine.pending_remediations() == []
        audit = await engine.remediation_audit(limit=2)
        assert len(audit) == 2 and audit[-1]["action"] == "approve_remediation"
        assert audit[-1]["actor"] == LEAD and audit[-1]["result"] == "ok"

    run(story())


def test_a_pending_remediation_can_be_rejected(engine):
    async def story():
        await world(engine)
        before = await deployment(engine)
        asked = await engine.remediate(DEV, RESTART, apply=True)
        pending = await engine.pending_remediations()
        with pytest.raises(hxb.ForbiddenError):
            await engine.reject_remediation(asked["pending"], VIEWER)
        with pytest.raises(hxb.NotFoundError):
            await engine.reject_remediation("rem-0", LEAD)
        assert await engine.pending_remediations() == pending
        rejected = await engine.reject_remediation(asked["pending"], LEAD)
        assert rejected == pending[0]
        assert await engine.pending_remediations() == []
        with pytest.raises(hxb.NotFoundError):
            await engine.approve_remediation(asked["pending"], LEAD)
        assert await deployment(engine) == before
        last = (await engine.remediation_audit(limit=1))[0]
        assert last["action"] == "reject_remediation" and last["result"] == "rejected"

    run(story())


def test_policy_blast_radius_and_automatic_actions(engine):
    async def story():
        await world(engine)
        before = await deployment(engine)
        engine.set_remediation_policy(automatic=["scale"], max_pods_per_hour=1)
        assert engine.remediation_policy()["automatic"] == ["scale"]
        with pytest.raises(hxb.ForbiddenError, match="blast radius"):
            await engine.remediate(DEV, RESTART)
        with pytest.raises(hxb.ForbiddenError, match="scale-up"):
            await engine.remediate(DEV, {"action": "scale", "namespace": NS, "name": "api",
                                         "replicas": 5}, apply=True)
        assert await deployment(engine) == before
        done = await engine.remediate(DEV, {"action": "scale", "namespace": NS, "name": "api",
                                            "replicas": 3}, apply=True)
        assert done["decision"] == "executed"
        assert (await deployment(engine))["spec"]["replicas"] == 3

    run(story())


def test_bad_input_is_typed_and_changes_nothing(engine):
    async def story():
        await world(engine)
        before = await deployment(engine)
        policy = engine.remediation_policy()
        for bad in ("restart", {"action": "reboot", "node": "n"},
                    {"action": "scale", "namespace": NS, "name": "api", "replicas": -1},
                    {"action": "restart", "namespace": "Not A Name", "name": "api"},
                    {"action": "raise_quota", "namespace": NS, "add": {"cpu": "lots"}}):
            with pytest.raises(hxb.InvalidInputError):
                await engine.remediate(DEV, bad, apply=True)
        with pytest.raises(TypeError):
            await engine.remediate(None, RESTART)
        with pytest.raises(hxb.InvalidInputError):
            await engine.remediate(" ", RESTART)
        with pytest.raises(hxb.InvalidInputError):
            engine.set_remediation_policy(automatic=["reboot"])
        with pytest.raises(hxb.InvalidInputError):
            engine.set_remediation_policy(max_scale_up_factor=float("nan"))
        with pytest.raises(hxb.InvalidInputError):
            engine.set_remediation_policy(max_pods_per_hour=-1)
        with pytest.raises(TypeError):
            engine.set_remediation_policy(automatic="scale")
        with pytest.raises(hxb.InvalidInputError):
            await engine.remediation_audit(limit=-1)
        assert engine.remediation_policy() == policy
        assert await deployment(engine) == before
        assert await engine.pending_remediations() == []

    run(story())


def test_the_agent_answers_offline_with_its_transcript(engine):
    async def story():
        await world(engine)
        reply = await engine.ask(DEV, "Is anything wrong with my apps?")
        assert reply["stop"] == "answered"
        assert reply["text"].startswith("offline summary")
        assert [t["name"] for t in reply["tool_calls"]] == ["analyze"]
        assert reply["tool_calls"][0]["error"] is None
        # Write tools only when asked for, and then only through the guard (dry run here).
        before = await deployment(engine)
        reply = await engine.ask(DEV, "restart_workload", write="dry_run")
        assert reply["tool_calls"][0]["name"] == "restart_workload"
        assert await deployment(engine) == before
        for kwargs in ({"provider": "gpt"}, {"provider": "openai", "model": "m"},
                       {"write": "always"}, {"timeout": -1.0}, {"model": "m"}):
            with pytest.raises(hxb.InvalidInputError):
                await engine.ask(DEV, "hello", **kwargs)
        with pytest.raises(hxb.InvalidInputError):
            await engine.ask(DEV, "   ")
        with pytest.raises(TypeError):
            await engine.ask(DEV, "hello", namespaces="acme-dev-web")

    run(story())


class _FakeOpenAi(http.server.BaseHTTPRequestHandler):
    seen = []

    def do_POST(self):  # noqa: N802 (the handler's API)
        body = self.rfile.read(int(self.headers["content-length"]))
        _FakeOpenAi.seen.append((self.path, self.headers.get("authorization"), json.loads(body)))
        reply = json.dumps({"choices": [{"message": {"role": "assistant",
                                                     "content": "All quiet in <ns-1>."},
                                         "finish_reason": "stop"}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *_args):
        pass


def test_the_agent_talks_to_an_openai_compatible_endpoint(engine):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        async def story():
            await world(engine)
            return await engine.ask(DEV, "How is acme-dev-web?", provider="openai",
                                    base_url=url, model="tiny", api_key="sk-test", timeout=10)

        reply = run(story())
    finally:
        server.shutdown()
    assert reply["text"] == f"All quiet in {NS}."
    path, auth, body = _FakeOpenAi.seen[-1]
    assert path == "/v1/chat/completions" and auth == "Bearer sk-test"
    assert body["model"] == "tiny" and NS not in json.dumps(body)

    async def unreachable():
        return await engine.ask(DEV, "hello", provider="ollama", base_url="http://127.0.0.1:9",
                                model="m", timeout=5)

    with pytest.raises((hxb.UnavailableError, hxb.TimeoutError)):
        run(unreachable())
