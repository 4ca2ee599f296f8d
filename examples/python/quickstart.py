"""The hxb story in Python, on the embedded engine (no cluster, no network).

    python examples/python/quickstart.py        # after bindings/test.sh or `pip install hxb`

1. a tenant's project (today: a namespace with a quota; organizations and workspaces join
   here when the engine offers them),
2. deploy an app into it,
3. quota admission refuses what does not fit, with the exact figures,
4. (next) ask for a scaling recommendation, 5. (next) run anomaly detection on a series.
"""

import asyncio

import hxb

PROJECT = "acme-web"


def manifest(kind, name, **spec):
    api = "apps/v1" if kind == "Deployment" else "v1"
    meta = {"name": name} if kind == "Namespace" else {"name": name, "namespace": PROJECT}
    return {"apiVersion": api, "kind": kind, "metadata": meta, **spec}


def app(name, cpu, replicas=1):
    container = {"name": name, "image": "nginx:1.27",
                 "resources": {"requests": {"cpu": cpu, "memory": "128Mi"}}}
    return {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                         "spec": {"containers": [container]}}}


async def main() -> None:
    with hxb.Engine.embedded() as engine:
        # 1. The project and its quota (what a workspace plan hands down to a project).
        await engine.apply(manifest("Namespace", PROJECT))
        await engine.apply(manifest("ResourceQuota", "plan", spec={
            "hard": {"requests.cpu": "2", "requests.memory": "2Gi", "pods": "10"}}))

        # 2. Deploy an app.
        web = await engine.apply(manifest("Deployment", "web", spec=app("web", "250m", 2)))
        print(f"deployed {web['metadata']['name']} in {PROJECT}")

        # 3. Quota admission: a pod asking for more than the plan allows is refused.
        big = manifest("Pod", "batch", spec=app("batch", "4")["template"]["spec"])
        try:
            await engine.create(big)
        except hxb.QuotaExceededError as err:
            for e in err.exceeded:
                print(f"refused: {e.resource} requested {e.requested}, "
                      f"used {e.used}, limit {e.limit}")

        # The same arithmetic without an engine, exact to the nano:
        total = hxb.sum_quantities(["250m", "250m", "1.5"])
        print(f"requests add up to {total} cpu")

        # 4. Scaling recommendation and 5. anomaly detection plug in here as the engine
        #    grows (engine.recommend_scaling(...), engine.detect_anomalies(...)).


if __name__ == "__main__":
    asyncio.run(main())
