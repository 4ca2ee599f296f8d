"""The hxb story in Python, on the embedded engine (no cluster, no network).

    python examples/python/quickstart.py        # after bindings/test.sh or `pip install hxb`

1. an organization, a workspace and a project (a namespace with the plan's quota),
2. deploy an app into it (quota-checked),
3. quota admission refuses what does not fit, with the exact figures,
4. ask for a scaling recommendation (HPA-exact),
5. run anomaly detection on a series (compact arrays: read in one copy),
6. a member, an invitation and the member's workspace-scoped kubeconfig; reconcile.
"""

import asyncio
import math
from array import array

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
        #    (Lists work too; buffers such as array('d') or numpy arrays skip per-item work.)
        timestamps = array("q", (i * 300_000 for i in range(2000)))
        values = array("d", (50.0 if i == 1500 else math.sin(i / 20) for i in range(2000)))
        scores = engine.detect_anomalies(timestamps, values)   # array('d')
        flagged = [i for i, s in enumerate(scores) if s > 0.5]
        print(f"anomalous points: {flagged}")

        # 6. People: a developer of workspace dev, an invited member, a scoped kubeconfig.
        await engine.add_member("acme", "alice@example.com", role="developer", workspace="dev")
        invitation = await engine.invite("acme", "bob@example.com", role="member")
        await engine.accept_invitation(invitation["token"])
        print(f"members: {[m['subject'] for m in await engine.members('acme')]}")
        try:
            kubeconfig = await engine.scoped_kubeconfig("acme", "dev", "alice@example.com")
            print(f"alice's kubeconfig: {len(kubeconfig.splitlines())} lines of YAML")
        except hxb.UnavailableError as err:  # retryable: the cluster issued no token yet
            print(f"alice's kubeconfig: not yet ({err})")
        report = await engine.reconcile()
        print(f"reconcile: {report['writes']} writes (already converged)")


if __name__ == "__main__":
    asyncio.run(main())
