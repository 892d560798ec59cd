import {
  finiteNumber,
  integer,
  InvalidOptionError,
  milliseconds,
  oneOf,
  optional,
  optionsObject,
  plainObject,
  resolveLogger,
  shown,
  text,
  withMethods,
  type Logger,
  type LoggerOption,
} from '@uptimekit/internal'

/** The driver family of every node of a replica set. */
export type ReplicaSetKind = 'pg' | 'mysql'

/**
 * How `read()` spreads reads over the replicas in rotation: `'round-robin'` in turn,
 * `'random'` uniformly, `'least-busy'` to the replica with the fewest calls in flight (ties in turn).
 */
export type ReadStrategy = 'round-robin' | 'random' | 'least-busy'

/** The part of a pg `Pool` (or `Client`) the replica set uses: a promise `query`. */
export interface PgPoolLike {
  query(sql: string): Promise<unknown>
}

/**
 * The part of a mysql2 pool the replica set uses: a `mysql2/promise` pool's `query`, or a
 * callback pool's `promise()` wrapper.
 */
export type MysqlPoolLike = { query(sql: string): Promise<unknown> } | { promise(): unknown }

/** A node: the pool itself (named `node-1`, `node-2`... in order), or a pool with a name. */
export type ReplicaNodeOption<TPool> = TPool | { name: string; pool: TPool }

/** Options of `createReplicaSet()`. */
export interface ReplicaSetOptions<TPool> {
  /** The driver of every node: `'pg'` (pg pools) or `'mysql'` (mysql2 pools, MySQL or MariaDB). */
  kind: ReplicaSetKind
  /**
   * The nodes, in any order: each one's role is discovered and followed. Your own pools; the set
   * never ends them.
   */
  nodes: readonly ReplicaNodeOption<TPool>[]
  /**
   * Most replication lag a replica may have and stay in read rotation, in seconds. Unknown lag
   * (replication stopped, no link to the primary) counts as over it.
   * @default 5
   */
  maxLagSeconds?: number
  /**
   * For this long after a tracked caller wrote, in milliseconds, its reads go to the primary
   * (see `track()` and the Express/Fastify adapters).
   * @default 2000
   */
  readAfterWriteMs?: number
  /**
   * How often every node is asked its role and lag, in milliseconds. The timer is unref'd and
   * stopped by `close()`.
   * @default 1000
   */
  intervalMs?: number
  /**
   * Longest one role query may take before the node counts as down, in milliseconds.
   * @default the `intervalMs`
   */
  probeTimeoutMs?: number
  /**
   * How reads are spread over the replicas in rotation.
   * @default 'round-robin'
   */
  strategy?: ReadStrategy
  /**
   * Most reads in flight on the primary because no replica is within the lag bound (fallback
   * reads). Past it `read()` rejects at once with `UPTIMEKIT_REPLICA_FALLBACK_FULL` instead of
   * piling the replicas' whole load onto the primary. Reads that must see a write, and sets
   * whose only node is the primary, are not counted.
   * @default 10
   */
  maxFallbackReads?: number
  /**
   * Name of the set, in log lines, health details and metric labels.
   * @default 'default'
   */
  name?: string
  /**
   * Where role changes, failovers and fallback reads are logged: a pino-shaped logger, or
   * `false` for none.
   * @default one JSON line per event on stderr
   */
  logger?: LoggerOption
}

/** The defaults of every option; the README's options table mirrors this object. */
export const DEFAULTS: {
  readonly maxLagSeconds: 5
  readonly readAfterWriteMs: 2000
  readonly intervalMs: 1000
  readonly strategy: 'round-robin'
  readonly maxFallbackReads: 10
  readonly name: 'default'
} = Object.freeze({
  maxLagSeconds: 5,
  readAfterWriteMs: 2000,
  intervalMs: 1000,
  strategy: 'round-robin',
  maxFallbackReads: 10,
  name: 'default',
})

const KEYS = [
  'kind',
  'nodes',
  'maxLagSeconds',
  'readAfterWriteMs',
  'intervalMs',
  'probeTimeoutMs',
  'strategy',
  'maxFallbackReads',
  'name',
  'logger',
] as const

/** One node, decided. */
export interface ResolvedNode<TPool> {
  readonly name: string
  readonly pool: TPool
}

/** Every option decided and validated. */
export interface ResolvedOptions<TPool> {
  readonly kind: ReplicaSetKind
  readonly nodes: readonly ResolvedNode<TPool>[]
  readonly maxLagSeconds: number
  readonly readAfterWriteMs: number
  readonly intervalMs: number
  readonly probeTimeoutMs: number
  readonly strategy: ReadStrategy
  readonly maxFallbackReads: number
  readonly name: string
  readonly logger: Logger
}

const isNamed = (value: unknown): value is { name: unknown; pool: unknown } =>
  typeof value === 'object' && value !== null && 'pool' in value && 'name' in value

function resolveNode<TPool>(
  kind: ReplicaSetKind,
  value: unknown,
  index: number,
): ResolvedNode<TPool> {
  const option = `nodes[${index}]`
  const named = isNamed(value)
  const pool = named ? value.pool : value
  const name = named ? text(`${option}.name`, value.name) : `node-${index + 1}`
  if (kind === 'pg') {
    withMethods(option, pool, ['query'], 'must be a pg Pool (or { name, pool })')
  } else {
    const shaped = pool as Record<string, unknown> | null
    if (
      typeof shaped !== 'object' ||
      shaped === null ||
      (typeof shaped.query !== 'function' && typeof shaped.promise !== 'function')
    ) {
      throw new InvalidOptionError(option, 'must be a mysql2 pool (or { name, pool })', shown(pool))
    }
  }
  return { name, pool: pool as TPool }
}

/** Checks the options of `createReplicaSet()`; throws `InvalidOptionError` naming the option. */
export function resolveOptions<TPool>(options: ReplicaSetOptions<TPool>): ResolvedOptions<TPool> {
  const given = optionsObject('createReplicaSet', plainObject('options', options), KEYS)
  const kind = oneOf('kind', given.kind, ['pg', 'mysql'] as const)
  if (!Array.isArray(given.nodes) || given.nodes.length === 0) {
    throw new InvalidOptionError('nodes', 'must be a non-empty array of pools', shown(given.nodes))
  }
  const nodes = (given.nodes as unknown[]).map((node, i) => resolveNode<TPool>(kind, node, i))
  const names = new Set<string>()
  for (const { name } of nodes) {
    if (names.has(name))
      throw new InvalidOptionError('nodes', 'must have unique names', shown(name))
    names.add(name)
  }
  if (nodes.some((node, i) => nodes.findIndex((other) => other.pool === node.pool) !== i)) {
    throw new InvalidOptionError('nodes', 'must not hold the same pool twice', 'a repeated pool')
  }
  const intervalMs =
    optional(given.intervalMs, (v) => milliseconds('intervalMs', v, 10)) ?? DEFAULTS.intervalMs
  return {
    kind,
    nodes,
    maxLagSeconds:
      optional(given.maxLagSeconds, (v) => finiteNumber('maxLagSeconds', v, { min: 0 })) ??
      DEFAULTS.maxLagSeconds,
    readAfterWriteMs:
      optional(given.readAfterWriteMs, (v) => milliseconds('readAfterWriteMs', v, 0)) ??
      DEFAULTS.readAfterWriteMs,
    intervalMs,
    probeTimeoutMs:
      optional(given.probeTimeoutMs, (v) => milliseconds('probeTimeoutMs', v)) ?? intervalMs,
    strategy:
      optional(given.strategy, (v) =>
        oneOf('strategy', v, ['round-robin', 'random', 'least-busy'] as const),
      ) ?? DEFAULTS.strategy,
    maxFallbackReads:
      optional(given.maxFallbackReads, (v) => integer('maxFallbackReads', v, { min: 0 })) ??
      DEFAULTS.maxFallbackReads,
    name: optional(given.name, (v) => text('name', v)) ?? DEFAULTS.name,
    logger: resolveLogger('logger', given.logger, '@uptimekit/replicas'),
  }
}
