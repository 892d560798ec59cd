import type { Dispatcher } from 'undici'
import type { PermitSource } from './options.js'
import { InFlight } from './in-flight.js'
import { ResponseEwma } from './response-ewma.js'

/** Why an upstream gets no traffic: nginx's passive rule, an ejection, or failed active checks. */
export type DownReason = 'passive' | 'ejected' | 'active'

/** An upstream's state as `snapshot()` shows it; `backup` is a backup upstream that is up. */
export type UpstreamState = 'up' | 'down' | 'backup'

/** What one upstream is made of, for its constructor. */
export interface UpstreamParts {
  /** The endpoint, `http://10.0.0.1:3000`. */
  url: string
  /** The upstream as configured, `http://users:3000` (the same as `url` for an address). */
  name: string
  weight: number
  backup: boolean
  breaker: PermitSource | undefined
  pool: Dispatcher
  /** `host` header to send when `url` is a resolved address of `name`'s hostname. */
  hostHeader: string | undefined
  decayMs: number
  /** Start of slow start, or -Infinity when it starts at full weight. */
  upSinceMs: number
}

/**
 * One endpoint the balancer sends requests to, with everything health and the strategies keep
 * about it. Plain fields: the strategies read them on every request.
 */
export class Upstream {
  readonly url: string
  readonly name: string
  weight: number
  backup: boolean
  breaker: PermitSource | undefined
  readonly pool: Dispatcher
  readonly hostHeader: string | undefined
  readonly ewma: ResponseEwma
  /** Requests in flight, oldest first. */
  readonly inFlight: InFlight = new InFlight()
  /** Requests sent, retries included. */
  picks = 0
  /** Attempts that failed (a 5xx, a reset, a timeout). */
  failures = 0
  /** Times outlier ejection took it out. */
  ejections = 0
  /** Failures counted toward `passive.maxFails`. */
  fails = 0
  lastFailMs: number = -Infinity
  downUntilMs = 0
  /** Set when passive health took it out: its next request decides (nginx). */
  trial = false
  /** Failures in a row, for outlier ejection. */
  consecutiveFailures = 0
  ejectedUntilMs = 0
  /** Multiplier of the next ejection time. */
  ejectionStreak = 0
  /** Active checks: down after `fails` failed checks in a row, up after `passes` passed. */
  checkDown = false
  checkFails = 0
  checkPasses = 0
  upSinceMs: number
  /** The state last reported, to report changes once. */
  reported: DownReason | undefined = undefined
  /** Smooth weighted round robin's running weight. */
  current = 0
  /** A per-upstream seed for rendezvous hashing. */
  readonly seed: number

  constructor(parts: UpstreamParts) {
    this.url = parts.url
    this.name = parts.name
    this.weight = parts.weight
    this.backup = parts.backup
    this.breaker = parts.breaker
    this.pool = parts.pool
    this.hostHeader = parts.hostHeader
    this.ewma = new ResponseEwma(parts.decayMs)
    this.upSinceMs = parts.upSinceMs
    this.seed = hashString(parts.url)
  }

  /** Requests in flight. */
  get active(): number {
    return this.inFlight.count
  }

  /** Why the upstream is out at `nowMs`, or undefined when it may take requests. */
  downReason(nowMs: number): DownReason | undefined {
    if (this.checkDown) return 'active'
    if (nowMs < this.ejectedUntilMs) return 'ejected'
    if (nowMs < this.downUntilMs) return 'passive'
    return undefined
  }

  /**
   * Share of its weight the upstream takes at `nowMs` during slow start: from 0.1 to 1 over
   * `slowStartMs`, 1 outside it.
   */
  ramp(nowMs: number, slowStartMs: number): number {
    const elapsed = nowMs - this.upSinceMs
    if (slowStartMs === 0 || elapsed >= slowStartMs) return 1
    return Math.max(0.1, elapsed / slowStartMs)
  }
}

/** FNV-1a, 32 bits: a fast, well-spread hash for keys and upstream names. */
export function hashString(value: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
