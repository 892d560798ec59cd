import { InvalidOptionError } from './errors.js'

/** The pino-shaped logger the breaker reports state changes and listener errors to. */
export interface Logger {
  /** Circuit closed again. */
  info(fields: object, message?: string): void
  /** Circuit opened or was forced. */
  warn(fields: object, message?: string): void
  /** A listener threw; the breaker carried on. */
  error(fields: object, message?: string): void
}

/** Failure-rate mode: trip on the share of failed calls in a sliding time window. */
export interface RollingWindowOptions {
  /**
   * Length of the sliding window, in milliseconds.
   * @default 10000
   */
  windowMs?: number
  /**
   * Buckets the window is cut into; the window slides one bucket (`windowMs / buckets`) at a time.
   * @default 10
   */
  buckets?: number
  /**
   * Calls the window must hold before the failure rate can trip the circuit, so one failure
   * on a quiet route is not a 100 % failure rate.
   * @default 20
   */
  minimumCalls?: number
  /**
   * Share of failed calls (0 < ratio ≤ 1) in the window that opens the circuit.
   * @default 0.5
   */
  failureRateThreshold?: number
  /**
   * A call that takes at least this long, in milliseconds, counts as a failure even when it
   * succeeds (the caller still gets its value). Unset: duration never counts.
   * @default undefined
   */
  slowCallMs?: number
}

/** How the reset timeout grows when a half-open trial fails and the circuit reopens. */
export interface ReopenBackoffOptions {
  /**
   * Multiplier applied to the reset timeout for each reopening in a row (1 = no growth).
   * @default 2
   */
  factor?: number
  /**
   * Cap on the grown reset timeout, in milliseconds. Must be ≥ `resetTimeoutMs`.
   * @default 300000, or `resetTimeoutMs` when that is larger
   */
  maxResetTimeoutMs?: number
  /**
   * Share (0 ≤ ratio < 1) of each open period taken off at random, so instances that opened
   * together do not probe together. The period is never longer than the computed timeout.
   * @default 0.2
   */
  jitterRatio?: number
}

/** Options of `new CircuitBreaker()`. Everything but `name` has a default. */
export interface CircuitBreakerOptions {
  /** Name shown in errors, logs, 503 bodies and metrics labels. Required, non-empty. */
  name: string
  /**
   * Consecutive failures that open a closed circuit. `Infinity` never opens on a streak.
   * With `window` set and this unset, only the failure rate trips the circuit.
   * @default 5
   */
  failureThreshold?: number
  /**
   * Successful half-open trial calls that close the circuit again.
   * @default 1
   */
  successThreshold?: number
  /**
   * Time the circuit stays open before the next call is let through as a trial, in
   * milliseconds. Grows on repeated reopening (see `backoff`).
   * @default 30000
   */
  resetTimeoutMs?: number
  /**
   * Longest a call through `execute()` may run, in milliseconds; past it the call's
   * AbortSignal aborts, `execute()` rejects with `CallTimeoutError` and it counts as a failure.
   * Unset: no limit and no timer per call.
   * @default undefined
   */
  callTimeoutMs?: number
  /**
   * Trial calls allowed in flight at once while half-open; further callers are rejected at
   * once, never queued.
   * @default 1
   */
  halfOpenMaxCalls?: number
  /**
   * Decides whether an error counts against the dependency. Return false for errors that
   * prove it answered (a 404, a validation error): they count as successes. A predicate that
   * throws counts the error as a failure. Timeouts always count.
   * @default () => true
   */
  isFailure?: (error: unknown) => boolean
  /** Enables failure-rate mode (see `RollingWindowOptions`). Unset: consecutive failures only. */
  window?: RollingWindowOptions
  /** Growth of the reset timeout on repeated reopening. */
  backoff?: ReopenBackoffOptions
  /**
   * Where state changes (`warn` on open, `info` on close) and listener errors go.
   * @default a silent logger
   */
  logger?: Logger
}

/** Options of `retry()`. */
export interface RetryOptions {
  /**
   * Retries after the first call (0 = call once).
   * @default 3
   */
  retries?: number
  /**
   * Shortest delay before a retry, in milliseconds; also the base the backoff grows from.
   * @default 100
   */
  minDelayMs?: number
  /**
   * Longest delay before a retry, in milliseconds.
   * @default 10000
   */
  maxDelayMs?: number
  /**
   * Growth of the delay ceiling per retry: retry n waits at most `minDelayMs × factor^n`.
   * @default 2
   */
  factor?: number
  /**
   * `full`: a uniform random delay between `minDelayMs` and the ceiling, so clients that
   * failed together spread out. `none`: exactly `minDelayMs × factor^(n-1)`, capped.
   * @default 'full'
   */
  jitter?: 'full' | 'none'
  /**
   * Decides whether an error is worth another attempt (`attempt` = calls made so far).
   * Never consulted for a circuit-open rejection, which is never retried.
   * @default () => true
   */
  retryOn?: (error: unknown, attempt: number) => boolean
  /** Aborts the waiting and is handed to every attempt; `retry()` then rejects with its reason. */
  signal?: AbortSignal
}

/** Options shared by the Express guard and the Fastify plugin. */
export interface GuardOptions {
  /**
   * Decides which response statuses count as a failure of the guarded route.
   * @default (statusCode) => statusCode >= 500
   */
  isFailureStatus?: (statusCode: number) => boolean
}

/** Every default in one place; the README's options tables mirror this object. */
export const DEFAULTS = {
  failureThreshold: 5,
  successThreshold: 1,
  resetTimeoutMs: 30_000,
  halfOpenMaxCalls: 1,
  window: { windowMs: 10_000, buckets: 10, minimumCalls: 20, failureRateThreshold: 0.5 },
  backoff: { factor: 2, maxResetTimeoutMs: 300_000, jitterRatio: 0.2 },
  retry: { retries: 3, minDelayMs: 100, maxDelayMs: 10_000, factor: 2, jitter: 'full' },
  guard: { failureStatusFrom: 500 },
} as const

/** Breaker options after defaults and checks. */
export interface ResolvedBreakerOptions {
  name: string
  failureThreshold: number
  successThreshold: number
  resetTimeoutMs: number
  callTimeoutMs: number | undefined
  halfOpenMaxCalls: number
  isFailure: ((error: unknown) => boolean) | undefined
  window: Required<Omit<RollingWindowOptions, 'slowCallMs'>> & { slowCallMs: number | undefined }
  windowEnabled: boolean
  backoff: Required<ReopenBackoffOptions>
  logger: Logger | undefined
}

/** Retry options after defaults and checks. */
export type ResolvedRetryOptions = Required<Omit<RetryOptions, 'retryOn' | 'signal'>> &
  Pick<RetryOptions, 'retryOn' | 'signal'>

const describe = (value: unknown): string => {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : typeof value
}

const fail = (option: string, rule: string, value: unknown): never => {
  throw new InvalidOptionError(option, rule, describe(value))
}

function integer(option: string, value: unknown, min: number, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    fail(option, `must be an integer ≥ ${min}`, value)
  }
  return value as number
}

function positive(option: string, value: unknown, fallback: number): number
function positive(option: string, value: unknown, fallback: undefined): number | undefined
function positive(
  option: string,
  value: unknown,
  fallback: number | undefined,
): number | undefined {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(option, 'must be a positive finite number of milliseconds', value)
  }
  return value as number
}

function atLeast(option: string, value: unknown, min: number, rule: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) fail(option, rule, value)
  return value as number
}

function ratio(option: string, value: unknown, fallback: number, rule: string): number {
  if (value === undefined) return fallback
  const inRange =
    typeof value === 'number' &&
    (rule === '0 < ratio ≤ 1' ? value > 0 && value <= 1 : value >= 0 && value < 1)
  if (!inRange) fail(option, `must be a ratio with ${rule}`, value)
  return value as number
}

function predicate<T>(option: string, value: unknown): T | undefined {
  if (value !== undefined && typeof value !== 'function') fail(option, 'must be a function', value)
  return value as T | undefined
}

function object<T extends object>(option: string, value: unknown, keys: readonly string[]): T {
  if (value === undefined) return {} as T
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(option, 'must be an object', value)
  }
  for (const key of Object.keys(value as object)) {
    if (!keys.includes(key)) {
      const known = keys.map((k) => `\`${k}\``).join(', ')
      fail(`${option}${option === '' ? '' : '.'}${key}`, `is not an option (known: ${known})`, key)
    }
  }
  return value as T
}

function logger(value: unknown): Logger | undefined {
  if (value === undefined) return undefined
  const shaped =
    typeof value === 'object' &&
    value !== null &&
    ['info', 'warn', 'error'].every(
      (m) => typeof (value as Record<string, unknown>)[m] === 'function',
    )
  if (!shaped) fail('logger', 'must have info, warn and error methods (pino-shaped)', value)
  return value as Logger
}

const BREAKER_KEYS = [
  'name',
  'failureThreshold',
  'successThreshold',
  'resetTimeoutMs',
  'callTimeoutMs',
  'halfOpenMaxCalls',
  'isFailure',
  'window',
  'backoff',
  'logger',
] as const

/** Applies defaults and checks every breaker option; throws `InvalidOptionError` on the first bad one. */
export function resolveBreakerOptions(input: unknown): ResolvedBreakerOptions {
  const options = object<CircuitBreakerOptions>('', input, BREAKER_KEYS)
  const { name } = options
  if (typeof name !== 'string' || name.trim() === '')
    fail('name', 'must be a non-empty string', name)
  const windowInput = object<RollingWindowOptions>('window', options.window, [
    'windowMs',
    'buckets',
    'minimumCalls',
    'failureRateThreshold',
    'slowCallMs',
  ])
  const backoffInput = object<ReopenBackoffOptions>('backoff', options.backoff, [
    'factor',
    'maxResetTimeoutMs',
    'jitterRatio',
  ])
  const windowEnabled = options.window !== undefined
  const failureThreshold =
    options.failureThreshold === Infinity
      ? Infinity
      : integer(
          'failureThreshold',
          options.failureThreshold,
          1,
          windowEnabled ? Infinity : DEFAULTS.failureThreshold,
        )
  const resetTimeoutMs = positive('resetTimeoutMs', options.resetTimeoutMs, DEFAULTS.resetTimeoutMs)
  const windowMs = integer('window.windowMs', windowInput.windowMs, 1, DEFAULTS.window.windowMs)
  const buckets = integer('window.buckets', windowInput.buckets, 1, DEFAULTS.window.buckets)
  if (buckets > windowMs)
    fail('window.buckets', `must be ≤ \`window.windowMs\` (${windowMs})`, buckets)
  const factor = atLeast(
    'backoff.factor',
    backoffInput.factor ?? DEFAULTS.backoff.factor,
    1,
    'must be a finite number ≥ 1',
  )
  const maxResetTimeoutMs = positive(
    'backoff.maxResetTimeoutMs',
    backoffInput.maxResetTimeoutMs,
    Math.max(DEFAULTS.backoff.maxResetTimeoutMs, resetTimeoutMs),
  )
  if (maxResetTimeoutMs < resetTimeoutMs) {
    fail(
      'backoff.maxResetTimeoutMs',
      `must be ≥ \`resetTimeoutMs\` (${resetTimeoutMs})`,
      maxResetTimeoutMs,
    )
  }
  return {
    name,
    failureThreshold,
    successThreshold: integer(
      'successThreshold',
      options.successThreshold,
      1,
      DEFAULTS.successThreshold,
    ),
    resetTimeoutMs,
    callTimeoutMs: positive('callTimeoutMs', options.callTimeoutMs, undefined),
    halfOpenMaxCalls: integer(
      'halfOpenMaxCalls',
      options.halfOpenMaxCalls,
      1,
      DEFAULTS.halfOpenMaxCalls,
    ),
    isFailure: predicate('isFailure', options.isFailure),
    window: {
      windowMs,
      buckets,
      minimumCalls: integer(
        'window.minimumCalls',
        windowInput.minimumCalls,
        1,
        DEFAULTS.window.minimumCalls,
      ),
      failureRateThreshold: ratio(
        'window.failureRateThreshold',
        windowInput.failureRateThreshold,
        DEFAULTS.window.failureRateThreshold,
        '0 < ratio ≤ 1',
      ),
      slowCallMs: positive('window.slowCallMs', windowInput.slowCallMs, undefined),
    },
    windowEnabled,
    backoff: {
      factor,
      maxResetTimeoutMs,
      jitterRatio: ratio(
        'backoff.jitterRatio',
        backoffInput.jitterRatio,
        DEFAULTS.backoff.jitterRatio,
        '0 ≤ ratio < 1',
      ),
    },
    logger: logger(options.logger),
  }
}

/** Applies defaults and checks every `retry()` option. */
export function resolveRetryOptions(input: unknown): ResolvedRetryOptions {
  const options = object<RetryOptions>('', input, [
    'retries',
    'minDelayMs',
    'maxDelayMs',
    'factor',
    'jitter',
    'retryOn',
    'signal',
  ])
  const d = DEFAULTS.retry
  const minDelayMs = atLeast(
    'minDelayMs',
    options.minDelayMs ?? d.minDelayMs,
    0,
    'must be a finite number of milliseconds ≥ 0',
  )
  const maxDelayMs = atLeast(
    'maxDelayMs',
    options.maxDelayMs ?? Math.max(d.maxDelayMs, minDelayMs),
    minDelayMs,
    `must be a finite number ≥ \`minDelayMs\` (${minDelayMs})`,
  )
  const factor = atLeast('factor', options.factor ?? d.factor, 1, 'must be a finite number ≥ 1')
  const jitter = options.jitter ?? d.jitter
  if (jitter !== 'full' && jitter !== 'none') fail('jitter', "must be 'full' or 'none'", jitter)
  const { signal } = options
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    fail('signal', 'must be an AbortSignal', signal)
  }
  return {
    retries: integer('retries', options.retries, 0, d.retries),
    minDelayMs,
    maxDelayMs,
    factor,
    jitter,
    retryOn: predicate('retryOn', options.retryOn),
    signal,
  }
}

/** Checks the guard options (`onOpen` is only checked: the adapter calls it) and returns the status predicate. */
export function resolveGuardOptions(input: unknown): (statusCode: number) => boolean {
  // Not strict about other keys: Fastify hands register() options (prefix, logLevel) through.
  if (input !== undefined && (typeof input !== 'object' || input === null)) {
    fail('options', 'must be an object', input)
  }
  const options = (input ?? {}) as GuardOptions & { onOpen?: unknown }
  predicate('onOpen', options.onOpen)
  const given = predicate<(statusCode: number) => boolean>(
    'isFailureStatus',
    options.isFailureStatus,
  )
  return given ?? ((statusCode) => statusCode >= DEFAULTS.guard.failureStatusFrom)
}
