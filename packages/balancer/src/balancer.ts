import { lookup } from 'node:dns/promises'
import { errorText, monotonicMs, type Logger } from '@uptimekit/internal'
import { Client, Dispatcher, Pool } from 'undici'
import { ActiveHealth } from './active-health.js'
import { BalancerClosedError, NoUpstreamError } from './errors.js'
import { Exchange, type ExchangeCore, type Outcome } from './exchange.js'
import { controllerHandler } from './legacy-handler.js'
import {
  resolveOptions,
  resolveUpstreams,
  type BalancerOptions,
  type PermitLike,
  type ResolvedOptions,
  type ResolvedUpstream,
  type Strategy,
  type UpstreamInput,
} from './options.js'
import { PassiveHealth } from './passive-health.js'
import { RetryBudget } from './retry-budget.js'
import { createPicker, type Picker } from './strategies.js'
import { Upstream, type DownReason, type UpstreamState } from './upstream.js'

/** One upstream in `snapshot()`, JSON-ready. */
export interface UpstreamSnapshot {
  /** The endpoint requests go to: `http://10.0.0.1:3000`. */
  url: string
  /** The upstream as configured; differs from `url` for a hostname resolved to addresses. */
  name: string
  /** `up`, `down`, or `backup` for a backup upstream that is up. */
  state: UpstreamState
  /** Why it is down, or `null`. */
  reason: DownReason | null
  /** Whether it is a backup upstream. */
  backup: boolean
  /** Requests in flight. */
  active: number
  /** The configured weight. */
  weight: number
  /** The weight in use now: lower during slow start. */
  effectiveWeight: number
  /** Peak-EWMA response time, in milliseconds (failures count as `failurePenaltyMs`). */
  ewmaMs: number
  /** Requests sent to it, retries included. */
  picks: number
  /** Attempts that failed: a 5xx, a reset, a timeout. */
  failures: number
  /** Times outlier ejection took it out. */
  ejections: number
  /** Failures counted toward `passive.maxFails` now. */
  fails: number
  /** Failures in a row now. */
  consecutiveFailures: number
}

/** Payload of `onStateChange`. */
export interface UpstreamStateChange {
  /** The endpoint, as in `snapshot()`. */
  url: string
  /** The upstream as configured. */
  name: string
  /** State before the change. */
  from: UpstreamState
  /** State after it. */
  to: UpstreamState
  /** Why it went down, or `null` when it came back. */
  reason: DownReason | null
}

interface Group {
  config: ResolvedUpstream
  endpoints: Upstream[]
  resolved: boolean
}

const stateOf = (reason: DownReason | undefined, backup: boolean): UpstreamState =>
  reason !== undefined ? 'down' : backup ? 'backup' : 'up'

const isPermit = (value: PermitLike | Error): value is PermitLike =>
  typeof (value as Partial<PermitLike>).success === 'function'

function originOf(config: ResolvedUpstream, address: string): string {
  const host = address.includes(':') ? `[${address}]` : address
  return `${config.protocol}//${host}:${config.port}`
}

/**
 * A load balancer that is an undici `Dispatcher`: give it to `fetch`, `undici.request`, an
 * interceptor chain or @fastify/reply-from, and every request goes to one of the upstreams.
 * Created by {@link createBalancer}.
 */
class BalancerDispatcher extends Dispatcher implements ExchangeCore {
  /** The strategy in use. */
  readonly strategy: Strategy
  readonly retries: number
  readonly retryStatuses: ReadonlySet<number>
  readonly failurePenaltyMs: number
  readonly budget: RetryBudget
  private readonly o: ResolvedOptions
  private readonly logger: Logger
  private readonly picker: Picker
  private readonly health: PassiveHealth
  private readonly active: ActiveHealth | undefined
  private groups = new Map<string, Group>()
  private all: Upstream[] = []
  private inService: Upstream[] = []
  private panic = false
  private dirty = true
  private wakeMs = Infinity
  private closed = false
  private resolveTimer: NodeJS.Timeout | undefined = undefined
  private readonly retiring = new Set<Promise<void>>()
  private readonly stateListeners = new Set<(change: UpstreamStateChange) => void>()

  constructor(options: BalancerOptions) {
    super()
    const o = resolveOptions(options)
    this.o = o
    this.logger = o.logger
    this.strategy = o.strategy
    this.retries = o.retries
    this.retryStatuses = o.retryStatuses
    this.failurePenaltyMs = o.failurePenaltyMs
    this.budget = new RetryBudget(o.retryBudget.ratio, o.retryBudget.minPerSecond, monotonicMs())
    this.picker = createPicker(o.strategy, o)
    this.health = new PassiveHealth(o.passive, o.outlier)
    const check = o.active
    this.active =
      check === undefined
        ? undefined
        : new ActiveHealth(
            check,
            (upstream) =>
              new Client(upstream.url, {
                connect: { timeout: check.timeoutMs, servername: this.servername(upstream) },
                headersTimeout: check.timeoutMs,
                bodyTimeout: check.timeoutMs,
              }),
            () => this.refresh(monotonicMs()),
          )
    this.apply(o.upstreams, true)
  }

  /** @see Dispatcher.dispatch */
  override dispatch(
    options: Dispatcher.DispatchOptions,
    handler: Dispatcher.DispatchHandler,
  ): boolean {
    const exchange = new Exchange(this, options, controllerHandler(handler))
    if (this.closed) {
      exchange.reject(new BalancerClosedError())
      return false
    }
    return exchange.start(() =>
      this.all.length === 0
        ? new NoUpstreamError('there are no upstreams')
        : new NoUpstreamError('every upstream circuit breaker is open'),
    )
  }

  /** A point-in-time view of every upstream. */
  snapshot(): UpstreamSnapshot[] {
    const now = monotonicMs()
    if (this.dirty || now >= this.wakeMs) this.refresh(now)
    return this.all.map((u) => {
      const reason = u.downReason(now)
      return {
        url: u.url,
        name: u.name,
        state: stateOf(reason, u.backup),
        reason: reason ?? null,
        backup: u.backup,
        active: u.active,
        weight: u.weight,
        effectiveWeight: u.weight * u.ramp(now, this.o.slowStartMs),
        ewmaMs: u.ewma.read(now),
        picks: u.picks,
        failures: u.failures,
        ejections: u.ejections,
        fails: u.fails,
        consecutiveFailures: u.consecutiveFailures,
      }
    })
  }

  /**
   * Replaces the upstream list (for service discovery of your own). Upstreams that stay keep
   * their state and counts; new ones start with slow start; removed ones finish the requests
   * they have in flight, then close.
   *
   * @throws InvalidOptionError for a bad list; the old list stays.
   */
  setUpstreams(upstreams: readonly UpstreamInput[]): void {
    this.apply(resolveUpstreams('upstreams', upstreams), false)
  }

  /** Calls `listener` when an upstream goes down or comes back; returns an unsubscribe function. */
  onStateChange(listener: (change: UpstreamStateChange) => void): () => void {
    this.stateListeners.add(listener)
    return () => {
      this.stateListeners.delete(listener)
    }
  }

  /** Waits for requests in flight, then closes every connection and stops every timer. */
  override close(): Promise<void>
  override close(callback: () => void): void
  override close(callback?: () => void): Promise<void> | void {
    const done = this.shutdown((pool) => pool.close())
    if (callback === undefined) return done
    void done.then(callback, callback)
  }

  /** Ends requests in flight with `error` and closes every connection now. */
  override destroy(): Promise<void>
  override destroy(error: Error | null): Promise<void>
  override destroy(callback: () => void): void
  override destroy(error: Error | null, callback: () => void): void
  override destroy(first?: Error | null | (() => void), second?: () => void): Promise<void> | void {
    const error = typeof first === 'function' ? null : (first ?? null)
    const callback = typeof first === 'function' ? first : second
    const done = this.shutdown((pool) => pool.destroy(error))
    if (callback === undefined) return done
    void done.then(callback, callback)
  }

  keyOf(request: Exchange): string | undefined {
    if (this.strategy === 'ip-hash') return request.header('x-real-ip')
    const custom = this.o.hashKey
    if (custom === undefined) return request.header('x-balance-key') ?? request.header('x-real-ip')
    try {
      return custom(request)
    } catch {
      return undefined
    }
  }

  choose(request: Exchange, exclude: readonly Upstream[] | undefined): Upstream | undefined {
    const now = monotonicMs()
    if (this.dirty || now >= this.wakeMs) this.refresh(now)
    let list = this.inService
    if (exclude !== undefined) {
      list = list.filter((u) => !exclude.includes(u))
      // A retry may go to a backup when every primary in service was tried.
      if (list.length === 0) {
        list = this.all.filter(
          (u) => u.backup && !exclude.includes(u) && u.downReason(now) === undefined,
        )
      }
    }
    while (list.length > 0) {
      const upstream = list.length === 1 ? list[0]! : this.picker(list, request, now)
      const breaker = upstream.breaker
      if (breaker === undefined) {
        request.permit = undefined
        return upstream
      }
      const permit = breaker.tryAcquire()
      if (isPermit(permit)) {
        request.permit = permit
        return upstream
      }
      list = list.filter((u) => u !== upstream)
    }
    return undefined
  }

  settle(upstream: Upstream, outcome: Outcome, _error: unknown, nowMs: number): void {
    if (outcome === 'released') return
    if (outcome === 'success') {
      this.health.success(upstream)
    } else if (this.health.failure(upstream, nowMs, this.all)) {
      this.refresh(nowMs)
    }
  }

  private servername(upstream: Upstream): string | undefined {
    if (upstream.hostHeader === undefined || !upstream.url.startsWith('https:')) return undefined
    return new URL(upstream.name).hostname
  }

  private makeUpstream(
    config: ResolvedUpstream,
    address: string | undefined,
    upSinceMs: number,
  ): Upstream {
    const url = address === undefined ? config.name : originOf(config, address)
    const o = this.o
    const upstream = new Upstream({
      url,
      name: config.name,
      weight: config.weight,
      backup: config.backup,
      breaker: config.breaker,
      hostHeader: address === undefined ? undefined : new URL(config.name).host,
      decayMs: o.decayMs,
      upSinceMs,
      pool: new Pool(url, {
        connect: {
          timeout: o.connectTimeoutMs,
          ...(address !== undefined && config.protocol === 'https:'
            ? { servername: config.hostname }
            : {}),
        },
        headersTimeout: o.headersTimeoutMs,
        bodyTimeout: o.bodyTimeoutMs,
        ...(o.connections === null ? {} : { connections: o.connections }),
      }),
    })
    return upstream
  }

  private apply(configs: ResolvedUpstream[], initial: boolean): void {
    if (this.closed) return
    const now = monotonicMs()
    const next = new Map<string, Group>()
    let resolve = false
    for (const config of configs) {
      const group = this.groups.get(config.name)
      if (group !== undefined) {
        group.config = config
        for (const u of group.endpoints) {
          u.weight = config.weight
          u.backup = config.backup
          u.breaker = config.breaker
        }
        next.set(config.name, group)
        continue
      }
      const endpoint = this.makeUpstream(config, undefined, initial ? -Infinity : now)
      this.active?.watch(endpoint)
      next.set(config.name, { config, endpoints: [endpoint], resolved: false })
      resolve ||= config.resolve
    }
    for (const [name, group] of this.groups) {
      if (!next.has(name)) for (const u of group.endpoints) this.retire(u)
    }
    this.groups = next
    this.rebuild()
    if (resolve) void this.resolveAll()
    if (this.resolveTimer === undefined && [...next.values()].some((g) => g.config.resolve)) {
      this.resolveTimer = setInterval(() => void this.resolveAll(), this.o.resolveIntervalMs)
      this.resolveTimer.unref()
    }
  }

  private rebuild(): void {
    this.all = [...this.groups.values()].flatMap((group) => group.endpoints)
    this.dirty = true
  }

  private retire(upstream: Upstream): void {
    void this.active?.unwatch(upstream)
    const closing: Promise<void> = upstream.pool.close().then(
      () => {
        this.retiring.delete(closing)
      },
      () => {
        this.retiring.delete(closing)
      },
    )
    this.retiring.add(closing)
  }

  /** Resolves every hostname upstream to all its addresses; a failed lookup keeps the last ones. */
  private async resolveAll(): Promise<void> {
    const groups = [...this.groups.values()].filter((g) => g.config.resolve)
    await Promise.all(
      groups.map(async (group) => {
        let addresses: string[]
        try {
          const found = await lookup(group.config.hostname, { all: true })
          addresses = [...new Set(found.map((entry) => entry.address))].sort()
        } catch (error) {
          this.logger.warn(
            { upstream: group.config.name, error: errorText(error) },
            'upstream hostname did not resolve; keeping its last addresses',
          )
          return
        }
        if (this.closed || this.groups.get(group.config.name) !== group || addresses.length === 0) {
          return
        }
        this.setAddresses(group, addresses)
      }),
    )
  }

  private setAddresses(group: Group, addresses: string[]): void {
    const now = monotonicMs()
    const known = new Map(group.endpoints.map((u) => [u.url, u]))
    const endpoints = addresses.map((address) => {
      const url = originOf(group.config, address)
      const existing = known.get(url)
      if (existing !== undefined) {
        known.delete(url)
        return existing
      }
      // The first resolution replaces the hostname itself at full weight; later additions ramp.
      const endpoint = this.makeUpstream(group.config, address, group.resolved ? now : -Infinity)
      this.active?.watch(endpoint)
      return endpoint
    })
    const changed = known.size > 0 || endpoints.length !== group.endpoints.length
    for (const gone of known.values()) this.retire(gone)
    if (changed || !group.resolved) {
      this.logger.info(
        { upstream: group.config.name, addresses },
        'upstream hostname resolved; balancing over its addresses',
      )
    }
    group.endpoints = endpoints
    group.resolved = true
    this.rebuild()
  }

  /** Rebuilds the list of upstreams in service and reports every state change once. */
  private refresh(nowMs: number): void {
    this.dirty = false
    let wake = Infinity
    const primaries: Upstream[] = []
    const backups: Upstream[] = []
    for (const u of this.all) {
      const reason = u.downReason(nowMs)
      if (reason === undefined) (u.backup ? backups : primaries).push(u)
      if (u.downUntilMs > nowMs) wake = Math.min(wake, u.downUntilMs)
      if (u.ejectedUntilMs > nowMs) wake = Math.min(wake, u.ejectedUntilMs)
      if (reason !== u.reported) this.report(u, reason, nowMs)
    }
    this.wakeMs = wake
    let panic = false
    if (primaries.length > 0) {
      this.inService = primaries
    } else if (backups.length > 0) {
      this.inService = backups
    } else {
      // Every upstream is out: try them all rather than fail every request (nginx and Envoy's
      // panic mode), so traffic resumes the moment they come back.
      const all = this.all.filter((u) => !u.backup)
      this.inService = all.length > 0 ? all : this.all
      panic = this.all.length > 0
    }
    if (panic !== this.panic) {
      this.panic = panic
      if (panic) this.logger.warn({}, 'every upstream is down; sending requests to all of them')
      else this.logger.info({}, 'upstreams in service again')
    }
  }

  private report(u: Upstream, reason: DownReason | undefined, nowMs: number): void {
    const change: UpstreamStateChange = {
      url: u.url,
      name: u.name,
      from: stateOf(u.reported, u.backup),
      to: stateOf(reason, u.backup),
      reason: reason ?? null,
    }
    if (reason === undefined) {
      u.upSinceMs = nowMs
      this.logger.info({ upstream: u.url }, 'upstream back in service')
    } else {
      this.logger.warn(
        { upstream: u.url, reason, fails: u.fails, ejections: u.ejections },
        'upstream out of service',
      )
    }
    u.reported = reason
    for (const listener of this.stateListeners) {
      try {
        listener(change)
      } catch (error) {
        this.logger.error({ error: errorText(error) }, 'onStateChange listener threw')
      }
    }
  }

  private async shutdown(end: (pool: Dispatcher) => Promise<void>): Promise<void> {
    this.closed = true
    clearInterval(this.resolveTimer)
    await this.active?.close()
    await Promise.all([...this.all.map((u) => end(u.pool).catch(() => {})), ...this.retiring])
  }
}

/** A balancer: an undici `Dispatcher` with `snapshot()`, `setUpstreams()` and `onStateChange()`. */
export type Balancer = BalancerDispatcher

/**
 * Creates a load balancer for outgoing HTTP: an undici `Dispatcher` that sends each request to
 * one of the upstreams (the request's origin is replaced by the upstream's).
 *
 * @example
 * ```ts
 * const users = createBalancer({
 *   upstreams: ['http://10.0.0.1:3000', { url: 'http://10.0.0.2:3000', weight: 3 }],
 *   strategy: 'least-response-time',
 * })
 * const res = await fetch('http://users/api/users/1', { dispatcher: users })
 * ```
 * @throws InvalidOptionError naming the first bad option.
 */
export function createBalancer(options: BalancerOptions): Balancer {
  return new BalancerDispatcher(options)
}
