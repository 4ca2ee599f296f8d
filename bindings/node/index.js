// hxb for Node.js: the typed loader over the native addon (hxb.node).
//
// Generic on purpose: every native class, static, method, getter and function is wrapped the
// same way, so that any error leaving native code becomes an HxbError with a stable `code`, the
// Rust `source()` chain as `cause`, and structured `details`. Adding an operation in Rust needs
// no change here except its name in the export list (a test checks it).
'use strict'

const fs = require('node:fs')
const path = require('node:path')

function loadNative() {
  const candidates = [
    process.env.HXB_NODE_ADDON,
    path.join(__dirname, 'hxb.node'),
    path.join(__dirname, `hxb.${process.platform}-${process.arch}.node`),
  ].filter(Boolean)
  for (const file of candidates) {
    if (!fs.existsSync(file)) continue
    // dlopen rather than require: the addon may be a link to the cargo-built cdylib (.so).
    const mod = { exports: {} }
    process.dlopen(mod, file)
    return mod.exports
  }
  throw new Error(`hxb: native addon not found (looked for ${candidates.join(', ')}); build it with bindings/test.sh`)
}

const native = loadNative()

/** Prefix of an error record encoded by the addon (see bindings/node/src/errors.rs). */
const MARKER = '\u0001hxb:'
/** napi's own argument-conversion failures: wrong JavaScript types, null, undefined. */
const NAPI_ARGUMENT_CODES = new Set([
  'InvalidArg', 'ObjectExpected', 'StringExpected', 'NameExpected', 'FunctionExpected',
  'NumberExpected', 'BooleanExpected', 'ArrayExpected', 'BigintExpected', 'DateExpected',
  'ArrayBufferExpected', 'DetachableArraybufferExpected',
])

class HxbError extends Error {
  constructor(message, { code = 'internal', details = {}, retryable = false, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = new.target.name
    this.code = code
    this.details = details
    this.retryable = retryable
  }
}

const KIND_CLASSES = {
  invalid_input: 'InvalidInputError',
  not_found: 'NotFoundError',
  already_exists: 'AlreadyExistsError',
  conflict: 'ConflictError',
  quota_exceeded: 'QuotaExceededError',
  forbidden: 'ForbiddenError',
  failed_precondition: 'FailedPreconditionError',
  unschedulable: 'UnschedulableError',
  unavailable: 'UnavailableError',
  timeout: 'TimeoutError',
  backend: 'BackendError',
  closed: 'ClosedError',
  internal: 'InternalError',
}

const errors = { HxbError }
const classOf = {}
for (const [code, name] of Object.entries(KIND_CLASSES)) {
  const cls = {
    [name]: class extends HxbError {
      constructor(message, opts = {}) {
        super(message, { ...opts, code })
      }
    },
  }[name]
  errors[name] = cls
  classOf[code] = cls
}

function fromRecord(info) {
  let cause
  for (const text of [...info.causes].reverse()) {
    cause = new Error(text, cause === undefined ? undefined : { cause })
  }
  const cls = classOf[info.kind] ?? HxbError
  const err = new cls(info.message, { details: info.details, retryable: info.retryable, cause })
  if (cls === HxbError) err.code = info.kind
  return err
}

function convert(e) {
  if (e instanceof HxbError || e === null || typeof e !== 'object') return e
  if (typeof e.message === 'string' && e.message.startsWith(MARKER)) {
    return fromRecord(JSON.parse(e.message.slice(MARKER.length)))
  }
  if (NAPI_ARGUMENT_CODES.has(e.code) || e instanceof TypeError) {
    return new errors.InvalidInputError(e.message, { details: { reason: e.message }, cause: e })
  }
  return e
}

// Node-API sizes a Rust vector by an array's `length` before it reads a single item, and a
// failed allocation aborts the process: a sparse array (`a.length = 2 ** 32 - 1`, nothing in
// it) would take the host down. So arguments are looked over first, and an array longer than
// MAX_ARRAY_ITEMS anywhere in them is refused with InvalidInputError. The walk visits at most
// WALK_BUDGET objects (cyclic or very large values are then left to the native conversion's
// own depth limit); arguments without objects cost one `typeof` each.
const MAX_ARRAY_ITEMS = 2 ** 26
const WALK_BUDGET = 100_000

function refuseHugeArrays(args) {
  if (!args.some((a) => a !== null && typeof a === 'object')) return
  const stack = args.filter((a) => a !== null && typeof a === 'object')
  let budget = WALK_BUDGET
  while (stack.length > 0 && budget-- > 0) {
    const v = stack.pop()
    if (ArrayBuffer.isView(v)) continue
    if (Array.isArray(v)) {
      if (v.length > MAX_ARRAY_ITEMS) {
        const reason = `an array of ${v.length} items is longer than the ${MAX_ARRAY_ITEMS} an argument may hold`
        throw new errors.InvalidInputError(`invalid arguments: ${reason}`, { details: { field: 'arguments', reason } })
      }
      for (let i = 0; i < v.length; i++) {
        const x = v[i]
        if (x !== null && typeof x === 'object') stack.push(x)
      }
    } else {
      for (const k in v) {
        const x = v[k]
        if (x !== null && typeof x === 'object') stack.push(x)
      }
    }
  }
}

function wrap(fn) {
  return function hxbCall(...args) {
    let out
    try {
      refuseHugeArrays(args)
      out = fn.apply(this, args)
    } catch (e) {
      throw convert(e)
    }
    return out instanceof Promise ? out.catch((e) => Promise.reject(convert(e))) : out
  }
}

// Numeric series. Node-API reads a plain array one element at a time (a call per element)
// and builds an array result the same way; V8 copies an array of numbers into a Float64Array,
// and a Float64Array into an array, in one tight loop. So the methods below pass every plain
// array of numbers across as a Float64Array (the native side reads typed arrays in place),
// and give the result back as an array when the caller's argument was one. An argument that is
// not an array of numbers (holes, strings, null…) crosses untouched, so the native conversion
// refuses it exactly as before. Conversion only: the checks on the numbers stay native.
const SERIES_METHODS = {
  // method name: the series arguments' positions and the one whose form the result takes
  detectAnomalies: { series: [0, 1], resultLike: 1 },
  forecast: { series: [0], resultLike: 0 },
}

/** `a` as a Float64Array if it is an array of numbers only, else undefined. */
function numbersToFloat64(a) {
  if (!Array.isArray(a)) return undefined
  const n = a.length
  let out
  try {
    out = new Float64Array(n)
  } catch {
    return undefined // a length no typed array takes (a sparse giant): the native path decides
  }
  for (let i = 0; i < n; i++) {
    const x = a[i]
    if (typeof x !== 'number') return undefined
    out[i] = x
  }
  return out
}

/** The items of a Float64Array as an array of numbers. */
function float64ToArray(typed) {
  const n = typed.length
  const out = new Array(n)
  for (let i = 0; i < n; i++) out[i] = typed[i]
  return out
}

function seriesCall(fn, { series, resultLike }) {
  return function hxbSeriesCall(...args) {
    const asArray = Array.isArray(args[resultLike])
    for (const i of series) {
      const typed = numbersToFloat64(args[i])
      if (typed !== undefined) args[i] = typed
    }
    const out = fn.apply(this, args)
    return asArray && out instanceof Float64Array ? float64ToArray(out) : out
  }
}

function wrapPrototype(proto) {
  for (const key of Object.getOwnPropertyNames(proto)) {
    if (key === 'constructor') continue
    const d = Object.getOwnPropertyDescriptor(proto, key)
    if (!d.configurable) continue
    if (typeof d.value === 'function' && Object.hasOwn(SERIES_METHODS, key)) {
      d.value = seriesCall(d.value, SERIES_METHODS[key])
    }
    if (typeof d.value === 'function') d.value = wrap(d.value)
    if (typeof d.get === 'function') d.get = wrap(d.get)
    if (typeof d.set === 'function') d.set = wrap(d.set)
    Object.defineProperty(proto, key, d)
  }
}

// Native statics are read-only, so each class gets a stand-in constructor sharing the native
// prototype (instances made natively are still `instanceof` it) with wrapped statics.
function wrapClass(cls) {
  wrapPrototype(cls.prototype)
  const Wrapped = function (...args) {
    if (!new.target) throw new TypeError(`Class constructor ${cls.name} cannot be invoked without 'new'`)
    try {
      return Reflect.construct(cls, args, cls)
    } catch (e) {
      throw convert(e)
    }
  }
  Object.defineProperty(Wrapped, 'name', { value: cls.name })
  Wrapped.prototype = cls.prototype
  for (const key of Object.getOwnPropertyNames(cls)) {
    if (['length', 'name', 'prototype', 'arguments', 'caller'].includes(key)) continue
    const d = Object.getOwnPropertyDescriptor(cls, key)
    if (typeof d.value === 'function') Wrapped[key] = wrap(d.value.bind(cls))
    else if (typeof d.get === 'function') Object.defineProperty(Wrapped, key, { get: wrap(d.get.bind(cls)) })
    else Wrapped[key] = d.value
  }
  return Wrapped
}

// Native stream classes (`next()`: a Promise of the next item or null at the end, and
// `close()`) are async-iterable: `for await (const ev of engine.subscribe())`; leaving the loop
// early (break, return, throw) closes the stream.
function makeAsyncIterable(proto) {
  if (typeof proto.next !== 'function' || typeof proto.close !== 'function') return
  Object.defineProperty(proto, Symbol.asyncIterator, {
    configurable: true,
    writable: true,
    value: function asyncIterator() {
      const stream = this
      return {
        async next() {
          const value = await stream.next()
          return value === null ? { value: undefined, done: true } : { value, done: false }
        },
        async return(value) {
          stream.close()
          return { value, done: true }
        },
        [Symbol.asyncIterator]() {
          return this
        },
      }
    },
  })
}

function wrapExport(value) {
  if (typeof value !== 'function') return value
  const isClass = value.prototype && Object.getOwnPropertyNames(value.prototype).length > 1
  if (isClass) makeAsyncIterable(value.prototype)
  return isClass ? wrapClass(value) : wrap(value)
}

const api = {}
for (const [key, value] of Object.entries(native)) api[key] = wrapExport(value)

const Engine = api.Engine
const EventSubscription = api.EventSubscription
const Quantity = api.Quantity
const validateName = api.validateName
const sumQuantities = api.sumQuantities
const admit = api.admit
const addResources = api.addResources
const version = api.version
const errorKinds = api.errorKinds
const _raiseSampleError = api._raiseSampleError
const VERSION = native.version()

const {
  InvalidInputError, NotFoundError, AlreadyExistsError, ConflictError, QuotaExceededError,
  ForbiddenError, FailedPreconditionError, UnschedulableError, UnavailableError, TimeoutError,
  BackendError, ClosedError, InternalError,
} = errors

module.exports = {
  Engine,
  EventSubscription,
  Quantity,
  validateName,
  sumQuantities,
  admit,
  addResources,
  version,
  errorKinds,
  _raiseSampleError,
  VERSION,
  HxbError,
  InvalidInputError,
  NotFoundError,
  AlreadyExistsError,
  ConflictError,
  QuotaExceededError,
  ForbiddenError,
  FailedPreconditionError,
  UnschedulableError,
  UnavailableError,
  TimeoutError,
  BackendError,
  ClosedError,
  InternalError,
}

// --- backup, policy, fleet ---
module.exports.Backups = api.Backups
