import { InvalidOptionError, shown, type HttpAnswer } from '@uptimekit/internal'
import { claimName, metricView, registerViews, type MetricView } from './metric-view.js'
import {
  requestLabelNames,
  resolveOptions,
  type ConnectionCounter,
  type MetricsOptions,
  type ResolvedOptions,
} from './options.js'
import { exactPathTest, excludedPathTest } from './path-tests.js'
import { collectDefaults, newRegistry, peerPromClient, type RegistryLike } from './prom-client.js'
import {
  OVERFLOW_VALUE,
  RequestSeries,
  type RequestSeriesConfig,
  type RouteSeries,
} from './request-series.js'
import { scrapeAnswerer, type MetricsRequest } from './scrape-answer.js'
import { createTracker, type LateRouteResolver, type RequestTracker } from './tracker.js'

/** The metrics of one service: what `createMetrics` returns and the adapters share. */
export interface Metrics {
  /** The registry every metric is written to. */
  readonly registry: RegistryLike
  /** The path the adapters serve the metrics on. */
  readonly metricsPath: string
  /**
   * Answers a `/metrics` request: token check, format negotiation by `Accept`, rendering. Use it
   * to serve the metrics from a router of your own; errors are the house error body.
   */
  render(request: MetricsRequest): Promise<HttpAnswer>
  /**
   * Exports the open connections of `server` in the open-connections gauge (summed over every
   * observed server). Returns a function that stops observing it.
   */
  observeServer(server: ConnectionCounter): () => void
  /**
   * Stops measuring requests and observing servers, and releases this instance's subscription to
   * Node's response events. The metrics stay in the registry.
   */
  close(): void
}

/** What the adapters use besides the public {@link Metrics}; not part of the public API. */
export interface MetricsCore {
  /** Shared series of requests that matched no route (`route="#unmatched"`). */
  readonly unmatched: RouteSeries
  /** True when a request target is not measured (compared after `requestPath`). */
  isExcluded(target: string): boolean
  /** True when a request target is exactly `metricsPath` (query string allowed). */
  isMetricsPath(target: string): boolean
  /**
   * The pre-resolved series of a route template; `undefined` gives the unmatched series. Adapters
   * call it once per route and keep the result.
   */
  route(template: string | undefined): RouteSeries
  /**
   * A tracker for an adapter. `resolveLate` finds the route of a request when its response ends,
   * for frameworks that only know it then (Express). {@link Metrics.close} stops it.
   */
  tracker(resolveLate?: LateRouteResolver): RequestTracker
}

// Symbol.for: a registry shared by the ESM and the CJS copy of this package still finds its series.
const SERIES_KEY = Symbol.for('uptimekit.metrics.requestSeries')
const SERVERS_KEY = Symbol.for('uptimekit.metrics.servers')
// The adapters find the core behind a `Metrics` here, whichever loaded copy created it.
const CORE_KEY = Symbol.for('uptimekit.metrics.core')

type SeriesView = MetricView & { [SERIES_KEY]?: RequestSeries }
type ServersView = MetricView & { [SERVERS_KEY]?: Set<ConnectionCounter> }

/** Metric names of one naming scheme and prefix. */
function metricNames(o: ResolvedOptions): {
  duration: string
  counter: string | undefined
  inFlight: string
  connections: string
  overflow: string
} {
  const p = o.prefix
  return o.naming === 'otel'
    ? {
        duration: `${p}http_server_request_duration_seconds`,
        counter: undefined,
        inFlight: `${p}http_server_active_requests`,
        connections: `${p}http_server_open_connections`,
        overflow: `${p}http_server_metrics_series_overflow_total`,
      }
    : {
        duration: `${p}http_request_duration_seconds`,
        counter: `${p}http_requests_total`,
        inFlight: `${p}http_requests_in_flight`,
        connections: `${p}http_open_connections`,
        overflow: `${p}http_metrics_series_overflow_total`,
      }
}

/** Finds this package's request series in `registry`, or creates and registers them. */
function requestSeriesIn(
  registry: RegistryLike,
  config: RequestSeriesConfig,
  names: ReturnType<typeof metricNames>,
  o: ResolvedOptions,
): RequestSeries {
  const existing = registry.getSingleMetric(config.durationName) as SeriesView | undefined
  if (existing !== undefined) {
    const found = existing[SERIES_KEY]
    if (found === undefined) {
      throw new InvalidOptionError(
        'registry',
        `already holds a metric named \`${config.durationName}\` that @uptimekit/metrics did not create`,
        'a foreign metric',
      )
    }
    if (JSON.stringify(found.config) !== JSON.stringify(config)) {
      throw new InvalidOptionError(
        'registry',
        `already holds \`${config.durationName}\` with other labels, buckets or series cap; use the same options, another \`registry\` or a \`prefix\``,
        shown(found.config.labelNames.join(',')),
      )
    }
    return found
  }
  const series = new RequestSeries(config, o.logger)
  const labels = o.labels
  const duration: SeriesView = metricView(
    config.durationName,
    'Duration of HTTP requests in seconds, by method, route template and status code',
    'histogram',
    (splay) => series.histogramSamples(splay),
    () => series.reset(),
  )
  duration[SERIES_KEY] = series
  const views: MetricView[] = [duration]
  if (config.counterName !== undefined) {
    views.push(
      metricView(
        config.counterName,
        'HTTP requests, by method, route template and status code',
        'counter',
        () => series.counterSamples(),
      ),
    )
  }
  views.push(
    metricView(names.inFlight, 'HTTP requests being served', 'gauge', () => [
      { labels, value: series.inFlight },
    ]),
    metricView(
      names.overflow,
      `Requests folded into the ${OVERFLOW_VALUE} series because the series cap was reached`,
      'counter',
      () => [{ labels, value: series.overflowed }],
    ),
  )
  registerViews(registry, views)
  return series
}

function connectionsIn(
  registry: RegistryLike,
  name: string,
  o: ResolvedOptions,
): Set<ConnectionCounter> {
  const existing = registry.getSingleMetric(name) as ServersView | undefined
  const found = existing?.[SERVERS_KEY]
  if (found !== undefined) return found
  claimName(registry, name)
  const servers = new Set<ConnectionCounter>()
  const view: ServersView = metricView(
    name,
    'Open connections of the observed HTTP servers',
    'gauge',
    async () => {
      const counts = await Promise.all([...servers].map(countConnections))
      return [{ labels: o.labels, value: counts.reduce((a, b) => a + b, 0) }]
    },
  )
  view[SERVERS_KEY] = servers
  registry.registerMetric(view as never)
  return servers
}

function countConnections(server: ConnectionCounter): Promise<number> {
  return new Promise((resolve) => {
    server.getConnections((err, count) => resolve(err === null ? count : 0))
  })
}

/**
 * Creates the request metrics of one service: the duration histogram, the request counter and the
 * in-flight gauge (and the open-connections gauge once a server is observed), registered in
 * `options.registry` (a new registry by default), plus prom-client's default process metrics.
 *
 * @example
 * ```ts
 * import * as promClient from 'prom-client'
 * const metrics = createMetrics({ promClient, registry: promClient.register, prefix: 'api_' })
 * app.use(metricsMiddleware(metrics))
 * app.get('/metrics', metricsHandler(metrics))
 * ```
 */
export function createMetrics(options?: MetricsOptions): Metrics {
  const o = resolveOptions(options)
  const client = o.promClient ?? peerPromClient
  const registry = o.registry ?? newRegistry(client)
  const names = metricNames(o)
  const config: RequestSeriesConfig = {
    durationName: names.duration,
    counterName: names.counter,
    labelNames: requestLabelNames(o.naming),
    staticLabels: o.labels,
    buckets: o.buckets,
    maxSeries: o.maxSeriesPerMetric,
  }
  const series = requestSeriesIn(registry, config, names, o)
  if (
    o.defaultMetrics &&
    registry.getSingleMetric(`${o.prefix}process_cpu_user_seconds_total`) === undefined
  ) {
    collectDefaults(client, registry, o.prefix)
  }
  const observed = new Set<ConnectionCounter>()
  const trackers = new Set<RequestTracker>()
  let servers: Set<ConnectionCounter> | undefined
  const unmatchedLate: LateRouteResolver = () => series.unmatched

  const core: MetricsCore = {
    unmatched: series.unmatched,
    isExcluded: excludedPathTest(o.excluded),
    isMetricsPath: exactPathTest(o.metricsPath),
    route(template) {
      return template === undefined ? series.unmatched : series.route(template)
    },
    tracker(resolveLate = unmatchedLate) {
      const tracker = createTracker(series, resolveLate)
      trackers.add(tracker)
      return tracker
    },
  }
  const metrics: Metrics & { [CORE_KEY]: MetricsCore } = {
    registry,
    metricsPath: o.metricsPath,
    render: scrapeAnswerer(
      { client, authorized: o.authorized, openMetrics: o.openMetrics, logger: o.logger },
      () => Promise.resolve(registry),
    ),
    observeServer(server) {
      servers ??= connectionsIn(registry, names.connections, o)
      const set = servers
      set.add(server)
      observed.add(server)
      return () => {
        set.delete(server)
        observed.delete(server)
      }
    },
    close() {
      for (const server of observed) servers?.delete(server)
      observed.clear()
      for (const tracker of trackers) tracker.close()
      trackers.clear()
    },
    [CORE_KEY]: core,
  }
  if (o.server !== undefined) metrics.observeServer(o.server)
  return metrics
}

/** The core behind a `Metrics` from `createMetrics` (any loaded copy), or undefined. */
function coreIn(value: unknown): MetricsCore | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  return (value as { [CORE_KEY]?: MetricsCore })[CORE_KEY]
}

/** Checks a `metrics` option: a `createMetrics()` instance. */
export function metricsOption(
  value: unknown,
  option = 'metrics',
): { metrics: Metrics; core: MetricsCore } {
  const core = coreIn(value)
  if (core === undefined) {
    throw new InvalidOptionError(option, 'must be what createMetrics() returns', shown(value))
  }
  return { metrics: value as Metrics, core }
}

/**
 * The instance an adapter uses: the given `createMetrics()` instance, or a new one from options.
 * Nothing is kept on the user's options object, so two adapters given the same options each
 * create an instance; `needsRegistry` makes them name the registry they share.
 *
 * @param owner - the adapter, as the user calls it (`metricsHandler`)
 * @param needsRegistry - whether options without `registry` are refused (the middleware and
 *   handler pair: each would otherwise write to or read from a registry of its own)
 */
export function metricsFrom(
  input: Metrics | MetricsOptions | undefined,
  owner: string,
  needsRegistry: boolean,
): { metrics: Metrics; core: MetricsCore } {
  if (coreIn(input) !== undefined) return metricsOption(input)
  const options = input
  if (needsRegistry && options?.registry === undefined) {
    throw new InvalidOptionError(
      'registry',
      `must be given when ${owner} takes options rather than a createMetrics() instance, so that metricsMiddleware and metricsHandler share one registry; or pass both the same createMetrics() instance`,
      'undefined',
    )
  }
  const metrics = createMetrics(options)
  return { metrics, core: coreIn(metrics)! }
}
