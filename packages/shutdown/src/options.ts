import {
  type Logger,
  type LoggerOption,
  InvalidOptionError,
  bool,
  milliseconds,
  optionsObject,
  resolveLogger,
  shown,
  withMethods,
} from '@uptimekit/internal'

/** The name the default logger writes under. */
export const PACKAGE_NAME = '@uptimekit/shutdown'

/** Anything whose readiness can be flipped off, such as `@uptimekit/health`'s `health`. */
export interface Readiness {
  /** Makes the readiness probe fail from now on; called once, first thing on shutdown. */
  markNotReady(reason: string): void
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
   * New connections are accepted and answered normally; responses ask clients to reconnect
   * (`Connection: close`) except in the last fifth of it (at most 1 s), the quiet window. If
   * connections still arrive at its end, the listener stays open until none has arrived for a
   * quiet window, for at most another `drainDelayMs`. `0` closes the listener at once.
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
   * Process signals that start the shutdown of every server in the process that listens to
   * them. A second one exits at once with code 128 + the signal number. `[]` listens to none:
   * only `shutdown()` starts it.
   * @default ['SIGTERM', 'SIGINT']
   */
  signals?: readonly NodeJS.Signals[]
  /**
   * Where the shutdown logs its steps: a pino-shaped logger, or `false` for silence.
   * @default one JSON line per event on stderr (Fastify: `app.log` when the app has a logger)
   */
  logger?: LoggerOption
  /**
   * Whether to call `process.exit()` when done: once, after the last server of the process
   * that is shutting down, with the worst exit code (0 drained, 1 timed out, 128 + n on a
   * second signal). `false` leaves the process running: `shutdown()` resolves with the outcome.
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

/** Every default, in one place (deep-frozen); the README options table mirrors it. */
export const DEFAULTS: {
  readonly drainDelayMs: 5000
  readonly timeoutMs: 20000
  readonly hookTimeoutMs: 5000
  readonly signals: readonly NodeJS.Signals[]
  readonly exit: true
} = Object.freeze({
  drainDelayMs: 5000,
  timeoutMs: 20000,
  hookTimeoutMs: 5000,
  signals: Object.freeze(['SIGTERM', 'SIGINT'] as NodeJS.Signals[]),
  exit: true,
})

/** {@link ShutdownOptions} with every default filled in and every value checked. */
export interface ResolvedShutdownOptions {
  readiness: Readiness | undefined
  drainDelayMs: number
  timeoutMs: number
  hookTimeoutMs: number
  signals: readonly NodeJS.Signals[]
  logger: Logger
  exit: boolean
}

const KNOWN_KEYS: readonly (keyof ShutdownOptions)[] = [
  'readiness',
  'drainDelayMs',
  'timeoutMs',
  'hookTimeoutMs',
  'signals',
  'logger',
  'exit',
]

const HOOK_KEYS: readonly (keyof CloseHookOptions)[] = ['timeoutMs']

function signalList(value: unknown): readonly NodeJS.Signals[] {
  if (
    !Array.isArray(value) ||
    !value.every((s) => typeof s === 'string' && /^SIG[A-Z0-9]+$/.test(s))
  ) {
    throw new InvalidOptionError(
      'signals',
      'must be an array of signal names like "SIGTERM"',
      shown(value),
    )
  }
  return Object.freeze([...new Set(value as NodeJS.Signals[])])
}

/**
 * Fills in defaults and throws an `InvalidOptionError` for the first bad or unknown option.
 * `logger`, when given, replaces the `logger` option's resolution (the Fastify plugin's
 * `app.log`).
 */
export function resolveOptions(options: unknown, logger?: Logger): ResolvedShutdownOptions {
  const given = optionsObject('createShutdown', options, KNOWN_KEYS)
  const drainDelayMs =
    given.drainDelayMs === undefined
      ? DEFAULTS.drainDelayMs
      : milliseconds('drainDelayMs', given.drainDelayMs, 0)
  const timeoutMs =
    given.timeoutMs === undefined ? DEFAULTS.timeoutMs : milliseconds('timeoutMs', given.timeoutMs)
  if (timeoutMs <= drainDelayMs) {
    throw new InvalidOptionError(
      'timeoutMs',
      `must be greater than \`drainDelayMs\` (${drainDelayMs}), which it includes`,
      shown(timeoutMs),
    )
  }
  return {
    readiness:
      given.readiness === undefined
        ? undefined
        : withMethods<Readiness>(
            'readiness',
            given.readiness,
            ['markNotReady'],
            'must have a `markNotReady(reason)` method',
          ),
    drainDelayMs,
    timeoutMs,
    hookTimeoutMs:
      given.hookTimeoutMs === undefined
        ? DEFAULTS.hookTimeoutMs
        : milliseconds('hookTimeoutMs', given.hookTimeoutMs),
    signals: given.signals === undefined ? DEFAULTS.signals : signalList(given.signals),
    logger: logger ?? resolveLogger('logger', given.logger, PACKAGE_NAME),
    exit: given.exit === undefined ? DEFAULTS.exit : bool('exit', given.exit),
  }
}

/** Checks the options of one `onClose()` call; returns the hook's timeout. */
export function resolveHookTimeout(options: unknown, fallback: number): number {
  const given = optionsObject('onClose', options, HOOK_KEYS)
  return given.timeoutMs === undefined ? fallback : milliseconds('timeoutMs', given.timeoutMs)
}
