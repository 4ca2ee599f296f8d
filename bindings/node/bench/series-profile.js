// Where the time of a 100,000-point detectAnomalies call goes, in one process: alternates
// four calls 30 times (two calls each, medians): Float64Arrays, plain arrays, and both forms
// with `values` one item short (both arguments converted, the call refused before scoring).
//
//   HXB_NODE_ADDON=<libhxb_node.so> node bindings/node/bench/series-profile.js
'use strict'
const hxb = require('..')

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const engine = hxb.Engine.embedded()
const ts = Float64Array.from({ length: 100000 }, (_, i) => i * 300000)
const vs = Float64Array.from({ length: 100000 }, (_, i) => Math.sin(i / 20) + (i % 9973 === 0 ? 8 : 0))
const tsA = Array.from(ts)
const vsA = Array.from(vs)
const shortA = vsA.slice(0, -1)
const short = vs.subarray(0, vs.length - 1)
let kept
const refused = (a, b) => {
  try {
    engine.detectAnomalies(a, b)
  } catch (e) {
    if (e.code !== 'invalid_input') throw e
  }
}
const calls = {
  'Float64Arrays': () => { kept = engine.detectAnomalies(ts, vs) },
  'arrays': () => { kept = engine.detectAnomalies(tsA, vsA) },
  'conversion in, arrays': () => refused(tsA, shortA),
  'conversion in, Float64Arrays': () => refused(ts, short),
}
const times = Object.fromEntries(Object.keys(calls).map((k) => [k, []]))
for (let r = 0; r < 30; r++) {
  for (const [name, call] of Object.entries(calls)) {
    const t = process.hrtime.bigint()
    call()
    call()
    times[name].push(Number(process.hrtime.bigint() - t) / 2e6)
  }
}
const ms = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]))
for (const [name, v] of Object.entries(ms)) console.log(`${name}: ${v.toFixed(2)} ms`)
console.log(`arrays vs Float64Arrays: ${((ms.Float64Arrays / ms.arrays) * 100).toFixed(1)}%`)
if (kept === undefined) throw new Error('no result')
