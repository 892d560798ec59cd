// A pino-shaped logger ({ info, warn, error }, each `(fields, message)`) for
// the example: one line per entry on stdout, readable text for a terminal or
// JSON lines (LOG_FORMAT=json) for a log collector.

/** A pino-shaped logger, plus `child(name)`. */
export interface ExampleLogger {
  info(fields: object | string, message?: string): void
  warn(fields: object | string, message?: string): void
  error(fields: object | string, message?: string): void
  child(name: string): ExampleLogger
}

function serializable(fields: object): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(fields) as [string, unknown][]) {
    out[key] = value instanceof Error ? { name: value.name, message: value.message } : value
  }
  return out
}

/** A logger writing one line per entry: text for a terminal, or JSON lines. */
export function createLogger({
  name,
  format = 'text',
  write = (line) => process.stdout.write(line),
}: {
  name: string
  format?: 'text' | 'json'
  write?: (line: string) => void
}): ExampleLogger {
  const entry =
    (level: 'info' | 'warn' | 'error') =>
    (fieldsOrMessage: object | string, text?: string): void => {
      // Accept pino's `(message)` form as well as `(fields, message)`.
      const [fields, message] =
        typeof fieldsOrMessage === 'string' ? [{}, fieldsOrMessage] : [fieldsOrMessage, text]
      const data = serializable(fields)
      if (format === 'json') {
        write(
          `${JSON.stringify({ time: new Date().toISOString(), level, name, msg: message, ...data })}\n`,
        )
        return
      }
      const time = new Date().toISOString().slice(11, 23)
      const extra = Object.keys(data).length === 0 ? '' : ` ${JSON.stringify(data)}`
      write(`${time} ${level.toUpperCase().padEnd(5)} [${name}] ${message ?? ''}${extra}\n`)
    }
  return {
    info: entry('info'),
    warn: entry('warn'),
    error: entry('error'),
    child: (childName) => createLogger({ name: `${name}:${childName}`, format, write }),
  }
}
