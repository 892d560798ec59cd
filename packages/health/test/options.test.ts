import { describe, expect, it } from 'vitest'
import { createHealth } from '../src/health.js'
import { InvalidOptionError, isInvalidOptionError } from '../src/errors.js'
import { DEFAULTS, type HealthOptions } from '../src/options.js'
import { redisCheck } from '../src/checks/redis.js'
import { pgCheck } from '../src/checks/pg.js'
import { mysqlCheck } from '../src/checks/mysql.js'
import { mongoCheck } from '../src/checks/mongo.js'
import { mongooseCheck } from '../src/checks/mongoose.js'
import { httpCheck } from '../src/checks/http.js'
import { heapCheck } from '../src/checks/heap.js'
import { diskCheck } from '../src/checks/disk.js'
import { eventLoopCheck } from '../src/checks/event-loop.js'

function thrown(create: () => unknown): unknown {
  try {
    create()
  } catch (error) {
    return error
  }
  throw new Error('expected an error')
}

const bad = (options: unknown) => () => createHealth(options as HealthOptions)

describe('createHealth options', () => {
  it.each([
    [
      { timeoutMs: -5 },
      '`timeoutMs` must be an integer of milliseconds from 1 to 2147483647 (got -5)',
    ],
    [
      { timeoutMs: 1.5 },
      '`timeoutMs` must be an integer of milliseconds from 1 to 2147483647 (got 1.5)',
    ],
    [
      { timeoutMs: 3e9 },
      '`timeoutMs` must be an integer of milliseconds from 1 to 2147483647 (got 3000000000)',
    ],
    [{ cacheMs: -1 }, '`cacheMs` must be an integer of milliseconds from 0 to 2147483647 (got -1)'],
    [
      { intervalMs: '1000' },
      '`intervalMs` must be an integer of milliseconds from 0 to 2147483647 (got "1000")',
    ],
    [
      { intervalMs: 2 ** 31 },
      '`intervalMs` must be an integer of milliseconds from 0 to 2147483647 (got 2147483648)',
    ],
    [
      { checks: { db: 'SELECT 1' } },
      '`checks.db` must be a function or { check, critical, timeoutMs, componentType } (got "SELECT 1")',
    ],
    [{ checks: { db: { check: 42 } } }, '`checks.db.check` must be a function (got 42)'],
    [
      { checks: { db: { check: () => {}, critical: 'yes' } } },
      '`checks.db.critical` must be a boolean (got "yes")',
    ],
    [
      { checks: { db: { check: () => {}, timeoutMs: 0 } } },
      '`checks.db.timeoutMs` must be an integer of milliseconds from 1 to 2147483647 (got 0)',
    ],
    [
      { checks: { db: { check: () => {}, timeout: 5 } } },
      '`checks.db.timeout` is not an option of checks.db; did you mean `checks.db.timeoutMs`? (options: check, critical, timeoutMs, componentType) (got 5)',
    ],
    [
      { checks: { db: { check: () => {}, componentType: 'db' } } },
      "`checks.db.componentType` must be one of 'component', 'datastore', 'system' (got \"db\")",
    ],
    [{ checks: [] }, '`checks` must be an object of named checks (got an array)'],
    [{ startup: 'later' }, "`startup` must be one of 'immediate', 'manual' (got \"later\")"],
    [{ paths: { ready: '/live' } }, '`paths.ready` must differ from `paths.live` (got "/live")'],
    [
      { paths: { health: '/h', detailed: '/h' } },
      '`paths.detailed` must differ from `paths.health` (got "/h")',
    ],
    [
      { paths: { metrics: '/metrics' } },
      '`paths.metrics` is not an option of paths (options: live, ready, health, detailed, startup) (got "/metrics")',
    ],
    [
      { paths: { live: 'live' } },
      '`paths.live` must be a path starting with `/`, without query or spaces (got "live")',
    ],
    [
      { token: 'short-secret' },
      '`token` must be a string of at least 16 characters (got 12 characters)',
    ],
    [
      { token: 'a token with spaces in it' },
      '`token` must not contain whitespace (got 25 characters)',
    ],
    [{ exposeDetails: 'no' }, '`exposeDetails` must be a boolean (got "no")'],
    [
      { logger: console.log },
      '`logger` must be false or have info, warn and error methods (pino-shaped) (got a function)',
    ],
    [
      { timeout: 2000 },
      '`timeout` is not an option of createHealth; did you mean `timeoutMs`? (options: checks, timeoutMs, cacheMs, intervalMs, startup, version, environment, exposeDetails, token, paths, logger) (got 2000)',
    ],
    [
      { detailsToken: 'a-token-of-24-characters' },
      '`detailsToken` is not an option of createHealth (options: checks, timeoutMs, cacheMs, intervalMs, startup, version, environment, exposeDetails, token, paths, logger) (got "a-token-of-24-characters")',
    ],
  ])('rejects %o', (options, message) => {
    const error = thrown(bad(options))
    expect(error).toBeInstanceOf(TypeError)
    expect(error).toBeInstanceOf(InvalidOptionError)
    expect(isInvalidOptionError(error)).toBe(true)
    expect((error as InvalidOptionError).code).toBe('UPTIMEKIT_INVALID_OPTION')
    expect((error as Error).message).toBe(message)
  })

  it('never prints the token it rejects', () => {
    for (const token of ['hunter2', 'a long token with a space']) {
      expect((thrown(bad({ token })) as Error).message).not.toContain(token)
    }
  })

  it('has the documented defaults, frozen all the way down', () => {
    expect(Object.isFrozen(DEFAULTS)).toBe(true)
    expect(Object.isFrozen(DEFAULTS.paths)).toBe(true)
    expect(DEFAULTS).toEqual({
      timeoutMs: 800,
      cacheMs: 1000,
      intervalMs: 0,
      startup: 'immediate',
      exposeDetails: true,
      paths: {
        live: '/live',
        ready: '/ready',
        health: '/health',
        detailed: '/health/detailed',
        startup: '/startup',
      },
    })
  })
})

describe('checker options', () => {
  it.each([
    [
      () => redisCheck({} as never),
      '`client` must be a Redis client with a ping() method (got an object)',
    ],
    [
      () => pgCheck(undefined as never),
      '`client` must be a pg Pool or Client with a query() method (got undefined)',
    ],
    [
      () => mysqlCheck(null as never),
      '`client` must be a mysql2 pool or connection with a query() method (got null)',
    ],
    [
      () => mongoCheck({} as never),
      '`client` must be a MongoClient with a db() method (got an object)',
    ],
    [
      () => mongooseCheck({} as never),
      '`connection` must be a mongoose Connection (with readyState) (got an object)',
    ],
    [() => httpCheck('not a url'), '`url` must be an absolute http(s) URL (got "not a url")'],
    [() => httpCheck('ftp://files.example'), '`url` must be an absolute http(s) URL (got "ftp:")'],
    [
      () => httpCheck('http://x', { timeoutMs: 0 }),
      '`timeoutMs` must be an integer of milliseconds from 1 to 2147483647 (got 0)',
    ],
    [
      () => httpCheck('http://x', { expect: true as never }),
      '`expect` must be a function (got true)',
    ],
    [
      () => httpCheck('http://x', { timeout: 1 } as never),
      '`timeout` is not an option of httpCheck; did you mean `timeoutMs`? (options: timeoutMs, expect, headers) (got 1)',
    ],
    [
      () => heapCheck({ maxUsedRatio: 90 }),
      '`maxUsedRatio` must be a number above 0 and at most 1 (got 90)',
    ],
    [() => diskCheck({ path: '' }), '`path` must be a non-empty string (got "")'],
    [
      () => diskCheck({ minFreeRatio: 5 }),
      '`minFreeRatio` must be a number from 0 and at most 1 (got 5)',
    ],
    [
      () => diskCheck({ minFreeBytes: -1 }),
      '`minFreeBytes` must be an integer at least 0 (got -1)',
    ],
    [
      () => eventLoopCheck({ maxDelayMs: -1 }),
      '`maxDelayMs` must be an integer of milliseconds from 1 to 2147483647 (got -1)',
    ],
    [
      () => eventLoopCheck({ percentile: 101 }),
      '`percentile` must be a finite number above 0 and at most 100 (got 101)',
    ],
    [
      () => heapCheck({ maxUsed: 0.5 } as never),
      '`maxUsed` is not an option of heapCheck; did you mean `maxUsedRatio`? (options: maxUsedRatio) (got 0.5)',
    ],
  ])('%#: rejects a bad option at creation', (create, message) => {
    const error = thrown(create)
    expect(isInvalidOptionError(error)).toBe(true)
    expect((error as Error).message).toBe(message)
  })
})
