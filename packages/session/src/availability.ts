import { SessionUnavailableError } from './errors.js'
import type { Logger } from './logger.js'
import { redactCredentials } from './redact-credentials.js'
import type { ProbeConnectionOptions, SessionRedisClient } from './session-redis-client.js'

// Replies that mean "this node cannot serve you right now", not "your command is wrong".
const TRANSIENT_REPLY = /^(READONLY|LOADING|MASTERDOWN|TRYAGAIN|BUSY|CLUSTERDOWN)\b/

/** Whether `err` says Redis is unreachable or unable to serve, as opposed to a bad command. */
function isOutage(err: unknown): boolean {
  const { name, message } = err as { name?: unknown; message?: unknown }
  if (name !== 'ReplyError') return true
  return typeof message === 'string' && TRANSIENT_REPLY.test(message)
}

const PROBE_CONNECTION: ProbeConnectionOptions = {
  lazyConnect: true,
  enableOfflineQueue: true,
  maxRetriesPerRequest: 0,
  retryStrategy: () => null,
}

/** Pause between two recovery probes while Redis is known to be down, in milliseconds. */
export const PROBE_INTERVAL_MS = 250

/**
 * Runs store commands under a deadline and remembers outages. While Redis is known to be down,
 * requests fail at once (no command queued, so memory stays flat whatever the request rate and
 * however long the outage) and a background PING, one at a time and at most every
 * {@link PROBE_INTERVAL_MS}, finds out when it is back.
 */
export class Availability {
  readonly #client: SessionRedisClient
  readonly #timeoutMs: number
  readonly #logger: Logger
  #downSince: number | undefined
  #probing = false
  #pingUnanswered = false
  #lastProbeAt = 0
  #ready: Promise<void> | undefined

  constructor(client: SessionRedisClient, timeoutMs: number, logger: Logger) {
    this.#client = client
    this.#timeoutMs = timeoutMs
    this.#logger = logger
  }

  /** Whether the last command failed for an outage and no command has succeeded since. */
  get isDown(): boolean {
    return this.#downSince !== undefined
  }

  /**
   * Runs `operation` once Redis can take it, within the deadline.
   * @throws SessionUnavailableError at once while Redis is known to be down, or when it is not
   * ready in time or too slow.
   */
  async run<T>(operation: () => Promise<T>): Promise<T> {
    // 'wait' is a lazyConnect client: its first command is what connects it.
    const connected = this.#client.status === 'ready' || this.#client.status === 'wait'
    if (this.#downSince !== undefined) {
      if (connected) this.#probe()
      throw new SessionUnavailableError('Redis is unavailable; answering without waiting')
    }
    try {
      const result = await this.#withDeadline(
        connected ? operation() : this.#whenReady().then(operation),
      )
      this.#up()
      return result
    } catch (err) {
      if (!isOutage(err)) throw err
      this.#down(err)
      throw new SessionUnavailableError('Redis is unavailable', { cause: err })
    }
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
    const now = Date.now()
    if (this.#probing || now - this.#lastProbeAt < PROBE_INTERVAL_MS) return
    this.#probing = true
    // Once a PING on the client's connection went unanswered, that connection may be hung, and
    // each further PING would queue behind it for as long as the outage lasts: ask on a
    // short-lived connection of its own instead, until Redis answers.
    const extra = this.#pingUnanswered ? this.#client.duplicate(PROBE_CONNECTION) : undefined
    extra?.on('error', () => undefined)
    this.#withDeadline((extra ?? this.#client).ping())
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
        this.#lastProbeAt = Date.now()
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

  #down(err: unknown): void {
    if (this.#downSince !== undefined) return
    this.#downSince = Date.now()
    const message = redactCredentials(String((err as { message?: unknown }).message ?? err))
    this.#logger.warn(
      { err: { message } },
      'session store unavailable: session requests get 503 until Redis answers again',
    )
  }

  #up(): void {
    if (this.#downSince === undefined) return
    const downtimeMs = Date.now() - this.#downSince
    this.#downSince = undefined
    this.#logger.info({ downtimeMs }, 'session store available again')
  }
}
