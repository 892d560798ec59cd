// Where sessions live: Redis (shared by every instance, survives restarts),
// or, for a laptop without Redis, memory. Falling back to memory is allowed
// only with SESSION_STORE=auto outside production; in production the service
// keeps Redis and lets /ready and the session routes say 503 until it is back.
import { createRedisClient } from '@uptimekit/session'
import { redact } from './config.mjs'

/** How long `auto` waits for Redis at startup before falling back to memory. */
const PROBE_MS = 1500

function becomesReady(redis, withinMs) {
  if (redis.status === 'ready') return Promise.resolve(true)
  return new Promise((resolve) => {
    const done = (ready) => {
      clearTimeout(timer)
      redis.removeListener('ready', onReady)
      resolve(ready)
    }
    const onReady = () => done(true)
    const timer = setTimeout(() => done(false), withinMs)
    redis.once('ready', onReady)
  })
}

/**
 * Opens the session store the configuration asks for.
 *
 * @returns {Promise<{ kind: 'redis', redis: import('ioredis').Redis, where: string }
 *                   | { kind: 'memory', where: string, reason: string }>}
 */
export async function openSessionStore(config, logger) {
  if (config.sessionStore === 'memory') {
    logger.warn({}, 'SESSION_STORE=memory: sessions are kept in this process only')
    return { kind: 'memory', where: 'memory', reason: 'SESSION_STORE=memory' }
  }
  const where =
    config.redisSentinels === undefined
      ? redact(config.redisUrl)
      : `Sentinel ${config.redisMasterName} via ${config.redisSentinels.map((s) => `${s.host}:${s.port}`).join(',')}`
  const redis = createRedisClient(
    config.redisSentinels === undefined
      ? config.redisUrl
      : {
          sentinels: config.redisSentinels,
          name: config.redisMasterName,
          password: config.redisPassword,
        },
  )
  if (config.sessionStore === 'redis' || config.production) return { kind: 'redis', redis, where }
  if (await becomesReady(redis, PROBE_MS)) return { kind: 'redis', redis, where }
  redis.disconnect()
  logger.warn(
    { redis: where },
    'Redis is not reachable: sessions are kept IN MEMORY for this demo (lost on restart, not shared ' +
      'between instances). Start Redis or set REDIS_URL to share them; NODE_ENV=production refuses this fallback.',
  )
  return { kind: 'memory', where: 'memory', reason: `Redis not reachable at ${where}` }
}
