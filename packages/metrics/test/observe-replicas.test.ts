import * as promClient from 'prom-client'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import {
  observeReplicas,
  type ReplicaChangeLike,
  type ReplicaNodeLike,
} from '../src/observe-replicas.js'
import { createReplicaSet } from '../../replicas/src/index.js'
import { startPgCluster, type PgCluster } from '../../replicas/test/support/pg-cluster.js'
import { needBinary } from '../../../test/support/binaries.js'
import { parseSamples } from './prom-text.js'

const pgReady = needBinary('/usr/lib/postgresql/15/bin/initdb')

const node = (name: string, fields: Partial<ReplicaNodeLike> = {}): ReplicaNodeLike => ({
  name,
  role: 'replica',
  state: 'serving',
  lagSeconds: 0.5,
  inFlight: 0,
  reads: 0,
  writes: 0,
  ...fields,
})

function fakeSet(name: string, nodes: ReplicaNodeLike[]) {
  const listeners = new Set<(change: ReplicaChangeLike) => void>()
  return {
    name,
    nodes,
    snapshot: () => [...nodes],
    onChange(listener: (change: ReplicaChangeLike) => void) {
      listeners.add(listener)
      return () => void listeners.delete(listener)
    },
    emit: (change: ReplicaChangeLike) => listeners.forEach((listener) => listener(change)),
    listeners,
  }
}

/** `[labels joined by a space, value]` of every sample of `metric`. */
const compact = (text: string, metric: string) =>
  parseSamples(text)
    .filter((s) => s.name === metric)
    .map((s) => [Object.values(s.labels).join(' '), s.value])

describe('observeReplicas', () => {
  it('exports each node role, state, lag, calls, and the primary changes at scrape time', async () => {
    const registry = new promClient.Registry()
    const db = fakeSet('orders', [
      node('db1', { role: 'primary', lagSeconds: null, inFlight: 2, writes: 7, reads: 1 }),
      node('db2', { reads: 5 }),
      node('db3', { state: 'lagging', lagSeconds: null, reads: 2 }),
    ])
    observeReplicas(db, { registry })
    db.emit({ type: 'primary' })
    db.emit({ type: 'node' })
    db.emit({ type: 'fallback', active: true })
    const text = await registry.metrics()
    expect(compact(text, 'replica_node_role')).toEqual([
      ['orders db1 primary', 1],
      ['orders db1 replica', 0],
      ['orders db1 unknown', 0],
      ['orders db2 primary', 0],
      ['orders db2 replica', 1],
      ['orders db2 unknown', 0],
      ['orders db3 primary', 0],
      ['orders db3 replica', 1],
      ['orders db3 unknown', 0],
    ])
    expect(compact(text, 'replica_node_state').filter(([, v]) => v === 1)).toEqual([
      ['orders db1 serving', 1],
      ['orders db2 serving', 1],
      ['orders db3 lagging', 1],
    ])
    expect(compact(text, 'replica_node_state')).toHaveLength(12)
    expect(compact(text, 'replica_node_lag_seconds')).toEqual([['orders db2', 0.5]])
    expect(compact(text, 'replica_node_in_flight')).toEqual([
      ['orders db1', 2],
      ['orders db2', 0],
      ['orders db3', 0],
    ])
    expect(compact(text, 'replica_node_reads_total')).toEqual([
      ['orders db1', 1],
      ['orders db2', 5],
      ['orders db3', 2],
    ])
    expect(compact(text, 'replica_node_writes_total')).toEqual([
      ['orders db1', 7],
      ['orders db2', 0],
      ['orders db3', 0],
    ])
    expect(compact(text, 'replica_primary_changes_total')).toEqual([['orders', 1]])
    expect(compact(text, 'replica_fallback')).toEqual([['orders', 1]])
    db.emit({ type: 'fallback', active: false })
    expect(compact(await registry.metrics(), 'replica_fallback')).toEqual([['orders', 0]])
  })

  it('counts from zero again after registry.resetMetrics()', async () => {
    const registry = new promClient.Registry()
    const db = fakeSet('default', [node('a', { reads: 10 })])
    observeReplicas(db, { registry })
    db.emit({ type: 'primary' })
    registry.resetMetrics()
    db.nodes[0] = node('a', { reads: 13 })
    const text = await registry.metrics()
    expect(compact(text, 'replica_node_reads_total')).toEqual([['default a', 3]])
    expect(compact(text, 'replica_primary_changes_total')).toEqual([['default', 0]])
  })

  it('shares the metrics between sets, and stops exporting one when told to', async () => {
    const registry = new promClient.Registry()
    const a = fakeSet('a', [node('n')])
    const stop = observeReplicas(a, { registry, prefix: 'app_' })
    observeReplicas(fakeSet('b', [node('n')]), { registry, prefix: 'app_' })
    expect(() => observeReplicas(fakeSet('b', []), { registry, prefix: 'app_' })).toThrow(
      '`db` must have a name unique among observed replica sets (got "b")',
    )
    stop()
    expect(a.listeners.size).toBe(0)
    expect(compact(await registry.metrics(), 'app_replica_node_in_flight')).toEqual([['b n', 0]])
  })

  it('registers all or none, and rejects what is not a replica set', () => {
    const registry = new promClient.Registry()
    registry.registerMetric(
      new promClient.Gauge({ name: 'replica_fallback', help: 'x', registers: [] }),
    )
    expect(() => observeReplicas(fakeSet('a', []), { registry })).toThrow(
      'already holds another metric named `replica_fallback`',
    )
    expect(registry.getSingleMetric('replica_node_role')).toBeUndefined()
    expect(() => observeReplicas({} as never, { registry })).toThrow(
      '`db` must have snapshot() and onChange() methods (got an object)',
    )
  })

  describe.runIf(pgReady)('over a real replica set', () => {
    let cluster: PgCluster
    beforeAll(async () => {
      cluster = await startPgCluster(1)
    }, 60_000)
    afterAll(async () => {
      await cluster?.close()
    })

    it('reads @uptimekit/replicas: roles, states, lag, reads and writes per node', async () => {
      const db = createReplicaSet({
        kind: 'pg',
        nodes: [
          { name: 'p', pool: cluster.primary.pool({ max: 2 }) },
          { name: 'r', pool: cluster.replicas[0]!.pool({ max: 2 }) },
        ],
        intervalMs: 200,
        logger: false,
      })
      onTestFinished(() => db.close())
      const registry = new promClient.Registry()
      observeReplicas(db, { registry })
      await db.refresh()
      await db.write((pool) => pool.query('SELECT 1'))
      for (let i = 0; i < 3; i++) await db.read((pool) => pool.query('SELECT 1'))
      const text = await registry.metrics()
      expect(compact(text, 'replica_node_role').filter(([, v]) => v === 1)).toEqual([
        ['default p primary', 1],
        ['default r replica', 1],
      ])
      expect(compact(text, 'replica_node_state').filter(([, v]) => v === 1)).toEqual([
        ['default p serving', 1],
        ['default r serving', 1],
      ])
      // pg reports 0 on a primary.
      expect(compact(text, 'replica_node_lag_seconds')).toEqual([
        ['default p', 0],
        ['default r', expect.any(Number)],
      ])
      expect(compact(text, 'replica_node_writes_total')).toEqual([
        ['default p', 1],
        ['default r', 0],
      ])
      expect(compact(text, 'replica_node_reads_total')).toEqual([
        ['default p', 0],
        ['default r', 3],
      ])
      // The first round found the primary: one change, from none to p.
      expect(compact(text, 'replica_primary_changes_total')).toEqual([['default', 1]])
    }, 30_000)
  })
})
