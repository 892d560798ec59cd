import {
  bool,
  finiteNumber,
  func,
  integer,
  InvalidOptionError,
  milliseconds,
  oneOf,
  optionsObject,
  ratio,
  resolveLogger,
  shown,
  text,
  withMethods,
  type Logger,
  type LoggerOption,
} from '@uptimekit/internal'

/** How the balancer chooses an upstream for each request. */
export type Strategy =
  | 'round-robin'
  | 'weighted-round-robin'
  | 'least-connections'
  | 'least-response-time'
  | 'ip-hash'
  | 'consistent-hash'
  | 'random'

/** Every strategy name, in the order the README lists them. */
export const STRATEGIES: readonly Strategy[] = Object.freeze([
  'round-robin',
  'weighted-round-robin',
  'least-connections',
  'least-response-time',
  'ip-hash',
  'consistent-hash',
  'random',
] as const)

/**
 * The right to make one call, as @uptimekit/breaker's `CircuitPermit` gives it: report the
 * outcome exactly once.
 */
export interface PermitLike {
  /** The call succeeded. */
  success(): void
  /** The call failed. */
  failure(error?: unknown): void
  /** The call was given up (the client left): counts neither way. */
  release(): void
}

/**
 * Anything that admits calls the way @uptimekit/breaker's `CircuitBreaker.tryAcquire()` does:
 * a permit when the call may go, an error (the circuit is open) when it may not.
 */
export interface PermitSource {
  /** A permit for one call, or the reason there is none. */
  tryAcquire(): PermitLike | Error
}

/** One upstream, with its settings. */
export interface UpstreamOptions {
  /**
   * Origin of the upstream: `http://10.0.0.1:3000` or `https://users.internal:8443`. No path,
   * query or credentials. A hostname resolves to every address it has, each its own upstream,
   * re-resolved every `resolveIntervalMs`.
   */
  url: string
  /**
   * Relative share of traffic for the weighted strategies, an integer from 1 to 1000.
   * @default 1
   */
  weight?: number
  /**
   * Used only while no primary (non-backup) upstream is up, as nginx's `backup`.
   * @default false
   */
  backup?: boolean
  /**
   * A circuit breaker for this upstream (anything with `tryAcquire()`, such as an
   * @uptimekit/breaker `CircuitBreaker`). While it refuses, the upstream gets no request and
   * no retry; every outcome is reported to it.
   * @default undefined
   */
  breaker?: PermitSource
}

/** An upstream as a URL string, or with settings. */
export type UpstreamInput = string | UpstreamOptions

/** nginx's passive health check (`max_fails`, `fail_timeout`). */
export interface PassiveHealthOptions {
  /**
   * Failures (a 5xx, a reset, a timeout) that take an upstream out for `failTimeoutMs`.
   * Failures count until `failTimeoutMs` passes with none.
   * @default 1
   */
  maxFails?: number
  /**
   * Both the quiet period that forgets failures and how long an upstream stays out after
   * `maxFails`, in milliseconds (nginx's `fail_timeout`).
   * @default 10000
   */
  failTimeoutMs?: number
}

/** Outlier ejection, as Envoy's: a streak of failures ejects an upstream, longer each time. */
export interface OutlierOptions {
  /**
   * Failures in a row that eject an upstream.
   * @default 5
   */
  consecutiveFailures?: number
  /**
   * Ejection time for the first ejection, in milliseconds; the n-th ejection lasts n times as
   * long, up to `maxEjectionMs`.
   * @default 30000
   */
  baseEjectionMs?: number
  /**
   * Longest one ejection lasts, in milliseconds.
   * @default 300000
   */
  maxEjectionMs?: number
  /**
   * Largest share of upstreams ejected at once (0..1); at least one may always be ejected.
   * An ejection past the cap does not happen, so a fault in the health signal cannot empty
   * the pool.
   * @default 0.1
   */
  maxEjectedRatio?: number
}

/** Active health checks: a GET on every upstream on an interval. */
export interface ActiveHealthOptions {
  /** Path probed on each upstream, e.g. `/ready`. A 2xx or 3xx passes; anything else fails. */
  path: string
  /**
   * Time between two checks of one upstream, in milliseconds.
   * @default 2000
   */
  intervalMs?: number
  /**
   * Longest one check may take before it counts as failed, in milliseconds.
   * @default 1000
   */
  timeoutMs?: number
  /**
   * Failed checks in a row that take an upstream out.
   * @default 3
   */
  fails?: number
  /**
   * Passed checks in a row that bring it back.
   * @default 2
   */
  passes?: number
  /**
   * Share of `intervalMs` (0..1) each wait is moved by at random, so instances do not probe
   * in step.
   * @default 0.1
   */
  jitter?: number
}

/** The share of requests that may be retries. */
export interface RetryBudgetOptions {
  /**
   * Retries allowed per request sent (0..1), as Finagle's retry budget.
   * @default 0.2
   */
  ratio?: number
  /**
   * Retries allowed per second whatever the traffic, so a quiet client can still retry.
   * @default 10
   */
  minPerSecond?: number
}

/** What `hashKey` is given: the request as the balancer sees it. */
export interface HashRequest {
  /** Request method, upper-case. */
  readonly method: string
  /** Request path with query. */
  readonly path: string
  /** A request header's value (name case-insensitive), first value when repeated. */
  header(name: string): string | undefined
}

/** Options of `createBalancer()`. Only `upstreams` is required. */
export interface BalancerOptions {
  /** The upstreams: URL strings or objects with a weight, a backup flag or a breaker. */
  upstreams: readonly UpstreamInput[]
  /**
   * How an upstream is chosen for a request.
   * @default 'least-response-time'
   */
  strategy?: Strategy
  /**
   * How many upstreams `least-connections` and `least-response-time` compare: two picked at
   * random (power of two choices), or every up upstream.
   * @default 'two-choices'
   */
  scan?: 'two-choices' | 'all'
  /**
   * The key `consistent-hash` places a request by. `ip-hash` always uses the client address.
   * A request without a key is spread at random.
   * @default the `x-balance-key` header, else the client address (`x-real-ip`, which the proxy sets)
   */
  hashKey?: (request: HashRequest) => string | undefined
  /**
   * Bounded load for the hash strategies: an upstream takes a key only while its in-flight
   * requests are at most this factor times the average, else the key goes to its next choice.
   * @default 1.25
   */
  hashLoadFactor?: number
  /**
   * Passive health (nginx `max_fails` / `fail_timeout`), or `false` to turn it off.
   * @default { maxFails: 1, failTimeoutMs: 10000 }
   */
  passive?: PassiveHealthOptions | false
  /**
   * Outlier ejection, or `false` to turn it off.
   * @default { consecutiveFailures: 5, baseEjectionMs: 30000, maxEjectionMs: 300000, maxEjectedRatio: 0.1 }
   */
  outlier?: OutlierOptions | false
  /**
   * Active health checks; none unless given.
   * @default undefined
   */
  active?: ActiveHealthOptions
  /**
   * Time over which an upstream that came back (or was added) ramps from 10 % to its full
   * share, in milliseconds; 0 turns slow start off.
   * @default 0
   */
  slowStartMs?: number
  /**
   * Retries of one request, each on another upstream, only when safe: the request was never
   * written (connection refused) or its method is idempotent, and its body can be sent again.
   * @default 1
   */
  retries?: number
  /**
   * The share of requests that may be retries.
   * @default { ratio: 0.2, minPerSecond: 10 }
   */
  retryBudget?: RetryBudgetOptions
  /**
   * Response statuses retried on another upstream (idempotent requests only). The answer of the
   * last attempt is passed on as it is.
   * @default [502, 503, 504]
   */
  retryStatuses?: readonly number[]
  /**
   * How long a response-time measurement counts, in milliseconds: the peak-EWMA decay time.
   * @default 10000
   */
  decayMs?: number
  /**
   * Response time recorded for a failure (a 5xx, a reset, a timeout) when it came back faster,
   * so a fast error never looks like a fast upstream, in milliseconds.
   * @default 1000
   */
  failurePenaltyMs?: number
  /**
   * Time between two DNS resolutions of hostname upstreams, in milliseconds.
   * @default 5000
   */
  resolveIntervalMs?: number
  /**
   * Longest a TCP (and TLS) connect may take, in milliseconds.
   * @default 5000
   */
  connectTimeoutMs?: number
  /**
   * Longest wait for the response headers, in milliseconds.
   * @default 60000
   */
  headersTimeoutMs?: number
  /**
   * Longest gap between two chunks of a response body, in milliseconds.
   * @default 60000
   */
  bodyTimeoutMs?: number
  /**
   * Most connections open to one upstream; `null` for no limit.
   * @default null
   */
  connections?: number | null
  /**
   * Where state changes (an upstream out, back, ejected) are logged. Not given: one JSON line
   * per event on stderr; `false`: silent; else a pino-shaped logger.
   * @default stderr JSON lines
   */
  logger?: LoggerOption
}

/** The defaults; the README options table mirrors this object. */
export const DEFAULTS: {
  readonly strategy: 'least-response-time'
  readonly scan: 'two-choices'
  readonly hashLoadFactor: 1.25
  readonly passive: { readonly maxFails: 1; readonly failTimeoutMs: 10_000 }
  readonly outlier: {
    readonly consecutiveFailures: 5
    readonly baseEjectionMs: 30_000
    readonly maxEjectionMs: 300_000
    readonly maxEjectedRatio: 0.1
  }
  readonly active: {
    readonly intervalMs: 2000
    readonly timeoutMs: 1000
    readonly fails: 3
    readonly passes: 2
    readonly jitter: 0.1
  }
  readonly slowStartMs: 0
  readonly retries: 1
  readonly retryBudget: { readonly ratio: 0.2; readonly minPerSecond: 10 }
  readonly retryStatuses: readonly number[]
  readonly decayMs: 10_000
  readonly failurePenaltyMs: 1000
  readonly resolveIntervalMs: 5000
  readonly connectTimeoutMs: 5000
  readonly headersTimeoutMs: 60_000
  readonly bodyTimeoutMs: 60_000
  readonly connections: null
} = Object.freeze({
  strategy: 'least-response-time',
  scan: 'two-choices',
  hashLoadFactor: 1.25,
  passive: Object.freeze({ maxFails: 1, failTimeoutMs: 10_000 }),
  outlier: Object.freeze({
    consecutiveFailures: 5,
    baseEjectionMs: 30_000,
    maxEjectionMs: 300_000,
    maxEjectedRatio: 0.1,
  }),
  active: Object.freeze({ intervalMs: 2000, timeoutMs: 1000, fails: 3, passes: 2, jitter: 0.1 }),
  slowStartMs: 0,
  retries: 1,
  retryBudget: Object.freeze({ ratio: 0.2, minPerSecond: 10 }),
  retryStatuses: Object.freeze([502, 503, 504]),
  decayMs: 10_000,
  failurePenaltyMs: 1000,
  resolveIntervalMs: 5000,
  connectTimeoutMs: 5000,
  headersTimeoutMs: 60_000,
  bodyTimeoutMs: 60_000,
  connections: null,
} as const)

/** One upstream after checks. */
export interface ResolvedUpstream {
  /** The URL as given, normalized to its origin. */
  name: string
  protocol: 'http:' | 'https:'
  hostname: string
  port: string
  /** Whether `hostname` is a name to resolve rather than an address. */
  resolve: boolean
  weight: number
  backup: boolean
  breaker: PermitSource | undefined
}

/** Options after defaults and checks. */
export interface ResolvedOptions {
  upstreams: ResolvedUpstream[]
  strategy: Strategy
  scan: 'two-choices' | 'all'
  hashKey: ((request: HashRequest) => string | undefined) | undefined
  hashLoadFactor: number
  passive: { maxFails: number; failTimeoutMs: number } | undefined
  outlier:
    | {
        consecutiveFailures: number
        baseEjectionMs: number
        maxEjectionMs: number
        maxEjectedRatio: number
      }
    | undefined
  active:
    | {
        path: string
        intervalMs: number
        timeoutMs: number
        fails: number
        passes: number
        jitter: number
      }
    | undefined
  slowStartMs: number
  retries: number
  retryBudget: { ratio: number; minPerSecond: number }
  retryStatuses: ReadonlySet<number>
  decayMs: number
  failurePenaltyMs: number
  resolveIntervalMs: number
  connectTimeoutMs: number
  headersTimeoutMs: number
  bodyTimeoutMs: number
  connections: number | null
  logger: Logger
}

const OWNER = 'createBalancer'
const KNOWN = [
  'upstreams',
  'strategy',
  'scan',
  'hashKey',
  'hashLoadFactor',
  'passive',
  'outlier',
  'active',
  'slowStartMs',
  'retries',
  'retryBudget',
  'retryStatuses',
  'decayMs',
  'failurePenaltyMs',
  'resolveIntervalMs',
  'connectTimeoutMs',
  'headersTimeoutMs',
  'bodyTimeoutMs',
  'connections',
  'logger',
] as const
const UPSTREAM_KEYS = ['url', 'weight', 'backup', 'breaker'] as const

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/

/** Checks one upstream URL and settings. */
export function resolveUpstream(option: string, input: unknown): ResolvedUpstream {
  const given: Record<string, unknown> =
    typeof input === 'string'
      ? { url: input }
      : optionsObject(OWNER, input, UPSTREAM_KEYS, `${option}.`)
  const urlOption = typeof input === 'string' ? option : `${option}.url`
  const raw = text(urlOption, given.url)
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new InvalidOptionError(urlOption, 'must be an http or https URL', shown(raw))
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidOptionError(urlOption, 'must be an http or https URL', shown(raw))
  }
  if (url.username !== '' || url.password !== '') {
    throw new InvalidOptionError(urlOption, 'must not carry credentials', 'a URL with credentials')
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new InvalidOptionError(urlOption, 'must be an origin, without path or query', shown(raw))
  }
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port
  const hostname = url.hostname
  const resolve = !IPV4.test(hostname) && !hostname.startsWith('[')
  return {
    name: url.origin,
    protocol: url.protocol,
    hostname,
    port,
    resolve,
    weight:
      given.weight === undefined
        ? 1
        : integer(`${option}.weight`, given.weight, { min: 1, max: 1000 }),
    backup: given.backup === undefined ? false : bool(`${option}.backup`, given.backup),
    breaker:
      given.breaker === undefined
        ? undefined
        : withMethods<PermitSource>(
            `${option}.breaker`,
            given.breaker,
            ['tryAcquire'],
            'must have a tryAcquire() method (an @uptimekit/breaker CircuitBreaker)',
          ),
  }
}

/** Checks an upstream list (for `createBalancer` and `setUpstreams`). */
export function resolveUpstreams(option: string, value: unknown): ResolvedUpstream[] {
  if (!Array.isArray(value)) throw new InvalidOptionError(option, 'must be an array', shown(value))
  const resolved = value.map((input, i) => resolveUpstream(`${option}[${i}]`, input))
  const seen = new Set<string>()
  for (const [i, upstream] of resolved.entries()) {
    if (seen.has(upstream.name)) {
      throw new InvalidOptionError(`${option}[${i}]`, 'must not repeat an upstream', upstream.name)
    }
    seen.add(upstream.name)
  }
  return resolved
}

function section(name: string, value: unknown, keys: readonly string[]): Record<string, unknown> {
  return optionsObject(OWNER, value, keys, `${name}.`)
}

function orDefault<T>(value: unknown, fallback: T, check: (value: unknown) => T): T {
  return value === undefined ? fallback : check(value)
}

/** Applies defaults and checks every option; throws InvalidOptionError naming the first bad one. */
export function resolveOptions(options: BalancerOptions): ResolvedOptions {
  const o = optionsObject(OWNER, options, KNOWN)
  const upstreams = resolveUpstreams('upstreams', o.upstreams)
  const p =
    o.passive === false ? undefined : section('passive', o.passive, ['maxFails', 'failTimeoutMs'])
  const x =
    o.outlier === false
      ? undefined
      : section('outlier', o.outlier, [
          'consecutiveFailures',
          'baseEjectionMs',
          'maxEjectionMs',
          'maxEjectedRatio',
        ])
  const a =
    o.active === undefined
      ? undefined
      : section('active', o.active, [
          'path',
          'intervalMs',
          'timeoutMs',
          'fails',
          'passes',
          'jitter',
        ])
  const b = section('retryBudget', o.retryBudget, ['ratio', 'minPerSecond'])
  const D = DEFAULTS
  const outlier =
    x === undefined
      ? undefined
      : {
          consecutiveFailures: orDefault(
            x.consecutiveFailures,
            D.outlier.consecutiveFailures,
            (v) => integer('outlier.consecutiveFailures', v, { min: 1 }),
          ),
          baseEjectionMs: orDefault(x.baseEjectionMs, D.outlier.baseEjectionMs, (v) =>
            milliseconds('outlier.baseEjectionMs', v),
          ),
          maxEjectionMs: orDefault(x.maxEjectionMs, D.outlier.maxEjectionMs, (v) =>
            milliseconds('outlier.maxEjectionMs', v),
          ),
          maxEjectedRatio: orDefault(x.maxEjectedRatio, D.outlier.maxEjectedRatio, (v) =>
            ratio('outlier.maxEjectedRatio', v),
          ),
        }
  if (outlier !== undefined && outlier.maxEjectionMs < outlier.baseEjectionMs) {
    throw new InvalidOptionError(
      'outlier.maxEjectionMs',
      `must be at least outlier.baseEjectionMs (${outlier.baseEjectionMs})`,
      shown(outlier.maxEjectionMs),
    )
  }
  const statuses = orDefault(o.retryStatuses, D.retryStatuses, (v) => {
    if (!Array.isArray(v))
      throw new InvalidOptionError('retryStatuses', 'must be an array', shown(v))
    return v.map((s, i) => integer(`retryStatuses[${i}]`, s, { min: 500, max: 599 }))
  })
  return {
    upstreams,
    strategy: orDefault(o.strategy, D.strategy, (v) => oneOf('strategy', v, STRATEGIES)),
    scan: orDefault(o.scan, D.scan, (v) => oneOf('scan', v, ['two-choices', 'all'] as const)),
    hashKey:
      o.hashKey === undefined
        ? undefined
        : func<(request: HashRequest) => string | undefined>('hashKey', o.hashKey),
    hashLoadFactor: orDefault(o.hashLoadFactor, D.hashLoadFactor, (v) =>
      finiteNumber('hashLoadFactor', v, { min: 1 }),
    ),
    passive:
      p === undefined
        ? undefined
        : {
            maxFails: orDefault(p.maxFails, D.passive.maxFails, (v) =>
              integer('passive.maxFails', v, { min: 1 }),
            ),
            failTimeoutMs: orDefault(p.failTimeoutMs, D.passive.failTimeoutMs, (v) =>
              milliseconds('passive.failTimeoutMs', v),
            ),
          },
    outlier,
    active:
      a === undefined
        ? undefined
        : {
            path: ((v) => {
              const path = text('active.path', v)
              if (!path.startsWith('/')) {
                throw new InvalidOptionError('active.path', 'must start with /', shown(path))
              }
              return path
            })(a.path),
            intervalMs: orDefault(a.intervalMs, D.active.intervalMs, (v) =>
              milliseconds('active.intervalMs', v),
            ),
            timeoutMs: orDefault(a.timeoutMs, D.active.timeoutMs, (v) =>
              milliseconds('active.timeoutMs', v),
            ),
            fails: orDefault(a.fails, D.active.fails, (v) =>
              integer('active.fails', v, { min: 1 }),
            ),
            passes: orDefault(a.passes, D.active.passes, (v) =>
              integer('active.passes', v, { min: 1 }),
            ),
            jitter: orDefault(a.jitter, D.active.jitter, (v) => ratio('active.jitter', v, true)),
          },
    slowStartMs: orDefault(o.slowStartMs, D.slowStartMs, (v) => milliseconds('slowStartMs', v, 0)),
    retries: orDefault(o.retries, D.retries, (v) => integer('retries', v, { min: 0, max: 10 })),
    retryBudget: {
      ratio: orDefault(b.ratio, D.retryBudget.ratio, (v) => ratio('retryBudget.ratio', v, true)),
      minPerSecond: orDefault(b.minPerSecond, D.retryBudget.minPerSecond, (v) =>
        finiteNumber('retryBudget.minPerSecond', v, { min: 0 }),
      ),
    },
    retryStatuses: new Set(statuses),
    decayMs: orDefault(o.decayMs, D.decayMs, (v) => milliseconds('decayMs', v)),
    failurePenaltyMs: orDefault(o.failurePenaltyMs, D.failurePenaltyMs, (v) =>
      milliseconds('failurePenaltyMs', v, 0),
    ),
    resolveIntervalMs: orDefault(o.resolveIntervalMs, D.resolveIntervalMs, (v) =>
      milliseconds('resolveIntervalMs', v),
    ),
    connectTimeoutMs: orDefault(o.connectTimeoutMs, D.connectTimeoutMs, (v) =>
      milliseconds('connectTimeoutMs', v),
    ),
    headersTimeoutMs: orDefault(o.headersTimeoutMs, D.headersTimeoutMs, (v) =>
      milliseconds('headersTimeoutMs', v),
    ),
    bodyTimeoutMs: orDefault(o.bodyTimeoutMs, D.bodyTimeoutMs, (v) =>
      milliseconds('bodyTimeoutMs', v),
    ),
    connections:
      o.connections === undefined || o.connections === null
        ? null
        : integer('connections', o.connections, { min: 1 }),
    logger: resolveLogger('logger', o.logger, '@uptimekit/balancer'),
  }
}
