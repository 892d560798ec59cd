import type { CircuitState } from './circuit.js'

const codeOf = (err: unknown): unknown =>
  typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined

/**
 * Thrown at construction when an option is missing, has the wrong type or is out of range.
 * The message names the option in backticks, states the rule and shows what it got.
 */
export class InvalidOptionError extends TypeError {
  /** Shared by every uptimekit package, so one guard works everywhere. */
  readonly code = 'UPTIMEKIT_INVALID_OPTION' as const
  /** The offending option, dotted for nested ones (`window.minimumCalls`). */
  readonly option: string

  constructor(option: string, rule: string, got: string) {
    super(`\`${option}\` ${rule} (got ${got})`)
    this.name = 'InvalidOptionError'
    this.option = option
  }
}

/**
 * Rejection of a call that the breaker did not let through: the circuit is open, or it is
 * half-open and every trial slot is taken. The wrapped function was not called.
 */
export class CircuitOpenError extends Error {
  /** Stable code to branch on; survives two loaded copies of the package, unlike `instanceof`. */
  readonly code = 'UPTIMEKIT_CIRCUIT_OPEN' as const
  /** Name of the breaker that rejected the call. */
  readonly breaker: string
  /** State the breaker was in when it rejected: `open`, or `half_open` with its trial slots full. */
  readonly state: CircuitState
  /**
   * Milliseconds until the breaker lets a trial call through: the rest of the reset timeout
   * while open; 1000 while half-open trials run (one may close the circuit any moment);
   * `resetTimeoutMs` while held by `forceOpen()` (a hint: only an operator ends that).
   */
  readonly retryAfterMs: number

  constructor(breaker: string, state: CircuitState, retryAfterMs: number, held: boolean) {
    const when = held
      ? 'it is held open by forceOpen()'
      : state === 'half_open'
        ? 'its trial calls are in flight'
        : `next attempt in ${Math.ceil(retryAfterMs / 1000)} s`
    super(`circuit "${breaker}" is ${state === 'open' ? 'open' : 'half-open'}: ${when}`)
    this.name = 'CircuitOpenError'
    this.breaker = breaker
    this.state = state
    this.retryAfterMs = retryAfterMs
  }
}

/** Reason a call was cut off after `callTimeoutMs`; the call's AbortSignal is aborted with it. */
export class CallTimeoutError extends Error {
  /** Stable code to branch on. */
  readonly code = 'UPTIMEKIT_CALL_TIMEOUT' as const
  /** Name of the breaker whose call timed out. */
  readonly breaker: string
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number

  constructor(breaker: string, timeoutMs: number) {
    super(`call through circuit "${breaker}" timed out after ${timeoutMs} ms`)
    this.name = 'CallTimeoutError'
    this.breaker = breaker
    this.timeoutMs = timeoutMs
  }
}

/**
 * Final rejection of `retry()` once it gives up: the last error is the `cause`, and `attempts`
 * counts every call made (the first one included). An abort is not wrapped: `retry()` rejects
 * with the signal's reason instead.
 */
export class RetryError extends Error {
  /** Stable code to branch on. */
  readonly code = 'UPTIMEKIT_RETRY_FAILED' as const
  /** Calls made before giving up, the first one included. */
  readonly attempts: number

  constructor(attempts: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    super(`gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${reason}`, { cause })
    this.name = 'RetryError'
    this.attempts = attempts
  }
}

/** True for the error thrown on a bad option, from this package or any other uptimekit package. */
export const isInvalidOptionError = (err: unknown): err is InvalidOptionError =>
  codeOf(err) === 'UPTIMEKIT_INVALID_OPTION'

/** True for a call rejected because the circuit is open (or half-open and full). */
export const isCircuitOpenError = (err: unknown): err is CircuitOpenError =>
  codeOf(err) === 'UPTIMEKIT_CIRCUIT_OPEN'

/** True for a call cut off after `callTimeoutMs`. */
export const isCallTimeoutError = (err: unknown): err is CallTimeoutError =>
  codeOf(err) === 'UPTIMEKIT_CALL_TIMEOUT'

/** True for the error `retry()` rejects with after its last attempt failed. */
export const isRetryError = (err: unknown): err is RetryError =>
  codeOf(err) === 'UPTIMEKIT_RETRY_FAILED'
