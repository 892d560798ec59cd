/** The `code` of a thrown value, or undefined; never throws (a revoked Proxy, a throwing getter). */
function codeOf(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return undefined
  try {
    return (value as { code?: unknown }).code
  } catch {
    return undefined
  }
}

/**
 * Whether `value` is an object carrying `code` (how errors are told apart across loaded copies).
 * Never throws, whatever was thrown: guards run in catch blocks.
 */
export function hasCode(value: unknown, code: string): boolean {
  return codeOf(value) === code
}

/**
 * The base of every uptimekit error. Each subclass sets a static `code`; `instanceof` compares
 * codes rather than prototypes, so it holds across packages and across the ESM and CommonJS
 * copies of one package loaded side by side (the dual-package hazard).
 */
export class UptimekitError extends Error {
  /** The code every instance of this class carries; `UptimekitError` itself matches any uptimekit code. */
  static readonly code: string = 'UPTIMEKIT_'
  /** Stable, machine-readable reason, `UPTIMEKIT_<REASON>`. */
  readonly code: string

  /**
   * @param code - the stable code, `UPTIMEKIT_<REASON>`
   * @param message - what happened, safe to show
   * @param options - `cause`, for a wrapped foreign error
   */
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === UptimekitError) {
      const code = codeOf(value)
      return typeof code === 'string' && code.startsWith('UPTIMEKIT_')
    }
    return hasCode(value, this.code)
  }
}

/** Thrown at startup when an option is missing, unknown or out of range. */
export class InvalidOptionError extends TypeError {
  /** The code of every bad-option error, in every uptimekit package. */
  static readonly code = 'UPTIMEKIT_INVALID_OPTION' as const
  /** Stable code shared by every uptimekit package for bad options. */
  readonly code = 'UPTIMEKIT_INVALID_OPTION' as const
  /** The option at fault, as the user spelled it (e.g. `checks.redis.timeoutMs`). */
  readonly option: string

  /**
   * @param option - the option at fault
   * @param rule - what the option must be, e.g. `must be a positive integer`
   * @param got - what was given, already safe to print (secrets by shape only)
   */
  constructor(option: string, rule: string, got: string) {
    super(`\`${option}\` ${rule} (got ${got})`)
    this.name = 'InvalidOptionError'
    this.option = option
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    return hasCode(value, InvalidOptionError.code)
  }
}

/** Whether `err` is a bad-option error from any uptimekit package (checks `code`, so two loaded copies agree). */
export const isInvalidOptionError = (err: unknown): err is InvalidOptionError =>
  hasCode(err, InvalidOptionError.code)
