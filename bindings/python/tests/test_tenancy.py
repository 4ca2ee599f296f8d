"""Members, invitations, scoped kubeconfigs, entity reads and deletes, the application
lifecycle, usage and reconcile through Python — each with its bad input, which changes nothing."""

import asyncio
import datetime

import pytest

import hxb


def run(coro):
    return asyncio.run(coro)


async def tenant(engine):
    await engine.create_organization("acme", plan="starter")
    await engine.create_workspace("acme", "dev")
    await engine.create_project("acme", "dev", "web")


def test_members_at_every_scope(engine):
    async def story():
        await tenant(engine)
        org = await engine.add_member("acme", "owner@example.com", role="admin")
        ws = await engine.add_member("acme", "alice@example.com", role="developer",
                                     workspace="dev")
        prj = await engine.add_member("acme", "bob@example.com", role="viewer",
                                      workspace="dev", project="web")
        assert org["subject"] == "owner@example.com"
        assert ws["subject"] == "alice@example.com" and prj["subject"] == "bob@example.com"
        assert len(await engine.members("acme")) == 3
        await engine.remove_member("acme", "bob@example.com", workspace="dev", project="web")
        return await engine.members("acme")

    members = run(story())
    assert sorted(m["subject"] for m in members) == ["alice@example.com", "owner@example.com"]


def test_bad_member_input_is_typed_and_changes_nothing(engine):
    async def story():
        await tenant(engine)
        await engine.add_member("acme", "alice@example.com", role="developer", workspace="dev")
        before = await engine.members("acme")
        with pytest.raises(hxb.InvalidInputError):
            await engine.add_member("acme", "bob@example.com", role="emperor", workspace="dev")
        with pytest.raises(hxb.NotFoundError):
            await engine.add_member("acme", "bob@example.com", role="developer",
                                    workspace="nowhere")
        with pytest.raises(hxb.InvalidInputError):              # a project needs its workspace
            await engine.add_member("acme", "bob@example.com", role="viewer", project="web")
        with pytest.raises(hxb.NotFoundError):
            await engine.members("nobody")
        with pytest.raises(TypeError):
            await engine.add_member("acme", None, role="developer")
        assert await engine.members("acme") == before

    run(story())


def test_invitation_token_is_accepted_once(engine):
    async def story():
        await tenant(engine)
        inv = await engine.invite("acme", "carol@example.com", role="developer",
                                  workspace="dev", valid_for=datetime.timedelta(days=1))
        assert inv["used"] is False and len(inv["token"]) >= 16
        member = await engine.accept_invitation(inv["token"])
        assert member["subject"] == "carol@example.com"
        with pytest.raises(hxb.HxbError) as again:
            await engine.accept_invitation(inv["token"])
        assert not isinstance(again.value, hxb.InternalError)
        with pytest.raises(hxb.NotFoundError):
            await engine.accept_invitation("no-such-token")
        with pytest.raises(hxb.InvalidInputError):
            await engine.invite("acme", "dave@example.com", role="emperor")
        return await engine.members("acme")

    assert [m["subject"] for m in run(story())] == ["carol@example.com"]


def test_scoped_kubeconfig_for_a_member_only(engine):
    async def story():
        await tenant(engine)
        await engine.add_member("acme", "alice@example.com", role="developer", workspace="dev")
        # The embedded cluster issues bound ServiceAccount tokens (TokenRequest).
        kc = await engine.scoped_kubeconfig("acme", "dev", "alice@example.com",
                                            server="https://api.example.com:6443")
        assert "https://api.example.com:6443" in kc and "kind: Config" in kc
        assert "token: hxb-embedded." in kc
        with pytest.raises(hxb.ForbiddenError):
            await engine.scoped_kubeconfig("acme", "dev", "mallory@example.com")

    run(story())


def test_get_list_delete_entities_with_cascade(engine):
    async def story():
        await tenant(engine)
        assert (await engine.get_organization("acme"))["name"] == "acme"
        assert [o["name"] for o in await engine.list_organizations()] == ["acme"]
        assert (await engine.get_workspace("acme", "dev"))["name"] == "dev"
        assert [w["name"] for w in await engine.list_workspaces("acme")] == ["dev"]
        assert (await engine.get_project("acme", "dev", "web"))["namespace"] == "acme-dev-web"
        assert [p["name"] for p in await engine.list_projects("acme", "dev")] == ["web"]
        # Not empty and no cascade: refused, nothing deleted.
        with pytest.raises(hxb.FailedPreconditionError):
            await engine.delete_workspace("acme", "dev")
        assert len(await engine.list_projects("acme", "dev")) == 1
        with pytest.raises(hxb.NotFoundError):
            await engine.get_project("acme", "dev", "nope")
        assert await engine.delete_project("acme", "dev", "web") is True
        assert await engine.delete_workspace("acme", "dev") is True
        await engine.create_workspace("acme", "prod")
        await engine.create_project("acme", "prod", "api")
        assert await engine.delete_organization("acme", cascade=True) is True
        assert await engine.list_organizations() == []
        with pytest.raises(hxb.NotFoundError):
            await engine.get_organization("acme")

    run(story())


def test_app_lifecycle(engine):
    async def story():
        await tenant(engine)
        await engine.create_app("acme", "dev", "web", "api", image="nginx", replicas=1,
                                requests={"cpu": "50m"})
        at = ("acme", "dev", "web", "api")
        assert (await engine.scale_app(*at, 2))["replicas"] == 2
        with pytest.raises(hxb.QuotaExceededError):        # the starter plan: 2 pods
            await engine.scale_app(*at, 5)
        assert (await engine.stop_app(*at))["stopped"] is True
        assert (await engine.start_app(*at))["stopped"] is False
        await engine.restart_app(*at)
        apps = await engine.list_apps("acme", "dev", "web")
        assert [a["name"] for a in apps] == ["api"] and apps[0]["replicas"] == 2
        with pytest.raises(hxb.InvalidInputError):
            await engine.scale_app(*at, -1)
        with pytest.raises(hxb.NotFoundError):
            await engine.restart_app("acme", "dev", "web", "nope")
        assert (await engine.list_apps("acme", "dev", "web"))[0]["replicas"] == 2
        await engine.delete_app(*at)
        return await engine.list_apps("acme", "dev", "web")

    assert run(story()) == []


def test_usage_and_reconcile(engine):
    async def story():
        await tenant(engine)
        assert await engine.record_usage() >= 0
        start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
        u = await engine.usage("acme", start, "2026-01-02T00:00:00Z")
        assert set(u) >= {"organization", "workspaces", "projects", "cost"}
        assert not hxb.Quantity(u["cost"]["total"]) < hxb.Quantity("0")
        with pytest.raises(hxb.InvalidInputError):
            await engine.usage("acme", "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z")
        with pytest.raises(hxb.InvalidInputError):
            await engine.usage("acme", datetime.datetime(2026, 1, 1), "2026-01-02T00:00:00Z")
        with pytest.raises(hxb.InvalidInputError):
            await engine.usage("acme", "yesterday", "today")
        report = await engine.reconcile()
        assert report["writes"] == 0 and report["errors"] == []

    run(story())


def test_closed_engine_refuses_tenancy_calls():
    e = hxb.Engine.embedded()
    e.close()
    with pytest.raises(hxb.ClosedError):
        run(e.members("acme"))
    with pytest.raises(hxb.ClosedError):
        run(e.reconcile())


def test_app_kinds_cron_job_and_stateful_arguments(engine):
    async def story():
        await tenant(engine)
        job = await engine.create_app("acme", "dev", "web", "job", image="busybox",
                                      schedule="*/5 * * * *")
        assert job["kind"] == {"kind": "cron_job", "schedule": "*/5 * * * *"}
        assert [c["metadata"]["name"] for c in await engine.list("CronJob", "acme-dev-web")] \
            == ["job"]
        for bad in ({"schedule": "* * * * *", "storage": "1Gi"}, {"storage": "lots"},
                    {"schedule": "not a schedule"}):
            with pytest.raises(hxb.InvalidInputError):
                await engine.create_app("acme", "dev", "web", "x", image="busybox", **bad)
        return await engine.list_apps("acme", "dev", "web")

    assert [a["name"] for a in run(story())] == ["job"]
