import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import mysql from 'mysql2'
import type { Pool, RowDataPacket } from 'mysql2/promise'
import { mysqlCheck } from '../src/checks/mysql.js'
import type { HealthCheck } from '../src/options.js'
import { needBinary } from '../../../test/support/binaries.js'
import {
  startMariadbCluster,
  type MariadbCluster,
} from '../../replicas/test/support/mariadb-cluster.js'

/** Runs a check the way the runner does: resolves to its details or rejects with its failure. */
const run = (check: HealthCheck): Promise<unknown> =>
  Promise.resolve(check(AbortSignal.timeout(10_000)))

/** The failure message of a check that must fail. */
const failureOf = (check: HealthCheck): Promise<string> =>
  run(check).then(
    (details) => {
      throw new Error(`expected the check to fail, it passed with ${JSON.stringify(details)}`)
    },
    (failure: Error) => failure.message,
  )

/** The seconds since the newest heartbeat row the server has: the lag a heartbeat measures. */
async function heartbeatLag(pool: Pool): Promise<number> {
  const [[row]] = await pool.query<RowDataPacket[]>(
    'SELECT TIMESTAMPDIFF(MICROSECOND, max(at), NOW(3)) / 1e6 AS lag FROM heartbeat',
  )
  return Number(row?.lag)
}

const mariadbReady = needBinary('mariadbd')

describe.runIf(mariadbReady)(
  'mysqlCheck with a role, on a MariaDB primary and a GTID replica',
  () => {
    let cluster: MariadbCluster
    let primary: Pool
    let replica: Pool
    beforeAll(async () => {
      cluster = await startMariadbCluster(1)
      primary = cluster.primary.admin
      replica = cluster.replicas[0]!.admin
      await primary.query('CREATE TABLE heartbeat (at timestamp(3) NOT NULL)')
      await primary.query('INSERT INTO heartbeat VALUES (NOW(3))')
      await cluster.caughtUp()
    }, 60_000)
    afterAll(() => cluster?.close())

    it('reports the primary as a writable primary and fails it as a replica', async () => {
      const expected = { role: 'primary', writable: true, lagSeconds: 0, link: null }
      expect(await run(mysqlCheck(primary, { role: 'primary' }))).toEqual(expected)
      expect(await run(mysqlCheck(primary, { role: 'any', maxLagSeconds: 1 }))).toEqual(expected)
      expect(await failureOf(mysqlCheck(primary, { role: 'replica' }))).toBe(
        'expected a replica, node is primary, writable',
      )
    })

    it('reports a replica with both threads running, through either mysql2 flavour', async () => {
      const expected = { role: 'replica', writable: false, lagSeconds: 0, link: 'up' }
      expect(await run(mysqlCheck(replica, { role: 'replica', maxLagSeconds: 5 }))).toEqual(
        expected,
      )
      const callback = mysql.createPool({
        host: '127.0.0.1',
        port: cluster.replicas[0]!.port,
        user: 'root',
        connectionLimit: 1,
      })
      onTestFinished(() => new Promise<void>((resolve) => callback.end(() => resolve())))
      expect(await run(mysqlCheck(callback, { role: 'replica', maxLagSeconds: 5 }))).toEqual(
        expected,
      )
      expect(await failureOf(mysqlCheck(replica, { role: 'primary' }))).toBe(
        'expected a writable primary, node is replica, read-only, link up, lag 0',
      )
    })

    it('reads Seconds_Behind_Master within a second of a heartbeat while the SQL thread is held', async () => {
      // A global read lock on the replica holds its SQL thread at the next event while the
      // primary keeps writing heartbeats: the lag grows as a stuck replica's would.
      const lock = await replica.getConnection()
      let writing = true
      const writer = (async () => {
        while (writing) {
          await primary.query('INSERT INTO heartbeat VALUES (NOW(3))')
          await sleep(20)
        }
      })()
      onTestFinished(async () => {
        writing = false
        await writer
        await lock.query('UNLOCK TABLES')
        lock.release()
        await cluster.caughtUp()
      })
      await sleep(300)
      await lock.query('FLUSH TABLES WITH READ LOCK')
      await sleep(3000)
      const check = mysqlCheck(replica, { role: 'replica', maxLagSeconds: 1 })
      const before = await heartbeatLag(replica)
      const error = await failureOf(check)
      const after = await heartbeatLag(replica)
      expect(error).toMatch(
        /^replica lag \d+ s is over maxLagSeconds 1 \(replica, read-only, link up/,
      )
      const reported = Number(/replica lag (\d+) s/.exec(error)?.[1])
      // The heartbeat read just before and just after the check bracket the true lag; whole
      // seconds (Seconds_Behind_Master) stay within a second of it.
      expect(before).toBeGreaterThan(2)
      expect(reported).toBeGreaterThanOrEqual(before - 1)
      expect(reported).toBeLessThanOrEqual(after + 1)
    })

    it('counts a stopped SQL thread as unknown lag, and stopped replication as no replica', async () => {
      const admin = cluster.replicas[0]!.admin
      onTestFinished(async () => {
        await admin.query('START SLAVE')
        await cluster.caughtUp()
      })
      await admin.query('STOP SLAVE SQL_THREAD')
      expect(await run(mysqlCheck(replica, { role: 'replica' }))).toEqual({
        role: 'replica',
        writable: false,
        lagSeconds: null,
        link: 'up',
      })
      expect(await failureOf(mysqlCheck(replica, { role: 'replica', maxLagSeconds: 60 }))).toBe(
        'replica lag is unknown, counted as lagging (replica, read-only, link up, lag unknown)',
      )
      await admin.query('STOP SLAVE')
      // Read-only with no replication running: neither a primary nor a replica.
      expect(await run(mysqlCheck(replica, { role: 'any' }))).toEqual({
        role: 'unknown',
        writable: false,
        lagSeconds: null,
        link: null,
      })
      expect(await failureOf(mysqlCheck(replica, { role: 'replica' }))).toBe(
        'expected a replica, node is unknown, read-only',
      )
      expect(await failureOf(mysqlCheck(replica, { role: 'primary' }))).toBe(
        'expected a writable primary, node is unknown, read-only',
      )
    })

    it('reports the link down once the primary is gone, then the promoted replica as primary', async () => {
      await cluster.primary.stop()
      let details: { link?: string } | undefined
      // The IO thread sees the closed connection at once and goes back to Connecting.
      for (let i = 0; i < 100 && details?.link !== 'down'; i++) {
        details = (await run(mysqlCheck(replica, { role: 'replica' }))) as typeof details
        if (details?.link !== 'down') await sleep(100)
      }
      expect(details).toEqual({ role: 'replica', writable: false, lagSeconds: null, link: 'down' })
      expect(await failureOf(mysqlCheck(replica, { role: 'replica', maxLagSeconds: 60 }))).toBe(
        'replica lag is unknown, counted as lagging (replica, read-only, link down, lag unknown)',
      )
      await cluster.replicas[0]!.promote()
      expect(await run(mysqlCheck(replica, { role: 'primary', maxLagSeconds: 1 }))).toEqual({
        role: 'primary',
        writable: true,
        lagSeconds: 0,
        link: null,
      })
    }, 30_000)
  },
)
