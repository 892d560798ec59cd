export { createRedisClient, CLIENT_DEFAULTS, MAX_RECONNECT_DELAY_MS } from './redis-client.js'
export type { CreateRedisClientOptions, RedisTarget } from './redis-client.js'
export { RedisSessionStore, META_KEY } from './session-store.js'
export type {
  RedisSessionStoreOptions,
  StoredCookie,
  StoredSession,
  StoreCallback,
} from './session-store.js'
export { DEFAULTS, MIN_SECRET_LENGTH } from './options.js'
export type { RedisSessionOptions, SessionCookieOptions } from './options.js'
export type { SessionRedisClient } from './session-redis-client.js'
export type { Logger } from './logger.js'
export {
  InvalidOptionError,
  SessionUnavailableError,
  isInvalidOptionError,
  isSessionUnavailableError,
} from './errors.js'
