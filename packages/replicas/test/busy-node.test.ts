import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { createReplicaSet, type ReplicaSetChange } from '../src/index.js'
import { needBinary } from '../../../test/support/binaries.js'
import { nextChange } from './support/next-change.js'
import { startPgCluster, type PgCluster } from './support/pg-cluster.js'
import { startTcpProxy } from './support/tcp-proxy.js'

const pgReady = needBinary('/usr/lib/postgresql/15/bin/initdb')

/** A logger that keeps its warnings. */
function warnings() {
  const lines: { details: Record<string, unknown>; message: string }[] = []
  const keep = (details: object, message: string) =>
    void lines.push({ details: details as Record<string, unknown>, message })
  return { lines, logger: { info: () => {}, warn: keep, error: () => {} } }
}

/** Runs `calls` loops of `call` until the returned function is called; it resolves to the errors. */
function keepCalling(calls: number, call: () => Promise<unknown>): () => Promise<string[]> {
  const errors: string[] = []
  let running = true
  const loops = Array.from({ length: calls }, async () => {
    while (running) {
      try {
        await call()
      } catch (error) {
        errors.push((error as Error).message)
        // A rejection at once (no primary) must not spin without letting timers run.
        await sleep(5)
      }
    }
  })
  return async () => {
    running = false
    await Promise.all(loops)
    return errors
  }
}

describe.runIf(pgReady)('a node whose role query is late', () => {
  let cluster: PgCluster
  beforeAll(async () => {
    cluster = await startPgCluster(1)
  }, 60_000)
  afterAll(async () => {
    await cluster?.close()
  })

  it('keeps its role while its own pool is saturated and its calls complete', async () => {
    const { lines, logger } = warnings()
    // Four connections each, twenty callers each: the role query waits in the pool's queue
    // behind about sixteen 100 ms statements, well past its 100 ms deadline, while calls
    // complete about every 25 ms.
    const db = createReplicaSet({
      kind: 'pg',
      nodes: [
        { name: 'p', pool: cluster.primary.pool({ max: 4 }) },
        { name: 'r', pool: cluster.replicas[0]!.pool({ max: 4 }) },
      ],
      intervalMs: 100,
      logger,
    })
    onTestFinished(() => db.close())
    await db.refresh()
    expect(db.snapshot().map((n) => [n.name, n.role, n.state])).toEqual([
      ['p', 'primary', 'serving'],
      ['r', 'replica', 'serving'],
    ])
    const changes: ReplicaSetChange[] = []
    onTestFinished(db.onChange((change) => changes.push(change)))
    const roundsBefore = db.rounds
    const stopWrites = keepCalling(20, () => db.write((pool) => pool.query('SELECT pg_sleep(0.1)')))
    const stopReads = keepCalling(20, () => db.read((pool) => pool.query('SELECT pg_sleep(0.1)')))
    // Both nodes' role queries have been late for some rounds (each logs once per stretch).
    while (lines.length < 2 || db.rounds - roundsBefore < 10) await sleep(50)
    const writesBefore = db.snapshot()[0]!.writes
    await sleep(500)
    expect(db.snapshot()[0]!.writes).toBeGreaterThan(writesBefore)
    expect(await stopWrites()).toEqual([])
    expect(await stopReads()).toEqual([])
    expect(changes).toEqual([])
    expect(db.snapshot().map((n) => [n.name, n.role, n.state])).toEqual([
      ['p', 'primary', 'serving'],
      ['r', 'replica', 'serving'],
    ])
    expect(lines.map((line) => line.details.node).sort()).toEqual(['p', 'r'])
    expect(lines[0]).toEqual({
      details: {
        set: 'default',
        node: expect.any(String),
        probeTimeoutMs: 100,
        completedCalls: expect.any(Number),
      },
      message: expect.stringMatching(
        /^role query of node [pr] is late while its calls complete: it keeps its last role$/,
      ),
    })
  }, 30_000)

  it('goes down when it hangs: its calls stop completing, even with callers waiting', async () => {
    const proxy = await startTcpProxy(cluster.primary.port)
    onTestFinished(() => proxy.close())
    const { logger } = warnings()
    const db = createReplicaSet({
      kind: 'pg',
      nodes: [
        { name: 'p', pool: cluster.primary.pool({ port: proxy.port, max: 4 }) },
        { name: 'r', pool: cluster.replicas[0]!.pool({ max: 4 }) },
      ],
      intervalMs: 100,
      logger,
    })
    onTestFinished(() => db.close())
    await db.refresh()
    const stopWrites = keepCalling(8, () => db.write((pool) => pool.query('SELECT 1')))
    onTestFinished(async () => {
      proxy.thaw()
      await stopWrites()
    })
    while (db.snapshot()[0]!.writes < 50) await sleep(10)
    const down = nextChange(db, (c) => c.type === 'primary' && c.to === null)
    proxy.freeze()
    expect(await down).toEqual({ type: 'primary', from: 'p', to: null, round: expect.any(Number) })
    expect(db.snapshot()[0]).toMatchObject({
      name: 'p',
      state: 'down',
      error: 'no answer within 100 ms',
    })
    await expect(db.write((pool) => pool.query('SELECT 1'))).rejects.toMatchObject({
      code: 'UPTIMEKIT_NO_PRIMARY',
    })
    // Answering again, it is the primary again.
    const back = nextChange(db, (c) => c.type === 'primary' && c.to === 'p')
    proxy.thaw()
    expect(await back).toEqual({ type: 'primary', from: null, to: 'p', round: expect.any(Number) })
  }, 30_000)
})
