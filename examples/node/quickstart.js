// The hxb story in Node.js, on the embedded engine (no cluster, no network).
//
//   node examples/node/quickstart.js        (after bindings/test.sh, or `npm install hxb`)
//
// 1. an organization, a workspace and a project (a namespace with the plan's quota),
// 2. deploy an app into it, 3. quota admission refuses what does not fit,
// 4. a scaling recommendation (HPA-exact), 5. anomaly detection on a series,
// 6. a member, an invitation and the member's workspace-scoped kubeconfig; reconcile.
'use strict'
const hxb = require(process.env.HXB_PACKAGE || '../../bindings/node')

async function main() {
  const engine = hxb.Engine.embedded()
  try {
    // 1. Organization -> workspace -> project.
    await engine.createOrganization('acme', { plan: 'starter', displayName: 'Acme' })
    await engine.createWorkspace('acme', 'dev')
    const { namespace } = await engine.createProject('acme', 'dev', 'web')
    console.log(`project acme/dev/web is namespace ${namespace}`)

    // 2. Deploy an app.
    await engine.createApp('acme', 'dev', 'web', 'api',
      { image: 'nginx:1.27', replicas: 2, port: 8080, requests: { cpu: '50m' } })
    const deployments = await engine.list('Deployment', namespace)
    console.log(`deployed ${deployments.map((d) => d.metadata.name)} in ${namespace}`)

    // 3. Quota admission: a pod asking for more than the plan allows is refused.
    try {
      await engine.create({
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'batch', namespace },
        spec: { containers: [{ name: 'batch', image: 'nginx:1.27', resources: { requests: { cpu: '400m' } } }] },
      })
    } catch (err) {
      if (!(err instanceof hxb.QuotaExceededError)) throw err
      for (const e of err.details.exceeded) {
        console.log(`refused: ${e.resource} requested ${e.requested}, used ${e.used}, limit ${e.limit}`)
      }
    }

    // 4. Scaling recommendation: the two pods use 40m of their 50m (80 %) against 50 %.
    const rec = engine.recommendReplicas({
      cpuUsage: [0.04, 0.04], cpuRequest: '50m', targetCpuUtilization: 50,
      currentReplicas: 2, maxReplicas: 10,
    })
    console.log(`recommended replicas: ${rec.desiredReplicas} (${rec.reason})`)

    // 5. Anomaly detection on a five-minute series with one spike: typed arrays are read in
    //    place and the scores come back as a Float64Array (plain arrays work too).
    const timestamps = Float64Array.from({ length: 2000 }, (_, i) => i * 300_000)
    const values = Float64Array.from({ length: 2000 }, (_, i) => (i === 1500 ? 50 : Math.sin(i / 20)))
    const scores = engine.detectAnomalies(timestamps, values)
    const flagged = Array.from(scores).flatMap((s, i) => (s > 0.5 ? [i] : []))
    console.log(`anomalous points: ${flagged}`)

    // 6. People: a developer of workspace dev, an invited member, a scoped kubeconfig.
    await engine.addMember('acme', 'alice@example.com', { role: 'developer', workspace: 'dev' })
    const invitation = await engine.invite('acme', 'bob@example.com', { role: 'member' })
    await engine.acceptInvitation(invitation.token)
    console.log(`members: ${(await engine.members('acme')).map((m) => m.subject)}`)
    try {
      const kubeconfig = await engine.scopedKubeconfig('acme', 'dev', 'alice@example.com')
      console.log(`alice's kubeconfig: ${kubeconfig.split('\n').length} lines of YAML`)
    } catch (err) {
      // Retryable: no token issued yet (the embedded cluster has no token controller).
      if (!(err instanceof hxb.UnavailableError)) throw err
      console.log(`alice's kubeconfig: not yet (${err.message})`)
    }
    const report = await engine.reconcile()
    console.log(`reconcile: ${report.writes} writes (already converged)`)
  } finally {
    engine.close()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
