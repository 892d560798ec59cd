import { hasCode } from '@uptimekit/internal'

export { InvalidOptionError, isInvalidOptionError, shown } from '@uptimekit/internal'

/**
 * The reason a check's AbortSignal fires when the check runs past its `timeoutMs`;
 * a check reported with this error timed out rather than failed on its own.
 */
export class CheckTimeoutError extends Error {
  /** Stable code for a check that ran past its deadline. */
  readonly code = 'UPTIMEKIT_CHECK_TIMEOUT'
  /** The deadline that passed, in milliseconds. */
  readonly timeoutMs: number

  /** @param timeoutMs - the deadline that passed, in milliseconds */
  constructor(timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`)
    this.name = 'CheckTimeoutError'
    this.timeoutMs = timeoutMs
  }
}

/** Whether `err` is the timeout a check's AbortSignal fired with (checks `code`). */
export const isCheckTimeoutError = (err: unknown): err is CheckTimeoutError =>
  hasCode(err, 'UPTIMEKIT_CHECK_TIMEOUT')

