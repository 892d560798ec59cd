import { errorText, monotonicMs, type Logger } from '@uptimekit/internal'
import { SessionUnavailableError } from './errors.js'
import type {
  ProbeConnection,
  ProbeConnectionOptions,
  SessionRedisClient,
} from './session-redis-client.js'

// Replies that mean "this node cannot serve you right now", not "your command is wrong".
const TRANSIENT_REPLY = /^(READONLY|LOADING|MASTERDOWN|TRYAGAIN|BUSY|CLUSTERDOWN)\b/

/** Whether `err` says Redis is unreachable or unable to serve, as opposed to a bad command. */
function isOutage(err: unknown): boolean {
  const { name, message } = err as { name?: unknown; message?: unknown }
  if (name !== 'ReplyError') return true
  return typeof message === 'string' && TRANSIENT_REPLY.test(message)
}

const PROBE_CONNECTION: ProbeConnectionOptions = Object.freeze({
  lazyConnect: true,
  enableOfflineQueue: true,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
})

/** Pause between two recovery probes while Redis is known to be down, in milliseconds. */
export const PROBE_INTERVAL_MS = 250

/**
 * Runs store commands under a deadline and remembers outages. While Redis is known to be down,
 * requests fail at once (no command queued, so memory stays flat whatever the request rate and
 * however long the outage) and a background probe, one at a time every {@link PROBE_INTERVAL_MS},
 * finds out when it is back, so the first request after the recovery already succeeds.
 */
export class Availability {
  readonly #client: SessionRedisClient
  readonly #timeoutMs: number
  readonly #logger: Logger
  #downSince: number | undefined
  #probeKey = ''
  #timer: NodeJS.Timeout | undefined
  #probing = false
  #pingUnanswered = false
  #closed = false
  #ready: Promise<void> | undefined

  constructor(client: SessionRedisClient, timeoutMs: number, logger: Logger) {
    this.#client = client
    this.#timeoutMs = timeoutMs
    this.#logger = logger
  }

  /** Whether the last command failed for an outage and no command or probe has succeeded since. */
  get isDown(): boolean {
    return this.#downSince !== undefined
  }

  /**
   * Runs `operation` (Redis commands only) once Redis can take it, within the deadline.
   * @param key - the key it touches: on a cluster the recovery probe asks that key's node
   * @throws SessionUnavailableError at once while Redis is known to be down, or when it is not
   * ready in time or too slow. A reply error that is not an outage (WRONGTYPE) is rethrown.
   */
  async run<T>(key: string, operation: () => Promise<T>): Promise<T> {
    if (this.#downSince !== undefined) {
      throw new SessionUnavailableError('Redis is unavailable; answering without waiting')
    }
    // 'wait' is a lazyConnect client: its first command is what connects it.
    const connected = this.#client.status === 'ready' || this.#client.status === 'wait'
    try {
      const result = await this.#withDeadline(
        connected ? operation() : this.#whenReady().then(operation),
      )
      this.#up()
      return result
    } catch (err) {
      if (!isOutage(err)) throw err
      this.#down(err, key)
      throw new SessionUnavailableError('Redis is unavailable', { cause: err })
    }
  }

  /** Stops the background probe; later outages are still answered, but no longer probed. */
  close(): void {
    this.#closed = true
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  async #withDeadline<T>(work: Promise<T>): Promise<T> {
    // The deadline may win; the late outcome of `work` must not become an unhandled rejection.
    work.catch(() => undefined)
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from Redis within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      )
      timer.unref()
    })
    try {
      return await Promise.race([work, deadline])
    } finally {
      clearTimeout(timer)
    }
  }

  #probe(): void {
    const status = this.#client.status
    // A client that is reconnecting answers nothing yet; asking would only queue or fail.
    if (this.#probing || (status !== 'ready' && status !== 'wait')) return
    this.#probing = true
    // Once a PING on the client's connection went unanswered, that connection may be hung, and
    // each further PING would queue behind it for as long as the outage lasts: ask on a
    // short-lived connection of its own instead, until Redis answers. A cluster is asked about
    // the key that failed, so the probe reaches the node that holds its slot.
    const client = this.#client as SessionRedisClient & {
      duplicate?(override: ProbeConnectionOptions): ProbeConnection
    }
    const extra =
      this.#pingUnanswered && client.isCluster !== true
        ? client.duplicate?.(PROBE_CONNECTION)
        : undefined
    extra?.on('error', () => undefined)
    const asked: Promise<unknown> =
      extra !== undefined
        ? extra.ping()
        : this.#client.isCluster === true
          ? this.#client.pttl(this.#probeKey)
          : this.#client.ping()
    this.#withDeadline(asked)
      .then(
        () => {
          this.#pingUnanswered = false
          this.#up()
        },
        () => {
          this.#pingUnanswered = true
        },
      )
      .finally(() => {
        extra?.disconnect()
        this.#probing = false
      })
  }

  // One shared waiter, so a burst of requests during connect adds one listener, not one each.
  #whenReady(): Promise<void> {
    this.#ready ??= new Promise<void>((resolve, reject) => {
      const settle = (err?: unknown): void => {
        this.#client.removeListener('ready', onReady)
        this.#client.removeListener('error', onError)
        this.#ready = undefined
        if (err === undefined) resolve()
        else reject(err instanceof Error ? err : new Error('Redis connection error'))
      }
      const onReady = (): void => settle()
      const onError = (err: unknown): void => settle(err ?? new Error('Redis connection error'))
      this.#client.once('ready', onReady)
      this.#client.once('error', onError)
    })
    return this.#ready
  }

  #down(err: unknown, key: string): void {
    if (this.#downSince !== undefined) return
    this.#downSince = monotonicMs()
    this.#probeKey = key
    this.#logger.warn(
      { err: { message: errorText(err) } },
      'session store unavailable: session requests get 503 until Redis answers again',
    )
    if (this.#closed) return
    this.#timer = setInterval(() => this.#probe(), PROBE_INTERVAL_MS)
    this.#timer.unref()
  }

  #up(): void {
    if (this.#downSince === undefined) return
    const downtimeMs = Math.round(monotonicMs() - this.#downSince)
    this.#downSince = undefined
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#logger.info({ downtimeMs }, 'session store available again')
  }
}
