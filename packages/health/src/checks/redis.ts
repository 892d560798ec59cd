import { InvalidOptionError, shown } from '../errors.js'
import type { HealthCheck } from '../options.js'
import { raceAbort } from './abortable.js'

/**
 * The part of a Redis client the check uses; both ioredis (`status`) and
 * node-redis (`isReady`) clients fit.
 */
export interface RedisLikeClient {
  ping(): Promise<unknown>
  /** ioredis: `'ready'` when connected. */
  readonly status?: string
  /** node-redis: true when connected. */
  readonly isReady?: boolean
}

/**
 * Checks a Redis connection with `PING`. Fails at once while the client
 * reports it is not connected, instead of letting the offline queue hold the
 * `PING` until the timeout (ioredis in `wait` with `lazyConnect` is still pinged,
 * which connects it).
 *
 * @param client - an ioredis `Redis`/`Cluster` or a node-redis client
 */
export function redisCheck(client: RedisLikeClient): HealthCheck {
  if (typeof client !== 'object' || client === null || typeof client.ping !== 'function') {
    throw new InvalidOptionError(
      'client',
      'must be a Redis client with a ping() method',
      shown(client),
    )
  }
  return async (signal) => {
    if (
      typeof client.status === 'string' &&
      client.status !== 'ready' &&
      client.status !== 'wait'
    ) {
      throw new Error(`redis connection is ${client.status}`)
    }
    if (client.isReady === false) throw new Error('redis client is not ready')
    await raceAbort(client.ping(), signal)
  }
}
