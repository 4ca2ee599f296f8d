// Public types of the hxb package: the generated native declarations plus the error classes
// that index.js raises in place of every native error.
export * from './native'

declare module './native' {
  /** `for await (const ev of engine.subscribe())`: each event until the subscription ends. */
  interface EventSubscription {
    [Symbol.asyncIterator](): AsyncIterableIterator<any>
  }
}

/** The engine's version. */
export declare const VERSION: string

/** Options of an HxbError (the record the native addon reports). */
export interface HxbErrorOptions {
  details?: Record<string, unknown>
  retryable?: boolean
  cause?: unknown
}

/** Every error thrown or rejected by hxb: `code` is the stable kind (`"quota_exceeded"`). */
export declare class HxbError extends Error {
  constructor(message: string, options?: HxbErrorOptions & { code?: string })
  /** The stable error code; one subclass per code. */
  readonly code: string
  /** Structured fields of the error (e.g. `exceeded` for quota errors). */
  readonly details: Record<string, any>
  /** Whether retrying the same call later may succeed. */
  readonly retryable: boolean
  /** The Rust `source()` chain as nested Errors, or the native error for argument errors. */
  readonly cause?: unknown
}

/** Malformed input (a wrong type, null/undefined, a bad name, quantity or manifest). */
export declare class InvalidInputError extends HxbError { readonly code: 'invalid_input' }
/** The object does not exist. */
export declare class NotFoundError extends HxbError { readonly code: 'not_found' }
/** An object with that identity already exists. */
export declare class AlreadyExistsError extends HxbError { readonly code: 'already_exists' }
/** A concurrent change won; re-read and retry. */
export declare class ConflictError extends HxbError { readonly code: 'conflict' }
/** Quota admission refused the request; `details.exceeded` lists each resource. */
export declare class QuotaExceededError extends HxbError {
  readonly code: 'quota_exceeded'
  readonly details: {
    quota: string
    exceeded: Array<{ resource: string; requested: string; used: string; limit: string }>
  }
}
/** RBAC or a policy refused the request. */
export declare class ForbiddenError extends HxbError { readonly code: 'forbidden' }
/** The current state does not allow the request. */
export declare class FailedPreconditionError extends HxbError { readonly code: 'failed_precondition' }
/** No node can run the workload. */
export declare class UnschedulableError extends HxbError { readonly code: 'unschedulable' }
/** A dependency is temporarily unavailable; retry later. */
export declare class UnavailableError extends HxbError { readonly code: 'unavailable' }
/** The operation did not finish in time. */
export declare class TimeoutError extends HxbError { readonly code: 'timeout' }
/** The backend failed. */
export declare class BackendError extends HxbError { readonly code: 'backend' }
/** The engine was closed. */
export declare class ClosedError extends HxbError { readonly code: 'closed' }
/** A bug in hxb (an invariant broke, or native code panicked). */
export declare class InternalError extends HxbError { readonly code: 'internal' }

// The series calls give back the form they were given: a Float64Array for Float64Array values
// (or history), an array for an array. The generated declarations say the union; these
// overloads let TypeScript pick the precise type.
declare module './native' {
  interface Engine {
    forecast(history: Float64Array, horizon: number, season: number): Float64Array
    forecast(history: Array<number>, horizon: number, season: number): Array<number>
    detectAnomalies(timestamps: BigInt64Array | Float64Array | Array<number>, values: Float64Array, range?: ValueRange | null): Float64Array
    detectAnomalies(timestamps: BigInt64Array | Float64Array | Array<number>, values: Array<number>, range?: ValueRange | null): Array<number>
  }
}
