import test from 'node:test'
import assert from 'node:assert/strict'
import { Quantity, HxbError, validateName } from '../index.js'
import hxb from '../index.js'

test('import works with named and default imports', () => {
  assert.equal(new Quantity('1.5Gi').toString(), '1536Mi')
  assert.equal(hxb.Quantity, Quantity)
  assert.throws(() => validateName('Bad'), HxbError)
})
