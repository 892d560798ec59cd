import { errorText, monotonicMs, type Logger } from '@uptimekit/internal'
import { SessionUnavailableError } from './errors.js'
import { keySlot } from './key-slot.js'
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

/** A Redis (a cluster master) known to be down: the key its probe asks about, and whether it is asking. */
interface Outage {
  readonly probeKey: string
  probing: boolean
}

/**
 * Runs store commands under a deadline and remembers outages. While Redis is known to be down,
 * requests fail at once (no command queued, so memory stays flat whatever the request rate and
 * however long the outage) and a background probe, one at a time every {@link PROBE_INTERVAL_MS},
 * finds out when it is back, so the first request after the recovery already succeeds.
 *
 * On a cluster the outage is remembered per master (the one the key's slot maps to): a master that
 * dies fails its own keys at once, while the other masters keep serving theirs. One memory for the
 * whole cluster would be cleared by every success on a healthy master, so each request on the dead
 * master's slots would wait out its full deadline again, leaving a command behind that ioredis
 * keeps redirecting for seconds.
 */
export class Availability {
  readonly #client: SessionRedisClient
  readonly #timeoutMs: number
  readonly #logger: Logger
  // Outages by master address on a cluster; one entry under '' on a single Redis.
  readonly #outages = new Map<string, Outage>()
  #downSince: number | undefined
  #timer: NodeJS.Timeout | undefined
  #pingUnanswered = false
  #closed = false
  #ready: Promise<void> | undefined

  constructor(client: SessionRedisClient, timeoutMs: number, logger: Logger) {
    this.#client = client
    this.#timeoutMs = timeoutMs
    this.#logger = logger
  }

  /** Whether Redis (any master of a cluster) is in a known outage no probe has seen end yet. */
  get isDown(): boolean {
    return this.#downSince !== undefined
  }

  /**
   * The moment a store operation starting now must be answered by: every command it runs shares
   * this one deadline, so an operation of several commands still ends within `unavailableTimeoutMs`.
   */
  deadline(): number {
    return monotonicMs() + this.#timeoutMs
  }

  /**
   * Runs `operation` (Redis commands only) once Redis can take it, by `endsAt`.
   * @param key - the key it touches: on a cluster its slot's master is where an outage is
   * remembered, and the recovery probe asks about that key
   * @param endsAt - the operation's {@link deadline}; one of its own when not given
   * @throws SessionUnavailableError at once while that Redis is known to be down, or when it is
   * not ready in time or too slow. A reply error that is not an outage (WRONGTYPE) is rethrown.
   */
  async run<T>(
    key: string,
    operation: () => Promise<T>,
    endsAt: number = this.deadline(),
  ): Promise<T> {
    const at = this.#masterOf(key)
    if (this.#outages.has(at)) {
      throw new SessionUnavailableError('Redis is unavailable; answering without waiting')
    }
    // 'wait' is a lazyConnect client: its first command is what connects it.
    const connected = this.#client.status === 'ready' || this.#client.status === 'wait'
    try {
      const result = await this.#withDeadline(
        connected ? operation() : this.#whenReady().then(operation),
        endsAt,
      )
      this.#up(at)
      return result
    } catch (err) {
      if (!isOutage(err)) throw err
      this.#down(err, at, key)
      throw new SessionUnavailableError('Redis is unavailable', { cause: err })
    }
  }

  /** Stops the background probe; later outages are still answered, but no longer probed. */
  close(): void {
    this.#closed = true
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Where an outage of `key` is remembered: its slot's master on a cluster, '' otherwise. */
  #masterOf(key: string): string {
    if (this.#client.isCluster !== true) return ''
    return this.#client.slots?.[keySlot(key)]?.[0] ?? ''
  }

  async #withDeadline<T>(work: Promise<T>, endsAt: number): Promise<T> {
    // The deadline may win; the late outcome of `work` must not become an unhandled rejection.
    work.catch(() => undefined)
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer from Redis within ${this.#timeoutMs} ms`)),
        Math.max(0, endsAt - monotonicMs()),
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
    for (const [at, outage] of this.#outages) this.#probeOne(at, outage)
  }

  #probeOne(at: string, outage: Outage): void {
    const status = this.#client.status
    // A client that is reconnecting answers nothing yet; asking would only queue or fail.
    if (outage.probing || (status !== 'ready' && status !== 'wait')) return
    outage.probing = true
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
          ? this.#client.pttl(outage.probeKey)
          : this.#client.ping()
    this.#withDeadline(asked, this.deadline())
      .then(
        () => {
          this.#pingUnanswered = false
          this.#up(at)
        },
        () => {
          this.#pingUnanswered = true
        },
      )
      .finally(() => {
        extra?.disconnect()
        outage.probing = false
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

  #down(err: unknown, at: string, key: string): void {
    if (this.#outages.has(at)) return
    this.#outages.set(at, { probeKey: key, probing: false })
    if (this.#downSince !== undefined) return
    this.#downSince = monotonicMs()
    this.#logger.warn(
      { err: { message: errorText(err) } },
      'session store unavailable: session requests get 503 until Redis answers again',
    )
    if (this.#closed) return
    this.#timer = setInterval(() => this.#probe(), PROBE_INTERVAL_MS)
    this.#timer.unref()
  }

  #up(at: string): void {
    // A success on a master that was not down (another master of the cluster) ends nothing.
    if (!this.#outages.delete(at) || this.#outages.size > 0) return
    if (this.#downSince === undefined) return
    const downtimeMs = Math.round(monotonicMs() - this.#downSince)
    this.#downSince = undefined
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#logger.info({ downtimeMs }, 'session store available again')
  }
}
