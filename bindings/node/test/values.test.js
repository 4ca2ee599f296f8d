'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { hxb } = require('./helpers')

test('quantities parse, print canonically and add exactly', () => {
  const q = new hxb.Quantity('1.5Gi')
  assert.equal(q.toString(), '1536Mi')
  assert.equal(`${q}`, '1536Mi')
  assert.equal(JSON.stringify({ q }), '{"q":"1536Mi"}')
  assert.equal(q.value, 1610612736n)
  assert.equal(hxb.Quantity.parse('0.1').milliValue, 100n)
  assert.ok(q instanceof hxb.Quantity)
  const sum = hxb.Quantity.parse('0.1').add(new hxb.Quantity('0.2'))
  assert.ok(sum instanceof hxb.Quantity)
  assert.equal(sum.toString(), '300m')
  assert.equal(new hxb.Quantity('1').sub(new hxb.Quantity('250m')).toString(), '750m')
  assert.equal(new hxb.Quantity('250m').mul(4).toString(), '1')
  assert.equal(new hxb.Quantity('1').compare(new hxb.Quantity('999m')), 1)
  assert.ok(new hxb.Quantity('1Gi').equals(new hxb.Quantity('1024Mi')))
  assert.equal(hxb.Quantity.fromNumber(0.25).toString(), '250m')
  assert.equal(new hxb.Quantity('1500m').toNumber(), 1.5)
})

test('names', () => {
  assert.equal(hxb.validateName('team-a'), 'team-a')
  assert.throws(() => hxb.validateName('Team_A'), (e) => {
    assert.ok(e instanceof hxb.InvalidInputError)
    assert.equal(e.details.value, 'Team_A')
    return true
  })
})

test('resource maps and quota admission', () => {
  assert.deepEqual(hxb.addResources({ memory: '1Gi' }, { memory: '512Mi', cpu: '1' }), {
    cpu: '1',
    memory: '1536Mi',
  })
  const hard = { 'requests.cpu': '1', pods: '2' }
  assert.equal(hxb.admit('team-a/quota', hard, {}, { 'requests.cpu': '500m' }), undefined)
  assert.throws(
    () => hxb.admit('team-a/quota', hard, { 'requests.cpu': '800m' }, { 'requests.cpu': '500m' }),
    (e) => {
      assert.ok(e instanceof hxb.QuotaExceededError)
      assert.equal(e.code, 'quota_exceeded')
      assert.deepEqual(e.details, {
        quota: 'team-a/quota',
        exceeded: [{ resource: 'requests.cpu', requested: '500m', used: '800m', limit: '1' }],
      })
      return true
    },
  )
})

test('batch sum', () => {
  assert.equal(hxb.sumQuantities(Array(10000).fill('100m')).toString(), '1k')
  assert.equal(hxb.sumQuantities([]).toString(), '0')
  assert.throws(() => hxb.sumQuantities(['1', 'oops']), hxb.InvalidInputError)
})

test('version', () => {
  assert.equal(hxb.VERSION, hxb.version())
  assert.match(hxb.VERSION, /^\d+\.\d+\.\d+/)
})
