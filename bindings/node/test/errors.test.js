'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { hxb } = require('./helpers')

const CLASSES = {
  invalid_input: hxb.InvalidInputError,
  not_found: hxb.NotFoundError,
  already_exists: hxb.AlreadyExistsError,
  conflict: hxb.ConflictError,
  quota_exceeded: hxb.QuotaExceededError,
  forbidden: hxb.ForbiddenError,
  failed_precondition: hxb.FailedPreconditionError,
  unschedulable: hxb.UnschedulableError,
  unavailable: hxb.UnavailableError,
  timeout: hxb.TimeoutError,
  backend: hxb.BackendError,
  closed: hxb.ClosedError,
  internal: hxb.InternalError,
}

test('one class per engine error kind', () => {
  assert.deepEqual(Object.keys(CLASSES), hxb.errorKinds())
})

for (const [code, cls] of Object.entries(CLASSES)) {
  test(`kind ${code} throws ${cls.name} with a stable code`, () => {
    assert.throws(() => hxb._raiseSampleError(code), (e) => {
      assert.ok(e instanceof cls)
      assert.ok(e instanceof hxb.HxbError)
      assert.ok(e instanceof Error)
      assert.equal(e.code, code)
      assert.equal(e.name, cls.name)
      assert.ok(e.message.length > 0)
      assert.equal(typeof e.details, 'object')
      assert.equal(e.retryable, ['conflict', 'unavailable', 'timeout'].includes(code))
      assert.ok(e.stack.includes(cls.name))
      return true
    })
  })
}

test('the Rust error chain is the cause chain', () => {
  assert.throws(() => hxb._raiseSampleError('backend'), (e) => {
    assert.equal(e.message, 'backend error: list pods')
    assert.equal(e.cause.message, 'connection refused')
    assert.equal(e.cause.cause.message, 'no route to host')
    assert.equal(e.cause.cause.cause, undefined)
    return true
  })
  assert.throws(() => hxb._raiseSampleError('not_found'), (e) => e.cause === undefined)
})
