'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { hxb, embeddedOrSkip, NAMESPACE } = require('./helpers')

test('many promises at once on one engine', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await e.apply(NAMESPACE)
  const cms = Array.from({ length: 300 }, (_, i) => ({
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: `cm-${i}`, namespace: 'team-a' }, data: { i: String(i) },
  }))
  await Promise.all(cms.map((cm) => e.apply(cm)))
  const got = await Promise.all(cms.map((_, i) => e.get('ConfigMap', `cm-${i}`, 'team-a')))
  assert.deepEqual(got.map((g) => g.data.i), cms.map((_, i) => String(i)))
  // Close while calls are in flight: each settles, with its result or ClosedError.
  const inflight = cms.map((_, i) => e.get('ConfigMap', `cm-${i}`, 'team-a'))
  e.close()
  for (const r of await Promise.allSettled(inflight)) {
    if (r.status === 'rejected') assert.ok(r.reason instanceof hxb.ClosedError)
  }
})

test('many rejected promises are each a typed error', async () => {
  const results = await Promise.allSettled(
    Array.from({ length: 500 }, () => hxb.Engine.open({ kubeconfig: '/nonexistent' })),
  )
  for (const r of results) {
    assert.equal(r.status, 'rejected')
    assert.ok(r.reason instanceof hxb.HxbError)
  }
})
