import {
  finiteNumber,
  func,
  integer,
  InvalidOptionError,
  milliseconds,
  oneOf,
  optional,
  optionsObject,
  ratio,
  resolveLogger,
  shown,
  stderrLogger,
  text,
  type Logger,
  type LoggerOption,
} from '@uptimekit/internal'

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
   * Longest a call may run, in milliseconds. Past it, a call through `execute()` has its
   * AbortSignal aborted, rejects with `CallTimeoutError` and counts as a failure; a half-open
   * trial taken with `tryAcquire()` (a guarded route) counts as a failed trial, so a hung trial
   * cannot hold the circuit half-open. `Infinity` turns the limit off (no timer per call), and
   * a dependency that hangs then never opens the circuit.
   * @default 10000
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
   * Where state changes (`warn` on open, `info` on half-open and close) and listener errors
   * go: a pino-shaped logger, or `false` for none.
   * @default one JSON line per event on stderr
   */
  logger?: LoggerOption
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

/** Every default in one place, frozen all the way down; the README's options tables mirror it. */
export const DEFAULTS: {
  readonly failureThreshold: 5
  readonly successThreshold: 1
  readonly resetTimeoutMs: 30_000
  readonly callTimeoutMs: 10_000
  readonly halfOpenMaxCalls: 1
  readonly window: {
    readonly windowMs: 10_000
    readonly buckets: 10
    readonly minimumCalls: 20
    readonly failureRateThreshold: 0.5
  }
  readonly backoff: {
    readonly factor: 2
    readonly maxResetTimeoutMs: 300_000
    readonly jitterRatio: 0.2
  }
  readonly retry: {
    readonly retries: 3
    readonly minDelayMs: 100
    readonly maxDelayMs: 10_000
    readonly factor: 2
    readonly jitter: 'full'
  }
  readonly guard: { readonly failureStatusFrom: 500 }
} = Object.freeze({
  failureThreshold: 5,
  successThreshold: 1,
  resetTimeoutMs: 30_000,
  callTimeoutMs: 10_000,
  halfOpenMaxCalls: 1,
  window: Object.freeze({
    windowMs: 10_000,
    buckets: 10,
    minimumCalls: 20,
    failureRateThreshold: 0.5,
  }),
  backoff: Object.freeze({ factor: 2, maxResetTimeoutMs: 300_000, jitterRatio: 0.2 }),
  retry: Object.freeze({
    retries: 3,
    minDelayMs: 100,
    maxDelayMs: 10_000,
    factor: 2,
    jitter: 'full',
  }),
  guard: Object.freeze({ failureStatusFrom: 500 }),
} as const)

/** Rolling-window options after defaults and checks. */
export interface ResolvedWindowOptions {
  windowMs: number
  buckets: number
  minimumCalls: number
  failureRateThreshold: number
  slowCallMs: number | undefined
}

/** Breaker options after defaults and checks. */
export interface ResolvedBreakerOptions {
  name: string
  failureThreshold: number
  successThreshold: number
  resetTimeoutMs: number
  /** `undefined` when the limit is turned off (`Infinity`). */
  callTimeoutMs: number | undefined
  halfOpenMaxCalls: number
  isFailure: ((error: unknown) => boolean) | undefined
  /** `undefined` without a rolling window. */
  window: ResolvedWindowOptions | undefined
  backoff: Required<ReopenBackoffOptions>
  logger: Logger
}

/** Retry options after defaults and checks. */
export type ResolvedRetryOptions = Required<Omit<RetryOptions, 'retryOn' | 'signal'>> &
  Pick<RetryOptions, 'retryOn' | 'signal'>

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
]
const WINDOW_KEYS = ['windowMs', 'buckets', 'minimumCalls', 'failureRateThreshold', 'slowCallMs']
const BACKOFF_KEYS = ['factor', 'maxResetTimeoutMs', 'jitterRatio']
const RETRY_KEYS = ['retries', 'minDelayMs', 'maxDelayMs', 'factor', 'jitter', 'retryOn', 'signal']
/** The guard's own options, and what Fastify hands a plugin from `register()` besides them. */
const GUARD_KEYS = ['isFailureStatus', 'onOpen']
const FASTIFY_REGISTER_KEYS = ['prefix', 'logLevel', 'logSerializers']

const NAME = '@uptimekit/breaker'
// The default logger is stateless and frozen, so every breaker shares one instead of making its
// own (10,000 idle breakers would otherwise hold 10,000 copies).
const DEFAULT_LOGGER: Logger = stderrLogger(NAME)

const or = <T>(value: T | undefined, fallback: T): T => (value === undefined ? fallback : value)

function resolveWindow(input: unknown): ResolvedWindowOptions | undefined {
  if (input === undefined) return undefined
  const w = optionsObject('window', input, WINDOW_KEYS, 'window.')
  const d = DEFAULTS.window
  const windowMs = milliseconds('window.windowMs', or(w.windowMs, d.windowMs))
  return {
    windowMs,
    buckets: integer('window.buckets', or(w.buckets, d.buckets), { min: 1, max: windowMs }),
    minimumCalls: integer('window.minimumCalls', or(w.minimumCalls, d.minimumCalls), { min: 1 }),
    failureRateThreshold: ratio(
      'window.failureRateThreshold',
      or(w.failureRateThreshold, d.failureRateThreshold),
    ),
    slowCallMs: optional(w.slowCallMs, (v) => milliseconds('window.slowCallMs', v)),
  }
}

function resolveBackoff(input: unknown, resetTimeoutMs: number): Required<ReopenBackoffOptions> {
  const b = optionsObject('backoff', input, BACKOFF_KEYS, 'backoff.')
  const d = DEFAULTS.backoff
  const jitterRatio = finiteNumber('backoff.jitterRatio', or(b.jitterRatio, d.jitterRatio), {
    min: 0,
  })
  // A ratio of 1 could shorten an open period to nothing: a reopened circuit would probe at once.
  if (jitterRatio >= 1) {
    throw new InvalidOptionError('backoff.jitterRatio', 'must be below 1', shown(jitterRatio))
  }
  return {
    factor: finiteNumber('backoff.factor', or(b.factor, d.factor), { min: 1 }),
    maxResetTimeoutMs: milliseconds(
      'backoff.maxResetTimeoutMs',
      or(b.maxResetTimeoutMs, Math.max(d.maxResetTimeoutMs, resetTimeoutMs)),
      resetTimeoutMs,
    ),
    jitterRatio,
  }
}

/** Applies defaults and checks every breaker option; throws `InvalidOptionError` on the first bad one. */
export function resolveBreakerOptions(input: unknown): ResolvedBreakerOptions {
  if (input === undefined) throw new InvalidOptionError('name', 'is required', 'undefined')
  const o = optionsObject('CircuitBreaker', input, BREAKER_KEYS)
  const name = text('name', o.name)
  if (name.trim() === '') throw new InvalidOptionError('name', 'must not be blank', shown(name))
  const window = resolveWindow(o.window)
  const defaultThreshold = window === undefined ? DEFAULTS.failureThreshold : Infinity
  const failureThreshold =
    o.failureThreshold === undefined || o.failureThreshold === Infinity
      ? or(o.failureThreshold, defaultThreshold)
      : integer('failureThreshold', o.failureThreshold, { min: 1 })
  const resetTimeoutMs = milliseconds(
    'resetTimeoutMs',
    or(o.resetTimeoutMs, DEFAULTS.resetTimeoutMs),
  )
  const callTimeoutMs =
    o.callTimeoutMs === Infinity
      ? undefined
      : milliseconds('callTimeoutMs', or(o.callTimeoutMs, DEFAULTS.callTimeoutMs))
  return {
    name,
    failureThreshold,
    successThreshold: integer(
      'successThreshold',
      or(o.successThreshold, DEFAULTS.successThreshold),
      {
        min: 1,
      },
    ),
    resetTimeoutMs,
    callTimeoutMs,
    halfOpenMaxCalls: integer(
      'halfOpenMaxCalls',
      or(o.halfOpenMaxCalls, DEFAULTS.halfOpenMaxCalls),
      { min: 1 },
    ),
    isFailure: optional(o.isFailure, (v) => func<(error: unknown) => boolean>('isFailure', v)),
    window,
    backoff: resolveBackoff(o.backoff, resetTimeoutMs),
    logger: o.logger === undefined ? DEFAULT_LOGGER : resolveLogger('logger', o.logger, NAME),
  }
}

/** Applies defaults and checks every `retry()` option. */
export function resolveRetryOptions(input: unknown): ResolvedRetryOptions {
  const o = optionsObject('retry', input, RETRY_KEYS)
  const d = DEFAULTS.retry
  const minDelayMs = milliseconds('minDelayMs', or(o.minDelayMs, d.minDelayMs), 0)
  const maxDelayMs = milliseconds(
    'maxDelayMs',
    or(o.maxDelayMs, Math.max(d.maxDelayMs, minDelayMs)),
    minDelayMs,
  )
  const { signal } = o
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidOptionError('signal', 'must be an AbortSignal', shown(signal))
  }
  return {
    retries: integer('retries', or(o.retries, d.retries), { min: 0 }),
    minDelayMs,
    maxDelayMs,
    factor: finiteNumber('factor', or(o.factor, d.factor), { min: 1 }),
    jitter: oneOf('jitter', or(o.jitter, d.jitter), ['full', 'none'] as const),
    retryOn: optional(o.retryOn, (v) =>
      func<(error: unknown, attempt: number) => boolean>('retryOn', v),
    ),
    signal,
  }
}

/** Guard options after checks: the status predicate and the `onOpen` answerer, if any. */
export interface ResolvedGuardOptions<TOnOpen> {
  isFailureStatus: (statusCode: number) => boolean
  onOpen: TOnOpen | undefined
}

/**
 * Checks the guard options of `breakerGuard()` (`owner`) or `breakerPlugin`. The plugin also
 * accepts the options Fastify itself hands every plugin from `register()` (`prefix`, …).
 */
export function resolveGuardOptions<TOnOpen>(
  owner: 'breakerGuard' | 'breakerPlugin',
  input: unknown,
): ResolvedGuardOptions<TOnOpen> {
  const known = owner === 'breakerPlugin' ? [...GUARD_KEYS, ...FASTIFY_REGISTER_KEYS] : GUARD_KEYS
  const o = optionsObject(owner, input, known)
  const given = optional(o.isFailureStatus, (v) =>
    func<(statusCode: number) => boolean>('isFailureStatus', v),
  )
  return {
    isFailureStatus: given ?? ((statusCode) => statusCode >= DEFAULTS.guard.failureStatusFrom),
    onOpen: optional(o.onOpen, (v) => func<never>('onOpen', v) as TOnOpen),
  }
}
