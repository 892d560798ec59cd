import { describeValue, InvalidOptionError } from './errors.js'
import type { PromClientLike, RegistryLike } from './prom-client.js'

/** A pino-shaped logger; only `warn` and `error` are used. */
export interface LoggerLike {
  /** Logs a warning: the series cap was reached, a health scrape failed. */
  warn(obj: object, msg?: string): void
  /** Logs an error: rendering `/metrics` failed. */
  error(obj: object, msg?: string): void
}

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
   * Request paths (without query string) that are not measured. `metricsPath` is never measured.
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
   * Without it, `/metrics` is open. At least 16 characters.
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
   * Where the one series-cap warning and render errors go.
   * @default a silent logger
   */
  logger?: LoggerLike
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

/** Default of every option; the README options table mirrors it. */
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
  readonly minTokenLength: number
} = {
  prefix: '',
  buckets: WEB_LATENCY_BUCKETS,
  otelBuckets: OTEL_BUCKETS,
  labels: {},
  excludePaths: ['/metrics', '/live', '/ready', '/health', '/health/detailed', '/startup'],
  metricsPath: '/metrics',
  openMetrics: true,
  defaultMetrics: true,
  maxSeriesPerMetric: 2000,
  naming: 'prometheus',
  minTokenLength: 16,
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** A silent logger, the default. */
export const SILENT_LOGGER: LoggerLike = { warn() {}, error() {} }

/** Options checked and with defaults applied. */
export interface ResolvedOptions {
  readonly prefix: string
  readonly buckets: readonly number[]
  readonly labels: Readonly<Record<string, string>>
  readonly excluded: ReadonlySet<string>
  readonly metricsPath: string
  readonly token: string | undefined
  readonly openMetrics: boolean
  readonly defaultMetrics: boolean
  readonly maxSeriesPerMetric: number
  readonly naming: MetricNaming
  readonly logger: LoggerLike
}

function fail(option: string, rule: string, got: unknown): never {
  throw new InvalidOptionError(option, rule, describeValue(got))
}

function hasMethods(value: unknown, names: readonly string[]): boolean {
  if (typeof value !== 'object' && typeof value !== 'function') return false
  if (value === null) return false
  const record = value as Record<string, unknown>
  return names.every((name) => typeof record[name] === 'function')
}

/** Checks a registry option; shared with `observeBreaker` and `observeHealth`. */
export function checkRegistry(registry: unknown, option = 'registry'): RegistryLike {
  const methods = ['metrics', 'registerMetric', 'getSingleMetric', 'getMetricsAsJSON']
  if (!hasMethods(registry, methods)) {
    fail(
      option,
      'must be a prom-client Registry (metrics, registerMetric, getSingleMetric)',
      registry,
    )
  }
  return registry as RegistryLike
}

/** Checks a promClient option; shared with the cluster aggregator. */
export function checkPromClient(client: unknown, option = 'promClient'): PromClientLike {
  const ok =
    hasMethods(client, ['collectDefaultMetrics', 'Registry']) &&
    hasMethods((client as { AggregatorRegistry?: unknown }).AggregatorRegistry, ['aggregate'])
  if (!ok) fail(option, 'must be the prom-client module (import * as promClient)', client)
  return client as PromClientLike
}

/** Checks an optional positive integer option (milliseconds, counts), applying its default. */
export function checkPositiveInteger(
  value: unknown,
  fallback: number,
  option: string,
  unit = '',
): number {
  const checked = value ?? fallback
  if (!Number.isSafeInteger(checked) || (checked as number) < 1) {
    fail(option, `must be a positive integer${unit}`, checked)
  }
  return checked as number
}

/** Checks a metric-name prefix. */
export function checkPrefix(prefix: unknown, option = 'prefix'): string {
  if (prefix === undefined) return DEFAULTS.prefix
  if (typeof prefix !== 'string' || (prefix !== '' && !METRIC_NAME.test(prefix))) {
    fail(option, 'must be empty or match [a-zA-Z_:][a-zA-Z0-9_:]*', prefix)
  }
  return prefix
}

function checkBuckets(buckets: unknown, naming: MetricNaming): readonly number[] {
  if (buckets === undefined) return naming === 'otel' ? DEFAULTS.otelBuckets : DEFAULTS.buckets
  if (!Array.isArray(buckets) || buckets.length === 0) {
    fail('buckets', 'must be a non-empty array of finite numbers in seconds', buckets)
  }
  buckets.forEach((bound: unknown, i) => {
    if (typeof bound !== 'number' || !Number.isFinite(bound) || bound < 0) {
      fail(`buckets[${i}]`, 'must be a finite number ≥ 0 (seconds)', bound)
    }
    if (i > 0 && bound <= (buckets[i - 1] as number)) {
      fail(`buckets[${i}]`, `must be greater than the bound before it (${buckets[i - 1]})`, bound)
    }
  })
  return Object.freeze([...(buckets as number[])])
}

function checkLabels(labels: unknown, reserved: readonly string[]): Record<string, string> {
  if (labels === undefined) return DEFAULTS.labels
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    fail('labels', 'must be an object of label name to string value', labels)
  }
  for (const [name, value] of Object.entries(labels)) {
    if (!LABEL_NAME.test(name) || name.startsWith('__')) {
      fail(`labels.${name}`, 'must be a label name matching [a-zA-Z_][a-zA-Z0-9_]*', name)
    }
    if (reserved.includes(name)) {
      fail(
        `labels.${name}`,
        `must not reuse a label this package sets (${reserved.join(', ')})`,
        name,
      )
    }
    if (typeof value !== 'string') fail(`labels.${name}`, 'must be a string', value)
  }
  return Object.freeze({ ...(labels as Record<string, string>) })
}

function checkPath(path: unknown, option: string): string {
  if (typeof path !== 'string' || !path.startsWith('/') || /[?#\s]/.test(path)) {
    fail(option, 'must be a path starting with / without query, fragment or spaces', path)
  }
  return path
}

/** Label names of the request metrics for a naming scheme. */
export function requestLabelNames(naming: MetricNaming): readonly [string, string, string] {
  return naming === 'otel'
    ? ['http_request_method', 'http_route', 'http_response_status_code']
    : ['method', 'route', 'status_code']
}

/** Checks every option of {@link MetricsOptions} except the prom-client ones. */
export function resolveOptions(options: MetricsOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) fail('options', 'must be an object', options)
  const naming = options.naming ?? DEFAULTS.naming
  if (naming !== 'prometheus' && naming !== 'otel') {
    fail('naming', "must be 'prometheus' or 'otel'", naming)
  }
  const metricsPath =
    options.metricsPath === undefined
      ? DEFAULTS.metricsPath
      : checkPath(options.metricsPath, 'metricsPath')
  const excludePaths: unknown = options.excludePaths ?? DEFAULTS.excludePaths
  if (!Array.isArray(excludePaths)) {
    fail('excludePaths', 'must be an array of paths', excludePaths)
  }
  const excluded = excludePaths.map((path: unknown, i) => checkPath(path, `excludePaths[${i}]`))
  const token = options.token
  if (
    token !== undefined &&
    (typeof token !== 'string' || token.length < DEFAULTS.minTokenLength)
  ) {
    const shape = typeof token === 'string' ? `${token.length} characters` : describeValue(token)
    throw new InvalidOptionError(
      'token',
      `must be a string of at least ${DEFAULTS.minTokenLength} characters`,
      shape,
    )
  }
  if (token !== undefined && /\s/.test(token)) {
    throw new InvalidOptionError(
      'token',
      'must not contain whitespace',
      `${token.length} characters`,
    )
  }
  const max = checkPositiveInteger(
    options.maxSeriesPerMetric,
    DEFAULTS.maxSeriesPerMetric,
    'maxSeriesPerMetric',
  )
  for (const flag of ['openMetrics', 'defaultMetrics'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') {
      fail(flag, 'must be a boolean', options[flag])
    }
  }
  if (options.server !== undefined && !hasMethods(options.server, ['getConnections'])) {
    fail('server', 'must be a node:http Server (getConnections)', options.server)
  }
  const logger = options.logger ?? SILENT_LOGGER
  if (!hasMethods(logger, ['warn', 'error'])) {
    fail('logger', 'must be pino-shaped (warn and error functions)', logger)
  }
  return {
    prefix: checkPrefix(options.prefix),
    buckets: checkBuckets(options.buckets, naming),
    labels: checkLabels(options.labels, [...requestLabelNames(naming), 'le']),
    excluded: new Set([metricsPath, ...excluded]),
    metricsPath,
    token,
    openMetrics: options.openMetrics ?? DEFAULTS.openMetrics,
    defaultMetrics: options.defaultMetrics ?? DEFAULTS.defaultMetrics,
    maxSeriesPerMetric: max,
    naming,
    logger,
  }
}
