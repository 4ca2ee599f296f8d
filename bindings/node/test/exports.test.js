'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { hxb } = require('./helpers')

const root = path.join(__dirname, '..')

function nativeExports() {
  const mod = { exports: {} }
  process.dlopen(mod, process.env.HXB_NODE_ADDON || path.join(root, 'hxb.node'))
  return Object.keys(mod.exports)
}

test('index.js exports every native export', () => {
  for (const name of nativeExports()) assert.ok(name in hxb, `index.js does not export ${name}`)
})

test('the generated declarations cover every native export', () => {
  const dts = fs.readFileSync(path.join(root, 'native.d.ts'), 'utf8')
  for (const name of nativeExports()) {
    assert.match(dts, new RegExp(`export declare (class|function) ${name}\\b`), name)
  }
})

test('index.d.ts declares every error class index.js exports', () => {
  const dts = fs.readFileSync(path.join(root, 'index.d.ts'), 'utf8')
  for (const [name, value] of Object.entries(hxb)) {
    if (typeof value === 'function' && value.prototype instanceof Error) {
      assert.match(dts, new RegExp(`export declare class ${name}\\b`), name)
    }
  }
  assert.match(dts, /export declare class HxbError extends Error/)
})
