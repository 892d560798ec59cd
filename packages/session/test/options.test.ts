import { describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { isInvalidOptionError, type InvalidOptionError } from '../src/errors.js'
import { resolveSessionOptions, type RedisSessionOptions } from '../src/options.js'
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
    [
      { secret: undefined },
      '`secret` must be a string of at least 32 characters or a non-empty array of them (got undefined)',
    ],
    [
      { secret: 'short-secret-value' },
      '`secret` must be at least 32 characters (got 18 characters)',
    ],
    [
      { secret: [SECRET, 'old-but-short'] },
      '`secret[1]` must be a string of at least 32 characters (got 13 characters)',
    ],
    [
      { secret: [] },
      '`secret` must be a string of at least 32 characters or a non-empty array of them (got an array of 0)',
    ],
    [{ redis: {} as never }, '`redis` must be an ioredis client (got object)'],
    [{ ttlSeconds: -5 }, '`ttlSeconds` must be a positive integer (got -5)'],
    [
      { ttlSeconds: 10, touchIntervalSeconds: 10 },
      '`touchIntervalSeconds` must be an integer from 0 to ttlSeconds - 1 (9) (got 10)',
    ],
    [{ unavailableTimeoutMs: 0 }, '`unavailableTimeoutMs` must be a positive integer (got 0)'],
    [{ absoluteTtlSeconds: 1.5 }, '`absoluteTtlSeconds` must be a positive integer (got 1.5)'],
    [
      { name: 'bad name' },
      '`name` must be a cookie name (RFC 6265 token characters) (got "bad name")',
    ],
    [
      { cookie: { maxAge: 1000 } as never },
      '`cookie.maxAge` is not an option: the cookie lifetime comes from `ttlSeconds` (got 1000)',
    ],
    [
      { cookie: { sameSite: 'none' } },
      "`cookie.sameSite` may be 'none' only with `cookie.secure: true` (got 'none')",
    ],
    [{ rolling: 'yes' as never }, '`rolling` must be a boolean (got "yes")'],
    [{ logger: {} as never }, '`logger` must have info, warn and error methods (got object)'],
    [{ ttl: 5 } as never, '`ttl` is not an option (got an unknown key)'],
  ] as [Partial<RedisSessionOptions>, string][])(
    'rejects %j with a message naming the option',
    (options, message) => {
      const err = errorFor(options)
      expect(err).toBeInstanceOf(TypeError)
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
})
