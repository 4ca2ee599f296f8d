"""Backup and restore, plan policy and the multi-cluster fleet through Python — each with its
bad input or refusal, which raises a typed error and changes nothing."""

import asyncio
import datetime

import pytest

import hxb


def run(coro):
    return asyncio.run(coro)


def config_map(mode):
    return {"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "acme-dev-web"},
            "data": {"mode": mode}}


async def tenant(engine):
    await engine.create_organization("acme", plan="starter")
    await engine.create_workspace("acme", "dev")
    await engine.create_project("acme", "dev", "web")
    await engine.create_project("acme", "dev", "copy")
    await engine.create_app("acme", "dev", "web", "shop", image="shop:1", port=8080,
                            requests={"cpu": "150m"})


def test_snapshot_plan_and_restore_into_another_project(engine, tmp_path):
    async def story():
        await tenant(engine)
        backups = engine.backups(tmp_path)
        assert isinstance(backups, hxb.Backups)
        snap = await backups.snapshot("acme", "dev", "web")
        assert snap["apps"] == 1 and snap["hash"].startswith("sha256:")
        assert [s["id"] for s in await backups.list("acme", "dev", "web")] == [snap["id"]]
        await engine.delete_app("acme", "dev", "web", "shop")
        plan = await backups.plan_restore(snap["id"])
        assert plan["applied"] is False and plan["reconcile"] is None
        assert plan["counts"]["create"] == 2                     # Deployment + Service
        assert {o["action"] for o in plan["plan"]["objects"]} == {"create"}
        assert await engine.list_apps("acme", "dev", "web") == []  # a dry run changes nothing
        done = await backups.restore(snap["id"])
        assert done["applied"] is True and done["reconcile"]["errors"] == []
        assert [a["name"] for a in await engine.list_apps("acme", "dev", "web")] == ["shop"]
        await engine.delete_app("acme", "dev", "web", "shop")
        await backups.restore(snap["id"], into=("acme", "dev", "copy"))
        assert [a["name"] for a in await engine.list_apps("acme", "dev", "copy")] == ["shop"]
        await backups.delete(snap["id"])
        assert await backups.list("acme", "dev", "web") == []

    run(story())


def test_conflicting_or_over_quota_restores_are_refused_and_change_nothing(engine, tmp_path):
    async def story():
        await tenant(engine)
        backups = engine.backups(tmp_path)
        await engine.apply(config_map("blue"))
        snap = await backups.snapshot("acme", "dev", "web")
        # conflict: the unmanaged ConfigMap was edited since
        await engine.apply(config_map("red"))
        plan = await backups.plan_restore(snap["id"])
        conflicts = [o for o in plan["plan"]["objects"] if o["action"] == "conflict"]
        assert [o["name"] for o in conflicts] == ["settings"] and conflicts[0]["reason"]
        with pytest.raises(hxb.ConflictError):
            await backups.restore(snap["id"])
        live = await engine.get("ConfigMap", "settings", "acme-dev-web")
        assert live["data"] == {"mode": "red"}
        # over quota: 150m restored beside 100m in a project of 200m
        await engine.delete("ConfigMap", "settings", "acme-dev-web")
        await engine.delete_app("acme", "dev", "web", "shop")
        await engine.create_app("acme", "dev", "copy", "other", image="other:1",
                                requests={"cpu": "100m"})
        before = await engine.list_apps("acme", "dev", "copy")
        with pytest.raises(hxb.QuotaExceededError) as err:
            await backups.restore(snap["id"], into=("acme", "dev", "copy"))
        assert err.value.exceeded
        assert await engine.list_apps("acme", "dev", "copy") == before
        assert await engine.list_apps("acme", "dev", "web") == []
        # bad input
        with pytest.raises(hxb.InvalidInputError):
            await backups.restore("../etc/passwd")
        with pytest.raises(hxb.NotFoundError):
            await backups.restore("acme.dev.web.20200101T000000Z.000000000000")
        with pytest.raises(hxb.NotFoundError):
            await backups.snapshot("acme", "dev", "nowhere")
        with pytest.raises(TypeError):
            await backups.restore(snap["id"], into="acme/dev/copy")

    run(story())


def test_backup_policies_and_due_runs(engine, tmp_path):
    async def story():
        await tenant(engine)
        backups = engine.backups(tmp_path)
        policy = await backups.set_policy("acme", "dev", "web", "shop", schedule="0 3 * * *",
                                          keep_last=3, max_age=datetime.timedelta(days=30))
        assert policy["schedule"] == "0 3 * * *" and policy["app"] == "shop"
        assert await backups.policies("acme") == [policy]
        with pytest.raises(hxb.InvalidInputError):
            await backups.set_policy("acme", "dev", "web", "shop", schedule="every night")
        with pytest.raises(hxb.InvalidInputError):
            await backups.set_policy("acme", "dev", "web", "shop", schedule="@daily",
                                     keep_last=0)
        with pytest.raises(hxb.NotFoundError):
            await backups.set_policy("acme", "dev", "web", "ghost", schedule="@daily")
        assert await backups.policies("acme") == [policy]       # refusals recorded nothing
        report = await backups.run_due()
        assert report == {"taken": [], "pruned": [], "failed": []}  # not due yet
        await backups.remove_policy("acme", "dev", "web", "shop")
        assert await backups.policies("acme") == []
        engine.close()                                           # the handle follows its engine
        with pytest.raises(hxb.ClosedError):
            await backups.snapshot("acme", "dev", "web")
        with pytest.raises(hxb.ClosedError):
            await backups.run_due()

    run(story())


def privileged_pod(privileged=True, namespace="acme-dev-web"):
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "root", "namespace": namespace},
            "spec": {"containers": [{"name": "app", "image": "nginx",
                                     "securityContext": {"privileged": privileged}}]}}


def test_policy_review_admission_and_workspace_level(engine):
    async def story():
        await tenant(engine)
        policy = await engine.workspace_policy("acme", "dev")
        assert policy["level"] == "baseline" and policy["plan"] == "starter"
        assert policy["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
        ok = await engine.admit_manifest(privileged_pod(False))
        assert ok["governed"] and ok["admitted"] and ok["violations"] == []
        review = await engine.check_manifest(privileged_pod())
        path = "spec.containers[0].securityContext.privileged"
        assert not review["admitted"]
        assert [v["path"] for v in review["violations"]] == [path]
        assert review["violations"][0]["object"] == "Pod acme-dev-web/root"
        with pytest.raises(hxb.ForbiddenError) as err:
            await engine.admit_manifest(privileged_pod())
        assert [v["path"] for v in err.value.details["violations"]] == [path]
        assert err.value.details["level"] == "baseline"
        # the engine's own refusal says the same, and nothing was written
        with pytest.raises(hxb.ForbiddenError) as applied:
            await engine.apply(privileged_pod())
        assert str(applied.value) == str(err.value)
        with pytest.raises(hxb.NotFoundError):
            await engine.get("Pod", "root", "acme-dev-web")
        other = await engine.check_manifest(privileged_pod(namespace="default"))
        assert other == {"governed": False, "admitted": True, "violations": []}
        bad = privileged_pod(False)
        bad["spec"]["containers"][0]["image"] = "Not An Image"
        with pytest.raises(hxb.InvalidInputError):
            await engine.admit_manifest(bad)
        with pytest.raises(hxb.NotFoundError):
            await engine.workspace_policy("acme", "nowhere")
        for wrong in (None, 42, [1, 2]):                     # manifests: InvalidInputError
            with pytest.raises(hxb.InvalidInputError):
                await engine.check_manifest(wrong)
        with pytest.raises(TypeError):
            await engine.workspace_policy("acme", None)

    run(story())


FLEET = [
    {"name": "big", "nodes": 3, "region": "eu", "labels": {"tier": "gold"}},
    {"name": "small", "nodes": 1, "region": "us"},
]


def test_fleet_placement_members_and_moves():
    async def story():
        engine = await hxb.Engine.open(fleet=FLEET)
        await engine.create_organization("acme", plan="starter")
        await engine.create_workspace("acme", "dev")
        assert engine.workspace_assignment("acme", "dev") is None
        assert await engine.place_workspace("acme", "dev", region="us") == "small"
        await engine.create_project("acme", "dev", "web")
        await engine.apply({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": {"name": "cfg", "namespace": "acme-dev-web"}})
        members = {m["name"]: m for m in await engine.fleet_members()}
        assert members["small"]["workspaces"] == ["acme/dev"]
        assert members["small"]["region"] == "us" and members["big"]["labels"]["tier"] == "gold"
        assert members["small"]["used"]["cpu"] == "2" and members["big"]["allocatable"]["cpu"] == "12"
        report = await engine.move_workspace("acme", "dev", "big")
        assert (report["from"], report["to"]) == ("small", "big")
        assert report["namespaces"] == ["acme-dev-web"]
        assert engine.workspace_assignment("acme", "dev")["cluster"] == "big"
        assert (await engine.get("ConfigMap", "cfg", "acme-dev-web"))["metadata"]["name"] == "cfg"
        engine.close()

    run(story())


def test_fleet_refusals_are_typed_and_change_nothing():
    async def story():
        engine = await hxb.Engine.open(fleet=FLEET)
        await engine.create_organization("acme", plan="professional")
        await engine.create_workspace("acme", "dev")                # 8 cpu of quota
        await engine.create_project("acme", "dev", "web")
        assert engine.workspace_assignment("acme", "dev")["cluster"] == "big"
        before = await engine.fleet_members()
        with pytest.raises(hxb.QuotaExceededError) as err:           # 8 cpu on a 4-cpu member
            await engine.move_workspace("acme", "dev", "small")
        assert err.value.quota == "cluster small"
        with pytest.raises(hxb.NotFoundError):
            await engine.move_workspace("acme", "dev", "nowhere")
        assert await engine.fleet_members() == before
        assert engine.workspace_assignment("acme", "dev")["cluster"] == "big"
        await engine.create_organization("beta", plan="starter")
        await engine.create_workspace("beta", "ops")
        with pytest.raises(hxb.UnschedulableError):
            await engine.place_workspace("beta", "ops", region="mars")
        with pytest.raises(hxb.InvalidInputError):
            await engine.place_workspace("beta", "ops", require="tier in (")
        assert engine.workspace_assignment("beta", "ops") is None
        engine.close()

    run(story())


def test_fleet_options_and_engines_without_a_fleet(engine):
    with pytest.raises(hxb.InvalidInputError):
        run(hxb.Engine.open(fleet=[{"name": "x", "size": 3}]))
    with pytest.raises(hxb.InvalidInputError):
        run(hxb.Engine.open(fleet=[{"nodes": 3}]))
    with pytest.raises(hxb.FailedPreconditionError):
        run(engine.fleet_members())
    with pytest.raises(hxb.FailedPreconditionError):
        engine.workspace_assignment("acme", "dev")
