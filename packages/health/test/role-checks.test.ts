import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { Redis } from 'ioredis'
import type { Pool } from 'pg'
import { pgCheck } from '../src/checks/pg.js'
import { redisCheck } from '../src/checks/redis.js'
import { mongoCheck } from '../src/checks/mongo.js'
import { mongooseCheck } from '../src/checks/mongoose.js'
import type { HealthCheck } from '../src/options.js'
import { needBinary } from '../../../test/support/binaries.js'
import {
  keepWriting,
  startPgCluster,
  type PgCluster,
} from '../../replicas/test/support/pg-cluster.js'
import { startRedis } from '../../session/test/redis-server.js'

/** Runs a check the way the runner does: resolves to its details or rejects with its failure. */
const run = (check: HealthCheck): Promise<unknown> =>
  Promise.resolve(check(AbortSignal.timeout(10_000)))

const pgReady = needBinary('/usr/lib/postgresql/15/bin/initdb')
const redisReady = needBinary('redis-server')

/** The seconds since the newest heartbeat row the server has: the lag a heartbeat measures. */
async function heartbeatLag(pool: Pool): Promise<number> {
  const { rows } = await pool.query<{ lag: number }>(
    'SELECT EXTRACT(EPOCH FROM clock_timestamp() - max(at))::float8 AS lag FROM heartbeat',
  )
  return Number(rows[0]?.lag)
}

describe.runIf(pgReady)('pgCheck with a role, on a primary and two streaming replicas', () => {
  let cluster: PgCluster
  beforeAll(async () => {
    cluster = await startPgCluster(2)
    await cluster.primary.admin.query('CREATE TABLE heartbeat (at timestamptz NOT NULL)')
    await cluster.primary.admin.query('INSERT INTO heartbeat VALUES (clock_timestamp())')
  }, 60_000)
  afterAll(() => cluster?.close())

  it('reports the primary as a writable primary and fails it as a replica', async () => {
    const pool = cluster.primary.admin
    const primary = { role: 'primary', writable: true, lagSeconds: 0, link: null }
    expect(await run(pgCheck(pool, { role: 'primary' }))).toEqual(primary)
    expect(await run(pgCheck(pool, { role: 'any' }))).toEqual(primary)
    await expect(run(pgCheck(pool, { role: 'replica' }))).rejects.toThrow(
      'expected a replica, node is primary, writable',
    )
  })

  it('reports a replica with its link up, and fails it as a primary', async () => {
    const pool = cluster.replicas[0]!.admin
    expect(await run(pgCheck(pool, { role: 'replica', maxLagSeconds: 5 }))).toEqual({
      role: 'replica',
      writable: false,
      lagSeconds: expect.any(Number),
      link: 'up',
    })
    await expect(run(pgCheck(pool, { role: 'primary' }))).rejects.toThrow(
      /^expected a writable primary, node is replica, read-only, link up/,
    )
  })

  it('keeps lag near 0 on a replica of an idle primary, where replay timestamps grow old', async () => {
    const replica = cluster.replicas[0]!.admin
    await sleep(2500)
    const details = (await run(pgCheck(replica, { role: 'replica' }))) as { lagSeconds: number }
    const naive = await replica.query<{ lag: number }>(
      'SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 AS lag',
    )
    // The naive query reads the idle time as lag; the check, like the heartbeat, does not.
    expect(Number(naive.rows[0]?.lag)).toBeGreaterThan(2)
    expect(details.lagSeconds).toBe(0)
  })

  it('measures lag within a second of a heartbeat while a busy primary writes and replay is paused', async () => {
    const primary = cluster.primary.admin
    const replica = cluster.replicas[1]!.admin
    const stopWriting = keepWriting(primary, 'INSERT INTO heartbeat VALUES (clock_timestamp())', 20)
    onTestFinished(async () => {
      await stopWriting()
      await replica.query('SELECT pg_wal_replay_resume()')
    })
    const check = pgCheck(replica, { role: 'replica', maxLagSeconds: 2 })
    await sleep(300)
    const busy = (await run(check)) as { lagSeconds: number }
    expect(Math.abs(busy.lagSeconds - (await heartbeatLag(replica)))).toBeLessThanOrEqual(1)

    await replica.query('SELECT pg_wal_replay_pause()')
    await sleep(3000)
    const pausedLag = await heartbeatLag(replica)
    const error = await run(check).then(
      () => undefined,
      (failure: Error) => failure.message,
    )
    const reported = Number(/replica lag ([\d.]+) s/.exec(error ?? '')?.[1])
    expect(error).toMatch(/^replica lag [\d.]+ s is over maxLagSeconds 2 \(replica, read-only/)
    expect(Math.abs(reported - pausedLag)).toBeLessThanOrEqual(1)
  })

  it('counts unknown lag as lagging once the replica loses its primary', async () => {
    await cluster.primary.stop()
    const replica = cluster.replicas[0]!.admin
    let details: { link: string; lagSeconds: number | null } | undefined
    // The WAL receiver notices a stopped primary within wal_receiver_timeout (2 s here).
    for (let i = 0; i < 100; i++) {
      details = (await run(pgCheck(replica, { role: 'replica' }))) as typeof details
      if (details?.link === 'down') break
      await sleep(100)
    }
    expect(details).toEqual({ role: 'replica', writable: false, lagSeconds: null, link: 'down' })
    await expect(run(pgCheck(replica, { role: 'replica', maxLagSeconds: 60 }))).rejects.toThrow(
      'replica lag is unknown, counted as lagging (replica, read-only, link down, lag unknown)',
    )
  }, 30_000)

  it('reports a promoted replica as the primary', async () => {
    const promoted = cluster.replicas[1]!
    await promoted.promote()
    expect(await run(pgCheck(promoted.admin, { role: 'primary' }))).toEqual({
      role: 'primary',
      writable: true,
      lagSeconds: 0,
      link: null,
    })
  })
})

describe('role options', () => {
  const pool = { query: () => Promise.resolve({ rows: [] }) }
  it('rejects an unknown role, a negative lag and an unknown key, naming the option', () => {
    expect(() => pgCheck(pool, { role: 'leader' as never })).toThrow(
      "`role` must be one of 'primary', 'replica', 'any' (got \"leader\")",
    )
    expect(() => pgCheck(pool, { maxLagSeconds: -1 })).toThrow(
      '`maxLagSeconds` must be a finite number at least 0 (got -1)',
    )
    expect(() => pgCheck(pool, { maxLag: 5 } as never)).toThrow(
      /^`maxLag` is not an option of pgCheck; did you mean `maxLagSeconds`\?/,
    )
    expect(() =>
      redisCheck({ ping: () => Promise.resolve('PONG') }, { role: 'x' as never }),
    ).toThrow("`role` must be one of 'primary', 'replica', 'any' (got \"x\")")
  })
})

describe.runIf(redisReady)('redisCheck with a role, on a master and its replica', () => {
  it('reports the master, the replica with its link, and the link going down', async () => {
    const master = await startRedis()
    onTestFinished(() => master.stop())
    const replica = await startRedis({ args: ['--replicaof', '127.0.0.1', `${master.port}`] })
    onTestFinished(() => replica.stop())
    const toMaster = new Redis(master.url)
    const toReplica = new Redis(replica.url)
    onTestFinished(() => {
      toMaster.disconnect()
      toReplica.disconnect()
    })
    expect(await run(redisCheck(toMaster, { role: 'primary' }))).toEqual({
      role: 'primary',
      writable: true,
      link: null,
    })
    await expect(run(redisCheck(toMaster, { role: 'replica' }))).rejects.toThrow(
      'expected a replica, server is a primary',
    )
    let details: unknown
    for (let i = 0; i < 100; i++) {
      details = await run(redisCheck(toReplica, { role: 'any' }))
      if ((details as { link: string }).link === 'up') break
      await sleep(50)
    }
    expect(details).toEqual({ role: 'replica', writable: false, link: 'up' })
    expect(await run(redisCheck(toReplica, { role: 'replica' }))).toEqual(details)
    await expect(run(redisCheck(toReplica, { role: 'primary' }))).rejects.toThrow(
      'expected a primary, server is a replica (link up)',
    )
    await master.stop()
    await expect(run(redisCheck(toReplica, { role: 'replica' }))).rejects.toThrow(
      'replica link to its primary is down (master_link_status:down)',
    )
  })
})

describe('mongoCheck and mongooseCheck with a role (hello replies, no server here)', () => {
  // Replies as a replica-set member gives them; a real server is used when MONGO_URL is set.
  const member = (hello: object, status?: object) => ({
    command: (command: Record<string, unknown>) =>
      'hello' in command
        ? Promise.resolve(hello)
        : status === undefined
          ? Promise.reject(new Error('not authorized on admin to execute replSetGetStatus'))
          : Promise.resolve(status),
  })
  const client = (db: ReturnType<typeof member>) => ({ db: () => db })

  it('reads the writable primary and a secondary with its lag from replSetGetStatus', async () => {
    const primary = member({ isWritablePrimary: true, secondary: false })
    expect(await run(mongoCheck(client(primary), { role: 'primary' }))).toEqual({
      role: 'primary',
      writable: true,
      lagSeconds: 0,
      link: null,
    })
    const secondary = member(
      { isWritablePrimary: false, secondary: true, primary: 'db1:27017' },
      {
        members: [
          { stateStr: 'PRIMARY', optimeDate: new Date('2026-01-01T00:00:10Z') },
          { self: true, stateStr: 'SECONDARY', optimeDate: new Date('2026-01-01T00:00:07Z') },
        ],
      },
    )
    expect(await run(mongoCheck(client(secondary), { role: 'replica', maxLagSeconds: 5 }))).toEqual(
      { role: 'replica', writable: false, lagSeconds: 3, link: 'up' },
    )
    await expect(
      run(mongoCheck(client(secondary), { role: 'replica', maxLagSeconds: 2 })),
    ).rejects.toThrow('replica lag 3 s is over maxLagSeconds 2')
  })

  it('counts a refused replSetGetStatus as unknown lag, and checks mongoose through admin()', async () => {
    const secondary = member({ secondary: true, primary: 'db1:27017' })
    const connection = { readyState: 1, db: { ...secondary, admin: () => secondary } }
    await expect(
      run(mongooseCheck(connection, { role: 'replica', maxLagSeconds: 5 })),
    ).rejects.toThrow('replica lag is unknown, counted as lagging')
    expect(await run(mongooseCheck(connection, { role: 'replica' }))).toEqual({
      role: 'replica',
      writable: false,
      lagSeconds: null,
      link: 'up',
    })
  })

  it.runIf(process.env.MONGO_URL !== undefined)('reads a real member at MONGO_URL', async () => {
    const { MongoClient } = await import('mongodb')
    const real = new MongoClient(process.env.MONGO_URL as string)
    onTestFinished(() => real.close())
    expect(await run(mongoCheck(real, { role: 'any' }))).toMatchObject({
      role: expect.stringMatching(/^(primary|replica|unknown)$/),
      writable: expect.any(Boolean),
    })
  })
})
