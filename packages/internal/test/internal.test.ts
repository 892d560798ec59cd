import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import {
  bearerMatcher,
  errorAnswer,
  errorText,
  InvalidOptionError,
  milliseconds,
  negotiate,
  optionsObject,
  redact,
  requestPath,
  resolveLogger,
  safeDetails,
  silentLogger,
  UptimekitError,
} from '../src/index.js'
import { definePlugin } from '../src/fastify.js'

class ExampleError extends UptimekitError {
  static override readonly code: string = 'UPTIMEKIT_EXAMPLE'
  constructor() {
    super(ExampleError.code, 'example')
  }
}

describe('errors', () => {
  it('matches instanceof by code, so a second loaded copy of a class still matches', () => {
    const fromOtherCopy = Object.assign(new Error('x'), { code: 'UPTIMEKIT_EXAMPLE' })
    expect(new ExampleError()).toBeInstanceOf(ExampleError)
    expect(fromOtherCopy).toBeInstanceOf(ExampleError)
    expect(fromOtherCopy).toBeInstanceOf(UptimekitError)
    expect(new Error('x')).not.toBeInstanceOf(ExampleError)
    expect(null).not.toBeInstanceOf(UptimekitError)
    expect(new ExampleError().name).toBe('ExampleError')
    const invalid = { code: 'UPTIMEKIT_INVALID_OPTION' }
    expect(invalid).toBeInstanceOf(InvalidOptionError)
    expect(new InvalidOptionError('a', 'must be b', '1')).toBeInstanceOf(TypeError)
  })
})

describe('option checks', () => {
  it('rejects an unknown key naming the closest real option', () => {
    expect(() => optionsObject('createMetrics', { tokne: 'x' }, ['token', 'prefix'])).toThrow(
      '`tokne` is not an option of createMetrics; did you mean `token`? (options: token, prefix) (got "x")',
    )
    expect(() => optionsObject('createShutdown', { drainDelay: 1 }, ['drainDelayMs'])).toThrow(
      /did you mean `drainDelayMs`/,
    )
    expect(() => optionsObject('passive', { zzz: 1 }, ['maxFails'], 'passive.')).toThrow(
      '`passive.zzz` is not an option of passive (options: maxFails) (got 1)',
    )
  })

  it('rejects a timer past 2^31-1 ms instead of letting it fire at once', () => {
    expect(() => milliseconds('timeoutMs', 3e9)).toThrow(
      '`timeoutMs` must be an integer of milliseconds from 1 to 2147483647 (got 3000000000)',
    )
    expect(milliseconds('timeoutMs', 2_147_483_647)).toBe(2_147_483_647)
    expect(() => milliseconds('delayMs', -1, 0)).toThrow(InvalidOptionError)
  })
})

describe('bearerMatcher', () => {
  it('rejects a token with whitespace at creation, reporting its shape only', () => {
    expect(() => bearerMatcher('token', 'abcdefgh ijklmnopq')).toThrow(
      '`token` must not contain whitespace (got 18 characters)',
    )
    expect(() => bearerMatcher('token', 'short')).toThrow('(got 5 characters)')
  })

  it('accepts the exact token, case-insensitive scheme, and nothing else', () => {
    const matches = bearerMatcher('token', 'a-long-enough-token')
    expect(matches('Bearer a-long-enough-token')).toBe(true)
    expect(matches('bearer a-long-enough-token')).toBe(true)
    expect(matches('Bearer a-long-enough-tokeN')).toBe(false)
    expect(matches(undefined)).toBe(false)
  })
})

describe('redact', () => {
  it.each([
    ['postgres://app:s3cret@db:5432/x', 'postgres://app:***@db:5432/x'],
    ['redis://:pa/ss#w@rd@cache:6379', 'redis://:***@cache:6379'],
    ['https://ghp_abc@github.com', 'https://***@github.com'],
    ['Authorization: Bearer abc.def', 'Authorization: Bearer ***'],
    ['DB_PASSWORD=hunter2 next', 'DB_PASSWORD=*** next'],
    ['GET /cb?code=1&access_token=xyz&x=1', 'GET /cb?code=1&access_token=***&x=1'],
    ['{"client_secret":"a b c"}', '{"client_secret":"***"}'],
    ['aws_secret_access_key = AKIA123', 'aws_secret_access_key = ***'],
    ['using password: YES', 'using password: YES'],
  ])('redacts %s', (input, output) => {
    expect(redact(input)).toBe(output)
  })

  it('masks secret-named keys in details whatever their value', () => {
    expect(
      safeDetails({ password: 42, nested: { apiToken: ['a'] }, url: 'mysql://u:p@h' }),
    ).toEqual({ password: '***', nested: { apiToken: '***' }, url: 'mysql://u:***@h' })
    expect(safeDetails({ big: 1n })).toEqual({ big: '1' })
  })
})

describe('errorText', () => {
  it('describes any rejection value without throwing', () => {
    const revoked = Proxy.revocable({}, {})
    revoked.revoke()
    const throwingMessage = new Error('x')
    Object.defineProperty(throwingMessage, 'message', {
      get() {
        throw new Error('boom')
      },
    })
    expect(errorText(null)).toBe('rejected with null')
    expect(errorText(undefined)).toBe('rejected with undefined')
    expect(errorText(Object.assign(Object.create(null) as object, { n: 2n }))).toBe('{"n":"2n"}')
    expect(errorText(revoked.proxy)).toBe('failed with a value that cannot be described')
    expect(errorText(throwingMessage)).toBe('failed with a value that cannot be described')
    const nameless = Object.assign(new Error(''), { name: '' })
    expect(errorText(nameless)).toBe('failed with an error that has no message')
    expect(errorText(new Error('fetch failed', { cause: new Error('connect ECONNREFUSED') }))).toBe(
      'fetch failed: connect ECONNREFUSED',
    )
  })
})

describe('negotiate', () => {
  const offers = ['application/json', 'application/health+json']
  it.each([
    [undefined, 'application/json'],
    ['APPLICATION/HEALTH+JSON', 'application/health+json'],
    ['application/json, application/health+json;q=0.1', 'application/json'],
    ['application/health+json, application/json', 'application/health+json'],
    ['application/health+json;q=0, */*', 'application/json'],
    ['text/html', undefined],
    ['application/*', 'application/json'],
  ])('Accept %s picks %s', (accept, picked) => {
    expect(negotiate(accept, offers)).toBe(picked)
  })
})

describe('requestPath', () => {
  it.each([
    ['/ready', '/ready'],
    ['/%72eady', '/ready'],
    ['/Metrics/', '/metrics'],
    ['/metrics?x=1', '/metrics'],
    ['http://127.0.0.1/live', '/live'],
    ['http://127.0.0.1', '/'],
    ['/', '/'],
    ['/a%2Fb', '/a%2fb'],
  ])('%s routes as %s', (target, path) => {
    expect(requestPath(target)).toBe(path)
  })
})

describe('answers and loggers', () => {
  it('builds the one error body with its content-length', () => {
    expect(errorAnswer(503, 'UPTIMEKIT_X', 'down', { 'retry-after': '1' })).toEqual({
      statusCode: 503,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'content-length': '86',
        'retry-after': '1',
      },
      body: '{"statusCode":503,"code":"UPTIMEKIT_X","error":"Service Unavailable","message":"down"}',
    })
  })

  it('takes false as silence and rejects a logger without the three methods', () => {
    expect(resolveLogger('logger', false, 'x')).toBe(silentLogger)
    expect(() => resolveLogger('logger', { info() {} }, 'x')).toThrow(InvalidOptionError)
  })
})

describe('definePlugin', () => {
  it('makes a plugin that throws on its options reject ready() instead of ending the process', async () => {
    const plugin = definePlugin<{ bad?: boolean }>('@uptimekit/example', () => {
      throw new InvalidOptionError('bad', 'must be absent', 'true')
    })
    const app = Fastify()
    void app.register(plugin, { bad: true })
    await expect(app.ready()).rejects.toThrow('`bad` must be absent (got true)')
  })
})
