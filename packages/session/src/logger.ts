/** The pino-shaped logger this package writes to: pino, bunyan-like objects and `console` fit. */
export interface Logger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

/**
 * The logger used when none is given: one JSON line on stderr for `warn` and `error`, nothing for
 * `info`. Outages are rare and worth seeing by default; recoveries only with a real logger.
 */
export function stderrLogger(name: string): Logger {
  const write = (level: string, obj: object, msg?: string): void => {
    process.stderr.write(`${JSON.stringify({ level, time: Date.now(), name, msg, ...obj })}\n`)
  }
  return {
    info: () => undefined,
    warn: (obj, msg) => write('warn', obj, msg),
    error: (obj, msg) => write('error', obj, msg),
  }
}

/** Whether `value` has the three methods we call, so a bad `logger` fails at startup. */
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
