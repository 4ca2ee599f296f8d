'use strict'
// Guarded remediation and the operations agent through Node: plans are dry runs, requests wait
// for a second person's approval, refusals are typed and change nothing.
const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const { hxb, embeddedOrSkip } = require('./helpers')

const NS = 'acme-dev-web'
const VIEWER = 'viewer@acme.example'
const DEV = 'dev@acme.example'
const LEAD = 'lead@acme.example'
const RESTART = { action: 'restart', namespace: NS, name: 'api' }

async function world(e) {
  await e.createOrganization('acme', { plan: 'starter' })
  await e.createWorkspace('acme', 'dev')
  await e.createProject('acme', 'dev', 'web')
  for (const [who, role] of [[VIEWER, 'viewer'], [DEV, 'developer'], [LEAD, 'admin']]) {
    await e.addMember('acme', who, { role, workspace: 'dev' })
  }
  await e.createApp('acme', 'dev', 'web', 'api', { image: 'nginx', replicas: 2 })
}

async function deployment(e) {
  const d = await e.get('Deployment', 'api', NS)
  delete d.status
  return d
}

const restartedAt = (d) =>
  (d.spec.template.metadata.annotations || {})['kubectl.kubernetes.io/restartedAt']

test('a viewer cannot restart a workload and nothing changes', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await world(e)
  const before = await deployment(e)
  await assert.rejects(e.remediate(VIEWER, RESTART, { apply: true }),
    (err) => err instanceof hxb.ForbiddenError && err.code === 'forbidden')
  await assert.rejects(e.remediate('mallory@evil.example', RESTART), hxb.ForbiddenError)
  assert.deepEqual(await deployment(e), before)
  assert.deepEqual(await e.pendingRemediations(), [])
  const audit = await e.remediationAudit()
  assert.deepEqual(audit.map((a) => a.actor), [VIEWER, 'mallory@evil.example'])
  assert.ok(audit.every((a) => a.result.startsWith('refused: forbidden')))
  e.close()
})

test('dry run, then approval by a second person', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await world(e)
  const before = await deployment(e)
  const plan = await e.remediate(DEV, RESTART)
  assert.equal(plan.decision, 'dry_run')
  assert.equal(plan.disrupted_pods, 2)
  const asked = await e.remediate(DEV, RESTART, { apply: true })
  assert.equal(asked.decision, 'needs_approval')
  const pending = await e.pendingRemediations()
  assert.deepEqual(pending.map((p) => p.id), [asked.pending])
  assert.equal(pending[0].requested_by, DEV)
  for (const who of [DEV, VIEWER]) {
    await assert.rejects(e.approveRemediation(asked.pending, who), hxb.ForbiddenError)
  }
  await assert.rejects(e.approveRemediation('rem-0', LEAD), hxb.NotFoundError)
  assert.deepEqual(await e.pendingRemediations(), pending)
  assert.deepEqual(await deployment(e), before)

  const done = await e.approveRemediation(asked.pending, LEAD)
  assert.equal(done.decision, 'executed')
  assert.ok(restartedAt(await deployment(e)))
  assert.deepEqual(await e.pendingRemediations(), [])
  const audit = await e.remediationAudit({ limit: 1 })
  assert.equal(audit.length, 1)
  assert.equal(audit[0].action, 'approve_remediation')
  assert.equal(audit[0].actor, LEAD)
  e.close()
})

test('a pending remediation can be rejected or withdrawn', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await world(e)
  const before = await deployment(e)
  const asked = await e.remediate(DEV, RESTART, { apply: true })
  const pending = await e.pendingRemediations()
  await assert.rejects(e.rejectRemediation(asked.pending, VIEWER), hxb.ForbiddenError)
  await assert.rejects(e.rejectRemediation('rem-0', LEAD), hxb.NotFoundError)
  assert.deepEqual(await e.pendingRemediations(), pending)
  assert.deepEqual(await e.rejectRemediation(asked.pending, DEV), pending[0]) // withdrawn
  assert.deepEqual(await e.pendingRemediations(), [])
  await assert.rejects(e.approveRemediation(asked.pending, LEAD), hxb.NotFoundError)
  assert.deepEqual(await deployment(e), before)
  e.close()
})

test('the policy: blast radius and automatic actions', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await world(e)
  const before = await deployment(e)
  e.setRemediationPolicy({ automatic: ['scale'], maxPodsPerHour: 1 })
  assert.deepEqual(e.remediationPolicy().automatic, ['scale'])
  assert.equal(e.remediationPolicy().maxScaleUpFactor, 2)
  await assert.rejects(e.remediate(DEV, RESTART), (err) =>
    err instanceof hxb.ForbiddenError && /blast radius/.test(err.message))
  const scale = (replicas) => ({ action: 'scale', namespace: NS, name: 'api', replicas })
  await assert.rejects(e.remediate(DEV, scale(5), { apply: true }), hxb.ForbiddenError)
  assert.deepEqual(await deployment(e), before)
  const done = await e.remediate(DEV, scale(3), { apply: true })
  assert.equal(done.decision, 'executed')
  assert.equal((await deployment(e)).spec.replicas, 3)
  e.close()
})

test('bad input is typed and changes nothing', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await world(e)
  const before = await deployment(e)
  const policy = e.remediationPolicy()
  for (const bad of ['restart', { action: 'reboot', node: 'n' },
    { action: 'scale', namespace: NS, name: 'api', replicas: -1 },
    { action: 'restart', namespace: 'Not A Name', name: 'api' },
    { action: 'raise_quota', namespace: NS, add: { cpu: 'lots' } }]) {
    await assert.rejects(e.remediate(DEV, bad, { apply: true }), hxb.InvalidInputError)
  }
  assert.throws(() => e.remediate(null, RESTART), hxb.InvalidInputError)
  await assert.rejects(e.remediate(' ', RESTART), hxb.InvalidInputError)
  assert.throws(() => e.setRemediationPolicy({ automatic: ['reboot'] }), hxb.InvalidInputError)
  assert.throws(() => e.setRemediationPolicy({ maxScaleUpFactor: NaN }), hxb.InvalidInputError)
  assert.throws(() => e.setRemediationPolicy({ maxPodsPerHour: 1.5 }), hxb.InvalidInputError)
  assert.throws(() => e.setRemediationPolicy({ maxPodsPerHour: -1 }), hxb.InvalidInputError)
  assert.throws(() => e.remediationAudit({ limit: -1 }), hxb.InvalidInputError)
  assert.deepEqual(e.remediationPolicy(), policy)
  assert.deepEqual(await deployment(e), before)
  assert.deepEqual(await e.pendingRemediations(), [])
  e.close()
})

test('the agent answers offline with its transcript', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await world(e)
  const reply = await e.ask(DEV, 'Is anything wrong with my apps?')
  assert.equal(reply.stop, 'answered')
  assert.match(reply.text, /^offline summary/)
  assert.deepEqual(reply.tool_calls.map((c) => c.name), ['analyze'])
  const before = await deployment(e)
  const dry = await e.ask(DEV, 'restart_workload', { write: 'dryRun' })
  assert.equal(dry.tool_calls[0].name, 'restart_workload')
  assert.deepEqual(await deployment(e), before)
  for (const opts of [{ provider: 'gpt' }, { provider: 'openai', model: 'm' },
    { write: 'always' }, { timeoutSeconds: -1 }, { model: 'm' }]) {
    await assert.rejects(e.ask(DEV, 'hello', opts), hxb.InvalidInputError)
  }
  await assert.rejects(e.ask(DEV, '  '), hxb.InvalidInputError)
  assert.throws(() => e.ask(DEV, 'hello', { maxToolCalls: 0.5 }), hxb.InvalidInputError)
  e.close()
})

test('the agent talks to an OpenAI-compatible endpoint', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await world(e)
  const seen = []
  const server = http.createServer((req, res) => {
    let body = ''
    req.on('data', (c) => { body += c })
    req.on('end', () => {
      seen.push({ url: req.url, auth: req.headers.authorization, body })
      const reply = JSON.stringify({ choices: [{ message: { role: 'assistant',
        content: 'All quiet in <ns-1>.' }, finish_reason: 'stop' }] })
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(reply)
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const url = `http://127.0.0.1:${server.address().port}/v1`
    const reply = await e.ask(DEV, 'How is acme-dev-web?',
      { provider: 'openai', baseUrl: url, model: 'tiny', apiKey: 'sk-test', timeoutSeconds: 10 })
    assert.equal(reply.text, `All quiet in ${NS}.`)
    assert.equal(seen[0].url, '/v1/chat/completions')
    assert.equal(seen[0].auth, 'Bearer sk-test')
    assert.ok(!seen[0].body.includes(NS))
  } finally {
    server.close()
  }
  await assert.rejects(e.ask(DEV, 'hello',
    { provider: 'ollama', baseUrl: 'http://127.0.0.1:9', model: 'm', timeoutSeconds: 5 }),
  (err) => err instanceof hxb.UnavailableError || err instanceof hxb.TimeoutError)
  e.close()
})
