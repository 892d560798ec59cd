/** Thrown by `createHealth()` and the checker factories when an option is missing or out of range. */
export class InvalidOptionError extends TypeError {
  /** Stable code shared by every uptimekit package for bad options. */
  readonly code = 'UPTIMEKIT_INVALID_OPTION'
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
}

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

const hasCode = (err: unknown, code: string): boolean =>
  typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code

/** Whether `err` is a bad-option error from any uptimekit package (checks `code`, so two loaded copies agree). */
export const isInvalidOptionError = (err: unknown): err is InvalidOptionError =>
  hasCode(err, 'UPTIMEKIT_INVALID_OPTION')

/** Whether `err` is the timeout a check's AbortSignal fired with (checks `code`). */
export const isCheckTimeoutError = (err: unknown): err is CheckTimeoutError =>
  hasCode(err, 'UPTIMEKIT_CHECK_TIMEOUT')

/** Renders a value given to an option so an error message can show it without dumping objects. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  if (value === null) return 'null'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'symbol') return value.toString()
  return `${value as number | boolean | bigint | undefined}`
}
