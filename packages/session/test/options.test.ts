import { describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { InvalidOptionError, isInvalidOptionError } from '../src/errors.js'
import { DEFAULTS, resolveSessionOptions, type RedisSessionOptions } from '../src/options.js'
import { RedisSessionStore } from '../src/session-store.js'
import { SECRET } from './apps.js'

// Never connects: lazyConnect and no command is sent.
const redis: Redis = new Redis({ lazyConnect: true })

function errorFor(options: Partial<RedisSessionOptions>): InvalidOptionError {
  try {
    resolveSessionOptions({ redis, secret: SECRET, ...options })
  } catch (err) {
    if (isInvalidOptionError(err)) return err
    throw err
  }
  throw new Error('expected an InvalidOptionError')
}

describe('session options', () => {
  it.each([
    [{ secret: undefined }, '`secret` must be a string of at least 32 characters (got undefined)'],
    [
      { secret: 'short-secret-value' },
      '`secret` must be a string of at least 32 characters (got 18 characters)',
    ],
    [
      { secret: [SECRET, 'old-but-short'] },
      '`secret[1]` must be a string of at least 32 characters (got 13 characters)',
    ],
    [
      { secret: [] },
      '`secret` must be a string of at least 32 characters or a non-empty array of them (got an empty array)',
    ],
    [
      { redis: {} as never },
      '`redis` must be an ioredis client (Redis or Cluster) (got an object)',
    ],
    [
      { ttlSeconds: -5 },
      '`ttlSeconds` must be an integer at least 1 and at most 2147483647 (got -5)',
    ],
    [
      { ttlSeconds: 10, touchIntervalSeconds: 10 },
      '`touchIntervalSeconds` must be an integer at least 0 and at most 9 (got 10)',
    ],
    [
      { unavailableTimeoutMs: 0 },
      '`unavailableTimeoutMs` must be an integer of milliseconds from 1 to 2147483647 (got 0)',
    ],
    [
      { unavailableTimeoutMs: 3e9 },
      '`unavailableTimeoutMs` must be an integer of milliseconds from 1 to 2147483647 (got 3000000000)',
    ],
    [
      { absoluteTtlSeconds: 1.5 },
      '`absoluteTtlSeconds` must be an integer at least 1 and at most 2147483647 (got 1.5)',
    ],
    [
      { name: 'bad name' },
      '`name` must be a cookie name (RFC 6265 token characters) (got "bad name")',
    ],
    [
      { cookie: { maxAge: 1000 } as never },
      '`cookie.maxAge` is not an option: the cookie lifetime comes from `ttlSeconds` (got 1000)',
    ],
    [
      { cookie: { path: '/;x=y' } },
      '`cookie.path` must start with / and hold no `;` or control characters (got "/;x=y")',
    ],
    [
      { cookie: { samesite: 'lax' } as never },
      '`cookie.samesite` is not an option of cookie; did you mean `cookie.sameSite`? (options: path, domain, sameSite, secure, httpOnly) (got "lax")',
    ],
    [
      { cookie: { sameSite: 'none' } },
      "`cookie.sameSite` may be 'none' only with `cookie.secure: true` (got 'none')",
    ],
    [{ rolling: 'yes' as never }, '`rolling` must be a boolean (got "yes")'],
    [
      { logger: {} as never },
      '`logger` must be false or have info, warn and error methods (pino-shaped) (got an object)',
    ],
    [
      { ttl: 5 } as never,
      '`ttl` is not an option of redisSession; did you mean `ttlSeconds`? (options: redis, ttlSeconds, prefix, touchIntervalSeconds, absoluteTtlSeconds, unavailableTimeoutMs, logger, secret, name, cookie, rolling, retryAfterSeconds) (got 5)',
    ],
  ] as [Partial<RedisSessionOptions>, string][])(
    'rejects %j with a message naming the option',
    (options, message) => {
      const err = errorFor(options)
      expect(err).toBeInstanceOf(TypeError)
      expect(err).toBeInstanceOf(InvalidOptionError)
      expect(err.code).toBe('UPTIMEKIT_INVALID_OPTION')
      expect(err.message).toBe(message)
    },
  )

  it('never prints a secret, only its length', () => {
    const secret = 'p@ssw0rd-nobody-should-see'
    expect(errorFor({ secret }).message).not.toContain(secret)
    expect(errorFor({ secret: [SECRET, secret] }).message).not.toContain(secret)
  })

  it('applies secure defaults: httpOnly, sameSite lax, maxAge from ttlSeconds, secure in production', () => {
    const resolved = resolveSessionOptions({ redis, secret: [SECRET], ttlSeconds: 60 })
    expect(resolved.cookie).toEqual({
      path: '/',
      domain: undefined,
      sameSite: 'lax',
      secure: false,
      httpOnly: true,
      maxAge: 60_000,
    })
    expect(resolved.touchIntervalSeconds).toBe(30)
    const previous = process.env.NODE_ENV
    process.env.NODE_ENV = 'production'
    try {
      expect(resolveSessionOptions({ redis, secret: SECRET }).cookie.secure).toBe(true)
    } finally {
      process.env.NODE_ENV = previous
    }
  })

  it('checks the store options on their own, with the store as the owner', () => {
    expect(() => new RedisSessionStore({ redis, secret: SECRET } as never)).toThrow(
      '`secret` is not an option of RedisSessionStore',
    )
    expect(() => new RedisSessionStore({ redis, unavailableTimeoutMs: 3e9 })).toThrow(
      InvalidOptionError,
    )
  })

  it('keeps DEFAULTS frozen, nested objects included', () => {
    expect(Object.isFrozen(DEFAULTS)).toBe(true)
    expect(Object.isFrozen(DEFAULTS.cookie)).toBe(true)
    expect(() => {
      ;(DEFAULTS.cookie as { path: string }).path = '/x'
    }).toThrow(TypeError)
  })
})
