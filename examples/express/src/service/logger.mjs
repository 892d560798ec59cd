// A pino-shaped logger ({ info, warn, error }, each `(fields, message)`) for
// the example: one line per entry on stdout, readable text for a terminal or
// JSON lines (LOG_FORMAT=json) for a log collector.

const LEVELS = ['info', 'warn', 'error']

function serializable(fields) {
  const out = {}
  for (const [key, value] of Object.entries(fields ?? {})) {
    out[key] = value instanceof Error ? { name: value.name, message: value.message } : value
  }
  return out
}

/**
 * @param {{ name: string, format?: 'text' | 'json', write?: (line: string) => void }} options
 */
export function createLogger({
  name,
  format = 'text',
  write = (line) => process.stdout.write(line),
}) {
  const logger = {}
  for (const level of LEVELS) {
    logger[level] = (fields, message) => {
      // Accept pino's `(message)` form as well as `(fields, message)`.
      if (typeof fields === 'string') [fields, message] = [{}, fields]
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
  }
  logger.child = (childName) => createLogger({ name: `${name}:${childName}`, format, write })
  return logger
}
