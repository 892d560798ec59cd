import { hasCode, UptimekitError } from '@uptimekit/internal'

export { InvalidOptionError, isInvalidOptionError, shown } from '@uptimekit/internal'

/**
 * The reason a check's AbortSignal fires when the check runs past its `timeoutMs`;
 * a check reported with this error timed out rather than failed on its own.
 */
export class CheckTimeoutError extends UptimekitError {
  /** Stable code for a check that ran past its deadline. */
  static override readonly code: string = 'UPTIMEKIT_CHECK_TIMEOUT'
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number

  /** @param timeoutMs - the deadline that passed, in milliseconds */
  constructor(timeoutMs: number) {
    super(CheckTimeoutError.code, `timed out after ${timeoutMs} ms`)
    this.timeoutMs = timeoutMs
  }
}

/** Whether `err` is the timeout a check's AbortSignal fired with (checks `code`). */
export const isCheckTimeoutError = (err: unknown): err is CheckTimeoutError =>
  hasCode(err, CheckTimeoutError.code)

/**
 * How a check fails with a reading to show: the checkers of heap, disk and event loop throw it
 * with their measurement in `details`, so a failing check still reports what it saw
 * (`/health/detailed` details, IETF `observedValue`).
 */
export class CheckFailedError extends UptimekitError {
  /** Stable code for a check that failed with a reading. */
  static override readonly code: string = 'UPTIMEKIT_CHECK_FAILED'
  /** What the check measured, JSON-able. */
  readonly details: unknown

  /**
   * @param message - why the check failed, one line
   * @param details - what it measured, shown like a passing check's details
   */
  constructor(message: string, details: unknown) {
    super(CheckFailedError.code, message)
    this.details = details
  }
}

/** Whether `err` is a check failure carrying a reading (checks `code`). */
export const isCheckFailedError = (err: unknown): err is CheckFailedError =>
  hasCode(err, CheckFailedError.code)

/**
 * The codes of the house error bodies (`{ statusCode, code, error, message }`) health answers
 * with, and their HTTP status: the one table the core answers errors from.
 */
export const ERROR_STATUS: {
  readonly UPTIMEKIT_HEALTH_UNAUTHORIZED: 401
  readonly UPTIMEKIT_HEALTH_DETAILS_DISABLED: 404
  readonly UPTIMEKIT_HEALTH_ERROR: 503
} = Object.freeze({
  UPTIMEKIT_HEALTH_UNAUTHORIZED: 401,
  UPTIMEKIT_HEALTH_DETAILS_DISABLED: 404,
  UPTIMEKIT_HEALTH_ERROR: 503,
})

/** A code of a house error body health answers with. */
export type HealthErrorCode = keyof typeof ERROR_STATUS
