import type { ResolvedCookie } from './options.js'

/** The cookie part of a stored session, in the shape express-session writes. */
export interface StoredCookie {
  originalMaxAge?: number | null
  partitioned?: boolean
  priority?: string
  expires?: string | Date | null
  secure?: boolean | 'auto'
  httpOnly?: boolean
  domain?: string
  path?: string
  sameSite?: boolean | string
}

/** A session as stored in Redis: express-session's JSON, `cookie` first, then your data. */
export interface StoredSession {
  cookie: StoredCookie
  [key: string]: unknown
}

/** A stored value read back: the session (repaired when needed) or why there is none. */
export type ReadSession =
  | { readonly session: StoredSession; readonly repaired: string | undefined }
  | { readonly session: null; readonly problem: string }

/**
 * Data keys a session never takes from Redis: `__proto__` and friends would replace the session
 * object's prototype, and the rest are the two frameworks' session methods and fields
 * (@fastify/session copies stored keys over its own `get`/`set`/`save`, so a stored `get` would
 * break every request of that session).
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
  'cookie',
  'get',
  'set',
  'save',
  'touch',
  'regenerate',
  'reload',
  'destroy',
  'options',
  'isModified',
  'isSaved',
  'sessionId',
  'encryptedSessionId',
  'id',
  'req',
  'resetMaxAge',
])

// What a cookie library accepts in Path and Domain: printable ASCII without `;`.
const ATTRIBUTE = /^[\u0021-\u003A\u003D-\u007E]+$/
const SAME_SITE = new Set(['lax', 'strict', 'none'])
const PRIORITY = new Set(['low', 'medium', 'high'])
// Node's timers and Date both stop making sense past this many milliseconds.
const MAX_AGE_MS = 8.64e15

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value)

/**
 * The cookie fields a framework may trust, in express-session's order: each stored field is kept
 * only when a cookie library would accept it, and `attributes` (the configured cookie) replaces
 * the stored attributes when given.
 */
export function cleanCookie(source: unknown, attributes?: ResolvedCookie): StoredCookie {
  const stored = isPlainObject(source) ? source : {}
  const out: StoredCookie = {}
  const { originalMaxAge, expires } = stored
  if (
    originalMaxAge === null ||
    (typeof originalMaxAge === 'number' && originalMaxAge >= 0 && originalMaxAge <= MAX_AGE_MS)
  ) {
    out.originalMaxAge = originalMaxAge
  } else if (attributes !== undefined) {
    out.originalMaxAge = attributes.maxAge
  }
  if (typeof stored.partitioned === 'boolean') out.partitioned = stored.partitioned
  if (typeof stored.priority === 'string' && PRIORITY.has(stored.priority.toLowerCase())) {
    out.priority = stored.priority
  }
  if (expires === null) out.expires = null
  else if (expires instanceof Date && !Number.isNaN(expires.getTime())) out.expires = expires
  else if (typeof expires === 'string' && !Number.isNaN(Date.parse(expires))) out.expires = expires
  if (attributes !== undefined) {
    out.secure = attributes.secure
    out.httpOnly = attributes.httpOnly
    if (attributes.domain !== undefined) out.domain = attributes.domain
    out.path = attributes.path
    out.sameSite = attributes.sameSite
    return out
  }
  const { secure, httpOnly, domain, path, sameSite } = stored
  if (typeof secure === 'boolean' || secure === 'auto') out.secure = secure
  if (typeof httpOnly === 'boolean') out.httpOnly = httpOnly
  if (typeof domain === 'string' && ATTRIBUTE.test(domain)) out.domain = domain
  if (typeof path === 'string' && path.startsWith('/') && ATTRIBUTE.test(path)) out.path = path
  if (typeof sameSite === 'boolean') out.sameSite = sameSite
  else if (typeof sameSite === 'string' && SAME_SITE.has(sameSite.toLowerCase())) {
    out.sameSite = sameSite
  }
  return out
}

/**
 * Reads a stored value as a session. A corrupt value is data, never an exception: a value that
 * is not a JSON object gives no session; a bad cookie is rebuilt from what is valid in it, and
 * reserved keys ({@link RESERVED_KEYS}) are left out.
 */
export function readStoredSession(raw: string, attributes?: ResolvedCookie): ReadSession {
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    return { session: null, problem: 'the stored value is not JSON' }
  }
  if (!isPlainObject(parsed)) return { session: null, problem: 'the stored value is not an object' }
  const repairs: string[] = []
  const valid = cleanCookie(parsed.cookie)
  if (!isPlainObject(parsed.cookie)) repairs.push('cookie is not an object')
  else if (Object.keys(valid).length !== Object.keys(parsed.cookie).length) {
    repairs.push('cookie has invalid fields')
  }
  const cookie = attributes === undefined ? valid : cleanCookie(parsed.cookie, attributes)
  const session: StoredSession = { cookie }
  for (const key of Object.keys(parsed)) {
    if (key === 'cookie') continue
    if (RESERVED_KEYS.has(key)) {
      repairs.push(`reserved key ${JSON.stringify(key)} left out`)
      continue
    }
    session[key] = parsed[key]
  }
  return { session, repaired: repairs.length === 0 ? undefined : repairs.join('; ') }
}
