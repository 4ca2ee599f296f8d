"""Members, invitations, kubeconfigs, entity reads/deletes, the application lifecycle, usage
and reconcile through the uniffi layer (Swift's FFI), each with its bad input."""

import asyncio
import datetime
import json

import pytest

from hxb_uniffi import AppSpec, HxbError


def run(coro):
    return asyncio.run(coro)


async def tenant(engine):
    await engine.create_organization("acme", plan="starter")
    await engine.create_workspace("acme", "dev")
    await engine.create_project("acme", "dev", "web")


def test_members_invitations_kubeconfig(engine):
    async def story():
        await tenant(engine)
        await engine.add_member("acme", "owner@example.com", "admin")
        await engine.add_member("acme", "alice@example.com", "developer", workspace="dev")
        await engine.add_member("acme", "bob@example.com", "viewer", workspace="dev",
                                project="web")
        await engine.remove_member("acme", "bob@example.com", workspace="dev", project="web")
        before = await engine.members("acme")
        with pytest.raises(HxbError.InvalidInput):
            await engine.add_member("acme", "x@example.com", "emperor", workspace="dev")
        assert await engine.members("acme") == before
        inv = json.loads(await engine.invite("acme", "carol@example.com", "developer",
                                             workspace="dev", valid_for_seconds=3600))
        member = json.loads(await engine.accept_invitation(inv["token"]))
        assert member["subject"] == "carol@example.com"
        with pytest.raises(HxbError.NotFound):
            await engine.accept_invitation("no-such-token")
        # The embedded cluster issues bound ServiceAccount tokens (TokenRequest).
        kc = await engine.scoped_kubeconfig("acme", "dev", "alice@example.com")
        assert "kind: Config" in kc and "token: hxb-embedded." in kc
        with pytest.raises(HxbError.Forbidden):
            await engine.scoped_kubeconfig("acme", "dev", "mallory@example.com")
        return [json.loads(m)["subject"] for m in await engine.members("acme")]

    assert sorted(run(story())) == ["alice@example.com", "carol@example.com",
                                    "owner@example.com"]


def test_entities_apps_usage_reconcile(engine):
    async def story():
        await tenant(engine)
        assert json.loads(await engine.get_organization("acme"))["name"] == "acme"
        assert len(await engine.list_organizations()) == 1
        assert json.loads(await engine.get_workspace("acme", "dev"))["name"] == "dev"
        assert len(await engine.list_workspaces("acme")) == 1
        assert json.loads(await engine.get_project("acme", "dev", "web"))["name"] == "web"
        assert len(await engine.list_projects("acme", "dev")) == 1
        await engine.create_app("acme", "dev", "web", "api", AppSpec(image="nginx", replicas=1))
        at = ("acme", "dev", "web", "api")
        assert json.loads(await engine.scale_app(*at, 2))["replicas"] == 2
        assert json.loads(await engine.stop_app(*at))["stopped"] is True
        assert json.loads(await engine.start_app(*at))["stopped"] is False
        await engine.restart_app(*at)
        with pytest.raises(HxbError.InvalidInput):
            await engine.scale_app(*at, -1)
        assert json.loads((await engine.list_apps("acme", "dev", "web"))[0])["replicas"] == 2
        await engine.delete_app(*at)
        assert await engine.list_apps("acme", "dev", "web") == []
        assert await engine.record_usage() >= 0
        start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
        u = json.loads(await engine.usage("acme", start, start + datetime.timedelta(days=1)))
        assert u["from"] == "2026-01-01T00:00:00Z"
        assert "total" in u["cost"]
        with pytest.raises(HxbError.InvalidInput):
            await engine.usage("acme", start, start)   # empty period
        assert json.loads(await engine.reconcile())["writes"] == 0
        with pytest.raises(HxbError.FailedPrecondition):
            await engine.delete_organization("acme")
        assert len(await engine.list_workspaces("acme")) == 1
        assert await engine.delete_organization("acme", cascade=True) is True
        with pytest.raises(HxbError.NotFound):
            await engine.get_organization("acme")

    run(story())


def test_app_kinds(engine):
    async def story():
        await tenant(engine)
        spec = AppSpec(image="busybox", schedule="*/5 * * * *")
        job = json.loads(await engine.create_app("acme", "dev", "web", "job", spec))
        assert job["kind"] == {"kind": "cron_job", "schedule": "*/5 * * * *"}
        with pytest.raises(HxbError.InvalidInput):
            await engine.create_app("acme", "dev", "web", "x",
                                    AppSpec(image="busybox", schedule="* * * * *", storage="1Gi"))
        with pytest.raises(HxbError.InvalidInput):
            await engine.create_app("acme", "dev", "web", "x",
                                    AppSpec(image="busybox", storage="lots"))
        return await engine.list_apps("acme", "dev", "web")

    assert [json.loads(a)["name"] for a in run(story())] == ["job"]
