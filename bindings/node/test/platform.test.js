'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { inspect } = require('node:util')
const { hxb, embeddedOrSkip } = require('./helpers')

function spikeSeries(n = 2000, at = 1500) {
  const ts = Array.from({ length: n }, (_, i) => i * 300_000)
  const vs = Array.from({ length: n }, (_, i) => (i === at ? 50 : Math.sin(i / 20)))
  return [ts, vs]
}

test('the platform story: organization, workspace, project, app, analysis', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  const org = await e.createOrganization('acme', { plan: 'starter', displayName: 'Acme' })
  assert.equal(org.name, 'acme')
  await e.createWorkspace('acme', 'dev')
  const project = await e.createProject('acme', 'dev', 'web')
  assert.equal(project.namespace, 'acme-dev-web')
  const app = await e.createApp('acme', 'dev', 'web', 'api',
    { image: 'nginx:1.27', replicas: 2, port: 8080, requests: { cpu: '100m' } })
  assert.equal(app.replicas, 2)
  const deployments = await e.list('Deployment', 'acme-dev-web')
  assert.deepEqual(deployments.map((d) => d.metadata.name), ['api'])
  await assert.rejects(e.createOrganization('acme'), hxb.AlreadyExistsError)
  await assert.rejects(e.createProject('acme', 'nope', 'web'), hxb.NotFoundError)
  await assert.rejects(
    e.createApp('acme', 'dev', 'web', 'bad', { image: 'nginx', requests: { cpu: 'lots' } }),
    hxb.InvalidInputError)
  assert.throws(() => e.createApp('acme', 'dev', 'web', 'bad', { image: 'nginx', replicas: 1.5 }),
    hxb.InvalidInputError)
  assert.ok(Array.isArray(await e.analyze('acme-dev-web')))
  e.close()
})

test('recommendReplicas is HPA-exact', (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  const req = { cpuUsage: [0.4, 0.4, 0.4], cpuRequest: '500m', targetCpuUtilization: 50,
    currentReplicas: 3, maxReplicas: 10 }
  const rec = e.recommendReplicas(req)
  assert.equal(rec.desiredReplicas, 5) // 80 % against 50 %: ceil(3 × 1.6)
  assert.equal(rec.rescale, true)
  assert.ok(rec.conditions.some((c) => c.startsWith('AbleToScale=True')))
  assert.throws(() => e.recommendReplicas({ ...req, cpuUsage: [NaN] }), hxb.InvalidInputError)
  assert.throws(() => e.recommendReplicas({ ...req, cpuRequest: 'lots' }), hxb.InvalidInputError)
  assert.throws(() => e.recommendReplicas({ ...req, currentReplicas: 2.5 }), hxb.InvalidInputError)
  assert.throws(() => e.recommendReplicas({ ...req, cpuUsage: 'fast' }), hxb.InvalidInputError)
})

test('forecast follows a daily cycle', (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  const day = Array.from({ length: 24 * 14 }, (_, t) => 100 + 40 * Math.sin((t * 2 * Math.PI) / 24))
  const f = e.forecast(day, 24, 24)
  assert.equal(f.length, 24)
  f.forEach((v, h) => assert.ok(Math.abs(v - day[h]) < 5, `step ${h}: ${v}`))
  // A Float64Array in gives a Float64Array out, with the same values.
  const typed = e.forecast(Float64Array.from(day), 24, 24)
  assert.ok(typed instanceof Float64Array)
  assert.deepEqual(Array.from(typed), f)
  assert.throws(() => e.forecast(day.slice(0, 10), 24, 24), hxb.InvalidInputError)
  assert.throws(() => e.forecast([1, NaN], 1, 1), hxb.InvalidInputError)
  assert.throws(() => e.forecast(day, -1, 24), hxb.InvalidInputError)
})

test('detectAnomalies flags a spike, from arrays or Float64Arrays', (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  const [ts, vs] = spikeSeries()
  const scores = e.detectAnomalies(ts, vs)
  assert.equal(scores.length, vs.length)
  // The shape stage scores whole blocks: the spike alerts within a few points.
  assert.ok(Math.max(...scores.slice(1500, 1506)) > 0.5)
  assert.ok(Math.max(...scores.slice(1000, 1500)) < 0.5)
  // Typed arrays are read in place; typed values give a Float64Array of scores.
  const typed = e.detectAnomalies(Float64Array.from(ts), Float64Array.from(vs))
  assert.ok(typed instanceof Float64Array)
  assert.deepEqual(Array.from(typed), scores)
  const bigTs = BigInt64Array.from(ts, (t) => BigInt(t))
  assert.deepEqual(Array.from(e.detectAnomalies(bigTs, Float64Array.from(vs))), scores)
  assert.deepEqual(e.detectAnomalies(bigTs, vs), scores)
  // Views into a larger buffer are read from their offset.
  const tail = e.detectAnomalies(Float64Array.from(ts).subarray(500), Float64Array.from(vs).subarray(500))
  assert.deepEqual(Array.from(tail), e.detectAnomalies(ts.slice(500), vs.slice(500)))
})

test('detectAnomalies takes a value range hint', (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  const [ts, vs] = spikeSeries()
  const plain = e.detectAnomalies(ts, vs)
  const range = { min: Math.min(...vs), max: Math.max(...vs) }
  const hinted = e.detectAnomalies(ts, vs, range)
  assert.equal(hinted.length, vs.length)
  assert.ok(Math.max(...hinted.slice(1500, 1506)) > 0.5)
  assert.ok(Math.max(...plain.slice(1500, 1506)) > 0.5)
  assert.deepEqual(Array.from(e.detectAnomalies(Float64Array.from(ts), Float64Array.from(vs), range)), hinted)
  const invalid = (err) => err instanceof hxb.InvalidInputError
  for (const bad of [{ min: 1, max: 1 }, { min: 2, max: 1 }, { min: NaN, max: 1 }, { min: 0 }, '0..1']) {
    assert.throws(() => e.detectAnomalies(ts, vs, bad), invalid, JSON.stringify(bad))
  }
})

test('bad series are typed invalid-input errors', (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  const cases = [
    [[0, 1, 2], [1, NaN, 1]],
    [[0, 1, 2], [1, Infinity, 1]],
    [[0, 2, 1], [1, 1, 1]],
    [[0, 1, 1], [1, 1, 1]],
    [[0, 1], [1]],
    [[0, 1.5], [1, 1]],
    [[0, 1], ['a', 'b']],
    [null, [1]],
    [Float64Array.from([0, 0.5]), Float64Array.from([1, 1])],
    [BigInt64Array.from([2n, 1n]), Float64Array.from([1, 1])],
    [BigInt64Array.from([0n, 1n]), Float64Array.from([1, NaN])],
    [Int32Array.from([0, 1]), Float64Array.from([1, 1])],
    [[0, 1], Float32Array.from([1, 1])],
  ]
  for (const [ts, vs] of cases) {
    assert.throws(() => e.detectAnomalies(ts, vs), hxb.InvalidInputError, inspect([ts, vs]))
  }
  e.close()
  assert.throws(() => e.detectAnomalies([0], [1]), hxb.ClosedError)
})
