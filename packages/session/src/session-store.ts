import { Availability } from './availability.js'
import type { Logger } from './logger.js'
import type { SessionRedisClient } from './session-redis-client.js'

/** The cookie part of a stored session, in the shape express-session writes. */
export interface StoredCookie {
  originalMaxAge?: number | null
  partitioned?: boolean
  priority?: string
  expires?: string | Date
  secure?: boolean | 'auto'
  httpOnly?: boolean
  domain?: string
  path?: string
  sameSite?: boolean | string
}

/** A session as stored in Redis: express-session's JSON, `cookie` first, then your data. */
export interface StoredSession {
  cookie: StoredCookie
  [key: string]: unknown
}

/** Node-style callback both express-session and @fastify/session give a store. */
export type StoreCallback<T = void> = (err: Error | null, result?: T) => void

/** Options for {@link RedisSessionStore}. */
export interface RedisSessionStoreOptions {
  /** The ioredis client. */
  redis: SessionRedisClient
  /** Key prefix. */
  prefix: string
  /** Session TTL in seconds. */
  ttlSeconds: number
  /** Minimum TTL gain, in seconds, before a read refreshes the key with PEXPIRE. */
  touchIntervalSeconds: number
  /** Cap on a session's life since creation, in seconds; `undefined` for none. */
  absoluteTtlSeconds: number | undefined
  /** Deadline for each store call, in milliseconds. */
  unavailableTimeoutMs: number
  /** Where outages are logged. */
  logger: Logger
}

/** Where the store keeps a session's creation time when `absoluteTtlSeconds` is set. */
export const META_KEY = '_uptimekit'

// express-session's Cookie#data order, so both frameworks store byte-identical JSON.
const COOKIE_FIELDS = [
  'originalMaxAge',
  'partitioned',
  'priority',
  'expires',
  'secure',
  'httpOnly',
  'domain',
  'path',
  'sameSite',
] as const

/** Copies a framework's cookie object into express-session's stored shape, dropping empty fields. */
function storedCookie(cookie: unknown): StoredCookie {
  const source = (cookie ?? {}) as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const field of COOKIE_FIELDS) {
    const value = source[field]
    if (value !== undefined && value !== null) out[field] = value
  }
  return out
}

function createdAt(session: Record<string, unknown>): number | undefined {
  const meta = session[META_KEY] as { createdAt?: unknown } | undefined
  return typeof meta?.createdAt === 'number' ? meta.createdAt : undefined
}

/**
 * Sessions in Redis, one string key per session holding express-session's JSON (the format
 * connect-redis writes). Serves express-session and @fastify/session alike through the same
 * `get`/`set`/`destroy` callbacks, so both frameworks read and write the same records.
 *
 * Reads are GET + PTTL in one round trip; when the key's TTL has run down by at least
 * `touchIntervalSeconds` the read refreshes it with PEXPIRE. Writes are SET with PX. Nothing is
 * ever re-SET just to extend a TTL, so a read-only request cannot overwrite a concurrent write.
 */
export class RedisSessionStore {
  readonly #redis: SessionRedisClient
  readonly #prefix: string
  readonly #ttlMs: number
  readonly #touchIntervalMs: number
  readonly #absoluteMs: number | undefined
  readonly #availability: Availability

  constructor(options: RedisSessionStoreOptions) {
    this.#redis = options.redis
    this.#prefix = options.prefix
    this.#ttlMs = options.ttlSeconds * 1000
    this.#touchIntervalMs = options.touchIntervalSeconds * 1000
    this.#absoluteMs =
      options.absoluteTtlSeconds === undefined ? undefined : options.absoluteTtlSeconds * 1000
    this.#availability = new Availability(
      options.redis,
      options.unavailableTimeoutMs,
      options.logger,
    )
  }

  /** Whether the store is in a known outage (it then answers at once without Redis). */
  get isUnavailable(): boolean {
    return this.#availability.isDown
  }

  /** Loads a session, refreshing its TTL when due; `null` when absent, expired or unreadable. */
  load(sid: string): Promise<StoredSession | null> {
    const key = this.#prefix + sid
    return this.#availability.run(async () => {
      const [raw, pttl] = await Promise.all([this.#redis.get(key), this.#redis.pttl(key)])
      if (raw === null) return null
      let session: StoredSession
      try {
        session = JSON.parse(raw) as StoredSession
      } catch {
        return null
      }
      if (typeof session !== 'object' || session === null || typeof session.cookie !== 'object') {
        return null
      }
      let remainingMs = pttl
      const nextMs = this.#ttlFor(session)
      if (nextMs <= 0) {
        await this.#redis.del(key)
        return null
      }
      if (pttl > 0 && nextMs - pttl >= this.#touchIntervalMs) {
        await this.#redis.pexpire(key, nextMs)
        remainingMs = nextMs
      }
      // The stored `expires` dates from the last SET; the key's TTL is the truth, and
      // @fastify/session would otherwise treat a session kept alive by PEXPIRE as expired.
      if (remainingMs > 0) session.cookie.expires = new Date(Date.now() + remainingMs).toISOString()
      return session
    })
  }

  /** Writes a whole session with a fresh TTL (capped by `absoluteTtlSeconds`). */
  save(sid: string, session: object): Promise<void> {
    const key = this.#prefix + sid
    const source = session as Record<string, unknown>
    const data: Record<string, unknown> = { ...source, cookie: storedCookie(source.cookie) }
    if (this.#absoluteMs !== undefined)
      data[META_KEY] = { createdAt: createdAt(source) ?? Date.now() }
    const ttlMs = this.#ttlFor(data)
    return this.#availability.run(async () => {
      if (ttlMs <= 0) await this.#redis.del(key)
      else await this.#redis.set(key, JSON.stringify(data), 'PX', ttlMs)
    })
  }

  /** Deletes a session: logout is immediate on every instance. */
  remove(sid: string): Promise<void> {
    return this.#availability.run(async () => {
      await this.#redis.del(this.#prefix + sid)
    })
  }

  /** Callback form of {@link load}, the shape express-session and @fastify/session call. */
  get(sid: string, callback: StoreCallback<StoredSession | null>): void {
    this.load(sid).then(
      (session) => callback(null, session),
      (err: Error) => callback(err),
    )
  }

  /** Callback form of {@link save}. */
  set(sid: string, session: object, callback?: StoreCallback): void {
    this.save(sid, session).then(
      () => callback?.(null),
      (err: Error) => callback?.(err),
    )
  }

  /** Callback form of {@link remove}. */
  destroy(sid: string, callback?: StoreCallback): void {
    this.remove(sid).then(
      () => callback?.(null),
      (err: Error) => callback?.(err),
    )
  }

  #ttlFor(session: Record<string, unknown>): number {
    if (this.#absoluteMs === undefined) return this.#ttlMs
    const created = createdAt(session) ?? Date.now()
    return Math.min(this.#ttlMs, created + this.#absoluteMs - Date.now())
  }
}
