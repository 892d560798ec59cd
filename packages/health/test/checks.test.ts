import type { createServer } from 'node:http'
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it, onTestFinished } from 'vitest'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import pg from 'pg'
import mysql from 'mysql2'
import mysqlPromise from 'mysql2/promise'
import { MongoClient } from 'mongodb'
import mongoose from 'mongoose'
import { createHealth } from '../src/health.js'
import type { HealthCheck } from '../src/options.js'
import type { CheckResult } from '../src/report.js'
import { redisCheck } from '../src/checks/redis.js'
import { pgCheck } from '../src/checks/pg.js'
import { mysqlCheck } from '../src/checks/mysql.js'
import { mongoCheck } from '../src/checks/mongo.js'
import { mongooseCheck } from '../src/checks/mongoose.js'
import { httpCheck } from '../src/checks/http.js'
import { heapCheck } from '../src/checks/heap.js'
import { diskCheck } from '../src/checks/disk.js'
import { eventLoopCheck } from '../src/checks/event-loop.js'
import { heapLimitBytes } from '@uptimekit/internal'
import { closedPort } from '../../../test/support/ports.js'
import { needService, SERVICES } from '../../../test/support/services.js'
import { serveForTest } from './servers.js'

/** Runs one check the way a probe does and returns its result. */
async function run(check: HealthCheck, timeoutMs = 2000): Promise<CheckResult> {
  const health = createHealth({ checks: { it: check }, timeoutMs })
  onTestFinished(() => health.close())
  return (await health.check()).checks.it as CheckResult
}

const failure = (error: string | RegExp) => ({
  status: 'fail',
  critical: true,
  durationMs: expect.any(Number),
  error: typeof error === 'string' ? error : expect.stringMatching(error),
})
const PASS = { status: 'pass', critical: true, durationMs: expect.any(Number) }

const [redisUp, postgresUp, mariadbUp] = await Promise.all([
  needService('redis'),
  needService('postgres'),
  needService('mariadb'),
])

describe.runIf(redisUp)('redisCheck against Redis', () => {
  it('passes with an ioredis client', async () => {
    const client = new Redis(SERVICES.redis.url)
    onTestFinished(() => client.disconnect())
    expect(await run(redisCheck(client))).toEqual(PASS)
  })

  it('passes with a node-redis client', async () => {
    const client = createClient({ url: SERVICES.redis.url })
    await client.connect()
    onTestFinished(() => client.destroy())
    expect(await run(redisCheck(client))).toEqual(PASS)
  })
})

describe('redisCheck against a closed port', () => {
  it('fails at once while ioredis reconnects, without waiting for the offline queue', async () => {
    const client = new Redis({
      port: await closedPort(),
      host: '127.0.0.1',
      retryStrategy: () => 50,
    })
    client.on('error', () => {})
    onTestFinished(() => client.disconnect())
    await new Promise((resolve) => client.once('reconnecting', resolve))
    expect(await run(redisCheck(client), 5000)).toEqual(failure('redis connection is reconnecting'))
  })

  it('fails while a node-redis client is closed', async () => {
    const client = createClient({
      url: `redis://127.0.0.1:${await closedPort()}`,
      socket: { reconnectStrategy: false },
    })
    client.on('error', () => {})
    await client.connect().catch(() => {})
    expect(await run(redisCheck(client))).toEqual(failure('redis client is closed'))
  })
})

describe.runIf(postgresUp)('pgCheck against Postgres', () => {
  it('passes with a Pool and with a connected Client', async () => {
    const pool = new pg.Pool({ connectionString: SERVICES.postgres.url })
    onTestFinished(() => pool.end())
    const client = new pg.Client({ connectionString: SERVICES.postgres.url })
    await client.connect()
    onTestFinished(() => client.end())
    expect(await run(pgCheck(pool))).toEqual(PASS)
    expect(await run(pgCheck(client))).toEqual(PASS)
  })
})

describe('pgCheck against a closed port', () => {
  it('fails with the connection error', async () => {
    const port = await closedPort()
    const pool = new pg.Pool({ host: '127.0.0.1', port, user: 'app', password: 's3cret' })
    onTestFinished(() => pool.end())
    expect(await run(pgCheck(pool))).toEqual(failure(`connect ECONNREFUSED 127.0.0.1:${port}`))
  })

  it('fails at the timeout when a Client was never connected (pg queues the query)', async () => {
    const client = new pg.Client({ host: '127.0.0.1', port: await closedPort() })
    expect(await run(pgCheck(client), 200)).toEqual({
      ...failure('timed out after 200 ms'),
      timedOut: true,
    })
  })
})

describe.runIf(mariadbUp)('mysqlCheck against MariaDB', () => {
  it('passes with a mysql2/promise pool', async () => {
    const pool = mysqlPromise.createPool(SERVICES.mariadb.url)
    onTestFinished(() => pool.end())
    expect(await run(mysqlCheck(pool))).toEqual(PASS)
  })

  it('passes with a callback pool and a callback connection', async () => {
    const pool = mysql.createPool(SERVICES.mariadb.url)
    onTestFinished(() => new Promise<void>((resolve) => pool.end(() => resolve())))
    const connection = mysql.createConnection(SERVICES.mariadb.url)
    onTestFinished(() => new Promise<void>((resolve) => connection.end(() => resolve())))
    expect(await run(mysqlCheck(pool))).toEqual(PASS)
    expect(await run(mysqlCheck(connection))).toEqual(PASS)
  })
})

describe('mysqlCheck against a closed port', () => {
  it('fails with the connection error', async () => {
    const port = await closedPort()
    const pool = mysqlPromise.createPool({ host: '127.0.0.1', port, user: 'root' })
    onTestFinished(() => pool.end())
    expect(await run(mysqlCheck(pool))).toEqual(failure(/ECONNREFUSED/))
  })
})

describe('mongoCheck and mongooseCheck against a closed port (real drivers)', () => {
  it('mongoCheck fails when no server can be selected', async () => {
    const client = new MongoClient(`mongodb://127.0.0.1:${await closedPort()}`, {
      serverSelectionTimeoutMS: 300,
    })
    onTestFinished(() => client.close())
    expect(await run(mongoCheck(client))).toEqual(failure(/ECONNREFUSED/))
  })

  it('mongooseCheck fails while the connection is not connected', async () => {
    const connection = mongoose.createConnection(`mongodb://127.0.0.1:${await closedPort()}/test`, {
      serverSelectionTimeoutMS: 300,
    })
    const opened = connection.asPromise().catch(() => {})
    onTestFinished(async () => {
      await opened
      await connection.close()
    })
    expect(await run(mongooseCheck(connection))).toEqual(
      failure(/^mongoose connection is (connecting|disconnected)$/),
    )
  })
})

const mongoUrl = process.env.MONGO_URL
if (mongoUrl === undefined)
  console.warn('mongoCheck/mongooseCheck success path skipped: set MONGO_URL to run it')
describe.runIf(mongoUrl !== undefined)('mongoCheck and mongooseCheck against MONGO_URL', () => {
  it('passes with a MongoClient and with a mongoose connection', async () => {
    const client = new MongoClient(mongoUrl as string, { serverSelectionTimeoutMS: 2000 })
    onTestFinished(() => client.close())
    const connection = await mongoose.createConnection(mongoUrl as string).asPromise()
    onTestFinished(() => connection.close())
    expect(await run(mongoCheck(client))).toEqual(PASS)
    expect(await run(mongooseCheck(connection))).toEqual(PASS)
  })
})

describe('httpCheck', () => {
  const upstream = async (handler: Parameters<typeof createServer>[1]) =>
    `${await serveForTest(handler)}/health`

  it('passes on 2xx with the status code as details', async () => {
    const url = await upstream((_req, res) => res.writeHead(204).end())
    expect(await run(httpCheck(url))).toEqual({ ...PASS, details: { statusCode: 204 } })
  })

  it('fails on a 500 answer', async () => {
    const url = await upstream((_req, res) => res.writeHead(500).end('oops'))
    expect(await run(httpCheck(url))).toEqual(failure(`GET ${url} answered 500`))
  })

  it('fails at its own timeout against an upstream that never answers', async () => {
    const url = await upstream(() => {})
    expect(await run(httpCheck(url, { timeoutMs: 200 }))).toEqual(
      failure(`GET ${url} timed out after 200 ms`),
    )
  })

  it('is cut by the health timeout when that comes first', async () => {
    const url = await upstream(() => {})
    expect(await run(httpCheck(url, { timeoutMs: 5000 }), 150)).toEqual({
      ...failure('timed out after 150 ms'),
      timedOut: true,
    })
  })

  it('applies the body predicate and sends the headers given', async () => {
    const url = await upstream((req, res) =>
      res.end(JSON.stringify({ ok: req.headers['x-probe'] === 'yes' })),
    )
    const expectOk = (body: string) => (JSON.parse(body) as { ok: boolean }).ok
    expect(await run(httpCheck(url, { expect: expectOk, headers: { 'x-probe': 'yes' } }))).toEqual({
      ...PASS,
      details: { statusCode: 200 },
    })
    expect(await run(httpCheck(url, { expect: expectOk }))).toEqual(
      failure(`GET ${url} answered 200 with an unexpected body`),
    )
  })

  it('fails with the network error when nothing listens', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/health`
    expect(await run(httpCheck(url))).toEqual(
      failure(`GET ${url} failed: fetch failed: connect ECONNREFUSED ${url.slice(7, -7)}`),
    )
  })
})

describe('heapCheck', () => {
  it('passes below the limit and shows the limit once: the old generation one V8 dies at', async () => {
    const result = await run(heapCheck())
    expect(result).toEqual({
      ...PASS,
      details: {
        usedBytes: expect.any(Number),
        limitBytes: heapLimitBytes(),
        usedRatio: expect.any(Number),
      },
    })
  })

  it('fails above maxUsedRatio, naming used and limit, and still shows the reading', async () => {
    expect(await run(heapCheck({ maxUsedRatio: 0.001 }))).toEqual({
      ...failure(/^heap used \d+\.\d MB is \d+\.\d% of the \d+\.\d MB limit \(max 0\.1%\)$/),
      details: {
        usedBytes: expect.any(Number),
        limitBytes: heapLimitBytes(),
        usedRatio: expect.any(Number),
      },
    })
  })
})

describe('diskCheck', () => {
  it('passes with free space and reports it', async () => {
    expect(await run(diskCheck({ path: '/', minFreeRatio: 0.000001 }))).toEqual({
      ...PASS,
      details: {
        freeBytes: expect.any(Number),
        totalBytes: expect.any(Number),
        freeRatio: expect.any(Number),
      },
    })
  })

  it('fails below minFreeBytes and on a missing path', async () => {
    expect(await run(diskCheck({ minFreeBytes: Number.MAX_SAFE_INTEGER }))).toEqual({
      ...failure(/^\/: \d+ MB free, below \d+ MB$/),
      details: {
        freeBytes: expect.any(Number),
        totalBytes: expect.any(Number),
        freeRatio: expect.any(Number),
      },
    })
    expect(await run(diskCheck({ path: '/no/such/dir' }))).toEqual(failure(/ENOENT/))
  })
})

describe('eventLoopCheck', () => {
  it('passes on an idle loop and fails after the loop was blocked past maxDelayMs', async () => {
    const health = createHealth({
      checks: {
        relaxed: eventLoopCheck({ maxDelayMs: 2000 }),
        strict: eventLoopCheck({ maxDelayMs: 100 }),
      },
      cacheMs: 0,
    })
    onTestFinished(() => health.close())
    await health.check()
    await sleep(50)
    expect((await health.check()).checks.relaxed).toEqual({
      ...PASS,
      details: { delayMs: expect.any(Number), percentile: 99, samples: expect.any(Number) },
    })
    // reset() makes the histogram skip its next sample: let one pass before blocking.
    await sleep(30)
    await immediate()
    const until = Date.now() + 400
    while (Date.now() < until);
    await sleep(30)
    expect((await health.check()).checks.strict).toEqual({
      ...failure(/^event-loop delay p99 is \d+(\.\d)? ms \(max 100 ms\)$/),
      details: { delayMs: expect.any(Number), percentile: 99, samples: expect.any(Number) },
    })
  })

  it('never passes on an empty window: the first check waits for a sample', async () => {
    const health = createHealth({ checks: { loop: eventLoopCheck() }, cacheMs: 0 })
    onTestFinished(() => health.close())
    const samples = [] as unknown[]
    for (let i = 0; i < 3; i++) {
      const result = (await health.check()).checks.loop
      samples.push((result?.details as { samples?: unknown } | undefined)?.samples)
    }
    expect(samples).toEqual([expect.any(Number), expect.any(Number), expect.any(Number)])
    expect(samples.every((count) => (count as number) >= 1)).toBe(true)
  })
})

describe('IETF componentType of every checker', () => {
  it('reports databases and caches as datastore, the process and host as system, upstreams as component', async () => {
    const ping = { ping: () => Promise.resolve('PONG'), call: () => Promise.resolve(['master']) }
    const sql = { query: () => Promise.resolve({ rows: [] }) }
    const admin = { command: () => Promise.resolve({ ok: 1 }) }
    const mongo = { db: () => admin }
    const connection = { readyState: 1, db: admin }
    const health = createHealth({
      checks: {
        redis: redisCheck(ping),
        redisRole: redisCheck(ping, { role: 'any' }),
        pg: pgCheck(sql),
        mysql: mysqlCheck(sql),
        mongo: mongoCheck(mongo),
        mongoose: mongooseCheck(connection),
        heap: heapCheck(),
        disk: diskCheck(),
        upstream: httpCheck('http://127.0.0.1:9/health'),
        custom: { check: () => Promise.resolve(), componentType: 'datastore' },
      },
      timeoutMs: 200,
      logger: false,
    })
    onTestFinished(() => health.close())
    const body = JSON.parse(
      (await health.answer('health', { accept: 'application/health+json' })).body,
    ) as { checks: Record<string, [{ componentType: string }]> }
    const types = Object.fromEntries(
      Object.entries(body.checks).map(([key, [entry]]) => [key, entry.componentType]),
    )
    expect(types).toEqual({
      'redis:responseTime': 'datastore',
      'redisRole:responseTime': 'datastore',
      'pg:responseTime': 'datastore',
      'mysql:responseTime': 'datastore',
      'mongo:responseTime': 'datastore',
      'mongoose:responseTime': 'datastore',
      'heap:utilization': 'system',
      'disk:free': 'system',
      'upstream:responseTime': 'component',
      'custom:responseTime': 'datastore',
    })
    expect(eventLoopCheck().componentType).toBe('system')
  })
})
