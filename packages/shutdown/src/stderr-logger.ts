import type { ShutdownLogger } from './options.js'

const line = (level: string, obj: object, msg: string): void => {
  // Synchronous on pipes and files, so the last lines survive the process.exit() that follows them.
  process.stderr.write(`${JSON.stringify({ level, time: Date.now(), ...obj, msg })}\n`)
}

/**
 * The default logger: one JSON line per event on stderr (pino's field names `level`, `time`,
 * `msg`), since a shutdown nobody can see in the pod's logs cannot be debugged.
 */
export const stderrLogger: ShutdownLogger = {
  info: (obj, msg) => line('info', obj, msg),
  warn: (obj, msg) => line('warn', obj, msg),
  error: (obj, msg) => line('error', obj, msg),
}
