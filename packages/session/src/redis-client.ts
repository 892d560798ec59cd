import { Redis, type RedisOptions } from 'ioredis'
import { InvalidOptionError } from './errors.js'
import { isLogger, stderrLogger, type Logger } from './logger.js'
import { redactCredentials } from './redact-credentials.js'

/** Options for {@link createRedisClient} beyond the connection target. */
export interface CreateRedisClientOptions {
  /**
   * Where connection outages are logged: one `error` line when Redis becomes unreachable and one
   * `info` line when it is back, never one per reconnect attempt or request. Never includes
   * passwords.
   * @default a logger writing warn/error JSON lines to stderr
   */
  logger?: Logger
}

/**
 * The connection target: a `redis://` or `rediss://` (TLS) URL, or ioredis options. Sentinel:
 * `{ sentinels: [{ host, port }], name, password, sentinelPassword }`.
 */
export type RedisTarget = string | RedisOptions

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
export const CLIENT_DEFAULTS: RedisOptions = {
  connectTimeout: 5000,
  commandTimeout: 1000,
  // ioredis would otherwise queue commands while disconnected, and let requests hang for tens of seconds.
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  keepAlive: 10_000,
  retryStrategy: backoff,
  sentinelRetryStrategy: backoff,
  // After a failover the old master comes back as a replica: reconnect to the new master and resend.
  reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
  failoverDetector: true,
}

function describeTarget(target: RedisTarget): string {
  if (typeof target === 'string') {
    const url = new URL(target)
    return `${url.protocol}//${url.host}`
  }
  if (target.sentinels !== undefined) return `sentinel master "${target.name ?? ''}"`
  return `${target.host ?? '127.0.0.1'}:${target.port ?? 6379}`
}

function checkTarget(target: unknown): void {
  if (typeof target === 'string') {
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
      throw new InvalidOptionError(
        'url',
        'must be a redis:// or rediss:// URL',
        `a ${protocol} URL`,
      )
    }
    return
  }
  if (typeof target !== 'object' || target === null) {
    throw new InvalidOptionError(
      'url',
      'must be a redis:// or rediss:// URL or an options object',
      typeof target,
    )
  }
  const { sentinels, name } = target as RedisOptions
  if (sentinels === undefined) return
  if (!Array.isArray(sentinels) || sentinels.length === 0) {
    throw new InvalidOptionError(
      'sentinels',
      'must be a non-empty array of { host, port }',
      Array.isArray(sentinels) ? 'an empty array' : typeof sentinels,
    )
  }
  if (typeof name !== 'string' || name === '') {
    throw new InvalidOptionError('name', 'must name the Sentinel master group', typeof name)
  }
}

/**
 * Creates an ioredis client with production defaults ({@link CLIENT_DEFAULTS}, overridable by
 * your options): commands fail at once while disconnected and time out after 1 s, reconnects
 * back off up to 1 s and never stop, a Sentinel failover is followed, and an `error` listener
 * logs each outage once, so an unreachable Redis never crashes the process.
 *
 * @example
 * const redis = createRedisClient(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { logger })
 * const ha = createRedisClient({ sentinels: [{ host: 'sentinel-0', port: 26379 }], name: 'mymaster' })
 */
export function createRedisClient(
  target: RedisTarget,
  options: CreateRedisClientOptions = {},
): Redis {
  checkTarget(target)
  const logger = options.logger ?? stderrLogger('@uptimekit/session')
  if (!isLogger(logger)) {
    throw new InvalidOptionError('logger', 'must have info, warn and error methods', typeof logger)
  }
  const redis =
    typeof target === 'string'
      ? new Redis(target, CLIENT_DEFAULTS)
      : new Redis({ ...CLIENT_DEFAULTS, ...target })
  const where = describeTarget(target)
  let outageSince: number | undefined
  redis.on('error', (err: Error & { code?: string }) => {
    if (outageSince !== undefined) return
    outageSince = Date.now()
    logger.error(
      { redis: where, err: { message: redactCredentials(err.message), code: err.code } },
      'redis unavailable; reconnecting with backoff',
    )
  })
  redis.on('ready', () => {
    if (outageSince === undefined) return
    logger.info({ redis: where, downtimeMs: Date.now() - outageSince }, 'redis available again')
    outageSince = undefined
  })
  return redis
}
