'use strict'
// Backup and restore, plan policy and the multi-cluster fleet — each with its bad input or
// refusal, which rejects with a typed error and changes nothing.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { hxb, embeddedOrSkip } = require('./helpers')

const configMap = (mode) => ({
  apiVersion: 'v1', kind: 'ConfigMap',
  metadata: { name: 'settings', namespace: 'acme-dev-web' }, data: { mode },
})

async function tenant(e) {
  await e.createOrganization('acme', { plan: 'starter' })
  await e.createWorkspace('acme', 'dev')
  await e.createProject('acme', 'dev', 'web')
  await e.createProject('acme', 'dev', 'copy')
  await e.createApp('acme', 'dev', 'web', 'shop', { image: 'shop:1', port: 8080, requests: { cpu: '150m' } })
}

function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hxb-node-backups-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

test('snapshot, plan and restore into the same and another project', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await tenant(e)
  const backups = e.backups(tempDir(t))
  assert.ok(backups instanceof hxb.Backups)
  const snap = await backups.snapshot('acme', 'dev', 'web')
  assert.equal(snap.apps, 1)
  assert.deepEqual((await backups.list('acme', 'dev', 'web')).map((s) => s.id), [snap.id])
  await e.deleteApp('acme', 'dev', 'web', 'shop')
  const plan = await backups.planRestore(snap.id)
  assert.equal(plan.applied, false)
  assert.equal(plan.counts.create, 2)
  assert.deepEqual(await e.listApps('acme', 'dev', 'web'), [])
  const done = await backups.restore(snap.id)
  assert.equal(done.applied, true)
  assert.deepEqual((await e.listApps('acme', 'dev', 'web')).map((a) => a.name), ['shop'])
  await backups.restore(snap.id, { into: { org: 'acme', workspace: 'dev', project: 'copy' } })
  assert.deepEqual((await e.listApps('acme', 'dev', 'copy')).map((a) => a.name), ['shop'])
  e.close()
})

test('conflicting and over-quota restores are refused and change nothing', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await tenant(e)
  const backups = e.backups(tempDir(t))
  await e.apply(configMap('blue'))
  const snap = await backups.snapshot('acme', 'dev', 'web')
  await e.apply(configMap('red'))
  const plan = await backups.planRestore(snap.id)
  assert.deepEqual(plan.plan.objects.filter((o) => o.action === 'conflict').map((o) => o.name), ['settings'])
  await assert.rejects(backups.restore(snap.id), hxb.ConflictError)
  assert.deepEqual((await e.get('ConfigMap', 'settings', 'acme-dev-web')).data, { mode: 'red' })
  // 150m restored beside 100m in a project of 200m
  await e.deleteApp('acme', 'dev', 'web', 'shop')
  await e.createApp('acme', 'dev', 'copy', 'other', { image: 'other:1', requests: { cpu: '100m' } })
  const before = await e.listApps('acme', 'dev', 'copy')
  await assert.rejects(backups.restore(snap.id, { into: { org: 'acme', workspace: 'dev', project: 'copy' } }),
    (err) => err instanceof hxb.QuotaExceededError && err.details.exceeded.length > 0)
  assert.deepEqual(await e.listApps('acme', 'dev', 'copy'), before)
  await assert.rejects(backups.restore('../etc/passwd'), hxb.InvalidInputError)
  await assert.rejects(backups.snapshot('acme', 'dev', 'nowhere'), hxb.NotFoundError)
  assert.throws(() => backups.restore(snap.id, { into: 'acme/dev/copy' }), hxb.InvalidInputError)
  e.close()
})

test('backup policies and due runs', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await tenant(e)
  const backups = e.backups(tempDir(t))
  const policy = await backups.setPolicy('acme', 'dev', 'web', 'shop',
    { schedule: '0 3 * * *', keepLast: 3, maxAgeSeconds: 30 * 86400 })
  assert.equal(policy.schedule, '0 3 * * *')
  await assert.rejects(backups.setPolicy('acme', 'dev', 'web', 'shop', { schedule: 'every night' }),
    hxb.InvalidInputError)
  await assert.rejects(backups.setPolicy('acme', 'dev', 'web', 'ghost', { schedule: '@daily' }),
    hxb.NotFoundError)
  assert.throws(() => backups.setPolicy('acme', 'dev', 'web', 'shop', { schedule: '@daily', keepLast: -1 }),
    hxb.InvalidInputError)
  assert.deepEqual(await backups.policies('acme'), [policy])
  assert.deepEqual(await backups.runDue(), { taken: [], pruned: [], failed: [] })
  await backups.removePolicy('acme', 'dev', 'web', 'shop')
  assert.deepEqual(await backups.policies('acme'), [])
  e.close() // the handle follows its engine
  await assert.rejects(backups.snapshot('acme', 'dev', 'web'), hxb.ClosedError)
  await assert.rejects(backups.runDue(), hxb.ClosedError)
})

const privilegedPod = (privileged = true, namespace = 'acme-dev-web') => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'root', namespace },
  spec: { containers: [{ name: 'app', image: 'nginx', securityContext: { privileged } }] },
})

test('policy: review, admission with violations in details, workspace level', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  await tenant(e)
  const policy = await e.workspacePolicy('acme', 'dev')
  assert.equal(policy.level, 'baseline')
  assert.equal(policy.labels['pod-security.kubernetes.io/enforce'], 'baseline')
  const ok = await e.admitManifest(privilegedPod(false))
  assert.equal(ok.admitted, true)
  const path = 'spec.containers[0].securityContext.privileged'
  const review = await e.checkManifest(privilegedPod())
  assert.deepEqual(review.violations.map((v) => v.path), [path])
  let refused
  await assert.rejects(e.admitManifest(privilegedPod()), (err) => {
    refused = err
    return err instanceof hxb.ForbiddenError && err.details.violations[0].path === path
  })
  await assert.rejects(e.apply(privilegedPod()), (err) => err.message === refused.message)
  await assert.rejects(e.get('Pod', 'root', 'acme-dev-web'), hxb.NotFoundError)
  assert.deepEqual(await e.checkManifest(privilegedPod(true, 'default')),
    { governed: false, admitted: true, violations: [] })
  const bad = privilegedPod(false)
  bad.spec.containers[0].image = 'Not An Image'
  await assert.rejects(e.admitManifest(bad), hxb.InvalidInputError)
  await assert.rejects(e.workspacePolicy('acme', 'nowhere'), hxb.NotFoundError)
  assert.throws(() => e.workspacePolicy('acme'), hxb.InvalidInputError)
  e.close()
})

const FLEET = [
  { name: 'big', nodes: 3, region: 'eu', labels: { tier: 'gold' } },
  { name: 'small', nodes: 1, region: 'us' },
]

test('fleet: placement, members with their load, a move', async () => {
  const e = await hxb.Engine.open({ fleet: FLEET })
  await e.createOrganization('acme', { plan: 'starter' })
  await e.createWorkspace('acme', 'dev')
  assert.equal(e.workspaceAssignment('acme', 'dev'), null)
  assert.equal(await e.placeWorkspace('acme', 'dev', { region: 'us' }), 'small')
  await e.createProject('acme', 'dev', 'web')
  const members = Object.fromEntries((await e.fleetMembers()).map((m) => [m.name, m]))
  assert.deepEqual(members.small.workspaces, ['acme/dev'])
  assert.equal(members.big.labels.tier, 'gold')
  assert.equal(members.small.used.cpu, '2')
  const report = await e.moveWorkspace('acme', 'dev', 'big')
  assert.deepEqual([report.from, report.to], ['small', 'big'])
  assert.equal(e.workspaceAssignment('acme', 'dev').cluster, 'big')
  e.close()
})

test('fleet: a move to a full member and bad placements are refused, nothing changed', async () => {
  const e = await hxb.Engine.open({ fleet: FLEET })
  await e.createOrganization('acme', { plan: 'professional' })
  await e.createWorkspace('acme', 'dev')
  await e.createProject('acme', 'dev', 'web')
  const before = await e.fleetMembers()
  await assert.rejects(e.moveWorkspace('acme', 'dev', 'small'),
    (err) => err instanceof hxb.QuotaExceededError && err.details.quota === 'cluster small')
  await assert.rejects(e.moveWorkspace('acme', 'dev', 'nowhere'), hxb.NotFoundError)
  assert.deepEqual(await e.fleetMembers(), before)
  assert.equal(e.workspaceAssignment('acme', 'dev').cluster, 'big')
  await e.createOrganization('beta', { plan: 'starter' })
  await e.createWorkspace('beta', 'ops')
  await assert.rejects(e.placeWorkspace('beta', 'ops', { region: 'mars' }), hxb.UnschedulableError)
  await assert.rejects(e.placeWorkspace('beta', 'ops', { require: 'tier in (' }), hxb.InvalidInputError)
  assert.equal(e.workspaceAssignment('beta', 'ops'), null)
  await assert.rejects(async () => hxb.Engine.open({ fleet: [{ name: 'x', nodes: 1.5 }] }), hxb.InvalidInputError)
  await assert.rejects(async () => hxb.Engine.open({ fleet: [{ nodes: 3 }] }), hxb.InvalidInputError)
  const plain = hxb.Engine.embedded()
  await assert.rejects(plain.fleetMembers(), hxb.FailedPreconditionError)
  assert.throws(() => plain.workspaceAssignment('acme', 'dev'), hxb.FailedPreconditionError)
  plain.close()
  e.close()
})
