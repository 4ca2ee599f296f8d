"""Backup and restore, plan policy and the multi-cluster fleet through the uniffi layer
(Swift's FFI), each with its refusal or bad input: a typed error case, nothing changed."""

import asyncio
import json

import pytest

from hxb_uniffi import AppSpec, Engine, EngineOptions, FleetMember, HxbError, ProjectRef


def run(coro):
    return asyncio.run(coro)


def config_map(mode):
    return json.dumps({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "settings", "namespace": "acme-dev-web"},
                       "data": {"mode": mode}})


async def tenant(engine):
    await engine.create_organization("acme", plan="starter")
    await engine.create_workspace("acme", "dev")
    await engine.create_project("acme", "dev", "web")
    await engine.create_project("acme", "dev", "copy")
    await engine.create_app("acme", "dev", "web", "shop",
                            AppSpec(image="shop:1", port=8080, requests={"cpu": "150m"}))


async def app_names(engine, project):
    return [json.loads(a)["name"] for a in await engine.list_apps("acme", "dev", project)]


def test_backup_restore_and_refusals(engine, tmp_path):
    async def story():
        await tenant(engine)
        backups = engine.backups(str(tmp_path))
        snap = json.loads(await backups.snapshot("acme", "dev", "web"))
        assert snap["apps"] == 1
        assert [json.loads(s)["id"] for s in await backups.list("acme", "dev", "web")] == \
            [snap["id"]]
        await engine.delete_app("acme", "dev", "web", "shop")
        plan = json.loads(await backups.plan_restore(snap["id"]))
        assert plan["applied"] is False and plan["counts"]["create"] == 2
        assert await app_names(engine, "web") == []
        assert json.loads(await backups.restore(snap["id"]))["applied"] is True
        assert await app_names(engine, "web") == ["shop"]
        # conflict: an unmanaged ConfigMap edited after the snapshot
        await engine.apply(config_map("blue"))
        snap2 = json.loads(await backups.snapshot("acme", "dev", "web"))
        await engine.apply(config_map("red"))
        with pytest.raises(HxbError.Conflict):
            await backups.restore(snap2["id"])
        live = json.loads(await engine.get("ConfigMap", "settings", namespace="acme-dev-web"))
        assert live["data"] == {"mode": "red"}
        # over quota: 150m restored beside 100m in a project of 200m
        await engine.create_app("acme", "dev", "copy", "other",
                                AppSpec(image="other:1", requests={"cpu": "100m"}))
        with pytest.raises(HxbError.QuotaExceeded) as err:
            await backups.restore(snap["id"], into=ProjectRef(org="acme", workspace="dev",
                                                               project="copy"))
        assert json.loads(err.value.details_json)["exceeded"]
        assert await app_names(engine, "copy") == ["other"]
        with pytest.raises(HxbError.InvalidInput):
            await backups.restore("../etc/passwd")
        # policies
        policy = json.loads(await backups.set_policy("acme", "dev", "web", "shop", "0 3 * * *",
                                                     keep_last=3))
        assert policy["schedule"] == "0 3 * * *"
        with pytest.raises(HxbError.InvalidInput):
            await backups.set_policy("acme", "dev", "web", "shop", "every night")
        assert [json.loads(p) for p in await backups.policies("acme")] == [policy]
        assert json.loads(await backups.run_due()) == {"taken": [], "pruned": [], "failed": []}
        await backups.remove_policy("acme", "dev", "web", "shop")
        assert await backups.policies("acme") == []
        engine.close()                                     # the handle follows its engine
        with pytest.raises(HxbError.Closed):
            await backups.run_due()

    run(story())


def pod(privileged, namespace="acme-dev-web"):
    return json.dumps({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": "root", "namespace": namespace},
                       "spec": {"containers": [{"name": "app", "image": "nginx",
                                                "securityContext": {"privileged": privileged}}]}})


def test_policy_review_admission_and_level(engine):
    async def story():
        await tenant(engine)
        policy = json.loads(await engine.workspace_policy("acme", "dev"))
        assert policy["level"] == "baseline"
        assert json.loads(await engine.admit_manifest(pod(False)))["admitted"] is True
        path = "spec.containers[0].securityContext.privileged"
        review = json.loads(await engine.check_manifest(pod(True)))
        assert [v["path"] for v in review["violations"]] == [path]
        with pytest.raises(HxbError.Forbidden) as err:
            await engine.admit_manifest(pod(True))
        details = json.loads(err.value.details_json)
        assert [v["path"] for v in details["violations"]] == [path]
        assert details["plan"] == "starter"
        with pytest.raises(HxbError.Forbidden):
            await engine.apply(pod(True))
        with pytest.raises(HxbError.NotFound):
            await engine.get("Pod", "root", namespace="acme-dev-web")
        assert json.loads(await engine.check_manifest(pod(True, "default")))["governed"] is False
        with pytest.raises(HxbError.InvalidInput):
            await engine.check_manifest("{not json")
        with pytest.raises(HxbError.NotFound):
            await engine.workspace_policy("acme", "nowhere")

    run(story())


FLEET = [FleetMember(name="big", nodes=3, region="eu", labels={"tier": "gold"}),
         FleetMember(name="small", nodes=1, region="us")]


def test_fleet_placement_moves_and_refusals():
    async def story():
        engine = await Engine.open(EngineOptions(fleet=FLEET))
        await engine.create_organization("acme", plan="starter")
        await engine.create_workspace("acme", "dev")
        assert engine.workspace_assignment("acme", "dev") is None
        assert await engine.place_workspace("acme", "dev", region="us") == "small"
        await engine.create_project("acme", "dev", "web")
        members = {m["name"]: m for m in map(json.loads, await engine.fleet_members())}
        assert members["small"]["workspaces"] == ["acme/dev"]
        report = json.loads(await engine.move_workspace("acme", "dev", "big"))
        assert (report["from"], report["to"]) == ("small", "big")
        # a professional workspace (8 cpu) does not fit the 4-cpu member
        await engine.create_organization("beta", plan="professional")
        await engine.create_workspace("beta", "prod")
        await engine.place_workspace("beta", "prod", cluster="big")
        before = await engine.fleet_members()
        with pytest.raises(HxbError.QuotaExceeded) as err:
            await engine.move_workspace("beta", "prod", "small")
        assert json.loads(err.value.details_json)["quota"] == "cluster small"
        assert await engine.fleet_members() == before
        assert json.loads(engine.workspace_assignment("beta", "prod"))["cluster"] == "big"
        with pytest.raises(HxbError.InvalidInput):
            await engine.place_workspace("acme", "dev", require="tier in (")
        engine.close()
        with pytest.raises(HxbError.FailedPrecondition):
            await Engine.embedded().fleet_members()

    run(story())
