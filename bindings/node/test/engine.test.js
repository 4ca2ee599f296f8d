'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { hxb, embeddedOrSkip, NAMESPACE } = require('./helpers')

const QUOTA = {
  apiVersion: 'v1', kind: 'ResourceQuota',
  metadata: { name: 'quota', namespace: 'team-a' },
  spec: { hard: { 'requests.cpu': '1', 'requests.memory': '1Gi', pods: '10' } },
}
const pod = (name, cpu) => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'team-a', labels: { app: 'web' } },
  spec: { containers: [{ name: 'app', image: 'nginx', resources: { requests: { cpu, memory: '128Mi' } } }] },
})

test('namespaces and quota admission on the embedded engine', async (t) => {
  const e = embeddedOrSkip(t)
  if (!e) return
  const ns = await e.apply(NAMESPACE)
  assert.equal(ns.metadata.name, 'team-a')
  await e.apply(QUOTA)
  await e.create(pod('small', '250m'))
  await assert.rejects(e.create(pod('big', '2')), (err) => {
    assert.ok(err instanceof hxb.QuotaExceededError)
    assert.deepEqual(err.details.exceeded.map((x) => x.resource), ['requests.cpu'])
    return true
  })
  await assert.rejects(e.create(pod('small', '250m')), hxb.AlreadyExistsError)
  const pods = await e.list('Pod', 'team-a', 'app=web')
  assert.deepEqual(pods.map((p) => p.metadata.name), ['small'])
  assert.equal((await e.get('pods', 'small', 'team-a')).kind, 'Pod')
  await e.delete('Pod', 'small', 'team-a')
  await assert.rejects(e.get('Pod', 'small', 'team-a'), hxb.NotFoundError)
  await assert.rejects(e.get('Pod', 'x'), hxb.InvalidInputError)
  await assert.rejects(e.list('NoSuchKind'), hxb.InvalidInputError)
  e.close()
})

test('open with options', async (t) => {
  let e
  try {
    e = await hxb.Engine.open({ nodes: 2, seed: 7 })
  } catch (err) {
    if (err instanceof hxb.InternalError && err.message.includes('not implemented')) {
      t.skip('the embedded cluster is not implemented in this build')
      return
    }
    throw err
  }
  assert.equal(e.closed, false)
  e.close()
})

test('a missing kubeconfig is a typed rejection', async () => {
  await assert.rejects(hxb.Engine.open({ kubeconfig: '/nonexistent/kubeconfig' }), hxb.HxbError)
})

test('a call that waits is woken and keeps the error chain', async () => {
  // A real cluster that is not there (a closed loopback port): the Promise stays pending on
  // I/O, then rejects with a typed error whose cause chain is the Rust one.
  const fs = require('node:fs')
  const os = require('node:os')
  const path = require('node:path')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hxb-'))
  const kubeconfig = path.join(dir, 'kubeconfig')
  fs.writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config',
    'clusters:', '- name: nowhere',
    '  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}',
    'contexts:', '- name: nowhere', '  context: {cluster: nowhere, user: nobody}',
    'current-context: nowhere',
    'users:', '- name: nobody', '  user: {token: x}', ''].join('\n'))
  try {
    const e = await hxb.Engine.open({ kubeconfig })
    await assert.rejects(e.get('Namespace', 'x'), (err) => {
      assert.ok(err instanceof hxb.UnavailableError || err instanceof hxb.BackendError, err.name)
      assert.ok(err.cause instanceof Error)
      return true
    })
    e.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
