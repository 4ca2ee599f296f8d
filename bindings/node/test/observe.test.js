'use strict'
// Events, alerts, incidents, function invocation and logs — each with its bad input, which is
// typed and changes nothing.
const test = require('node:test')
const assert = require('node:assert/strict')
const { hxb, embeddedOrSkip } = require('./helpers')

const signal = (reason, scope = 'acme/dev') => ({
  scope, object: 'Deployment acme-dev-web/web', kind: { type: 'event', reason },
})

test('for await over subscribe() yields events and ends when the engine closes', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  const sub = e.subscribe()
  assert.ok(sub instanceof hxb.EventSubscription)
  const seen = (async () => {
    const out = []
    for await (const ev of sub) out.push(ev)
    return out
  })()
  await e.createOrganization('acme')
  e.recordSignal(signal('OOMKilled'))
  await new Promise((r) => setTimeout(r, 20))
  e.close()
  const events = await seen
  assert.deepEqual(events[0], {
    type: 'status_changed', kind: 'organization', path: { organization: 'acme' }, from: null,
    to: 'Pending',
  })
  assert.equal(events.at(-1).type, 'incident_opened')
  assert.equal(events.at(-1).id, 1)
})

test('a lagging subscription says how many it missed; close() settles next() with null', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  const sub = e.subscribe()
  // One incident per workspace: 1027 events, three more than the bus holds.
  for (let i = 0; i < 1024 + 3; i++) e.recordSignal(signal('BackOff', `acme/w${i}`))
  assert.deepEqual(await sub.next(), { type: 'lagged', missed: 3 })
  assert.equal((await sub.next()).scope, 'acme/w3')
  sub.close()
  assert.equal(await sub.next(), null, 'held events are dropped with the subscription')
  const idle = e.subscribe()
  const pending = idle.next()
  idle.close()
  assert.equal(await pending, null)
  assert.equal(idle.closed, true)
  // Leaving a for-await loop early closes the subscription.
  const other = e.subscribe()
  e.recordSignal(signal('BackOff'))
  for await (const ev of other) {
    assert.equal(ev.type, 'incident_opened')
    break
  }
  assert.equal(other.closed, true)
  e.close()
})

test('alert rules, alerts and health; bad rules are typed and change nothing', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  const rule = await e.addAlertRule('acme/dev', {
    name: 'HighCpu', query: 'cpu_usage', comparison: '>', threshold: 0.9, for: '5m',
    severity: 'critical',
  })
  assert.deepEqual(rule, {
    name: 'HighCpu', query: 'cpu_usage', comparison: 'above', threshold: 0.9, for: '300s',
    severity: 'critical',
  })
  assert.deepEqual(await e.alertRules('acme/dev'), [rule])
  assert.deepEqual(await e.evaluateAlerts(), { fired: [], resolved: [], errors: [] })
  assert.deepEqual(await e.alerts(), [])
  const health = await e.health('acme')
  assert.equal(health.health, 'healthy')
  for (const [scope, bad] of [
    ['acme/dev', { name: 'x', query: 'rate((' }],
    ['acme/dev', { name: 'bad name!', query: 'up' }],
    ['acme/dev', { name: 'x', query: 'up', comparison: '~' }],
    ['acme/dev', { name: 'x', query: 'up', for: 'soon' }],
    ['acme/dev', { name: 'x', query: 'up', severity: 'dire' }],
    ['acme/dev', { name: 'x', query: 'up', colour: 'red' }],
    ['acme/dev', { query: 'up' }],
    ['Acme/dev', { name: 'x', query: 'up' }],
    ['a/b/c/d', { name: 'x', query: 'up' }],
  ]) {
    await assert.rejects(e.addAlertRule(scope, bad), hxb.InvalidInputError, JSON.stringify(bad))
  }
  assert.throws(() => e.addAlertRule(null, { name: 'x', query: 'up' }), hxb.InvalidInputError)
  assert.throws(() => e.addAlertRule('acme/dev', { name: 'x', query: 'up', threshold: NaN }),
    hxb.InvalidInputError)
  await assert.rejects(e.health('Acme'), hxb.InvalidInputError)
  await assert.rejects(e.removeAlertRule('acme/dev', 'ghost'), hxb.NotFoundError)
  await assert.rejects(e.acknowledgeAlert('acme/dev/HighCpu{}', 'alice@example.com'),
    hxb.NotFoundError)
  assert.deepEqual(await e.alertRules('acme/dev'), [rule])
  await e.removeAlertRule('acme/dev', 'HighCpu')
  assert.deepEqual(await e.alertRules('acme/dev'), [])
  e.close()
})

test('signals group into incidents; bad signals are typed and change nothing', (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  const first = e.recordSignal(signal('OOMKilled'))
  const second = e.recordSignal({ ...signal('BackOff'), message: 'restarting',
    at: new Date().toISOString() })
  assert.deepEqual([first.id, second.id, second.signals.length], [1, 1, 2])
  assert.equal(second.status, 'open')
  for (const bad of [
    signal('x', ''),
    signal('x', 'acme/dev/web/extra'),
    { ...signal('x'), kind: { type: 'rumour' } },
    { ...signal('x'), at: 'yesterday' },
    { scope: 'acme/dev' },
    null,
  ]) {
    assert.throws(() => e.recordSignal(bad), hxb.InvalidInputError, JSON.stringify(bad))
  }
  assert.deepEqual(e.incidents().map((i) => i.signals.length), [2])
  assert.deepEqual(e.closeIdleIncidents(), [])
  e.close()
  assert.throws(() => e.incidents(), hxb.ClosedError)
})

test('invokeFunction errors are typed and change nothing', async (t) => {
  // A function needs an in-process image handler on the embedded cluster, which JavaScript
  // cannot register; the answering path is tested in Rust (bindings/common observe tests).
  const e = embeddedOrSkip(t)
  if (!e) return
  await e.createOrganization('acme')
  await e.createWorkspace('acme', 'dev')
  await e.createProject('acme', 'dev', 'web')
  await e.createApp('acme', 'dev', 'web', 'site', { image: 'nginx' })
  const before = await e.listApps('acme', 'dev', 'web')
  await assert.rejects(e.invokeFunction('acme', 'dev', 'web', 'site', Buffer.from('hi')),
    (err) => err instanceof hxb.InvalidInputError && /not a function/.test(err.message))
  await assert.rejects(e.invokeFunction('acme', 'dev', 'web', 'ghost', 'hi'), hxb.NotFoundError)
  await assert.rejects(e.invokeFunction('acme', 'dev', 'web', 'site', '', { method: 'FETCH' }),
    hxb.InvalidInputError)
  await assert.rejects(e.invokeFunction('acme', 'dev', 'web', 'site', '', { path: '/../x' }),
    hxb.InvalidInputError)
  assert.throws(() => e.invokeFunction('acme', 'dev', 'web', 'site', 42), hxb.InvalidInputError)
  assert.deepEqual(await e.listApps('acme', 'dev', 'web'), before)
  e.close()
})

test('logs read back; bad input is typed', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await e.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } })
  await e.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'team-a' },
    spec: { containers: [{ name: 'app', image: 'nginx' }] } })
  assert.equal(await e.logs('team-a', 'web'), '')
  assert.equal(await e.logs('team-a', 'web', { container: 'app', tailLines: 5 }), '')
  await assert.rejects(e.logs('team-a', 'ghost'), hxb.NotFoundError)
  await assert.rejects(e.logs('team-a', 'web', { container: 'sidecar' }), hxb.InvalidInputError)
  await assert.rejects(e.logs('team-a', 'web', { tailLines: -1 }), hxb.InvalidInputError)
  assert.throws(() => e.logs('team-a', 'web', { tailLines: 1.5 }), hxb.InvalidInputError)
  e.close()
  await assert.rejects(e.logs('team-a', 'web'), hxb.ClosedError)
  assert.equal(await e.subscribe().next(), null)
})
