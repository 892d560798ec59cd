import { InvalidOptionError } from './errors.js'
import { stderrLogger } from './stderr-logger.js'

/** Anything whose readiness can be flipped off, such as `@uptimekit/health`'s `health`. */
export interface Readiness {
  /** Makes the readiness probe fail from now on; called once, first thing on shutdown. */
  markNotReady(reason: string): void
}

/** The pino-shaped logger the shutdown writes to: a merge object, then a message. */
export interface ShutdownLogger {
  /** Progress: the signal, the listener closing, each hook finishing. */
  info(obj: object, msg: string): void
  /** Something was cut short: the timeout hit, a second signal arrived. */
  warn(obj: object, msg: string): void
  /** A close hook threw or timed out, or readiness could not be flipped. */
  error(obj: object, msg: string): void
}

/** Options of `createShutdown()` and `shutdownPlugin`. */
export interface ShutdownOptions {
  /**
   * Flipped with `markNotReady(reason)` the moment shutdown starts, so the readiness probe
   * answers 503 while requests are still served. Omit it if nothing probes readiness.
   */
  readiness?: Readiness
  /**
   * How long to keep serving after the signal, in milliseconds, before the listener closes:
   * the time load balancers and kube-proxy need to stop sending new connections here.
   * New connections are accepted and answered normally, each response with `Connection: close`.
   * `0` closes the listener at once.
   * @default 5000
   */
  drainDelayMs?: number
  /**
   * Deadline from the signal to the forced close, in milliseconds, drain delay included.
   * Past it, every connection still open is destroyed, the close hooks run anyway and the
   * exit code is 1. Must be greater than `drainDelayMs`.
   * @default 20000
   */
  timeoutMs?: number
  /**
   * Longest one close hook may run, in milliseconds, unless it was registered with its own
   * `timeoutMs`. A hook past it is logged as timed out, its AbortSignal fires, the next one starts.
   * @default 5000
   */
  hookTimeoutMs?: number
  /**
   * Process signals that start the shutdown. A second one of any of them exits at once
   * with code 128 + the signal number. `[]` listens to none: only `shutdown()` starts it.
   * @default ['SIGTERM', 'SIGINT']
   */
  signals?: readonly NodeJS.Signals[]
  /**
   * Where the shutdown logs what it does.
   * @default a logger writing one JSON line per event to stderr
   */
  logger?: ShutdownLogger
  /**
   * Whether to call `process.exit()` when done (0 drained, 1 timed out, 128 + n on a second
   * signal). `false` leaves the process running: `shutdown()` then resolves with the outcome.
   * @default true
   */
  exit?: boolean
}

/** Per-hook options of `shutdown.onClose()`. */
export interface CloseHookOptions {
  /**
   * Longest this hook may run, in milliseconds.
   * @default the shutdown's `hookTimeoutMs`
   */
  timeoutMs?: number
}

/** Every default, in one place; the README options table mirrors it. */
export const DEFAULTS: {
  readonly drainDelayMs: 5000
  readonly timeoutMs: 20000
  readonly hookTimeoutMs: 5000
  readonly signals: readonly NodeJS.Signals[]
  readonly exit: true
} = {
  drainDelayMs: 5000,
  timeoutMs: 20000,
  hookTimeoutMs: 5000,
  signals: ['SIGTERM', 'SIGINT'],
  exit: true,
}

/** {@link ShutdownOptions} with every default filled in and every value checked. */
export interface ResolvedShutdownOptions {
  readiness: Readiness | undefined
  drainDelayMs: number
  timeoutMs: number
  hookTimeoutMs: number
  signals: readonly NodeJS.Signals[]
  logger: ShutdownLogger
  exit: boolean
}

const show = (value: unknown): string => {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return 'an array'
  if (value === null) return 'null'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'symbol') return value.toString()
  return `${value as number | boolean | bigint | undefined}`
}

/** Checks that `value` is a whole number of milliseconds `>= min`, or undefined (-> `fallback`). */
export function checkMs(option: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    const rule = min === 0 ? 'a non-negative integer' : 'a positive integer'
    throw new InvalidOptionError(option, `must be ${rule} of milliseconds`, show(value))
  }
  return value
}

const isLogger = (value: unknown): value is ShutdownLogger => {
  const logger = value as Partial<Record<keyof ShutdownLogger, unknown>> | null
  return (
    typeof logger === 'object' &&
    logger !== null &&
    typeof logger.info === 'function' &&
    typeof logger.warn === 'function' &&
    typeof logger.error === 'function'
  )
}

/** Fills in defaults and throws an {@link InvalidOptionError} for the first bad option. */
export function resolveOptions(options: ShutdownOptions | undefined): ResolvedShutdownOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new InvalidOptionError('options', 'must be an object', show(options))
  }
  const given: ShutdownOptions = options ?? {}
  const drainDelayMs = checkMs('drainDelayMs', given.drainDelayMs, DEFAULTS.drainDelayMs, 0)
  const timeoutMs = checkMs('timeoutMs', given.timeoutMs, DEFAULTS.timeoutMs, 1)
  if (timeoutMs <= drainDelayMs) {
    throw new InvalidOptionError(
      'timeoutMs',
      `must be greater than \`drainDelayMs\` (${drainDelayMs}), which it includes`,
      show(timeoutMs),
    )
  }
  const hookTimeoutMs = checkMs('hookTimeoutMs', given.hookTimeoutMs, DEFAULTS.hookTimeoutMs, 1)
  const signals: unknown = given.signals ?? DEFAULTS.signals
  if (
    !Array.isArray(signals) ||
    !signals.every((s) => typeof s === 'string' && /^SIG[A-Z0-9]+$/.test(s))
  ) {
    throw new InvalidOptionError(
      'signals',
      'must be an array of signal names like "SIGTERM"',
      show(signals),
    )
  }
  const readiness = given.readiness
  if (
    readiness !== undefined &&
    typeof (readiness as Partial<Readiness> | null)?.markNotReady !== 'function'
  ) {
    throw new InvalidOptionError(
      'readiness',
      'must have a `markNotReady(reason)` method',
      show(readiness),
    )
  }
  if (given.logger !== undefined && !isLogger(given.logger)) {
    throw new InvalidOptionError(
      'logger',
      'must have `info`, `warn` and `error` methods',
      show(given.logger),
    )
  }
  if (given.exit !== undefined && typeof given.exit !== 'boolean') {
    throw new InvalidOptionError('exit', 'must be a boolean', show(given.exit))
  }
  return {
    readiness,
    drainDelayMs,
    timeoutMs,
    hookTimeoutMs,
    signals: [...(signals as NodeJS.Signals[])],
    logger: given.logger ?? stderrLogger,
    exit: given.exit ?? DEFAULTS.exit,
  }
}
