import {
  bool,
  InvalidOptionError,
  integer,
  milliseconds,
  oneOf,
  optionsObject,
  resolveLogger,
  secret,
  shown,
  text,
  withMethods,
  type Logger,
  type LoggerOption,
} from '@uptimekit/internal'
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

/**
 * Options of the store alone (`RedisSessionStore`). Lifetimes Redis keeps are in seconds (the
 * unit of connect-redis' `ttl` and of a cookie's Max-Age); waits this process times are in
 * milliseconds. Each name carries its unit.
 */
export interface RedisSessionStoreOptions {
  /**
   * The ioredis client sessions live in: `createRedisClient()` or your own (standalone, Sentinel
   * or Cluster). It is never closed by this package.
   */
  redis: SessionRedisClient
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
   * Longest a request waits for Redis before it is answered 503, in milliseconds (at most
   * 2^31-1). While Redis is known to be down, requests are answered at once and a background
   * probe checks for recovery.
   * @default 1000
   */
  unavailableTimeoutMs?: number
  /**
   * Where the store logs state changes: an outage, its recovery, a corrupt stored session (once
   * per session). `false` for silence.
   * @default one JSON line per event on stderr
   */
  logger?: LoggerOption
}

/** Options shared by `redisSession` (Express) and `redisSessionPlugin` (Fastify). */
export interface RedisSessionOptions extends RedisSessionStoreOptions {
  /**
   * Signing secret, at least 32 characters. An array rotates secrets: the first signs, all verify,
   * and a cookie signed by an older one is re-signed with the first on its next response.
   */
  secret: string | readonly string[]
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
   * `Retry-After` value, in seconds, on the 503 sent while Redis is unavailable.
   * @default 1
   */
  retryAfterSeconds?: number
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

/** The store's options checked and defaulted. */
export interface ResolvedStoreOptions {
  readonly redis: SessionRedisClient
  readonly ttlSeconds: number
  readonly prefix: string
  readonly touchIntervalSeconds: number
  readonly absoluteTtlSeconds: number | undefined
  readonly unavailableTimeoutMs: number
  readonly logger: Logger
  /** Attributes that replace whatever a stored session's cookie says; unset keeps valid stored ones. */
  readonly cookie: ResolvedCookie | undefined
}

/** Every option checked and defaulted. */
export interface ResolvedSessionOptions extends ResolvedStoreOptions {
  readonly secrets: readonly string[]
  readonly name: string
  readonly cookie: ResolvedCookie
  readonly rolling: boolean
  readonly retryAfterSeconds: number
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
} = Object.freeze({
  ttlSeconds: 86400,
  prefix: 'sess:',
  name: 'connect.sid',
  rolling: false,
  touchIntervalSeconds: 60,
  unavailableTimeoutMs: 1000,
  retryAfterSeconds: 1,
  cookie: Object.freeze({ path: '/', sameSite: 'lax', httpOnly: true }),
})

/** The shortest secret we accept: 32 characters, as @fastify/session requires. */
export const MIN_SECRET_LENGTH = 32

// A session outliving about 68 years is a mistake, and seconds * 1000 stays a safe integer.
const MAX_SECONDS = 2_147_483_647
// RFC 6265 cookie-name token characters.
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// What a cookie library accepts in Path and Domain: printable, no `;`.
const COOKIE_VALUE = /^[\u0020-\u003A\u003D-\u007E]+$/
const STORE_OPTIONS = [
  'redis',
  'ttlSeconds',
  'prefix',
  'touchIntervalSeconds',
  'absoluteTtlSeconds',
  'unavailableTimeoutMs',
  'logger',
] as const
const SESSION_OPTIONS = [
  ...STORE_OPTIONS,
  'secret',
  'name',
  'cookie',
  'rolling',
  'retryAfterSeconds',
] as const
const COOKIE_OPTIONS = ['path', 'domain', 'sameSite', 'secure', 'httpOnly'] as const
const CLIENT_METHODS = ['get', 'set', 'del', 'pttl', 'pexpire', 'eval', 'ping', 'once']
const LOGGER_NAME = '@uptimekit/session'

function seconds(option: string, value: unknown, fallback: number, min = 1): number {
  return value === undefined ? fallback : integer(option, value, { min, max: MAX_SECONDS })
}

function resolveSecrets(value: unknown): string[] {
  if (typeof value === 'string' || !Array.isArray(value)) {
    return [secret('secret', value, MIN_SECRET_LENGTH)]
  }
  if (value.length === 0) {
    throw new InvalidOptionError(
      'secret',
      `must be a string of at least ${MIN_SECRET_LENGTH} characters or a non-empty array of them`,
      'an empty array',
    )
  }
  return value.map((one: unknown, index) => secret(`secret[${index}]`, one, MIN_SECRET_LENGTH))
}

function resolveCookie(value: unknown, ttlSeconds: number): ResolvedCookie {
  if (value !== null && typeof value === 'object' && ('maxAge' in value || 'expires' in value)) {
    const key = 'maxAge' in value ? 'maxAge' : 'expires'
    throw new InvalidOptionError(
      `cookie.${key}`,
      'is not an option: the cookie lifetime comes from `ttlSeconds`',
      shown((value as Record<string, unknown>)[key]),
    )
  }
  const cookie = optionsObject('cookie', value, COOKIE_OPTIONS, 'cookie.')
  const path = text('cookie.path', cookie.path ?? DEFAULTS.cookie.path)
  if (!path.startsWith('/') || !COOKIE_VALUE.test(path)) {
    throw new InvalidOptionError(
      'cookie.path',
      'must start with / and hold no `;` or control characters',
      shown(path),
    )
  }
  let domain: string | undefined
  if (cookie.domain !== undefined) {
    domain = text('cookie.domain', cookie.domain)
    if (!COOKIE_VALUE.test(domain) || domain.includes(' ')) {
      throw new InvalidOptionError('cookie.domain', 'must be a domain name', shown(domain))
    }
  }
  const sameSite = oneOf('cookie.sameSite', cookie.sameSite ?? DEFAULTS.cookie.sameSite, [
    'lax',
    'strict',
    'none',
  ] as const)
  const secure =
    cookie.secure === undefined
      ? process.env.NODE_ENV === 'production'
      : bool('cookie.secure', cookie.secure)
  if (sameSite === 'none' && !secure) {
    throw new InvalidOptionError(
      'cookie.sameSite',
      "may be 'none' only with `cookie.secure: true`",
      "'none'",
    )
  }
  const httpOnly =
    cookie.httpOnly === undefined
      ? DEFAULTS.cookie.httpOnly
      : bool('cookie.httpOnly', cookie.httpOnly)
  return { path, domain, sameSite, secure, httpOnly, maxAge: ttlSeconds * 1000 }
}

function resolveStore(input: Record<string, unknown>): Omit<ResolvedStoreOptions, 'cookie'> {
  const redis = withMethods<SessionRedisClient>(
    'redis',
    input.redis,
    CLIENT_METHODS,
    'must be an ioredis client (Redis or Cluster)',
  )
  const ttlSeconds = seconds('ttlSeconds', input.ttlSeconds, DEFAULTS.ttlSeconds)
  const touchIntervalSeconds =
    input.touchIntervalSeconds === undefined
      ? Math.min(DEFAULTS.touchIntervalSeconds, Math.floor(ttlSeconds / 2))
      : integer('touchIntervalSeconds', input.touchIntervalSeconds, {
          min: 0,
          max: ttlSeconds - 1,
        })
  return {
    redis,
    ttlSeconds,
    prefix: input.prefix === undefined ? DEFAULTS.prefix : text('prefix', input.prefix, true),
    touchIntervalSeconds,
    absoluteTtlSeconds:
      input.absoluteTtlSeconds === undefined
        ? undefined
        : seconds('absoluteTtlSeconds', input.absoluteTtlSeconds, 0),
    unavailableTimeoutMs:
      input.unavailableTimeoutMs === undefined
        ? DEFAULTS.unavailableTimeoutMs
        : milliseconds('unavailableTimeoutMs', input.unavailableTimeoutMs),
    logger: resolveLogger('logger', input.logger, LOGGER_NAME),
  }
}

/** Checks the store's options (`new RedisSessionStore(options)`) and applies {@link DEFAULTS}. */
export function resolveStoreOptions(input: RedisSessionStoreOptions): ResolvedStoreOptions {
  const options = optionsObject('RedisSessionStore', input, STORE_OPTIONS)
  return { ...resolveStore(options), cookie: undefined }
}

/**
 * Checks every option of `redisSession`/`redisSessionPlugin` and applies {@link DEFAULTS}; throws
 * `InvalidOptionError` on the first problem.
 * @param logger - replaces the default logger when `logger` is not given (Fastify's `app.log`)
 */
export function resolveSessionOptions(
  input: RedisSessionOptions,
  logger?: Logger,
): ResolvedSessionOptions {
  if (input === undefined || input === null) {
    throw new InvalidOptionError(
      'options',
      'must be an object with `redis` and `secret`',
      shown(input),
    )
  }
  const options = optionsObject('redisSession', input, SESSION_OPTIONS)
  const store = resolveStore(options)
  const name = text('name', options.name ?? DEFAULTS.name)
  if (!COOKIE_NAME.test(name)) {
    throw new InvalidOptionError(
      'name',
      'must be a cookie name (RFC 6265 token characters)',
      shown(name),
    )
  }
  return {
    ...store,
    logger: logger !== undefined && options.logger === undefined ? logger : store.logger,
    secrets: resolveSecrets(options.secret),
    name,
    cookie: resolveCookie(options.cookie, store.ttlSeconds),
    rolling: options.rolling === undefined ? DEFAULTS.rolling : bool('rolling', options.rolling),
    retryAfterSeconds: seconds(
      'retryAfterSeconds',
      options.retryAfterSeconds,
      DEFAULTS.retryAfterSeconds,
    ),
  }
}
