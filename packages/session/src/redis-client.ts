import {
  InvalidOptionError,
  optionsObject,
  resolveLogger,
  shown,
  type LoggerOption,
} from '@uptimekit/internal'
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis'
import { logClusterOutages, logOutages } from './outage-log.js'

/** Options for {@link createRedisClient} beyond the connection target. */
export interface CreateRedisClientOptions {
  /**
   * Where connection outages are logged: one `error` line when Redis (or a cluster node) becomes
   * unreachable and one `info` line when it is back, never one per reconnect attempt or request.
   * Never includes passwords. `false` for silence.
   * @default one JSON line per event on stderr
   */
  logger?: LoggerOption
}

/**
 * A Redis Cluster: its seed nodes under `cluster`, and any ioredis `ClusterOptions` beside them
 * (`natMap`, `scaleReads`, `slotsRefreshTimeout`, `slotsRefreshInterval`, `redisOptions` for the
 * password or TLS …), which win over {@link CLUSTER_DEFAULTS}.
 */
export interface ClusterTarget extends ClusterOptions {
  /** Seed nodes, `{ host, port }` each; the rest of the cluster is discovered from them. */
  cluster: ClusterNode[]
}

/**
 * The connection target: a `redis://` or `rediss://` (TLS) URL, ioredis options (Sentinel:
 * `{ sentinels: [{ host, port }], name, password, sentinelPassword }`), or a {@link ClusterTarget}.
 */
export type RedisTarget = string | RedisOptions | ClusterTarget

/** The ioredis classes a client is made from (the `ioredis` module, 5 or 6). */
export interface IoredisModule {
  readonly Redis: typeof Redis
  readonly Cluster: typeof Cluster
}

/** Longest pause between reconnect attempts, in milliseconds: Redis is back in use within it. */
export const MAX_RECONNECT_DELAY_MS = 1000

/** Capped exponential backoff with jitter: 50, 100, 200 … ms, never above {@link MAX_RECONNECT_DELAY_MS}. */
function backoff(attempt: number): number {
  const ceiling = Math.min(MAX_RECONNECT_DELAY_MS, 50 * 2 ** Math.min(attempt, 10))
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2))
}

/**
 * The defaults we apply under your options: fail fast while disconnected instead of queueing,
 * time commands out, reconnect quickly forever, and follow a Sentinel failover.
 */
export const CLIENT_DEFAULTS: Readonly<RedisOptions> = Object.freeze({
  connectTimeout: 5000,
  commandTimeout: 1000,
  // ioredis would otherwise queue commands while disconnected, and let requests hang for tens of seconds.
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  keepAlive: 10_000,
  retryStrategy: backoff,
  sentinelRetryStrategy: backoff,
  // After a failover the old master comes back as a replica: reconnect to the new master and resend.
  reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 2 : false),
  failoverDetector: true,
})

// A node's command deadline must outlast a failover's retries, or a command sent to a dying master
// times out before the promoted replica could answer it.
const COMMAND_TIMEOUT_MS = 15_000

/**
 * The defaults under a cluster's options. A master failover takes a few seconds (the
 * cluster-node-timeout, then the replica's election), and ioredis' own defaults (16 redirections
 * 100 ms apart) give up on a command after about 1.6 s of it: ours retry a command on a closed
 * node or CLUSTERDOWN for up to about 12 s, and the session deadline (`unavailableTimeoutMs`) is
 * what decides how long a request waits.
 */
export const CLUSTER_DEFAULTS: Readonly<ClusterOptions> = Object.freeze({
  enableOfflineQueue: false,
  clusterRetryStrategy: backoff,
  maxRedirections: 60,
  retryDelayOnFailover: 200,
  retryDelayOnClusterDown: 200,
  retryDelayOnTryAgain: 100,
  slotsRefreshTimeout: 1000,
  redisOptions: Object.freeze({
    connectTimeout: 2000,
    commandTimeout: COMMAND_TIMEOUT_MS,
    keepAlive: 10_000,
  }),
})

function describeTarget(target: RedisTarget): string {
  if (typeof target === 'string') {
    const url = new URL(target)
    return `${url.protocol}//${url.host}`
  }
  if ('cluster' in target) {
    const seeds = target.cluster.map((node) => {
      if (typeof node !== 'object') return String(node)
      return `${node.host ?? '127.0.0.1'}:${node.port ?? 6379}`
    })
    return `cluster ${seeds.join(',')}`
  }
  if (target.sentinels !== undefined) return `sentinel master "${target.name ?? ''}"`
  return `${target.host ?? '127.0.0.1'}:${target.port ?? 6379}`
}

function checkUrl(target: string): void {
  let protocol: string
  try {
    protocol = new URL(target).protocol
  } catch {
    throw new InvalidOptionError(
      'url',
      'must be a redis:// or rediss:// URL',
      'a string that is not a URL',
    )
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new InvalidOptionError('url', 'must be a redis:// or rediss:// URL', `a ${protocol} URL`)
  }
}

function checkTarget(target: unknown): void {
  if (typeof target === 'string') return checkUrl(target)
  if (typeof target !== 'object' || target === null || Array.isArray(target)) {
    throw new InvalidOptionError(
      'url',
      'must be a redis:// or rediss:// URL or an options object',
      shown(target),
    )
  }
  const { sentinels, name, cluster } = target as RedisOptions & { cluster?: unknown }
  if (cluster !== undefined) {
    const valid =
      Array.isArray(cluster) &&
      cluster.length > 0 &&
      cluster.every((node) => typeof node === 'object' && node !== null)
    if (!valid) {
      throw new InvalidOptionError(
        'cluster',
        'must be a non-empty array of { host, port }',
        Array.isArray(cluster) ? 'an empty array' : shown(cluster),
      )
    }
    return
  }
  if (sentinels === undefined) return
  if (!Array.isArray(sentinels) || sentinels.length === 0) {
    throw new InvalidOptionError(
      'sentinels',
      'must be a non-empty array of { host, port }',
      Array.isArray(sentinels) ? 'an empty array' : shown(sentinels),
    )
  }
  if (typeof name !== 'string' || name === '') {
    throw new InvalidOptionError('name', 'must name the Sentinel master group', shown(name))
  }
}

/**
 * `quit()` sends QUIT, which a client that never connected cannot send ("Stream isn't writeable")
 * while it keeps reconnecting, so the process never exits. Ours disconnects such a client instead.
 */
function quitEvenIfNotConnected<T extends Redis | Cluster>(client: T): T {
  // The client's own quit, taken before ours replaces it (calling client.quit() would call ours).
  const quit: () => Promise<'OK'> = client.quit.bind(client)
  const safeQuit = (): Promise<'OK'> => {
    if (client.status === 'ready') return quit()
    if (client.status === 'end') return Promise.resolve('OK')
    const ended = new Promise<'OK'>((resolve) => client.once('end', () => resolve('OK')))
    client.disconnect()
    return ended
  }
  Object.defineProperty(client, 'quit', { value: safeQuit, configurable: true, writable: true })
  return client
}

/**
 * {@link createRedisClient} on the ioredis classes given (the `ioredis` module, or another major
 * of it loaded side by side).
 */
export function createRedisClientWith(
  ioredis: IoredisModule,
  target: RedisTarget,
  options: CreateRedisClientOptions = {},
): Redis | Cluster {
  checkTarget(target)
  const checked = optionsObject('createRedisClient', options, ['logger'])
  const logger = resolveLogger('logger', checked.logger, '@uptimekit/session')
  const where = describeTarget(target)
  if (typeof target === 'object' && 'cluster' in target) {
    const { cluster: nodes, ...clusterOptions } = target
    const cluster = new ioredis.Cluster(nodes, {
      ...CLUSTER_DEFAULTS,
      ...clusterOptions,
      redisOptions: { ...CLUSTER_DEFAULTS.redisOptions, ...clusterOptions.redisOptions },
    })
    logClusterOutages(cluster, where, logger)
    return quitEvenIfNotConnected(cluster)
  }
  const redis =
    typeof target === 'string'
      ? new ioredis.Redis(target, CLIENT_DEFAULTS)
      : new ioredis.Redis({ ...CLIENT_DEFAULTS, ...target })
  logOutages(redis, where, logger)
  return quitEvenIfNotConnected(redis)
}

/**
 * Creates an ioredis client with production defaults ({@link CLIENT_DEFAULTS} or
 * {@link CLUSTER_DEFAULTS}, overridable by your options): commands fail at once while
 * disconnected and time out, reconnects back off up to 1 s and never stop, a Sentinel or Cluster
 * failover is followed, an `error` listener logs each outage once (so an unreachable Redis never
 * crashes the process), and `quit()` ends a client that never connected.
 *
 * @example
 * const redis = createRedisClient(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { logger })
 * const ha = createRedisClient({ sentinels: [{ host: 'sentinel-0', port: 26379 }], name: 'mymaster' })
 * const cluster = createRedisClient({ cluster: [{ host: 'redis-0', port: 6379 }] })
 */
export function createRedisClient(
  target: string | RedisOptions,
  options?: CreateRedisClientOptions,
): Redis
export function createRedisClient(
  target: ClusterTarget,
  options?: CreateRedisClientOptions,
): Cluster
export function createRedisClient(
  target: RedisTarget,
  options?: CreateRedisClientOptions,
): Redis | Cluster
export function createRedisClient(
  target: RedisTarget,
  options: CreateRedisClientOptions = {},
): Redis | Cluster {
  return createRedisClientWith({ Redis, Cluster }, target, options)
}
