import {
  hasCode,
  InvalidOptionError,
  isInvalidOptionError,
  UptimekitError,
} from '@uptimekit/internal'

export { InvalidOptionError, isInvalidOptionError }

/**
 * The session store could not answer in time: Redis is down, unreachable, failing over or frozen.
 * Adapters turn it into a 503 with `Retry-After`; it never reaches users as a 500.
 */
export class SessionUnavailableError extends UptimekitError {
  /** Stable code, unique to this package. */
  static override readonly code: string = 'UPTIMEKIT_SESSION_UNAVAILABLE'

  /**
   * @param message - what happened, safe to show
   * @param options - `cause`: the Redis error or the deadline that fired
   */
  constructor(message: string, options?: ErrorOptions) {
    super(SessionUnavailableError.code, message, options)
  }
}

/** Whether `err` is a {@link SessionUnavailableError}, from this copy of the package or another. */
export const isSessionUnavailableError = (err: unknown): err is SessionUnavailableError =>
  hasCode(err, SessionUnavailableError.code)
