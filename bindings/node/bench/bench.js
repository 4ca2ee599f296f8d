// Binding benchmark, Node side (bindings/bench.sh): prints one JSON object.
// Same calls and inputs as bindings/common/examples/bench_native.rs.
'use strict'
const hxb = require('..')

function batch() {
  const out = []
  for (let i = 0; i < 100000; i++) {
    const n = (i * 7919) % 1000
    out.push([`${n}m`, `${n}Mi`, `${n}`, `${n}.5Gi`][i % 4])
  }
  return out
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]

function perCall(runs, iters, f) {
  const times = []
  for (let r = 0; r < runs; r++) {
    const t = process.hrtime.bigint()
    for (let i = 0; i < iters; i++) f()
    times.push(Number(process.hrtime.bigint() - t) / 1e9 / iters)
  }
  return median(times)
}

async function main() {
  const nameS = perCall(5, 200000, () => hxb.validateName('team-a'))
  const parseS = perCall(5, 200000, () => new hxb.Quantity('250m'))
  const items = batch()
  let total
  const batchS = perCall(5, 10, () => {
    total = hxb.sumQuantities(items).toString()
  })
  const engine = hxb.Engine.embedded()
  await engine.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } })
  const times = []
  for (let r = 0; r < 5; r++) {
    const t = process.hrtime.bigint()
    for (let i = 0; i < 5000; i++) await engine.get('Namespace', 'team-a')
    times.push(Number(process.hrtime.bigint() - t) / 1e9 / 5000)
  }
  const ts = Float64Array.from({ length: 100000 }, (_, i) => i * 300000)
  const vs = Float64Array.from({ length: 100000 }, (_, i) => Math.sin(i / 20) + (i % 9973 === 0 ? 8 : 0))
  // The timed region is the call alone (arguments in, scores out); the checksum comes after.
  let scores
  const detect = (ts, vs) => () => {
    scores = engine.detectAnomalies(ts, vs)
  }
  const detectListS = perCall(5, 3, detect(Array.from(ts), Array.from(vs)))
  const listSum = scores.reduce((a, b) => a + b, 0)
  const detectS = perCall(5, 3, detect(ts, vs))
  const scoreSum = scores.reduce((a, b) => a + b, 0)
  if (scoreSum !== listSum || !(scores instanceof Float64Array)) throw new Error('scores differ')
  engine.close()
  console.log(JSON.stringify({
    language: 'node',
    runtime: `Node ${process.versions.node}`,
    validate_name_us: nameS * 1e6,
    parse_quantity_us: parseS * 1e6,
    engine_get_us: median(times) * 1e6,
    batch_items: items.length,
    batch_ms: batchS * 1e3,
    batch_items_per_s: items.length / batchS,
    batch_total: total,
    detect_points: vs.length,
    detect_ms: detectS * 1e3,
    detect_points_per_s: vs.length / detectS,
    detect_input: 'Float64Array + Float64Array',
    detect_list_ms: detectListS * 1e3,
    detect_score_sum: scoreSum,
  }))
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
