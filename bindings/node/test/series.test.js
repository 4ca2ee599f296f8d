'use strict'
// Series given as plain arrays: index.js passes an array of numbers across as a Float64Array
// and gives the result back as an array; anything else crosses untouched. Results and errors
// must be those of the typed forms (or, for non-numbers, napi's own argument errors).
const test = require('node:test')
const assert = require('node:assert/strict')
const { hxb, embeddedOrSkip } = require('./helpers')

function outcome(call) {
  try {
    const out = call()
    return { kind: Array.isArray(out) ? 'array' : out.constructor.name, items: Array.from(out) }
  } catch (e) {
    return { error: e.constructor.name, code: e.code, message: e.message, details: e.details }
  }
}

test('plain arrays give the scores of typed arrays, as a plain array', (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  const ts = Array.from({ length: 3000 }, (_, i) => i * 60000)
  const vs = Array.from({ length: 3000 }, (_, i) => Math.sin(i / 10) + (i === 2500 ? 9 : 0))
  const before = [ts.slice(), vs.slice()]
  const scores = e.detectAnomalies(ts, vs)
  assert.ok(Array.isArray(scores))
  assert.deepEqual([ts, vs], before, 'the arguments are left unchanged')
  assert.deepEqual(scores, Array.from(e.detectAnomalies(Float64Array.from(ts), Float64Array.from(vs))))
  // A typed argument keeps its form: typed values give a Float64Array, array values an array.
  assert.ok(e.detectAnomalies(ts, Float64Array.from(vs)) instanceof Float64Array)
  assert.ok(Array.isArray(e.detectAnomalies(Float64Array.from(ts), vs)))
  assert.deepEqual(e.detectAnomalies([], []), [])
  const day = Array.from({ length: 24 * 7 }, (_, h) => 100 + 40 * Math.sin((h * 2 * Math.PI) / 24))
  const forecast = e.forecast(day, 24, 24)
  assert.ok(Array.isArray(forecast))
  assert.deepEqual(forecast, Array.from(e.forecast(Float64Array.from(day), 24, 24)))
  e.close()
})

test('bad numbers in plain arrays fail as in typed arrays, with the same messages', (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  const cases = [
    [[0, 1, 2], [1, NaN, 1], 'invalid points[1].value: value is NaN or infinite'],
    [[0, 1, 2], [1, -Infinity, 1], 'invalid points[1].value: value is NaN or infinite'],
    [[0, 2, 1], [1, 1, 1], 'invalid points[2].t_ms: timestamps are not sorted'],
    [[0, 1, 1], [1, 1, 1], 'invalid points[2].t_ms: duplicate timestamp'],
    [[0, 1], [1], 'invalid values: 1 values for 2 timestamps'],
    [[0, 1.5], [1, 1], 'invalid timestamps: 1.5 is not a safe integer'],
    [[0, NaN], [1, 1], 'invalid timestamps: NaN is not a safe integer'],
    [[0, 2 ** 60], [1, 1], 'invalid timestamps: 1152921504606847000 is not a safe integer'],
  ]
  for (const [ts, vs, message] of cases) {
    const plain = outcome(() => e.detectAnomalies(ts, vs))
    assert.equal(plain.error, 'InvalidInputError')
    assert.equal(plain.message, message)
    assert.deepEqual(outcome(() => e.detectAnomalies(Float64Array.from(ts), Float64Array.from(vs))), plain)
  }
  assert.equal(outcome(() => e.forecast([1, NaN], 1, 1)).message, 'invalid history: value NaN at index 1 is not finite')
  e.close()
})

test('arrays with anything but numbers cross untouched and fail in the native conversion', (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  const holey = [0, 1, 2]
  delete holey[1]
  const valuesTypes = /^Value is none of these types `TypedArray<f64>`, `Array<T>`/
  const stampsTypes = /^Value is none of these types `TypedArray<i64>`, `TypedArray<f64>`, `Array<T>`/
  const cases = [
    [[0, 1], ['a', 'b'], valuesTypes],
    [[0, 1], [1, '2'], valuesTypes],
    [[0, 1], [1, null], valuesTypes],
    [[0, 1], [1, 2n], valuesTypes],
    [[0, 1], [1, { valueOf: () => 2 }], valuesTypes],
    [[0, 1, 2], holey, valuesTypes],
    [[0, '1'], [1, 2], stampsTypes],
    [holey, [1, 1, 1], stampsTypes],
    [null, [1], stampsTypes],
    [[1], undefined, valuesTypes],
  ]
  for (const [ts, vs, message] of cases) {
    const got = outcome(() => e.detectAnomalies(ts, vs))
    assert.equal(got.error, 'InvalidInputError', JSON.stringify(got))
    assert.match(got.message, message)
  }
  assert.match(outcome(() => e.forecast([1, 'x'], 1, 1)).message, valuesTypes)
  e.close()
  assert.throws(() => e.detectAnomalies([0], [1]), hxb.ClosedError)
})
