'use strict'
// Members, invitations, scoped kubeconfigs, entity reads and deletes, the application
// lifecycle, usage and reconcile — each with its bad input, which changes nothing.
const test = require('node:test')
const assert = require('node:assert/strict')
const { hxb, embeddedOrSkip } = require('./helpers')

async function tenant(e) {
  await e.createOrganization('acme', { plan: 'starter' })
  await e.createWorkspace('acme', 'dev')
  await e.createProject('acme', 'dev', 'web')
}

test('members at every scope, bad input typed and without effect', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await tenant(e)
  assert.equal((await e.addMember('acme', 'owner@example.com', { role: 'admin' })).subject,
    'owner@example.com')
  await e.addMember('acme', 'alice@example.com', { role: 'developer', workspace: 'dev' })
  await e.addMember('acme', 'bob@example.com', { role: 'viewer', workspace: 'dev', project: 'web' })
  assert.equal((await e.members('acme')).length, 3)
  await e.removeMember('acme', 'bob@example.com', { workspace: 'dev', project: 'web' })
  const before = await e.members('acme')
  assert.deepEqual(before.map((m) => m.subject).sort(), ['alice@example.com', 'owner@example.com'])
  await assert.rejects(e.addMember('acme', 'x@example.com', { role: 'emperor', workspace: 'dev' }),
    (err) => err instanceof hxb.InvalidInputError && err.code === 'invalid_input')
  await assert.rejects(e.addMember('acme', 'x@example.com', { role: 'developer', workspace: 'nope' }),
    hxb.NotFoundError)
  assert.throws(() => e.addMember('acme', 'x@example.com'), hxb.InvalidInputError)
  await assert.rejects(e.members('nobody'), hxb.NotFoundError)
  assert.deepEqual(await e.members('acme'), before)
  e.close()
})

test('an invitation token is accepted once', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await tenant(e)
  const inv = await e.invite('acme', 'carol@example.com',
    { role: 'developer', workspace: 'dev', validForSeconds: 3600 })
  assert.equal(inv.used, false)
  assert.equal((await e.acceptInvitation(inv.token)).subject, 'carol@example.com')
  await assert.rejects(e.acceptInvitation(inv.token), (err) =>
    err instanceof hxb.HxbError && !(err instanceof hxb.InternalError))
  await assert.rejects(e.acceptInvitation('no-such-token'), hxb.NotFoundError)
  assert.throws(() => e.invite('acme', 'd@example.com', { role: 'viewer', validForSeconds: -1 }),
    hxb.InvalidInputError)
  await assert.rejects(e.invite('acme', 'd@example.com', { role: 'emperor' }), hxb.InvalidInputError)
  assert.deepEqual((await e.members('acme')).map((m) => m.subject), ['carol@example.com'])
  e.close()
})

test('a scoped kubeconfig is for members only', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await tenant(e)
  await e.addMember('acme', 'alice@example.com', { role: 'developer', workspace: 'dev' })
  // The embedded cluster issues bound ServiceAccount tokens (TokenRequest).
  const kc = await e.scopedKubeconfig('acme', 'dev', 'alice@example.com',
    { server: 'https://api.example.com:6443' })
  assert.ok(kc.includes('https://api.example.com:6443') && kc.includes('kind: Config'))
  assert.ok(kc.includes('token: hxb-embedded.'))
  await assert.rejects(e.scopedKubeconfig('acme', 'dev', 'mallory@example.com'), hxb.ForbiddenError)
  e.close()
})

test('get, list and delete organizations, workspaces and projects (cascade)', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await tenant(e)
  assert.equal((await e.getOrganization('acme')).name, 'acme')
  assert.deepEqual((await e.listOrganizations()).map((o) => o.name), ['acme'])
  assert.equal((await e.getWorkspace('acme', 'dev')).name, 'dev')
  assert.deepEqual((await e.listWorkspaces('acme')).map((w) => w.name), ['dev'])
  assert.equal((await e.getProject('acme', 'dev', 'web')).namespace, 'acme-dev-web')
  assert.deepEqual((await e.listProjects('acme', 'dev')).map((p) => p.name), ['web'])
  await assert.rejects(e.deleteWorkspace('acme', 'dev'), hxb.FailedPreconditionError)
  assert.equal((await e.listProjects('acme', 'dev')).length, 1)
  await assert.rejects(e.getProject('acme', 'dev', 'nope'), hxb.NotFoundError)
  assert.equal(await e.deleteProject('acme', 'dev', 'web'), true)
  assert.equal(await e.deleteWorkspace('acme', 'dev'), true)
  await e.createWorkspace('acme', 'prod')
  await e.createProject('acme', 'prod', 'api')
  assert.equal(await e.deleteOrganization('acme', { cascade: true }), true)
  assert.deepEqual(await e.listOrganizations(), [])
  await assert.rejects(e.getOrganization('acme'), hxb.NotFoundError)
  e.close()
})

test('application lifecycle: scale, stop, start, restart, delete', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await tenant(e)
  await e.createApp('acme', 'dev', 'web', 'api', { image: 'nginx', replicas: 1, requests: { cpu: '50m' } })
  const at = ['acme', 'dev', 'web', 'api']
  assert.equal((await e.scaleApp(...at, 2)).replicas, 2)
  await assert.rejects(e.scaleApp(...at, 5), hxb.QuotaExceededError) // the starter plan: 2 pods
  assert.equal((await e.stopApp(...at)).stopped, true)
  assert.equal((await e.startApp(...at)).stopped, false)
  await e.restartApp(...at)
  assert.throws(() => e.scaleApp(...at, 1.5), hxb.InvalidInputError)
  await assert.rejects(e.scaleApp(...at, -1), hxb.InvalidInputError)
  await assert.rejects(e.restartApp('acme', 'dev', 'web', 'nope'), hxb.NotFoundError)
  assert.equal((await e.listApps('acme', 'dev', 'web'))[0].replicas, 2)
  await e.deleteApp(...at)
  assert.deepEqual(await e.listApps('acme', 'dev', 'web'), [])
  e.close()
})

test('application kinds: a cron job; bad kind arguments change nothing', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await tenant(e)
  const job = await e.createApp('acme', 'dev', 'web', 'job', { image: 'busybox', schedule: '*/5 * * * *' })
  assert.deepEqual(job.kind, { kind: 'cron_job', schedule: '*/5 * * * *' })
  for (const bad of [{ schedule: '* * * * *', storage: '1Gi' }, { storage: 'lots' }, { schedule: 'nope' }]) {
    await assert.rejects(e.createApp('acme', 'dev', 'web', 'x', { image: 'busybox', ...bad }),
      hxb.InvalidInputError)
  }
  assert.deepEqual((await e.listApps('acme', 'dev', 'web')).map((a) => a.name), ['job'])
  e.close()
})

test('usage for a period and reconcile', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await tenant(e)
  assert.ok((await e.recordUsage()) >= 0)
  const u = await e.usage('acme', new Date(Date.UTC(2026, 0, 1)).toISOString(), '2026-01-02T00:00:00Z')
  for (const k of ['organization', 'workspaces', 'projects', 'cost']) assert.ok(k in u, k)
  await assert.rejects(e.usage('acme', '2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z'),
    hxb.InvalidInputError)
  await assert.rejects(e.usage('acme', 'yesterday', 'today'), hxb.InvalidInputError)
  const report = await e.reconcile()
  assert.equal(report.writes, 0)
  assert.deepEqual(report.errors, [])
  e.close()
  await assert.rejects(e.reconcile(), hxb.ClosedError)
})
