import session from 'express-session'
import type { RedisSessionStoreOptions, ResolvedStoreOptions } from './options.js'
import { RedisSessionStore as CoreStore } from './session-store.js'
import type { StoreCallback } from './session-store.js'
import type { StoredSession } from './stored-session.js'

type Callback = (err?: unknown) => void

/**
 * The session store as an express-session `Store`: pass it to plain express-session
 * (`session({ store: new RedisSessionStore({ redis }), ... })`) or let `redisSession()` build
 * one. Same keys, JSON, merge semantics and outage behaviour as the core store; `all`, `length`
 * and `clear` work on a Redis Cluster too.
 *
 * @example
 * app.use(session({ store: new RedisSessionStore({ redis }), secret, resave: false, saveUninitialized: false }))
 */
export class RedisSessionStore extends session.Store {
  readonly #core: CoreStore
  readonly #saved = new WeakSet<object>()

  /**
   * @param options - the store's options; a bad one throws `InvalidOptionError` naming it
   * @param resolved - the same options already checked (what `redisSession()` passes)
   */
  constructor(options: RedisSessionStoreOptions, resolved?: ResolvedStoreOptions) {
    super()
    this.#core = new CoreStore(options, resolved)
  }

  /** Whether the store is in a known Redis outage (requests then get the 503 at once). */
  get isUnavailable(): boolean {
    return this.#core.isUnavailable
  }

  /** Marks a session saved before the response ended, so express-session's own save is skipped. */
  markSaved(data: object): void {
    this.#saved.add(data)
  }

  /** Builds the request's session as express-session does, and remembers what was loaded. */
  override createSession(
    req: Parameters<session.Store['createSession']>[0],
    data: session.SessionData,
  ): session.Session & session.SessionData {
    const created = super.createSession(req, data)
    this.#core.remember(created)
    return created
  }

  override get(
    sid: string,
    callback: (err: unknown, data?: session.SessionData | null) => void,
  ): void {
    this.#core.get(sid, callback as StoreCallback<StoredSession | null>)
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    if (this.#saved.delete(data)) return callback?.()
    this.#core.set(sid, data, callback)
  }

  override destroy(sid: string, callback?: Callback): void {
    this.#core.destroy(sid, callback)
  }

  override all(callback: (err: unknown, sessions?: session.SessionData[] | null) => void): void {
    this.#core
      .all()
      .then((sessions) => callback(null, sessions as unknown as session.SessionData[]), callback)
  }

  override length(callback: (err: unknown, length?: number) => void): void {
    this.#core.length().then((length) => callback(null, length), callback)
  }

  override clear(callback?: Callback): void {
    this.#core.clear().then(
      () => callback?.(),
      (err: unknown) => callback?.(err),
    )
  }

  /** Stops the background recovery probe; the Redis client is yours to close. */
  close(): void {
    this.#core.close()
  }
}
