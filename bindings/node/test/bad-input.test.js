'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { hxb, embeddedOrSkip, NAMESPACE } = require('./helpers')

const invalid = (e) => e instanceof hxb.InvalidInputError && e.code === 'invalid_input'

test('wrong types, null and undefined are InvalidInputError', () => {
  for (const v of [null, undefined, 42, {}, [], 1n, Symbol('s'), () => 1]) {
    assert.throws(() => new hxb.Quantity(v), invalid)
    assert.throws(() => hxb.validateName(v), invalid)
  }
  for (const v of [null, undefined, 42, 'abc', 1n, { length: 1 }]) {
    assert.throws(() => hxb.sumQuantities(v), invalid, String(v))
  }
  assert.throws(() => hxb.sumQuantities(['1', 2]), invalid)
  assert.throws(() => hxb.admit('q', { cpu: 1 }, {}, {}), invalid)
  assert.throws(() => hxb.admit('q', null, {}, {}), invalid)
  assert.throws(() => new hxb.Quantity('1').add('1'), invalid)
  assert.throws(() => new hxb.Quantity('1').add(null), invalid)
})

test('NaN, infinities and huge numbers are InvalidInputError', async () => {
  for (const v of [NaN, Infinity, -Infinity, 1e300]) {
    assert.throws(() => hxb.Quantity.fromNumber(v), invalid)
  }
  assert.throws(() => new hxb.Quantity('100E').mul(2 ** 62), invalid)
  assert.throws(() => new hxb.Quantity('1e40'), invalid)
  for (const n of [NaN, 1.5, 2 ** 60, Infinity]) {
    assert.throws(() => new hxb.Quantity('1').mul(n), invalid)
  }
  for (const nodes of [NaN, -1, 1.5]) {
    await assert.rejects(hxb.Engine.open({ nodes }), invalid)
  }
})

// Node-API reserves an array's whole length before reading it; a failed allocation would abort
// the process. A sparse array claiming 2 ** 32 - 1 items, anywhere in an argument, is refused.
test('sparse giant arrays are InvalidInputError, not an abort', async (t) => {
  const giant = []
  giant.length = 2 ** 32 - 1
  const tooLong = (e) => invalid(e) && /longer than/.test(e.message)
  assert.throws(() => hxb.sumQuantities(giant), tooLong)
  assert.throws(() => hxb.admit('q', { cpu: '1' }, {}, { list: giant }), tooLong)
  const e = embeddedOrSkip(t)
  if (!e) return
  assert.throws(() => e.detectAnomalies(giant, giant), tooLong)
  assert.throws(() => e.forecast(giant, 3, 1), tooLong)
  await assert.rejects(async () => e.apply({ ...NAMESPACE, spec: { items: [[giant]] } }), tooLong)
  await assert.rejects(e.get('Namespace', 'team-a'), (err) => err.code === 'not_found') // nothing made
  // Arrays of an ordinary length still cross, holes included (refused as non-numbers natively).
  assert.throws(() => e.detectAnomalies([1, , 3], [1, 2, 3]), invalid) // eslint-disable-line no-sparse-arrays
  e.close()
})

test('lone surrogates do not get through as names or quantities', () => {
  assert.throws(() => hxb.validateName('team\uD800'), invalid)
  assert.throws(() => new hxb.Quantity('1\uDC00Gi'), invalid)
})

test('the class constructor is only callable with new', () => {
  assert.throws(() => hxb.Quantity('1'), TypeError)
})

// Arguments napi cannot convert (undefined, BigInt, cycles, NaN) throw InvalidInputError
// synchronously, before any work starts; everything else rejects. `async () => …` sees both.
test('manifests that are not JSON objects fail with InvalidInputError', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  const cyclic = { ...NAMESPACE }
  cyclic.spec = cyclic
  let deep = {}
  const root = deep
  for (let i = 0; i < 500; i++) deep = deep.x = {}
  for (const m of [null, undefined, 42, 'text', [1], { ...NAMESPACE, spec: { n: NaN } },
    cyclic, { ...NAMESPACE, spec: root },
    { kind: 'Namespace' }]) {
    await assert.rejects(async () => e.apply(m), invalid)
  }
  // A BigInt beyond 64 bits is kept exactly, as its decimal string (napi's lossless rule).
  const ns = await e.apply({ ...NAMESPACE, spec: { n: 10n ** 30n, s: 5n } })
  assert.deepEqual(ns.spec, { n: '1' + '0'.repeat(30), s: 5 })
  e.close()
})

test('calls after close reject with ClosedError', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  e.close()
  e.close()
  assert.equal(e.closed, true)
  for (const p of [e.apply(NAMESPACE), e.create(NAMESPACE), e.get('Namespace', 'team-a'),
    e.list('Namespace'), e.delete('Namespace', 'team-a')]) {
    await assert.rejects(p, (err) => err instanceof hxb.ClosedError && err.code === 'closed')
  }
})
