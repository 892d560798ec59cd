const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@]+)@/gi
const AUTH_SCHEME = /\b(bearer|basic|digest|token)(\s+)[^\s"',;}\]]+/gi
const SECRET_FIELD =
  /\b(authorization|password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)(["']?\s*[:=]\s*["']?)(?!(?:YES|NO|bearer|basic|digest|token)\b)[^\s"',;&}\]]+/gi

const MASK = '***'

/**
 * Removes credentials from text that may reach a probe body or a log line:
 * the password (or token) in `scheme://user:password@host`, the value after
 * `Bearer`/`Basic`, and the value of `password=`, `token:` and similar fields.
 */
export function redact(text: string): string {
  return text
    .replace(URL_USERINFO, (_match, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':')
      return colon === -1 ? `${scheme}${MASK}@` : `${scheme}${userinfo.slice(0, colon)}:${MASK}@`
    })
    .replace(AUTH_SCHEME, (_match, scheme: string, space: string) => `${scheme}${space}${MASK}`)
    .replace(
      SECRET_FIELD,
      (_match, field: string, separator: string) => `${field}${separator}${MASK}`,
    )
}

function messageOf(err: unknown): string {
  if (err instanceof AggregateError && err.message === '') {
    return err.errors.map(messageOf).join('; ')
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code
    return err.message !== '' ? err.message : typeof code === 'string' ? code : err.name
  }
  if (typeof err === 'string') return err
  try {
    return JSON.stringify(err) ?? String(err)
  } catch {
    return String(err)
  }
}

/**
 * One line describing why a check failed, credentials removed. Follows
 * `cause` a few levels because fetch and many drivers hide the useful part
 * there (`fetch failed: connect ECONNREFUSED 127.0.0.1:5432`).
 */
export function errorText(err: unknown): string {
  const parts: string[] = []
  let current: unknown = err
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const text = messageOf(current)
    // Wrappers often repeat their cause's message already.
    if (!parts.some((part) => part.includes(text))) parts.push(text)
    current = current instanceof Error ? current.cause : undefined
  }
  return redact(parts.join(': '))
}

/** Deep copy of check details that is JSON-safe and has every string redacted. */
export function safeDetails(details: unknown): unknown {
  let json: string | undefined
  try {
    json = JSON.stringify(details)
  } catch {
    return '[details not serializable]'
  }
  if (json === undefined) return undefined
  return JSON.parse(json, (_key, value: unknown) =>
    typeof value === 'string' ? redact(value) : value,
  ) as unknown
}
