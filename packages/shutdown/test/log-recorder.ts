import type { Logger } from '@uptimekit/internal'

/** A logger that keeps `[level, msg, fields]` for assertions. */
export function recordLogs(): { logger: Logger; lines: [string, string, object][] } {
  const lines: [string, string, object][] = []
  const at = (level: string) => (obj: object, msg: string) => void lines.push([level, msg, obj])
  return { logger: { info: at('info'), warn: at('warn'), error: at('error') }, lines }
}
