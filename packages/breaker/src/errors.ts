import { errorText, hasCode, UptimekitError } from '@uptimekit/internal'
import type { CircuitState } from './circuit.js'

export { InvalidOptionError, isInvalidOptionError } from '@uptimekit/internal'

/**
 * Rejection of a call that the breaker did not let through: the circuit is open, or it is
 * half-open and every trial slot is taken. The wrapped function was not called.
 */
export class CircuitOpenError extends UptimekitError {
  /** The code every `CircuitOpenError` carries; `instanceof` compares it, so two loaded copies agree. */
  static override readonly code: string = 'UPTIMEKIT_CIRCUIT_OPEN'
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

  /**
   * @param breaker - the breaker's name
   * @param state - `open`, or `half_open` with its trial slots taken
   * @param retryAfterMs - when a trial may pass, in milliseconds
   * @param held - whether `forceOpen()` holds the circuit open
   */
  constructor(breaker: string, state: CircuitState, retryAfterMs: number, held: boolean) {
    const when = held
      ? 'it is held open by forceOpen()'
      : state === 'half_open'
        ? 'its trial calls are in flight'
        : `next attempt in ${Math.ceil(retryAfterMs / 1000)} s`
    super(
      CircuitOpenError.code,
      `circuit "${breaker}" is ${state === 'open' ? 'open' : 'half-open'}: ${when}`,
    )
    this.breaker = breaker
    this.state = state
    this.retryAfterMs = retryAfterMs
  }
}

/** Reason a call was cut off after `callTimeoutMs`; the call's AbortSignal is aborted with it. */
export class CallTimeoutError extends UptimekitError {
  /** The code every `CallTimeoutError` carries. */
  static override readonly code: string = 'UPTIMEKIT_CALL_TIMEOUT'
  /** Name of the breaker whose call timed out. */
  readonly breaker: string
  /** The limit that was exceeded, in milliseconds. */
  readonly timeoutMs: number

  /**
   * @param breaker - the breaker's name
   * @param timeoutMs - the `callTimeoutMs` that ran out
   */
  constructor(breaker: string, timeoutMs: number) {
    super(
      CallTimeoutError.code,
      `call through circuit "${breaker}" timed out after ${timeoutMs} ms`,
    )
    this.breaker = breaker
    this.timeoutMs = timeoutMs
  }
}

/**
 * Final rejection of `retry()` once it gives up: the last error is the `cause`, and `attempts`
 * counts every call made (the first one included). An abort is not wrapped: `retry()` rejects
 * with the signal's reason instead.
 */
export class RetryError extends UptimekitError {
  /** The code every `RetryError` carries. */
  static override readonly code: string = 'UPTIMEKIT_RETRY_FAILED'
  /** Calls made before giving up, the first one included. */
  readonly attempts: number

  /**
   * @param attempts - calls made, the first one included
   * @param cause - the last attempt's error
   */
  constructor(attempts: number, cause: unknown) {
    super(
      RetryError.code,
      `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${errorText(cause)}`,
      { cause },
    )
    this.attempts = attempts
  }
}

/** True for a call rejected because the circuit is open (or half-open and full). */
export const isCircuitOpenError = (err: unknown): err is CircuitOpenError =>
  hasCode(err, CircuitOpenError.code)

/** True for a call cut off after `callTimeoutMs`. */
export const isCallTimeoutError = (err: unknown): err is CallTimeoutError =>
  hasCode(err, CallTimeoutError.code)

/** True for the error `retry()` rejects with after its last attempt failed. */
export const isRetryError = (err: unknown): err is RetryError => hasCode(err, RetryError.code)
