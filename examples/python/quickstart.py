"""The hxb story in Python, on the embedded engine (no cluster, no network).

    python examples/python/quickstart.py        # after bindings/test.sh or `pip install hxb`

1. an organization, a workspace and a project (a namespace with the plan's quota),
2. deploy an app into it (quota-checked),
3. quota admission refuses what does not fit, with the exact figures,
4. ask for a scaling recommendation (HPA-exact),
5. run anomaly detection on a series.
"""

import asyncio
import math

import hxb


async def main() -> None:
    with hxb.Engine.embedded() as engine:
        # 1. Organization -> workspace -> project.
        await engine.create_organization("acme", plan="starter", display_name="Acme")
        await engine.create_workspace("acme", "dev")
        project = await engine.create_project("acme", "dev", "web")
        ns = project["namespace"]
        print(f"project acme/dev/web is namespace {ns}")

        # 2. Deploy an app.
        await engine.create_app("acme", "dev", "web", "api", image="nginx:1.27",
                                replicas=2, port=8080, requests={"cpu": "50m"})
        deployments = await engine.list("Deployment", ns)
        print(f"deployed {[d['metadata']['name'] for d in deployments]} in {ns}")

        # 3. Quota admission: a pod asking for more than the plan allows is refused.
        big = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "batch", "namespace": ns},
               "spec": {"containers": [{"name": "batch", "image": "nginx:1.27",
                                        "resources": {"requests": {"cpu": "400m"}}}]}}
        try:
            await engine.create(big)
        except hxb.QuotaExceededError as err:
            for e in err.exceeded:
                print(f"refused: {e.resource} requested {e.requested}, "
                      f"used {e.used}, limit {e.limit}")

        # 4. Scaling recommendation: the two pods use 40m of their 50m (80 %) against a
        #    50 % target.
        rec = engine.recommend_replicas(cpu_usage=[0.04, 0.04], cpu_request="50m",
                                        target_cpu_utilization=50, current_replicas=2,
                                        max_replicas=10)
        print(f"recommended replicas: {rec['desired_replicas']} ({rec['reason']})")

        # 5. Anomaly detection on a five-minute series with one spike.
        timestamps = [i * 300_000 for i in range(2000)]
        values = [50.0 if i == 1500 else math.sin(i / 20) for i in range(2000)]
        scores = engine.detect_anomalies(timestamps, values)
        flagged = [i for i, s in enumerate(scores) if s > 0.5]
        print(f"anomalous points: {flagged}")


if __name__ == "__main__":
    asyncio.run(main())
