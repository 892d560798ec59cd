import { errorText, type Logger } from '@uptimekit/internal'
import { Availability } from './availability.js'
import {
  resolveStoreOptions,
  type RedisSessionStoreOptions,
  type ResolvedStoreOptions,
} from './options.js'
import { changedKeys, mergeChanges, snapshot, type Snapshot } from './session-changes.js'
import type { ScanNode, SessionRedisClient } from './session-redis-client.js'
import { cleanCookie, readStoredSession, type StoredSession } from './stored-session.js'

/** Node-style callback both express-session and @fastify/session give a store. */
export type StoreCallback<T = void> = (err: Error | null, result?: T) => void

/** Where the store keeps a session's creation time when `absoluteTtlSeconds` is set. */
export const META_KEY = '_uptimekit'

// Compare-and-set: write only over the exact value the merge started from; a missing key (a
// logout or an expiry in between) is never brought back. -1: gone, 0: changed meanwhile, 1: set.
const CAS_SCRIPT = `local current = redis.call('GET', KEYS[1])
if current == false then return -1 end
if current ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`
// A merge that loses its race this many times in a row gives up and writes what it has merged.
const MAX_MERGE_ATTEMPTS = 10
// SCAN page size for listing operations.
const SCAN_COUNT = 500
// How many corrupt session ids are remembered, so each is logged once without growing forever.
const MAX_REPORTED = 1000

function createdAt(session: Record<string, unknown>): number | undefined {
  const meta = session[META_KEY] as { createdAt?: unknown } | undefined
  return typeof meta?.createdAt === 'number' ? meta.createdAt : undefined
}

const isWrongType = (err: unknown): boolean =>
  (err as { message?: unknown } | null)?.message?.toString().startsWith('WRONGTYPE') === true

/**
 * Sessions in Redis, one string key per session holding express-session's JSON (the format
 * connect-redis writes). Serves express-session and @fastify/session alike through the same
 * `get`/`set`/`destroy` callbacks, so both frameworks read and write the same records, on a single
 * Redis, Sentinel or a Cluster.
 *
 * Reads are GET + PTTL; when the key's TTL has run down by at least `touchIntervalSeconds` the
 * read refreshes it with PEXPIRE. A new session is written with SET PX. A session that was loaded
 * is written as a merge: the top-level keys this request changed or deleted are applied to what
 * Redis holds now, with a compare-and-set, so concurrent requests changing different keys both
 * land and a write never brings back a session that was destroyed (logout) meanwhile.
 */
export class RedisSessionStore {
  readonly #redis: SessionRedisClient
  readonly #options: ResolvedStoreOptions
  readonly #availability: Availability
  readonly #logger: Logger
  readonly #loaded = new WeakMap<object, Snapshot>()
  readonly #reported = new Set<string>()

  /**
   * @param options - see {@link RedisSessionStoreOptions}; checked here, so a bad one throws
   * `InvalidOptionError` naming it
   * @param resolved - the same options already checked (what the adapters pass)
   */
  constructor(
    options: RedisSessionStoreOptions,
    resolved: ResolvedStoreOptions = resolveStoreOptions(options),
  ) {
    this.#options = resolved
    this.#redis = resolved.redis
    this.#logger = resolved.logger
    this.#availability = new Availability(this.#redis, resolved.unavailableTimeoutMs, this.#logger)
  }

  /** Whether the store is in a known outage (it then answers at once without Redis). */
  get isUnavailable(): boolean {
    return this.#availability.isDown
  }

  /**
   * Records the session object a framework built from a loaded session, so its later save is a
   * merge of what it changed. Sessions never loaded (new, regenerated) are written whole.
   */
  remember(session: object): void {
    this.#loaded.set(session, snapshot(session))
  }

  /**
   * Loads a session, refreshing its TTL when due; `null` when absent, expired or corrupt. Each
   * operation (load, save, remove) is answered within `unavailableTimeoutMs` however many
   * commands it sends.
   */
  async load(sid: string): Promise<StoredSession | null> {
    const key = this.#options.prefix + sid
    const endsAt = this.#availability.deadline()
    let raw: string | null
    let pttl: number
    try {
      ;[raw, pttl] = await this.#availability.run(
        key,
        () => Promise.all([this.#redis.get(key), this.#redis.pttl(key)]),
        endsAt,
      )
    } catch (err) {
      if (!isWrongType(err)) throw err
      this.#reportCorrupt(sid, 'the key is not a string')
      return null
    }
    if (raw === null) return null
    const read = readStoredSession(raw, this.#options.cookie)
    if (read.session === null) {
      this.#reportCorrupt(sid, read.problem)
      return null
    }
    if (read.repaired !== undefined) this.#reportCorrupt(sid, read.repaired)
    const { session } = read
    let remainingMs = pttl
    const nextMs = this.#ttlFor(session)
    if (nextMs <= 0) {
      await this.#availability.run(key, () => this.#redis.del(key), endsAt)
      return null
    }
    if (pttl > 0 && nextMs - pttl >= this.#options.touchIntervalSeconds * 1000) {
      await this.#availability.run(key, () => this.#redis.pexpire(key, nextMs), endsAt)
      remainingMs = nextMs
    }
    // The stored `expires` dates from the last SET; the key's TTL is the truth, and
    // @fastify/session would otherwise treat a session kept alive by PEXPIRE as expired.
    if (remainingMs > 0) session.cookie.expires = new Date(Date.now() + remainingMs).toISOString()
    return session
  }

  /**
   * Writes a session with a fresh TTL (capped by `absoluteTtlSeconds`): whole when it is new, as a
   * merge of its changed keys when it was loaded ({@link remember}).
   */
  async save(sid: string, session: object): Promise<void> {
    const key = this.#options.prefix + sid
    const endsAt = this.#availability.deadline()
    const source = session as Record<string, unknown>
    const cookie = cleanCookie(source.cookie)
    const base = this.#loaded.get(session)
    if (base === undefined) {
      const data: Record<string, unknown> = { ...source, cookie }
      if (this.#options.absoluteTtlSeconds !== undefined) {
        data[META_KEY] = { createdAt: createdAt(source) ?? Date.now() }
      }
      const ttlMs = this.#ttlFor(data)
      await this.#availability.run(
        key,
        async () => {
          if (ttlMs <= 0) await this.#redis.del(key)
          else await this.#redis.set(key, JSON.stringify(data), 'PX', ttlMs)
        },
        endsAt,
      )
      return
    }
    const changes = changedKeys(base, source)
    for (let attempt = 1; ; attempt++) {
      const raw = await this.#availability.run(key, () => this.#redis.get(key), endsAt)
      if (raw === null) return
      const read = readStoredSession(raw)
      const merged = mergeChanges(read.session ?? { cookie }, changes, cookie)
      const ttlMs = this.#ttlFor(merged)
      if (ttlMs <= 0) {
        await this.#availability.run(key, () => this.#redis.del(key), endsAt)
        return
      }
      const value = JSON.stringify(merged)
      const done = await this.#availability.run(
        key,
        () =>
          attempt < MAX_MERGE_ATTEMPTS
            ? this.#redis.eval(CAS_SCRIPT, 1, key, raw, value, ttlMs)
            : this.#redis.set(key, value, 'PX', ttlMs),
        endsAt,
      )
      if (done !== 0) {
        this.#loaded.set(session, snapshot(session))
        return
      }
    }
  }

  /** Deletes a session: logout is immediate on every instance, and no later write undoes it. */
  async remove(sid: string): Promise<void> {
    const key = this.#options.prefix + sid
    await this.#availability.run(key, () => this.#redis.del(key))
  }

  /** Every session id under the prefix, from every master on a cluster. */
  async ids(): Promise<string[]> {
    const found: string[] = []
    await this.#scan((_node, keys) => {
      for (const key of keys) found.push(key.slice(this.#options.prefix.length))
      return Promise.resolve()
    })
    return found
  }

  /** Every readable session under the prefix with its `id`, from every master on a cluster. */
  async all(): Promise<(StoredSession & { id: string })[]> {
    const found: (StoredSession & { id: string })[] = []
    await this.#scan(async (node, keys) => {
      // One GET per key on the node that holds it: never a multi-key command across slots.
      const values = await Promise.all(keys.map((key) => node.get(key)))
      values.forEach((raw, index) => {
        if (raw === null) return
        const read = readStoredSession(raw, this.#options.cookie)
        const id = (keys[index] as string).slice(this.#options.prefix.length)
        if (read.session !== null) found.push({ ...read.session, id })
      })
    })
    return found
  }

  /** How many sessions there are under the prefix. */
  async length(): Promise<number> {
    return (await this.ids()).length
  }

  /** Deletes every session under the prefix, on every master of a cluster. */
  async clear(): Promise<void> {
    await this.#scan(async (node, keys) => {
      await Promise.all(keys.map((key) => node.del(key)))
    })
  }

  /** Stops the background recovery probe. Does not close the Redis client, which is yours. */
  close(): void {
    this.#availability.close()
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

  async #scan(page: (node: ScanNode, keys: string[]) => Promise<void>): Promise<void> {
    const pattern = `${this.#options.prefix.replace(/[*?[\]\\]/g, '\\$&')}*`
    const nodes = this.#redis.nodes?.('master') ?? [this.#redis]
    for (const node of nodes) {
      let cursor = '0'
      do {
        cursor = await this.#availability.run(pattern, async () => {
          const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT)
          await page(node, keys)
          return next
        })
      } while (cursor !== '0')
    }
  }

  #reportCorrupt(sid: string, problem: string): void {
    if (this.#reported.has(sid)) return
    if (this.#reported.size >= MAX_REPORTED) this.#reported.clear()
    this.#reported.add(sid)
    // The id is a bearer credential: log only enough of it to find the key.
    this.#logger.warn(
      { key: `${this.#options.prefix}${sid.slice(0, 6)}…`, problem: errorText(problem) },
      'corrupt stored session read as no session or repaired',
    )
  }

  #ttlFor(session: Record<string, unknown>): number {
    const ttlMs = this.#options.ttlSeconds * 1000
    const { absoluteTtlSeconds } = this.#options
    if (absoluteTtlSeconds === undefined) return ttlMs
    const created = createdAt(session) ?? Date.now()
    return Math.min(ttlMs, created + absoluteTtlSeconds * 1000 - Date.now())
  }
}
