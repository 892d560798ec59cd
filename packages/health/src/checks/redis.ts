import { clientWith, type HealthCheck } from '../options.js'
import { raceAbort } from './abortable.js'

/**
 * The part of a Redis client the check uses; both ioredis (`status`) and
 * node-redis (`isOpen`) clients fit.
 */
export interface RedisLikeClient {
  ping(): Promise<unknown>
  /** ioredis: `'ready'` when connected. */
  readonly status?: string
  /** node-redis: false once closed or never connected. */
  readonly isOpen?: boolean
}

// ioredis states in which a PING would only wait in the offline queue for a connection that is gone.
const LOST = new Set(['reconnecting', 'close', 'end'])

/**
 * Checks a Redis connection with `PING`. Fails at once while the connection
 * is lost (ioredis `reconnecting`/`close`/`end`, node-redis closed) rather
 * than letting the offline queue hold the `PING` until the timeout; while the
 * client is still connecting, the `PING` waits for it (up to the timeout).
 *
 * @param client - an ioredis `Redis`/`Cluster` or a node-redis client
 */
export function redisCheck(client: RedisLikeClient): HealthCheck {
  clientWith('client', client, 'ping', 'must be a Redis client with a ping() method')
  return async (signal) => {
    if (typeof client.status === 'string' && LOST.has(client.status)) {
      throw new Error(`redis connection is ${client.status}`)
    }
    if (client.isOpen === false) throw new Error('redis client is closed')
    await raceAbort(client.ping(), signal)
  }
}
