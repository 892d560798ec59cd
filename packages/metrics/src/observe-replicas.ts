import { InvalidOptionError, optionsObject, shown } from '@uptimekit/internal'
import { metricView, registerViews, type MetricView } from './metric-view.js'
import { checkPrefix, checkRegistry } from './options.js'
import type { RegistryLike, SampleValue } from './prom-client.js'

/** One node as a replica set's `snapshot()` gives it (structural: `@uptimekit/replicas` fits). */
export interface ReplicaNodeLike {
  /** The node's name: the `node` label. */
  readonly name: string
  /** `primary`, `replica` or `unknown`. */
  readonly role: string
  /** `serving`, `lagging`, `down` or `unknown`. */
  readonly state: string
  /** Replication lag in seconds; `null` when unknown (no sample is exported then). */
  readonly lagSeconds: number | null
  /** Calls running on it now. */
  readonly inFlight: number
  /** Reads sent to it since the set was created. */
  readonly reads: number
  /** Writes sent to it since the set was created. */
  readonly writes: number
}

/** A change as a replica set's `onChange()` reports it; only `type` and `active` are read. */
export interface ReplicaChangeLike {
  readonly type: string
  readonly active?: boolean
}

/** The shape of a replica set this package reads: `name`, `snapshot()` and `onChange()`. */
export interface ObservableReplicas {
  /** The set's name: the `set` label, unique per registry. */
  readonly name: string
  /** Every node, now. */
  snapshot(): readonly ReplicaNodeLike[]
  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: (change: ReplicaChangeLike) => void): () => void
}

/** Options of {@link observeReplicas}. */
export interface ObserveReplicasOptions {
  /** The registry to export to, e.g. `metrics.registry`. */
  registry: RegistryLike
  /**
   * Prefix of the metric names.
   * @default ''
   */
  prefix?: string
}

const ROLES = ['primary', 'replica', 'unknown'] as const
const STATES = ['serving', 'lagging', 'down', 'unknown'] as const
const REPLICAS_KEY = Symbol.for('uptimekit.metrics.replicas')

type Counted = 'reads' | 'writes'

interface Observed {
  db: ObservableReplicas
  /** Primary changes heard since the last `registry.resetMetrics()`. */
  primaryChanges: number
  /** Whether reads fall back to the primary, as the last fallback change said. */
  fallback: boolean
  /** Counts at the last `registry.resetMetrics()`, per node, subtracted when read. */
  base: Map<string, Record<Counted, number>>
}

type ReplicasView = MetricView & { [REPLICAS_KEY]?: Map<string, Observed> }

function setsIn(registry: RegistryLike, prefix: string): Map<string, Observed> {
  const roleName = `${prefix}replica_node_role`
  const found = (registry.getSingleMetric(roleName) as ReplicasView | undefined)?.[REPLICAS_KEY]
  if (found !== undefined) return found
  const observed = new Map<string, Observed>()
  const each = (read: (set: string, o: Observed, n: ReplicaNodeLike) => SampleValue[]) => () => {
    const out: SampleValue[] = []
    for (const [set, o] of observed) for (const n of o.db.snapshot()) out.push(...read(set, o, n))
    return out
  }
  const perSet = (read: (set: string, o: Observed) => number) => () =>
    [...observed].map(([set, o]) => ({ labels: { set }, value: read(set, o) }))
  const counter = (field: Counted, metric: string, help: string): MetricView =>
    metricView(
      `${prefix}${metric}`,
      help,
      'counter',
      each((set, o, n) => [
        { labels: { set, node: n.name }, value: n[field] - (o.base.get(n.name)?.[field] ?? 0) },
      ]),
      () => {
        for (const o of observed.values()) {
          o.base = new Map(
            o.db.snapshot().map((n) => [n.name, { reads: n.reads, writes: n.writes }]),
          )
        }
      },
    )
  const role: ReplicasView = metricView(
    roleName,
    'Replica set node role: 1 for the current role (primary, replica, unknown), 0 for the others',
    'gauge',
    each((set, _o, n) =>
      ROLES.map((r) => ({ labels: { set, node: n.name, role: r }, value: r === n.role ? 1 : 0 })),
    ),
  )
  role[REPLICAS_KEY] = observed
  registerViews(registry, [
    role,
    metricView(
      `${prefix}replica_node_state`,
      'Replica set node state: 1 for the current state (serving, lagging, down, unknown), 0 for the others',
      'gauge',
      each((set, _o, n) =>
        STATES.map((s) => ({
          labels: { set, node: n.name, state: s },
          value: s === n.state ? 1 : 0,
        })),
      ),
    ),
    metricView(
      `${prefix}replica_node_lag_seconds`,
      'Replication lag of each replica at its last role query, in seconds (absent while unknown)',
      'gauge',
      each((set, _o, n) =>
        n.lagSeconds === null ? [] : [{ labels: { set, node: n.name }, value: n.lagSeconds }],
      ),
    ),
    metricView(
      `${prefix}replica_node_in_flight`,
      'Calls running on each node of a replica set',
      'gauge',
      each((set, _o, n) => [{ labels: { set, node: n.name }, value: n.inFlight }]),
    ),
    counter('reads', 'replica_node_reads_total', 'Reads sent to each node of a replica set'),
    counter('writes', 'replica_node_writes_total', 'Writes sent to each node of a replica set'),
    metricView(
      `${prefix}replica_primary_changes_total`,
      'Times the primary of a replica set changed (to another node, or to none)',
      'counter',
      perSet((_set, o) => o.primaryChanges),
      () => {
        for (const o of observed.values()) o.primaryChanges = 0
      },
    ),
    metricView(
      `${prefix}replica_fallback`,
      '1 while no replica is within the lag bound and reads fall back to the primary, else 0',
      'gauge',
      perSet((_set, o) => (o.fallback ? 1 : 0)),
    ),
  ])
  return observed
}

/**
 * Exports a replica set, read from `snapshot()` at scrape time:
 * `replica_node_role{set,node,role}` and `replica_node_state{set,node,state}` (1 for the current
 * one), `replica_node_lag_seconds`, `replica_node_in_flight`, the counters
 * `replica_node_reads_total` and `replica_node_writes_total`, and from `onChange()`
 * `replica_primary_changes_total{set}` and `replica_fallback{set}`. Several sets share the
 * metrics, told apart by their `name`.
 *
 * @returns a function that unsubscribes and stops exporting this set
 */
export function observeReplicas(
  db: ObservableReplicas,
  options: ObserveReplicasOptions,
): () => void {
  const shaped = db as Partial<ObservableReplicas> | null
  if (typeof shaped?.snapshot !== 'function' || typeof shaped.onChange !== 'function') {
    throw new InvalidOptionError('db', 'must have snapshot() and onChange() methods', shown(db))
  }
  if (typeof shaped.name !== 'string' || shaped.name === '') {
    throw new InvalidOptionError('db', 'must have a non-empty string name', shown(shaped.name))
  }
  const o = optionsObject('observeReplicas', options, ['registry', 'prefix'])
  const registry = checkRegistry(o.registry)
  const observed = setsIn(registry, checkPrefix(o.prefix))
  const name = db.name
  if (observed.has(name)) {
    throw new InvalidOptionError(
      'db',
      'must have a name unique among observed replica sets',
      JSON.stringify(name),
    )
  }
  const entry: Observed = { db, primaryChanges: 0, fallback: false, base: new Map() }
  const unsubscribe = db.onChange((change) => {
    if (change.type === 'primary') entry.primaryChanges++
    else if (change.type === 'fallback') entry.fallback = change.active === true
  })
  observed.set(name, entry)
  return () => {
    unsubscribe()
    if (observed.get(name) === entry) observed.delete(name)
  }
}
