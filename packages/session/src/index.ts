export {
  createRedisClient,
  CLIENT_DEFAULTS,
  CLUSTER_DEFAULTS,
  MAX_RECONNECT_DELAY_MS,
} from './redis-client.js'
export type { ClusterTarget, CreateRedisClientOptions, RedisTarget } from './redis-client.js'
export { RedisSessionStore, META_KEY } from './session-store.js'
export type { StoreCallback } from './session-store.js'
export type { StoredCookie, StoredSession } from './stored-session.js'
export { DEFAULTS, MIN_SECRET_LENGTH } from './options.js'
export type {
  RedisSessionOptions,
  RedisSessionStoreOptions,
  SessionCookieOptions,
} from './options.js'
export type { ScanNode, SessionRedisClient } from './session-redis-client.js'
export type { Logger, LoggerOption } from '@uptimekit/internal'
export {
  InvalidOptionError,
  SessionUnavailableError,
  isInvalidOptionError,
  isSessionUnavailableError,
} from './errors.js'
