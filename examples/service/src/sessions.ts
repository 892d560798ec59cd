// Where sessions live: Redis (shared by every instance, survives restarts),
// or, for a laptop without Redis, memory. Falling back to memory is allowed
// only with SESSION_STORE=auto outside production; in production the service
// keeps Redis and lets /ready and the session routes say 503 until it is back.
import { connect } from 'node:net'
import type { ExampleLogger as Logger } from './logger.js'
import { createRedisClient } from '@uptimekit/session'
import type { Config } from './config.js'
import { redact } from './config.js'

/** The Redis client sessions use (ioredis, from `createRedisClient`). */
export type SessionRedis = ReturnType<typeof createRedisClient>

/** Where sessions live. */
export type SessionStoreChoice =
  | { kind: 'redis'; redis: SessionRedis; where: string }
  | { kind: 'memory'; where: string; reason: string }

/** How long `auto` waits for Redis to accept a connection before falling back to memory. */
const PROBE_MS = 1000

/** Whether something accepts TCP connections at the Redis URL's host and port. */
function reachable(redisUrl: string, withinMs: number): Promise<boolean> {
  const { hostname, port } = new URL(redisUrl)
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port || 6379) })
    const done = (up: boolean): void => {
      socket.destroy()
      resolve(up)
    }
    socket.setTimeout(withinMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/** Closes a client whether or not it is connected: QUIT when it can, else just disconnect. */
export async function closeRedis(redis: SessionRedis): Promise<void> {
  if (redis.status === 'ready') await redis.quit()
  else redis.disconnect()
}

/** Opens the session store the configuration asks for. */
export async function openSessionStore(
  config: Config,
  logger: Logger,
): Promise<SessionStoreChoice> {
  if (config.sessionStore === 'memory') {
    logger.warn({}, 'SESSION_STORE=memory: sessions are kept in this process only')
    return { kind: 'memory', where: 'memory', reason: 'SESSION_STORE=memory' }
  }
  const where =
    config.redisSentinels === undefined
      ? redact(config.redisUrl)
      : `Sentinel ${config.redisMasterName} via ${config.redisSentinels.map((s) => `${s.host}:${s.port}`).join(',')}`
  // Outside production, `auto` with a plain URL first checks that Redis is
  // there at all, so a laptop without it gets one clear warning.
  const probe =
    config.sessionStore === 'auto' && !config.production && config.redisSentinels === undefined
  if (probe && !(await reachable(config.redisUrl, PROBE_MS))) {
    logger.warn(
      { redis: where },
      'Redis is not reachable: sessions are kept IN MEMORY for this demo (lost on restart, not shared ' +
        'between instances). Start Redis or set REDIS_URL to share them; NODE_ENV=production refuses this fallback.',
    )
    return { kind: 'memory', where: 'memory', reason: `Redis not reachable at ${where}` }
  }
  const redis = createRedisClient(
    config.redisSentinels === undefined
      ? config.redisUrl
      : {
          sentinels: config.redisSentinels,
          name: config.redisMasterName,
          password: config.redisPassword,
        },
    { logger },
  )
  return { kind: 'redis', redis, where }
}

/** The options of @uptimekit/session's Express middleware and Fastify plugin alike. */
export function redisSessionOptions({
  config,
  redis,
  logger,
}: {
  config: Config
  redis: SessionRedis
  logger: Logger
}): {
  redis: SessionRedis
  secret: string
  ttlSeconds: number
  prefix: string
  logger: Logger
} {
  return {
    redis,
    secret: config.sessionSecret,
    ttlSeconds: config.sessionTtlSeconds,
    prefix: config.sessionPrefix,
    logger,
  }
}
