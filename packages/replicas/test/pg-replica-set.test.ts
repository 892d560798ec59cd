import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import type { Pool } from 'pg'
import { createReplicaSet, type ReplicaSet } from '../src/index.js'
import { needBinary } from '../../../test/support/binaries.js'
import { nextChange } from './support/next-change.js'
import { keepWriting, startPgCluster, type PgCluster } from './support/pg-cluster.js'

const pgReady = needBinary('/usr/lib/postgresql/15/bin/initdb')

/** The port of the server a pool's query ran on, which names the node. */
const portOf = async (pool: Pool): Promise<number> =>
  (await pool.query<{ port: number }>('SELECT inet_server_port() AS port')).rows[0]!.port

describe.runIf(pgReady)('a pg replica set over a primary and two streaming replicas', () => {
  let cluster: PgCluster
  let db: ReplicaSet<Pool>
  let primary: Pool
  let replica1: Pool
  let replica2: Pool
  beforeAll(async () => {
    cluster = await startPgCluster(2)
    primary = cluster.primary.pool({ max: 20 })
    replica1 = cluster.replicas[0]!.pool({ max: 20 })
    replica2 = cluster.replicas[1]!.pool({ max: 20 })
    await primary.query('CREATE TABLE items (id serial PRIMARY KEY, at timestamptz NOT NULL)')
    db = createReplicaSet({
      kind: 'pg',
      // Any order: roles are discovered, not configured.
      nodes: [
        { name: 'r1', pool: replica1 },
        { name: 'p', pool: primary },
        { name: 'r2', pool: replica2 },
      ],
      intervalMs: 200,
      maxLagSeconds: 1,
      maxFallbackReads: 2,
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
      db.snapshot().map(({ name, role, state, link }) => ({ name, role, state, link })),
    ).toEqual([
      { name: 'r1', role: 'replica', state: 'serving', link: 'up' },
      { name: 'p', role: 'primary', state: 'serving', link: null },
      { name: 'r2', role: 'replica', state: 'serving', link: 'up' },
    ])
    expect(await db.write(portOf)).toBe(cluster.primary.port)
    const ports = await Promise.all(Array.from({ length: 20 }, () => db.read(portOf)))
    const counts = new Map<number, number>()
    for (const port of ports) counts.set(port, (counts.get(port) ?? 0) + 1)
    expect(Object.fromEntries(counts)).toEqual({
      [cluster.replicas[0]!.port]: 10,
      [cluster.replicas[1]!.port]: 10,
    })
    expect(await db.healthCheck()()).toEqual({
      primary: 'p',
      fallback: false,
      nodes: db.snapshot(),
    })
  })

  it('reads from the primary after a write in the same tracked caller', async () => {
    const tracking: { wroteAt?: number } = {}
    const port = await db.track(tracking, async () => {
      await db.write((pool) => pool.query('INSERT INTO items (at) VALUES (now())'))
      return db.read(portOf)
    })
    expect(port).toBe(cluster.primary.port)
    expect(tracking.wroteAt).toEqual(expect.any(Number))
    expect(await db.read(portOf, { primary: true })).toBe(cluster.primary.port)
  })

  it('takes a paused replica out of read rotation within two intervals of passing the bound', async () => {
    onTestFinished(keepWriting(primary, 'INSERT INTO items (at) VALUES (clock_timestamp())'))
    await replica1.query('SELECT pg_wal_replay_pause()')
    const pausedAt = Date.now()
    onTestFinished(async () => {
      await replica1.query('SELECT pg_wal_replay_resume()')
      await nextChange(db, (c) => c.type === 'node' && c.node === 'r1' && c.state === 'serving')
    })
    const lagging = nextChange(db, (c) => c.type === 'node' && c.node === 'r1')
    // The rounds started before the lag passed maxLagSeconds (1 s) cannot have seen it.
    await sleep(1000 - (Date.now() - pausedAt))
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
    expect(new Set(ports)).toEqual(new Set([cluster.replicas[1]!.port]))
  })

  it('falls back to the primary when every replica lags, capped at maxFallbackReads', async () => {
    onTestFinished(keepWriting(primary, 'INSERT INTO items (at) VALUES (clock_timestamp())'))
    const fallback = nextChange(db, (c) => c.type === 'fallback')
    await replica1.query('SELECT pg_wal_replay_pause()')
    await replica2.query('SELECT pg_wal_replay_pause()')
    onTestFinished(async () => {
      const back = nextChange(db, (c) => c.type === 'fallback')
      await replica1.query('SELECT pg_wal_replay_resume()')
      await replica2.query('SELECT pg_wal_replay_resume()')
      expect(await back).toEqual({ type: 'fallback', active: false, round: expect.any(Number) })
    })
    expect(await fallback).toEqual({ type: 'fallback', active: true, round: expect.any(Number) })
    const slow = (pool: Pool) => pool.query('SELECT pg_sleep(0.3)').then(() => portOf(pool))
    const reads = await Promise.allSettled([db.read(slow), db.read(slow), db.read(slow)])
    expect(
      reads.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
    ).toEqual([
      cluster.primary.port,
      cluster.primary.port,
      'replica set "default": no replica is within the lag bound and 2 fallback reads already run on the primary',
    ])
    expect(await db.healthCheck()()).toMatchObject({ primary: 'p', fallback: true })
  })

  it('fails over: no write reaches a node in recovery, and writes follow the promoted replica within two intervals', async () => {
    const refusedReadOnly: unknown[] = []
    // Each outcome with the discovery rounds started when it settled.
    const outcomes: { outcome: string; round: number }[] = []
    let writing = true
    const writer = (async () => {
      while (writing) {
        try {
          await db.write((pool) => pool.query('INSERT INTO items (at) VALUES (now())'))
          outcomes.push({ outcome: 'ok', round: db.rounds })
        } catch (error) {
          const code = (error as { code?: string }).code
          if (code === '25006') refusedReadOnly.push(error)
          outcomes.push({ outcome: code ?? 'error', round: db.rounds })
        }
        await sleep(5)
      }
    })()
    onTestFinished(async () => {
      writing = false
      await writer
    })
    const writesOn = (name: string): number => db.snapshot().find((n) => n.name === name)!.writes
    // The replicas' write counts at the moment the set makes r2 the primary: every write sent to
    // either while it was in recovery.
    let writesInRecovery: Record<string, number> | undefined
    onTestFinished(
      db.onChange((c) => {
        if (c.type === 'primary' && c.to === 'r2') {
          writesInRecovery = { r1: writesOn('r1'), r2: writesOn('r2') }
        }
      }),
    )
    const noPrimary = nextChange(db, (c) => c.type === 'primary' && c.to === null)
    await cluster.primary.stop()
    expect(await noPrimary).toEqual({
      type: 'primary',
      from: 'p',
      to: null,
      round: expect.any(Number),
    })
    // With no primary, write() answers at once instead of waiting.
    await expect(db.write(portOf)).rejects.toMatchObject({
      code: 'UPTIMEKIT_NO_PRIMARY',
      message: 'replica set "default" has no reachable writable primary',
    })
    await expect(db.healthCheck()()).rejects.toMatchObject({ code: 'UPTIMEKIT_NO_PRIMARY' })
    const promotedSeen = nextChange(db, (c) => c.type === 'primary' && c.to === 'r2')
    await cluster.replicas[1]!.promote()
    const roundsAtPromotion = db.rounds
    const change = await promotedSeen
    // Detected by the first round that started after the promotion: within one interval.
    expect(change.round - roundsAtPromotion).toBeLessThanOrEqual(1)
    const before = outcomes.length
    while (outcomes.slice(before).filter((o) => o.outcome === 'ok').length < 5) await sleep(10)
    const firstOk = outcomes.slice(before).find((o) => o.outcome === 'ok')!
    // The failover window, counted in rounds rather than timed: the writer's first successful
    // write after the promotion settled within two rounds of it.
    expect(firstOk.round - roundsAtPromotion).toBeLessThanOrEqual(2)
    expect(await db.write(portOf)).toBe(cluster.replicas[1]!.port)
    expect(writesInRecovery).toEqual({ r1: 0, r2: 0 })
    expect(writesOn('r1')).toBe(0)
    expect(refusedReadOnly).toEqual([])
    const sinceFirstOk = outcomes.slice(outcomes.indexOf(firstOk))
    expect(sinceFirstOk.every((o) => o.outcome === 'ok')).toBe(true)
  }, 30_000)
})
