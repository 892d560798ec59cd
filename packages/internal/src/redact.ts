const MASK = '***'

// `scheme://user:password@host`: the password may hold `/`, `#` or `@`, so it runs to the last
// `@` of the token; masking a little too much beats leaking the rest of a password.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/?#@]*):(\S*)@(?=\S)/gi
// `scheme://token@host`, the credential alone.
const URL_USER_TOKEN = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/?#@]+)@/gi
const AUTH_SCHEME = /\b(bearer|basic|digest)(\s+)(?!\*\*\*)[^\s"',;}\]]+/gi
// A secret-named field of any spelling (`DB_PASSWORD=`, `client_secret:`, `"token": "..."`,
// `access_token=` in a query string) and its value, quoted or bare.
const SECRET_NAME =
  '[a-z0-9_.-]*(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?|authorization|cookie)[a-z0-9_.-]*'
const SECRET_FIELD = new RegExp(
  `(${SECRET_NAME})(["']?\\s*[:=]\\s*)(?!(?:YES|NO|bearer|basic|digest)\\b)("(?:[^"\\\\]|\\\\.)*"|'[^']*'|[^\\s"',;&}\\]]+)`,
  'gi',
)
const SECRET_KEY = new RegExp(`^${SECRET_NAME}$`, 'i')

/**
 * Removes credentials from text that may reach a probe body or a log line: the password or token
 * in `scheme://user:password@host` (any scheme), the value after `Bearer`/`Basic`, and the value
 * of any secret-named field (`password=`, `DB_PASSWORD=`, `access_token=`, `"client_secret": …`).
 */
export function redact(value: string): string {
  return value
    .replace(URL_PASSWORD, (_m, scheme: string, user: string) => `${scheme}${user}:${MASK}@`)
    .replace(URL_USER_TOKEN, (_m, scheme: string) => `${scheme}${MASK}@`)
    .replace(AUTH_SCHEME, (_m, scheme: string, space: string) => `${scheme}${space}${MASK}`)
    .replace(SECRET_FIELD, (_m, field: string, separator: string, secretValue: string) => {
      const quote = secretValue.startsWith('"') || secretValue.startsWith("'") ? secretValue[0] : ''
      return `${field}${separator}${quote}${MASK}${quote}`
    })
}

/** Whether an object key names a secret (`password`, `apiKey`, `DB_TOKEN` …), whatever its value. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key)
}

// A message longer than this is cut: one odd driver error must not bloat every probe answer.
const MAX_TEXT = 1000

function messageOf(err: unknown): string {
  if (err === null || err === undefined) return `rejected with ${String(err)}`
  if (typeof err === 'string') return err === '' ? 'rejected with an empty string' : err
  if (err instanceof AggregateError && err.message === '') {
    return err.errors.map(messageOf).join('; ')
  }
  if (err instanceof Error) {
    const { message } = err
    const code = (err as { code?: unknown }).code
    if (typeof message === 'string' && message !== '') return message
    return typeof code === 'string' ? code : err.name
  }
  if (typeof err === 'object' || typeof err === 'function') {
    return (
      JSON.stringify(err, (_key, inner: unknown) =>
        typeof inner === 'bigint' ? `${inner}n` : inner,
      ) ?? Object.prototype.toString.call(err)
    )
  }
  return typeof err === 'symbol' ? err.toString() : `${err as number | boolean | bigint}`
}

/** One description of anything thrown, which never throws itself (getters, proxies, symbols). */
function safeMessageOf(err: unknown): string {
  try {
    return messageOf(err)
  } catch {
    return 'failed with a value that cannot be described'
  }
}

function causeOf(err: unknown): unknown {
  try {
    return err instanceof Error ? err.cause : undefined
  } catch {
    return undefined
  }
}

/**
 * One line describing why something failed, credentials removed, whatever was thrown (`null`, a
 * BigInt, a revoked Proxy, an Error whose `message` getter throws). Follows `cause` a few levels
 * because fetch and many drivers hide the useful part there
 * (`fetch failed: connect ECONNREFUSED 127.0.0.1:5432`).
 */
export function errorText(err: unknown): string {
  const parts: string[] = []
  let current: unknown = err
  for (let depth = 0; depth < 4; depth++) {
    const part = safeMessageOf(current)
    // Wrappers often repeat their cause's message already.
    if (!parts.some((seen) => seen.includes(part))) parts.push(part)
    current = causeOf(current)
    if (current === undefined || current === null) break
  }
  const joined = redact(parts.join(': '))
  // An Error with neither a message nor a name describes as '': say so rather than log a blank.
  if (!/\S/.test(joined)) return 'failed with an error that has no message'
  return joined.length > MAX_TEXT ? `${joined.slice(0, MAX_TEXT)}…` : joined
}

/**
 * A JSON-safe deep copy of details to show (a check's, a log line's): every string redacted,
 * every secret-named key masked whatever its value, BigInts as strings; a value that cannot be
 * copied (a cycle, a throwing getter, a revoked Proxy) becomes a short note instead.
 */
export function safeDetails(details: unknown): unknown {
  let json: string | undefined
  try {
    json = JSON.stringify(details, (key, value: unknown) => {
      if (key !== '' && isSecretKey(key)) return MASK
      return typeof value === 'bigint' ? value.toString() : value
    })
  } catch {
    return '[details not serializable]'
  }
  if (json === undefined) return undefined
  return JSON.parse(json, (_key, value: unknown) =>
    typeof value === 'string' ? redact(value) : value,
  ) as unknown
}
