import * as ioredis5 from 'ioredis'
import * as ioredis6 from 'ioredis6'
import type { Cluster, Redis } from 'ioredis'
import {
  createRedisClientWith,
  type ClusterTarget,
  type CreateRedisClientOptions,
  type IoredisModule,
} from '../src/redis-client.js'

/** A way to make the clients a test uses: createRedisClient and a plain client, on one ioredis major. */
export interface ClientKind {
  /** `createRedisClient()` built on this major. */
  create(url: string, options?: CreateRedisClientOptions): Redis
  /** A plain `new Redis(url)` of this major, with ioredis' own defaults. */
  plain(url: string): Redis
  /** `createRedisClient({ cluster })` built on this major. */
  cluster(target: ClusterTarget, options?: CreateRedisClientOptions): Cluster
  /** This major's module. */
  readonly module: IoredisModule
}

const kind = (module: IoredisModule): ClientKind => ({
  module,
  create: (url, options) => createRedisClientWith(module, url, options) as Redis,
  cluster: (target, options) => createRedisClientWith(module, target, options) as Cluster,
  plain: (url) => new module.Redis(url),
})

/** Every ioredis major the peer range allows; Redis-facing tests run once per entry. */
export const IOREDIS = [
  ['ioredis 5', kind(ioredis5)],
  ['ioredis 6', kind(ioredis6 as unknown as IoredisModule)],
] as const satisfies ReadonlyArray<readonly [string, ClientKind]>
