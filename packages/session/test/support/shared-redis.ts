import type { Redis } from 'ioredis'
import { SERVICES } from '../../../../test/support/services.js'
import type { ClientKind } from '../clients.js'
import { ready } from '../redis-server.js'

/** The clients a test file uses on the shared Redis (127.0.0.1:6379). */
export interface SharedRedis {
  /** `createRedisClient()`, ready: the client the store under test gets. */
  readonly redis: Redis
  /** A plain client for the test's own reads and writes. */
  readonly admin: Redis
}

/** Opens both clients on the shared Redis and waits until the store's client is ready. */
export async function openSharedRedis(clients: ClientKind): Promise<SharedRedis> {
  const redis = clients.create(SERVICES.redis.url, { logger: false })
  const admin = clients.plain(SERVICES.redis.url)
  await ready(redis)
  return { redis, admin }
}

/** Deletes the keys under `prefix` the test wrote and closes both clients. */
export async function closeSharedRedis(
  { redis, admin }: SharedRedis,
  prefix: string,
): Promise<void> {
  const keys = await admin.keys(`${prefix}*`)
  if (keys.length > 0) await admin.del(...keys)
  await Promise.all([redis.quit(), admin.quit()])
}
