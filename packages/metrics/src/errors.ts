/** Error code of every bad-option error across uptimekit packages. */
export const INVALID_OPTION = 'UPTIMEKIT_INVALID_OPTION'

/**
 * Thrown by `createMetrics`, the adapters, `observeBreaker` and `observeHealth` when an option is
 * missing, of the wrong type or out of range. The message names the option in backticks, states
 * the rule and shows what it got (secrets by shape, never by value).
 */
export class InvalidOptionError extends TypeError {
  /** Stable code: `UPTIMEKIT_INVALID_OPTION`. */
  readonly code: typeof INVALID_OPTION = INVALID_OPTION
  /** The option that was wrong, as the user spelled it. */
  readonly option: string

  constructor(option: string, rule: string, got: string) {
    super(`\`${option}\` ${rule} (got ${got})`)
    this.name = 'InvalidOptionError'
    this.option = option
  }
}

/**
 * True when `err` is a bad-option error from any uptimekit package. Checks the `code`, so it
 * works across the ESM and CJS copies of a package.
 */
export const isInvalidOptionError = (err: unknown): err is InvalidOptionError =>
  (err as { code?: unknown } | null)?.code === INVALID_OPTION

/** Codes of the answers `/metrics` gives besides 200, and the HTTP status each one maps to. */
export const ANSWER_STATUS = {
  /** The bearer token is missing or wrong. */
  UPTIMEKIT_METRICS_UNAUTHORIZED: 401,
  /** A collector threw while the registry rendered (the error is logged). */
  UPTIMEKIT_METRICS_RENDER_FAILED: 500,
  /** Cluster aggregation: a worker did not answer before the deadline. */
  UPTIMEKIT_METRICS_CLUSTER_TIMEOUT: 504,
} as const

/** A code from {@link ANSWER_STATUS}. */
export type MetricsAnswerCode = keyof typeof ANSWER_STATUS

/** A cluster worker did not send its metrics before the primary's deadline. */
export class ClusterTimeoutError extends Error {
  /** Stable code: `UPTIMEKIT_METRICS_CLUSTER_TIMEOUT` (the scrape answers 504). */
  readonly code = 'UPTIMEKIT_METRICS_CLUSTER_TIMEOUT' as const

  constructor(workerId: number, timeoutMs: number) {
    super(`worker ${workerId} did not answer within ${timeoutMs} ms`)
    this.name = 'ClusterTimeoutError'
  }
}

/** Short text printed for a value in an error message: type and, for non-secrets, the value. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value)
  }
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  if (Array.isArray(value)) return `an array of ${value.length}`
  return typeof value === 'function' ? 'a function' : 'an object'
}
