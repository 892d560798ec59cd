import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { Pool, RowDataPacket } from 'mysql2/promise'
import { createReplicaSet, type ReplicaSet } from '../src/index.js'
import { needBinary } from '../../../test/support/binaries.js'
import { nextChange } from './support/next-change.js'
import {
  startMariadbCluster,
  type MariadbCluster,
  type MariadbServer,
} from './support/mariadb-cluster.js'

const mariadbReady = needBinary('mariadbd')

/** The port of the server a pool's query ran on, which names the node. */
const portOf = async (pool: Pool): Promise<number> =>
  Number((await pool.query<RowDataPacket[]>('SELECT @@port AS port'))[0][0]?.port)

/** How many of `ports` name each port. */
const tally = (ports: readonly number[]): Record<number, number> => {
  const counts: Record<number, number> = {}
  for (const port of ports) counts[port] = (counts[port] ?? 0) + 1
  return counts
}

describe.runIf(mariadbReady)(
  'a mysql replica set over a MariaDB primary and two GTID replicas',
  () => {
    let cluster: MariadbCluster
    let db: ReplicaSet<Pool>
    let primary: Pool
    beforeAll(async () => {
      cluster = await startMariadbCluster(2)
      primary = cluster.primary.pool({ connectionLimit: 10 })
      await primary.query('CREATE TABLE items (id int AUTO_INCREMENT PRIMARY KEY, at timestamp(3))')
      await cluster.caughtUp()
      db = createReplicaSet({
        kind: 'mysql',
        // Any order: roles are discovered, not configured.
        nodes: [
          { name: 'r1', pool: cluster.replicas[0]!.pool({ connectionLimit: 10 }) },
          { name: 'p', pool: primary },
          { name: 'r2', pool: cluster.replicas[1]!.pool({ connectionLimit: 10 }) },
        ],
        intervalMs: 200,
        maxLagSeconds: 1,
        logger: false,
      })
    }, 60_000)
    afterAll(async () => {
      db?.close()
      await cluster?.close()
    })

    it('discovers each role, writes on the primary and spreads reads over both replicas', async () => {
      await db.refresh()
      expect(
        db.snapshot().map(({ name, role, writable, lagSeconds, link, state }) => ({
          name,
          role,
          writable,
          lagSeconds,
          link,
          state,
        })),
      ).toEqual([
        {
          name: 'r1',
          role: 'replica',
          writable: false,
          lagSeconds: 0,
          link: 'up',
          state: 'serving',
        },
        { name: 'p', role: 'primary', writable: true, lagSeconds: 0, link: null, state: 'serving' },
        {
          name: 'r2',
          role: 'replica',
          writable: false,
          lagSeconds: 0,
          link: 'up',
          state: 'serving',
        },
      ])
      expect(await db.write(portOf)).toBe(cluster.primary.port)
      await db.write((pool) => pool.query('INSERT INTO items (at) VALUES (NOW(3))'))
      const ports = await Promise.all(Array.from({ length: 20 }, () => db.read(portOf)))
      expect(tally(ports)).toEqual({
        [cluster.replicas[0]!.port]: 10,
        [cluster.replicas[1]!.port]: 10,
      })
      expect(await db.healthCheck()()).toMatchObject({ primary: 'p', fallback: false })
    })

    it('takes a replica whose SQL thread is held out of read rotation within two intervals of passing the bound', async () => {
      const admin = cluster.replicas[0]!.admin
      const lock = await admin.getConnection()
      let writing = true
      const writer = (async () => {
        while (writing) {
          await primary.query('INSERT INTO items (at) VALUES (NOW(3))')
          await sleep(20)
        }
      })()
      onTestFinished(async () => {
        writing = false
        await writer
        const back = nextChange(db, (c) => c.type === 'node' && c.node === 'r1')
        await lock.query('UNLOCK TABLES')
        lock.release()
        expect(await back).toMatchObject({ state: 'serving', previousState: 'lagging' })
        await cluster.caughtUp()
      })
      const lagging = nextChange(db, (c) => c.type === 'node' && c.node === 'r1')
      await lock.query('FLUSH TABLES WITH READ LOCK')
      const heldAt = Date.now()
      // Seconds_Behind_Master counts whole seconds of event time: it passes maxLagSeconds (1)
      // 1 to 2 s after the hold; rounds started before that cannot have seen it.
      await sleep(2000 - (Date.now() - heldAt))
      const roundsBefore = db.rounds
      const change = await lagging
      expect(change).toEqual({
        type: 'node',
        node: 'r1',
        role: 'replica',
        state: 'lagging',
        previousRole: 'replica',
        previousState: 'serving',
        round: expect.any(Number),
      })
      expect(change.round - roundsBefore).toBeLessThanOrEqual(2)
      const ports = await Promise.all(Array.from({ length: 10 }, () => db.read(portOf)))
      expect(tally(ports)).toEqual({ [cluster.replicas[1]!.port]: 10 })
    })

    it('takes a replica out of read rotation at the next round once its replication stops', async () => {
      const admin = cluster.replicas[0]!.admin
      onTestFinished(async () => {
        // Its IO thread may still be connecting at the first round after the start: wait for serving.
        const back = nextChange(
          db,
          (c) => c.type === 'node' && c.node === 'r1' && c.state === 'serving',
        )
        await admin.query('START SLAVE')
        await back
        await cluster.caughtUp()
      })
      const sqlStopped = nextChange(db, (c) => c.type === 'node' && c.node === 'r1')
      await admin.query('STOP SLAVE SQL_THREAD')
      let roundsBefore = db.rounds
      // Unknown lag counts as lagging: the first round that starts after the stop sees it.
      const lagging = await sqlStopped
      expect(lagging).toMatchObject({ role: 'replica', state: 'lagging' })
      expect(lagging.round - roundsBefore).toBeLessThanOrEqual(1)
      expect(db.snapshot()[0]).toMatchObject({ lagSeconds: null, link: 'up' })

      const stopped = nextChange(db, (c) => c.type === 'node' && c.node === 'r1')
      await admin.query('STOP SLAVE')
      roundsBefore = db.rounds
      // Read-only and not replicating: neither primary nor replica, out of every rotation.
      const unknown = await stopped
      expect(unknown).toMatchObject({ role: 'unknown', state: 'unknown', previousState: 'lagging' })
      expect(unknown.round - roundsBefore).toBeLessThanOrEqual(1)
      const ports = await Promise.all(Array.from({ length: 10 }, () => db.read(portOf)))
      expect(tally(ports)).toEqual({ [cluster.replicas[1]!.port]: 10 })
    })

    it('fails over: no write reaches a read-only node, and writes follow the promoted replica within two intervals', async () => {
      const refusedReadOnly: unknown[] = []
      const outcomes: { ok: boolean; round: number }[] = []
      let writing = true
      const writer = (async () => {
        while (writing) {
          try {
            await db.write((pool) => pool.query('INSERT INTO items (at) VALUES (NOW(3))'))
            outcomes.push({ ok: true, round: db.rounds })
          } catch (error) {
            if ((error as { code?: string }).code === 'ER_OPTION_PREVENTS_STATEMENT') {
              refusedReadOnly.push(error)
            }
            outcomes.push({ ok: false, round: db.rounds })
          }
          await sleep(5)
        }
      })()
      onTestFinished(async () => {
        writing = false
        await writer
      })
      const writesOn = (name: string): number => db.snapshot().find((n) => n.name === name)!.writes
      // Each replica's write count when the set makes r2 the primary: writes sent to it before.
      let writesBeforePromotion: Record<string, number> | undefined
      const stopWatching = db.onChange((c) => {
        if (c.type === 'primary' && c.to === 'r2') {
          writesBeforePromotion = { r1: writesOn('r1'), r2: writesOn('r2') }
        }
      })
      onTestFinished(stopWatching)

      const noPrimary = nextChange(db, (c) => c.type === 'primary' && c.to === null)
      // Their primary gone, the replicas' IO threads reconnect: link down, lag unknown.
      const outOfRotation = ['r1', 'r2'].map((name) =>
        nextChange(db, (c) => c.type === 'node' && c.node === name && c.state === 'lagging'),
      )
      await cluster.primary.stop()
      expect(await noPrimary).toEqual({
        type: 'primary',
        from: 'p',
        to: null,
        round: expect.any(Number),
      })
      await expect(db.write(portOf)).rejects.toMatchObject({ code: 'UPTIMEKIT_NO_PRIMARY' })
      await Promise.all(outOfRotation)
      await expect(db.read(portOf)).rejects.toMatchObject({ code: 'UPTIMEKIT_NO_READABLE_NODE' })

      const promotedSeen = nextChange(db, (c) => c.type === 'primary' && c.to === 'r2')
      await cluster.replicas[1]!.promote()
      const roundsAtPromotion = db.rounds
      const change = await promotedSeen
      // Detected by the first round that started after the promotion: within one interval.
      expect(change.round - roundsAtPromotion).toBeLessThanOrEqual(1)
      const before = outcomes.length
      while (outcomes.slice(before).filter((o) => o.ok).length < 5) await sleep(10)
      const firstOk = outcomes.slice(before).find((o) => o.ok)!
      // The writer's first successful write after the promotion came within two rounds of it.
      expect(firstOk.round - roundsAtPromotion).toBeLessThanOrEqual(2)
      expect(await db.write(portOf)).toBe(cluster.replicas[1]!.port)
      expect(writesBeforePromotion).toEqual({ r1: 0, r2: 0 })
      expect(writesOn('r1')).toBe(0)
      expect(refusedReadOnly).toEqual([])
      const sinceFirstOk = outcomes.slice(outcomes.indexOf(firstOk))
      expect(sinceFirstOk.every((o) => o.ok)).toBe(true)
    }, 30_000)
  },
)

describe.runIf(mariadbReady)('a planned MariaDB switchover under a steady writer', () => {
  let cluster: MariadbCluster
  beforeAll(async () => {
    cluster = await startMariadbCluster(1)
    await cluster.primary.admin.query('CREATE TABLE items (id int AUTO_INCREMENT PRIMARY KEY)')
    await cluster.caughtUp()
  }, 60_000)
  afterAll(() => cluster?.close())

  it('drops the demoted primary, refuses at most one write, and writes on the promoted replica within two intervals', async () => {
    const [oldPrimary, replica] = cluster.servers as [MariadbServer, MariadbServer]
    const db = createReplicaSet({
      kind: 'mysql',
      nodes: [
        { name: 'a', pool: oldPrimary.pool({ connectionLimit: 4 }) },
        { name: 'b', pool: replica.pool({ connectionLimit: 4 }) },
      ],
      intervalMs: 200,
      logger: false,
    })
    onTestFinished(() => db.close())
    await db.refresh()
    const outcomes: { port: number | string; round: number }[] = []
    let writing = true
    const writer = (async () => {
      while (writing) {
        const port = await db
          .write(async (pool) => {
            await pool.query('INSERT INTO items () VALUES ()')
            return portOf(pool)
          })
          .catch((error: { code?: string }) => error.code ?? 'error')
        outcomes.push({ port, round: db.rounds })
        await sleep(5)
      }
    })()
    onTestFinished(async () => {
      writing = false
      await writer
    })
    while (outcomes.length < 5) await sleep(10)

    const noPrimary = nextChange(db, (c) => c.type === 'primary' && c.to === null)
    await oldPrimary.admin.query('SET GLOBAL read_only = 1')
    expect(await noPrimary).toMatchObject({ from: 'a', to: null })

    await replica.catchUp(oldPrimary)
    const promotedSeen = nextChange(db, (c) => c.type === 'primary' && c.to === 'b')
    await replica.promote()
    const roundsAtPromotion = db.rounds
    expect((await promotedSeen).round - roundsAtPromotion).toBeLessThanOrEqual(1)
    const demotedFollows = nextChange(
      db,
      (c) => c.type === 'node' && c.node === 'a' && c.role === 'replica' && c.state === 'serving',
    )
    await oldPrimary.follow(replica)
    await demotedFollows

    const before = outcomes.length
    while (outcomes.slice(before).filter((o) => o.port === replica.port).length < 5) {
      await sleep(10)
    }
    const after = outcomes.slice(before)
    const firstOk = after.find((o) => o.port === replica.port)!
    expect(firstOk.round - roundsAtPromotion).toBeLessThanOrEqual(2)
    // Every write after the promotion was seen landed on the new primary, and none was refused.
    expect(after.every((o) => o.port === replica.port)).toBe(true)
    // One sequential writer: at most the write in flight at the demotion was refused, since the
    // node leaves the primary seat on its first refusal.
    const refused = outcomes.filter((o) => o.port === 'ER_OPTION_PREVENTS_STATEMENT')
    expect(refused.length).toBeLessThanOrEqual(1)
    expect(db.snapshot().map(({ name, role, state }) => ({ name, role, state }))).toEqual([
      { name: 'a', role: 'replica', state: 'serving' },
      { name: 'b', role: 'primary', state: 'serving' },
    ])
  })
})
