'use strict'
const hxb = require('..')

/** An embedded engine, or `null` (the caller skips) while the embedded cluster is not built in. */
function embeddedOrSkip(t) {
  try {
    return hxb.Engine.embedded()
  } catch (e) {
    if (e instanceof hxb.InternalError && e.message.includes('not implemented')) {
      t.skip('the embedded cluster is not implemented in this build')
      return null
    }
    throw e
  }
}

const NAMESPACE = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } }

module.exports = { hxb, embeddedOrSkip, NAMESPACE }
