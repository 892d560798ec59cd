import {
  bearerMatcher,
  bool,
  finiteNumber,
  InvalidOptionError,
  integer,
  oneOf,
  optional,
  optionsObject,
  plainObject,
  requestPath,
  resolveLogger,
  shown,
  text,
  withMethods,
  type Logger,
  type LoggerOption,
} from '@uptimekit/internal'
import type { PromClientLike, RegistryLike } from './prom-client.js'

/** Which metric and label names to use. */
export type MetricNaming = 'prometheus' | 'otel'

/** Anything that counts its open connections like `node:net` `Server`. */
export interface ConnectionCounter {
  /** Node's `server.getConnections(cb)`. */
  getConnections(cb: (err: Error | null, count: number) => void): unknown
}

/** Options of {@link createMetrics} and of every adapter that creates one. */
export interface MetricsOptions {
  /**
   * The prom-client module to use: `import * as promClient from 'prom-client'` (or its renamed
   * successor with the same API). Its `Registry` class makes per-instance registries and renders
   * the non-default format; its `collectDefaultMetrics` registers the process metrics.
   * @default the `prom-client` peer dependency, resolved once by import
   */
  promClient?: PromClientLike
  /**
   * The registry every metric is written to. Pass `promClient.register` to share prom-client's
   * global registry on purpose. A second instance on the same registry with the same names reuses
   * the metrics already there (and their series) instead of throwing.
   * @default a new `Registry` per `createMetrics` call (never prom-client's global one)
   */
  registry?: RegistryLike
  /**
   * Prefix of every metric name, e.g. `myapp_`. Must match `[a-zA-Z_:][a-zA-Z0-9_:]*` or be empty.
   * @default ''
   */
  prefix?: string
  /**
   * Upper bounds of the duration histogram, in seconds, strictly increasing.
   * @default 1 ms … 10 s for `prometheus` naming; the OpenTelemetry advisory buckets for `otel`
   */
  buckets?: readonly number[]
  /**
   * Static labels added to every request series, e.g. `{ service: 'api' }`. Names must be valid
   * label names and not one of the request labels or `le`.
   * @default {}
   */
  labels?: Readonly<Record<string, string>>
  /**
   * Request paths that are not measured, compared the way the routers see them: query string
   * ignored, case-insensitive, one trailing slash and percent-encoded unreserved characters
   * (`/%72eady`) normalized, absolute-form targets reduced to their path. `metricsPath` is never
   * measured.
   * @default ['/metrics', '/live', '/ready', '/health', '/health/detailed', '/startup']
   */
  excludePaths?: readonly string[]
  /**
   * Path the adapters serve the metrics on.
   * @default '/metrics'
   */
  metricsPath?: string
  /**
   * Bearer token `/metrics` requires (`Authorization: Bearer <token>`), compared in constant time.
   * Without it, `/metrics` is open. At least 16 characters, no whitespace.
   * @default undefined
   */
  token?: string
  /**
   * Answer in the OpenMetrics format when the scraper's `Accept` asks for it (Prometheus does).
   * When false, always the registry's own format.
   * @default true
   */
  openMetrics?: boolean
  /**
   * Register prom-client's default process metrics (CPU, memory, event loop, GC) in the registry,
   * once per registry.
   * @default true
   */
  defaultMetrics?: boolean
  /**
   * Most label sets one request metric may hold. Past it, new label sets fold into one series
   * whose labels are all `#overflow`, the overflow counter counts those requests, and one warning
   * is logged.
   * @default 2000
   */
  maxSeriesPerMetric?: number
  /**
   * `prometheus`: `http_request_duration_seconds`, `http_requests_total` and
   * `http_requests_in_flight` with labels `method`, `route`, `status_code`. `otel`: the OpenTelemetry
   * semantic-convention names `http_server_request_duration_seconds` and
   * `http_server_active_requests` with `http_request_method`, `http_route`,
   * `http_response_status_code` (no separate counter: use the histogram's `_count`).
   * @default 'prometheus'
   */
  naming?: MetricNaming
  /**
   * A server whose open connections are exported as a gauge. The Fastify plugin always observes
   * `fastify.server`; for Express pass the server `app.listen()` returns (or call
   * `metrics.observeServer(server)` later).
   * @default undefined
   */
  server?: ConnectionCounter
  /**
   * Where the one series-cap warning and render errors go: a pino-shaped logger, or `false` for
   * silence. Nothing is logged per request.
   * @default one JSON line per event on stderr
   */
  logger?: LoggerOption
}

// Most web handlers answer in 1–500 ms; the 1 ms floor keeps resolution for fast JSON routes
// (prom-client's default starts at 5 ms), 0.1/0.25/0.5/1 s are the usual SLO thresholds, and 10 s
// is past typical load-balancer timeouts. Twelve bounds keep a series at 15 lines to render.
const WEB_LATENCY_BUCKETS: readonly number[] = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
]

// Advisory buckets of http.server.request.duration in the OpenTelemetry semantic conventions:
// https://opentelemetry.io/docs/specs/semconv/http/http-metrics/#metric-httpserverrequestduration
const OTEL_BUCKETS: readonly number[] = [
  0, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
]

/** Default of every option; the README options table mirrors it. Frozen all the way down. */
export const DEFAULTS: {
  readonly prefix: string
  readonly buckets: readonly number[]
  readonly otelBuckets: readonly number[]
  readonly labels: Readonly<Record<string, string>>
  readonly excludePaths: readonly string[]
  readonly metricsPath: string
  readonly openMetrics: boolean
  readonly defaultMetrics: boolean
  readonly maxSeriesPerMetric: number
  readonly naming: MetricNaming
} = Object.freeze({
  prefix: '',
  buckets: Object.freeze(WEB_LATENCY_BUCKETS),
  otelBuckets: Object.freeze(OTEL_BUCKETS),
  labels: Object.freeze({}),
  excludePaths: Object.freeze([
    '/metrics',
    '/live',
    '/ready',
    '/health',
    '/health/detailed',
    '/startup',
  ]),
  metricsPath: '/metrics',
  openMetrics: true,
  defaultMetrics: true,
  maxSeriesPerMetric: 2000,
  naming: 'prometheus',
})

/** The keys {@link MetricsOptions} has; anything else is a typo and rejected. */
export const METRICS_OPTION_KEYS: readonly string[] = Object.freeze([
  'promClient',
  'registry',
  'prefix',
  'buckets',
  'labels',
  'excludePaths',
  'metricsPath',
  'token',
  'openMetrics',
  'defaultMetrics',
  'maxSeriesPerMetric',
  'naming',
  'server',
  'logger',
])

/** The package name loggers are given by default. */
export const PACKAGE_NAME = '@uptimekit/metrics'

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** Options checked and with defaults applied. */
export interface ResolvedOptions {
  readonly prefix: string
  readonly buckets: readonly number[]
  readonly labels: Readonly<Record<string, string>>
  /** Excluded paths (`metricsPath` included), normalized by `requestPath`. */
  readonly excluded: ReadonlySet<string>
  readonly metricsPath: string
  /** Matches an `Authorization` header against `token`; undefined when `/metrics` is open. */
  readonly authorized: ((authorization: string | undefined) => boolean) | undefined
  readonly openMetrics: boolean
  readonly defaultMetrics: boolean
  readonly maxSeriesPerMetric: number
  readonly naming: MetricNaming
  readonly logger: Logger
  readonly promClient: PromClientLike | undefined
  readonly registry: RegistryLike | undefined
  readonly server: ConnectionCounter | undefined
}

/** Checks a registry option; shared with `observeBreaker` and `observeHealth`. */
export function checkRegistry(registry: unknown, option = 'registry'): RegistryLike {
  return withMethods<RegistryLike>(
    option,
    registry,
    ['metrics', 'registerMetric', 'getSingleMetric', 'getMetricsAsJSON', 'removeSingleMetric'],
    'must be a prom-client Registry (metrics, registerMetric, getSingleMetric, getMetricsAsJSON, removeSingleMetric)',
  )
}

/** Checks a promClient option; shared with the cluster aggregator. */
export function checkPromClient(client: unknown, option = 'promClient'): PromClientLike {
  const rule = 'must be the prom-client module (import * as promClient)'
  const checked = withMethods<PromClientLike>(
    option,
    client,
    ['collectDefaultMetrics', 'Registry'],
    rule,
  )
  withMethods(option, checked.AggregatorRegistry, ['aggregate'], rule)
  return checked
}

/** Checks a metric-name prefix. */
export function checkPrefix(prefix: unknown, option = 'prefix'): string {
  if (prefix === undefined) return DEFAULTS.prefix
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_NAME.test(prefix))) {
    // Fastify users often mean a route prefix here (`register(plugin, { prefix: '/ops' })`).
    throw new InvalidOptionError(
      option,
      'must be empty or match [a-zA-Z_:][a-zA-Z0-9_:]*: it prefixes metric names, not routes (`metricsPath` moves /metrics)',
      shown(prefix),
    )
  }
  return prefix
}

function checkBuckets(buckets: unknown, naming: MetricNaming): readonly number[] {
  if (buckets === undefined) return naming === 'otel' ? DEFAULTS.otelBuckets : DEFAULTS.buckets
  if (!Array.isArray(buckets) || buckets.length === 0) {
    throw new InvalidOptionError(
      'buckets',
      'must be a non-empty array of finite numbers in seconds',
      Array.isArray(buckets) ? 'an empty array' : shown(buckets),
    )
  }
  const checked = buckets.map((bound: unknown, i) =>
    finiteNumber(`buckets[${i}]`, bound, { min: 0 }),
  )
  checked.forEach((bound, i) => {
    const before = checked[i - 1]
    if (before !== undefined && bound <= before) {
      throw new InvalidOptionError(
        `buckets[${i}]`,
        `must be greater than the bound before it (${before})`,
        shown(bound),
      )
    }
  })
  return Object.freeze(checked)
}

function checkLabels(
  labels: unknown,
  reserved: readonly string[],
): Readonly<Record<string, string>> {
  if (labels === undefined) return DEFAULTS.labels
  const given = plainObject('labels', labels)
  for (const [name, value] of Object.entries(given)) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) {
      throw new InvalidOptionError(
        `labels.${name}`,
        'must be a label name matching [a-zA-Z_][a-zA-Z0-9_]*',
        shown(name),
      )
    }
    if (reserved.includes(name)) {
      throw new InvalidOptionError(
        `labels.${name}`,
        `must not reuse a label this package sets (${reserved.join(', ')})`,
        shown(name),
      )
    }
    text(`labels.${name}`, value, true)
  }
  return Object.freeze({ ...(given as Record<string, string>) })
}

function checkPath(path: unknown, option: string): string {
  if (typeof path !== 'string' || !path.startsWith('/') || /[?#\s]/.test(path)) {
    throw new InvalidOptionError(
      option,
      'must be a path starting with / without query, fragment or spaces',
      shown(path),
    )
  }
  return path
}

/** Label names of the request metrics for a naming scheme. */
export function requestLabelNames(naming: MetricNaming): readonly [string, string, string] {
  return naming === 'otel'
    ? ['http_request_method', 'http_route', 'http_response_status_code']
    : ['method', 'route', 'status_code']
}

/** Checks every option of {@link MetricsOptions} and applies the defaults. */
export function resolveOptions(options: unknown): ResolvedOptions {
  const o = optionsObject('createMetrics', options, METRICS_OPTION_KEYS)
  const naming =
    o.naming === undefined
      ? DEFAULTS.naming
      : oneOf('naming', o.naming, ['prometheus', 'otel'] as const)
  const metricsPath =
    o.metricsPath === undefined ? DEFAULTS.metricsPath : checkPath(o.metricsPath, 'metricsPath')
  const excludePaths: unknown = o.excludePaths ?? DEFAULTS.excludePaths
  if (!Array.isArray(excludePaths)) {
    throw new InvalidOptionError('excludePaths', 'must be an array of paths', shown(excludePaths))
  }
  const excluded = excludePaths.map((path: unknown, i) => checkPath(path, `excludePaths[${i}]`))
  const server = optional(o.server, (value) =>
    withMethods<ConnectionCounter>(
      'server',
      value,
      ['getConnections'],
      'must be a node:http Server (getConnections)',
    ),
  )
  return {
    prefix: checkPrefix(o.prefix),
    buckets: checkBuckets(o.buckets, naming),
    labels: checkLabels(o.labels, [...requestLabelNames(naming), 'le']),
    excluded: new Set([metricsPath, ...excluded].map(requestPath)),
    metricsPath,
    authorized: optional(o.token, (token) => bearerMatcher('token', token)),
    openMetrics:
      o.openMetrics === undefined ? DEFAULTS.openMetrics : bool('openMetrics', o.openMetrics),
    defaultMetrics:
      o.defaultMetrics === undefined
        ? DEFAULTS.defaultMetrics
        : bool('defaultMetrics', o.defaultMetrics),
    maxSeriesPerMetric:
      o.maxSeriesPerMetric === undefined
        ? DEFAULTS.maxSeriesPerMetric
        : integer('maxSeriesPerMetric', o.maxSeriesPerMetric, { min: 1 }),
    naming,
    logger: resolveLogger('logger', o.logger, PACKAGE_NAME),
    promClient: optional(o.promClient, (value) => checkPromClient(value)),
    registry: optional(o.registry, (value) => checkRegistry(value)),
    server,
  }
}
