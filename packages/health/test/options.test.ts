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
    [{ timeoutMs: -5 }, '`timeoutMs` must be a positive integer of milliseconds (got -5)'],
    [{ timeoutMs: 1.5 }, '`timeoutMs` must be a positive integer of milliseconds (got 1.5)'],
    [{ cacheMs: -1 }, '`cacheMs` must be a non-negative integer of milliseconds (got -1)'],
    [
      { intervalMs: '1000' },
      '`intervalMs` must be a non-negative integer of milliseconds (got "1000")',
    ],
    [
      { checks: { db: 'SELECT 1' } },
      '`checks.db` must be a function or { check, critical, timeoutMs } (got "SELECT 1")',
    ],
    [{ checks: { db: { check: 42 } } }, '`checks.db.check` must be a function (got 42)'],
    [
      { checks: { db: { check: () => {}, critical: 'yes' } } },
      '`checks.db.critical` must be a boolean (got "yes")',
    ],
    [
      { checks: { db: { check: () => {}, timeoutMs: 0 } } },
      '`checks.db.timeoutMs` must be a positive integer of milliseconds (got 0)',
    ],
    [{ checks: [] }, '`checks` must be an object of named checks (got an array)'],
    [{ startup: 'later' }, "`startup` must be 'immediate' or 'manual' (got \"later\")"],
    [{ paths: { ready: '/live' } }, '`paths.ready` must differ from `paths.live` (got "/live")'],
    [
      { paths: { health: '/h', detailed: '/h' } },
      '`paths.detailed` must differ from `paths.health` (got "/h")',
    ],
    [
      { paths: { metrics: '/metrics' } },
      '`paths.metrics` is not a probe (probes: live, ready, health, detailed, startup) (got "/metrics")',
    ],
    [
      { paths: { live: 'live' } },
      '`paths.live` must be a path starting with `/`, without query or spaces (got "live")',
    ],
    [
      { detailsToken: 'short-secret' },
      '`detailsToken` must be a string of at least 16 characters (got 12 characters)',
    ],
    [{ exposeDetails: 'no' }, '`exposeDetails` must be a boolean (got "no")'],
    [
      { logger: console.log },
      '`logger` must have info, warn and error methods (pino-shaped) (got a function)',
    ],
    [
      { timeout: 2000 },
      '`timeout` is not an option of createHealth (options: checks, timeoutMs, cacheMs, intervalMs, startup, version, environment, exposeDetails, detailsToken, paths, logger) (got 2000)',
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
    expect((thrown(bad({ detailsToken: 'hunter2' })) as Error).message).not.toContain('hunter2')
  })

  it('has the documented defaults', () => {
    expect(DEFAULTS).toEqual({
      timeoutMs: 2000,
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
      '`timeoutMs` must be a positive integer of milliseconds (got 0)',
    ],
    [
      () => httpCheck('http://x', { expect: true as never }),
      '`expect` must be a function (body) => boolean (got true)',
    ],
    [
      () => heapCheck({ maxUsedRatio: 90 }),
      '`maxUsedRatio` must be a number above 0 and at most 1 (got 90)',
    ],
    [() => diskCheck({ path: '' }), '`path` must be a non-empty path (got "")'],
    [() => diskCheck({ minFreeRatio: 5 }), '`minFreeRatio` must be a number from 0 to 1 (got 5)'],
    [
      () => diskCheck({ minFreeBytes: -1 }),
      '`minFreeBytes` must be a non-negative integer of bytes (got -1)',
    ],
    [
      () => eventLoopCheck({ maxDelayMs: -1 }),
      '`maxDelayMs` must be a positive integer of milliseconds (got -1)',
    ],
    [
      () => eventLoopCheck({ percentile: 101 }),
      '`percentile` must be a number above 0 and at most 100 (got 101)',
    ],
  ])('%#: rejects a bad option at creation', (create, message) => {
    const error = thrown(create)
    expect(isInvalidOptionError(error)).toBe(true)
    expect((error as Error).message).toBe(message)
  })
})
