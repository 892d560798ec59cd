/**
 * Thrown at startup when an option is missing or out of range. The message names the option in
 * backticks, states the rule and shows what it got; secrets are described by shape, never by value.
 */
export class InvalidOptionError extends TypeError {
  /** Stable code shared by every uptimekit package for bad options. */
  readonly code = 'UPTIMEKIT_INVALID_OPTION' as const
  /** The option path, e.g. `secret[1]` or `cookie.sameSite`. */
  readonly option: string

  constructor(option: string, rule: string, got: string) {
    super(`\`${option}\` ${rule} (got ${got})`)
    this.name = 'InvalidOptionError'
    this.option = option
  }
}

/**
 * The session store could not answer in time: Redis is down, unreachable, failing over or frozen.
 * Adapters turn it into a 503 with `Retry-After`; it never reaches users as a 500.
 */
export class SessionUnavailableError extends Error {
  /** Stable code, unique to this package. */
  readonly code = 'UPTIMEKIT_SESSION_UNAVAILABLE' as const
  /** HTTP status the adapters answer with. */
  readonly statusCode = 503 as const

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SessionUnavailableError'
  }
}

/** Whether `err` is an {@link InvalidOptionError}, from this copy of the package or another. */
export const isInvalidOptionError = (err: unknown): err is InvalidOptionError =>
  (err as { code?: unknown } | null)?.code === 'UPTIMEKIT_INVALID_OPTION'

/** Whether `err` is a {@link SessionUnavailableError}, from this copy of the package or another. */
export const isSessionUnavailableError = (err: unknown): err is SessionUnavailableError =>
  (err as { code?: unknown } | null)?.code === 'UPTIMEKIT_SESSION_UNAVAILABLE'

/** Describes a value for an error message without revealing it when it may be a secret. */
export function describeShape(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return `an array of ${value.length}`
  if (typeof value === 'string') return `${value.length} characters`
  return typeof value
}
