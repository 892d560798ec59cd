import { describeShape, InvalidOptionError } from './errors.js'
import { isLogger, stderrLogger, type Logger } from './logger.js'
import type { SessionRedisClient } from './session-redis-client.js'

/** Cookie attributes users may set; `maxAge`/`expires` come from `ttlSeconds`. */
export interface SessionCookieOptions {
  /**
   * Path the cookie is sent for; requests outside it never load a session.
   * @default '/'
   */
  path?: string
  /** Domain attribute; unset means the exact host that set it. */
  domain?: string
  /**
   * SameSite attribute. `'none'` requires `secure: true`.
   * @default 'lax'
   */
  sameSite?: 'lax' | 'strict' | 'none'
  /**
   * Send the cookie over HTTPS only. Behind a TLS-terminating proxy, trust the proxy
   * (`app.set('trust proxy', 1)`, Fastify `trustProxy: true`) or no cookie is set on plain HTTP.
   * @default true when `NODE_ENV` is `production`, else false
   */
  secure?: boolean
  /**
   * Hide the cookie from page scripts.
   * @default true
   */
  httpOnly?: boolean
}

/** Options shared by `redisSession` (Express) and `redisSessionPlugin` (Fastify). */
export interface RedisSessionOptions {
  /**
   * The ioredis client sessions live in: `createRedisClient()` or your own (standalone or
   * Sentinel). It is never closed by this package.
   */
  redis: SessionRedisClient
  /**
   * Signing secret, at least 32 characters. An array rotates secrets: the first signs, all verify,
   * and a cookie signed by an older one is re-signed with the first on its next response.
   */
  secret: string | readonly string[]
  /**
   * Session lifetime in seconds: the Redis key's TTL and the cookie's max-age.
   * @default 86400 (one day)
   */
  ttlSeconds?: number
  /**
   * Redis key prefix; keys are `<prefix><session id>`. The default matches connect-redis, so
   * sessions written by express-session + connect-redis keep working.
   * @default 'sess:'
   */
  prefix?: string
  /**
   * Cookie name. The default matches express-session, so existing cookies keep working.
   * @default 'connect.sid'
   */
  name?: string
  /** Cookie attributes; see {@link SessionCookieOptions}. */
  cookie?: SessionCookieOptions
  /**
   * Re-send the cookie on every response that has a session, so its expiry slides with activity.
   * @default false
   */
  rolling?: boolean
  /**
   * An unmodified session's TTL is refreshed (PEXPIRE, never a full SET) when that would extend it
   * by at least this many seconds, so at most once per interval. 0 refreshes on every read. Must
   * be less than `ttlSeconds`.
   * @default 60, or half of `ttlSeconds` when that is shorter
   */
  touchIntervalSeconds?: number
  /**
   * Hard cap on a session's life in seconds since it was created (login), however active it is.
   * Unset means no cap.
   * @default undefined
   */
  absoluteTtlSeconds?: number
  /**
   * Longest a request waits for Redis before it is answered 503, in milliseconds. While Redis is
   * known to be down, requests are answered at once and one probe at a time checks for recovery.
   * @default 1000
   */
  unavailableTimeoutMs?: number
  /**
   * `Retry-After` value, in seconds, on the 503 sent while Redis is unavailable.
   * @default 1
   */
  retryAfterSeconds?: number
  /**
   * Where the store logs outages (once when Redis becomes unavailable, once when it is back).
   * @default a logger writing warn/error JSON lines to stderr
   */
  logger?: Logger
}

/** Cookie attributes after defaults, as both frameworks receive them. */
export interface ResolvedCookie {
  readonly path: string
  readonly domain: string | undefined
  readonly sameSite: 'lax' | 'strict' | 'none'
  readonly secure: boolean
  readonly httpOnly: boolean
  /** From `ttlSeconds`, in milliseconds. */
  readonly maxAge: number
}

/** Every option checked and defaulted. */
export interface ResolvedSessionOptions {
  readonly redis: SessionRedisClient
  readonly secrets: readonly string[]
  readonly ttlSeconds: number
  readonly prefix: string
  readonly name: string
  readonly cookie: ResolvedCookie
  readonly rolling: boolean
  readonly touchIntervalSeconds: number
  readonly absoluteTtlSeconds: number | undefined
  readonly unavailableTimeoutMs: number
  readonly retryAfterSeconds: number
  readonly logger: Logger
}

/** Defaults for every optional option; the README options table mirrors this object. */
export const DEFAULTS: {
  readonly ttlSeconds: 86400
  readonly prefix: 'sess:'
  readonly name: 'connect.sid'
  readonly rolling: false
  readonly touchIntervalSeconds: 60
  readonly unavailableTimeoutMs: 1000
  readonly retryAfterSeconds: 1
  readonly cookie: { readonly path: '/'; readonly sameSite: 'lax'; readonly httpOnly: true }
} = {
  ttlSeconds: 86400,
  prefix: 'sess:',
  name: 'connect.sid',
  rolling: false,
  touchIntervalSeconds: 60,
  unavailableTimeoutMs: 1000,
  retryAfterSeconds: 1,
  cookie: { path: '/', sameSite: 'lax', httpOnly: true },
}

/** The shortest secret we accept: 32 characters, as @fastify/session requires. */
export const MIN_SECRET_LENGTH = 32

// RFC 6265 cookie-name token characters.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const OPTION_NAMES = new Set([
  'redis',
  'secret',
  'ttlSeconds',
  'prefix',
  'name',
  'cookie',
  'rolling',
  'touchIntervalSeconds',
  'absoluteTtlSeconds',
  'unavailableTimeoutMs',
  'retryAfterSeconds',
  'logger',
])
const COOKIE_OPTION_NAMES = new Set(['path', 'domain', 'sameSite', 'secure', 'httpOnly'])

function gotValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidOptionError(name, 'must be a positive integer', gotValue(value))
  }
  return value
}

function boolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean')
    throw new InvalidOptionError(name, 'must be a boolean', gotValue(value))
  return value
}

function resolveSecrets(value: unknown): string[] {
  const rule = `must be a string of at least ${MIN_SECRET_LENGTH} characters or a non-empty array of them`
  if (typeof value === 'string') {
    if (value.length < MIN_SECRET_LENGTH) {
      throw new InvalidOptionError(
        'secret',
        `must be at least ${MIN_SECRET_LENGTH} characters`,
        describeShape(value),
      )
    }
    return [value]
  }
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidOptionError(
      'secret',
      rule,
      value === undefined ? 'undefined' : describeShape(value),
    )
  }
  return value.map((secret: unknown, index) => {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
      throw new InvalidOptionError(
        `secret[${index}]`,
        `must be a string of at least ${MIN_SECRET_LENGTH} characters`,
        describeShape(secret),
      )
    }
    return secret
  })
}

function isRedisClient(value: unknown): value is SessionRedisClient {
  const client = value as Record<string, unknown> | null
  return (
    typeof client === 'object' &&
    client !== null &&
    typeof client.status === 'string' &&
    ['get', 'set', 'del', 'pttl', 'pexpire', 'once', 'removeListener', 'duplicate'].every(
      (method) => typeof client[method] === 'function',
    )
  )
}

function resolveCookie(value: unknown, ttlSeconds: number): ResolvedCookie {
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new InvalidOptionError('cookie', 'must be an object', gotValue(value))
  }
  const cookie = (value ?? {}) as Record<string, unknown>
  for (const key of Object.keys(cookie)) {
    if (!COOKIE_OPTION_NAMES.has(key)) {
      const rule =
        key === 'maxAge' || key === 'expires'
          ? 'is not an option: the cookie lifetime comes from `ttlSeconds`'
          : `is not an option; use one of ${[...COOKIE_OPTION_NAMES].join(', ')}`
      throw new InvalidOptionError(`cookie.${key}`, rule, gotValue(cookie[key]))
    }
  }
  const path = cookie.path ?? DEFAULTS.cookie.path
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new InvalidOptionError('cookie.path', 'must be a string starting with /', gotValue(path))
  }
  if (cookie.domain !== undefined && (typeof cookie.domain !== 'string' || cookie.domain === '')) {
    throw new InvalidOptionError(
      'cookie.domain',
      'must be a non-empty string',
      gotValue(cookie.domain),
    )
  }
  const sameSite = cookie.sameSite ?? DEFAULTS.cookie.sameSite
  if (sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') {
    throw new InvalidOptionError(
      'cookie.sameSite',
      "must be 'lax', 'strict' or 'none'",
      gotValue(sameSite),
    )
  }
  const secure = boolean('cookie.secure', cookie.secure, process.env.NODE_ENV === 'production')
  if (sameSite === 'none' && !secure) {
    throw new InvalidOptionError(
      'cookie.sameSite',
      "may be 'none' only with `cookie.secure: true`",
      "'none'",
    )
  }
  return {
    path,
    domain: cookie.domain,
    sameSite,
    secure,
    httpOnly: boolean('cookie.httpOnly', cookie.httpOnly, DEFAULTS.cookie.httpOnly),
    maxAge: ttlSeconds * 1000,
  }
}

/** Checks every option and applies {@link DEFAULTS}; throws {@link InvalidOptionError} on the first problem. */
export function resolveSessionOptions(input: RedisSessionOptions): ResolvedSessionOptions {
  if (typeof input !== 'object' || input === null) {
    throw new InvalidOptionError(
      'options',
      'must be an object with `redis` and `secret`',
      gotValue(input),
    )
  }
  for (const key of Object.keys(input)) {
    if (!OPTION_NAMES.has(key))
      throw new InvalidOptionError(key, 'is not an option', 'an unknown key')
  }
  if (!isRedisClient(input.redis)) {
    throw new InvalidOptionError('redis', 'must be an ioredis client', describeShape(input.redis))
  }
  const secrets = resolveSecrets(input.secret)
  const ttlSeconds = positiveInteger('ttlSeconds', input.ttlSeconds, DEFAULTS.ttlSeconds)
  const prefix = input.prefix ?? DEFAULTS.prefix
  if (typeof prefix !== 'string')
    throw new InvalidOptionError('prefix', 'must be a string', gotValue(prefix))
  const name = input.name ?? DEFAULTS.name
  if (typeof name !== 'string' || !COOKIE_NAME.test(name)) {
    throw new InvalidOptionError(
      'name',
      'must be a cookie name (RFC 6265 token characters)',
      gotValue(name),
    )
  }
  let touchIntervalSeconds = Math.min(DEFAULTS.touchIntervalSeconds, Math.floor(ttlSeconds / 2))
  if (input.touchIntervalSeconds !== undefined) {
    touchIntervalSeconds = input.touchIntervalSeconds
    if (
      !Number.isSafeInteger(touchIntervalSeconds) ||
      touchIntervalSeconds < 0 ||
      touchIntervalSeconds >= ttlSeconds
    ) {
      throw new InvalidOptionError(
        'touchIntervalSeconds',
        `must be an integer from 0 to ttlSeconds - 1 (${ttlSeconds - 1})`,
        gotValue(input.touchIntervalSeconds),
      )
    }
  }
  const logger = input.logger ?? stderrLogger('@uptimekit/session')
  if (!isLogger(logger)) {
    throw new InvalidOptionError(
      'logger',
      'must have info, warn and error methods',
      describeShape(logger),
    )
  }
  return {
    redis: input.redis,
    secrets,
    ttlSeconds,
    prefix,
    name,
    cookie: resolveCookie(input.cookie, ttlSeconds),
    rolling: boolean('rolling', input.rolling, DEFAULTS.rolling),
    touchIntervalSeconds,
    absoluteTtlSeconds:
      input.absoluteTtlSeconds === undefined
        ? undefined
        : positiveInteger('absoluteTtlSeconds', input.absoluteTtlSeconds, 0),
    unavailableTimeoutMs: positiveInteger(
      'unavailableTimeoutMs',
      input.unavailableTimeoutMs,
      DEFAULTS.unavailableTimeoutMs,
    ),
    retryAfterSeconds: positiveInteger(
      'retryAfterSeconds',
      input.retryAfterSeconds,
      DEFAULTS.retryAfterSeconds,
    ),
    logger,
  }
}
