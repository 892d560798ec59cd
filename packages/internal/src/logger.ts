import { InvalidOptionError } from './errors.js'
import { safeDetails } from './redact.js'
import { shown } from './shown.js'

/**
 * The logger every uptimekit package writes to: pino's shape (details first, then the message),
 * so pino, Fastify's `app.log` and bunyan-like loggers fit as they are. Packages log state changes
 * only (an outage, a recovery, a shutdown step), never once per request.
 */
export interface Logger {
  /** A state change worth a line: a recovery, a shutdown step. */
  info(details: object, message: string): void
  /** Something is wrong but handled: a dependency down, a series cap reached. */
  warn(details: object, message: string): void
  /** Something that should not happen: a close hook that threw, a bug in a checker. */
  error(details: object, message: string): void
}

/** What a `logger` option takes: a pino-shaped logger, or `false` for silence. */
export type LoggerOption = Logger | false

const noop = (): void => {}

/** A logger that drops everything (`logger: false`). */
export const silentLogger: Logger = Object.freeze({ info: noop, warn: noop, error: noop })

/**
 * The logger used when none is given: every line as one JSON object on stderr, pino's field
 * names (`level`, `time`, `name`, `msg`), details redacted. stderr writes are synchronous on
 * files and pipes, so the last lines before a `process.exit()` survive.
 */
export function stderrLogger(name: string): Logger {
  const line = (level: string, details: object, message: string): void => {
    const safe = safeDetails(details)
    const fields = typeof safe === 'object' && safe !== null ? safe : {}
    process.stderr.write(
      `${JSON.stringify({ level, time: Date.now(), name, ...fields, msg: message })}\n`,
    )
  }
  return Object.freeze({
    info: (details: object, message: string) => line('info', details, message),
    warn: (details: object, message: string) => line('warn', details, message),
    error: (details: object, message: string) => line('error', details, message),
  })
}

/** Whether `value` has the three methods we call. */
export function isLogger(value: unknown): value is Logger {
  const candidate = value as Partial<Record<keyof Logger, unknown>> | null
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.info === 'function' &&
    typeof candidate.warn === 'function' &&
    typeof candidate.error === 'function'
  )
}

/**
 * Checks a `logger` option and applies the one default policy: not given, JSON lines on stderr
 * named after the package; `false`, silence; otherwise the user's pino-shaped logger.
 */
export function resolveLogger(option: string, value: unknown, name: string): Logger {
  if (value === undefined) return stderrLogger(name)
  if (value === false) return silentLogger
  if (!isLogger(value)) {
    throw new InvalidOptionError(
      option,
      'must be false or have info, warn and error methods (pino-shaped)',
      shown(value),
    )
  }
  return value
}
