// The hxb story in Node.js, on the embedded engine (no cluster, no network).
//
//   node examples/node/quickstart.js        (after bindings/test.sh, or `npm install hxb`)
//
// 1. a tenant's project (today: a namespace with a quota; organizations and workspaces join
//    here when the engine offers them), 2. deploy an app, 3. quota admission refuses what
//    does not fit, 4. (next) a scaling recommendation, 5. (next) anomaly detection.
'use strict'
const hxb = require(process.env.HXB_PACKAGE || '../../bindings/node')

const PROJECT = 'acme-web'
const manifest = (kind, name, extra = {}) => ({
  apiVersion: kind === 'Deployment' ? 'apps/v1' : 'v1',
  kind,
  metadata: kind === 'Namespace' ? { name } : { name, namespace: PROJECT },
  ...extra,
})
const podSpec = (name, cpu) => ({
  containers: [{ name, image: 'nginx:1.27', resources: { requests: { cpu, memory: '128Mi' } } }],
})

async function main() {
  const engine = hxb.Engine.embedded()
  try {
    // 1. The project and its quota (what a workspace plan hands down to a project).
    await engine.apply(manifest('Namespace', PROJECT))
    await engine.apply(manifest('ResourceQuota', 'plan', {
      spec: { hard: { 'requests.cpu': '2', 'requests.memory': '2Gi', pods: '10' } },
    }))

    // 2. Deploy an app.
    const web = await engine.apply(manifest('Deployment', 'web', {
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: podSpec('web', '250m') },
      },
    }))
    console.log(`deployed ${web.metadata.name} in ${PROJECT}`)

    // 3. Quota admission: a pod asking for more than the plan allows is refused.
    try {
      await engine.create(manifest('Pod', 'batch', { spec: podSpec('batch', '4') }))
    } catch (err) {
      if (!(err instanceof hxb.QuotaExceededError)) throw err
      for (const e of err.details.exceeded) {
        console.log(`refused: ${e.resource} requested ${e.requested}, used ${e.used}, limit ${e.limit}`)
      }
    }

    // The same arithmetic without an engine, exact to the nano:
    console.log(`requests add up to ${hxb.sumQuantities(['250m', '250m', '1.5'])} cpu`)

    // 4. Scaling recommendation and 5. anomaly detection plug in here as the engine grows
    //    (engine.recommendScaling(...), engine.detectAnomalies(...)).
  } finally {
    engine.close()
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
