import * as promClientModule from 'prom-client'

/** One sample line of a metric as prom-client's registry reads it. */
export interface SampleValue {
  /** Sample name when it differs from the family name (`_bucket`, `_sum`, `_count`). */
  metricName?: string
  /** Labels of this sample only (for histograms: `le`). */
  labels: Record<string, string | number>
  /** Labels shared by several samples of one series; prom-client formats them once per scrape. */
  sharedLabels?: Record<string, string | number>
  /** The sample value. */
  value: number
}

/** What a metric's `get()` returns: one family with its samples. */
export interface MetricFamily {
  /** Family name. */
  name: string
  /** `# HELP` text. */
  help: string
  /** `# TYPE` text. */
  type: string
  /** The samples. */
  values: SampleValue[]
  /** How the cluster aggregator combines workers' values (`sum`, `max`, `first`, `omit` …). */
  aggregator: string
}

/**
 * The part of a prom-client metric a registry uses. Our own metrics implement exactly this, so the
 * registry renders them like its own.
 */
export interface MetricLike {
  /** Family name. */
  readonly name: string
}

/** The part of a prom-client `Registry` this package uses (prom-client 15 and its renamed successor). */
export interface RegistryLike {
  /** Renders every metric in the registry's own content type. */
  metrics(): Promise<string>
  /**
   * Adds a metric; prom-client throws when another metric holds the name. Typed `never` so
   * prom-client's own signature (its `Metric` class) fits; this package passes {@link MetricLike}s.
   */
  registerMetric(metric: never): void
  /** The metric registered under `name`, if any. */
  getSingleMetric(name: string): unknown
  /** Removes the metric registered under `name`. */
  removeSingleMetric(name: string): void
  /** Every metric as data, default labels applied: what cluster aggregation ships. */
  getMetricsAsJSON(): Promise<unknown[]>
  /** `text/plain; version=0.0.4…` or `application/openmetrics-text; version=1.0.0…`. */
  readonly contentType: string
}

/** The constructor part of prom-client's `Registry` class. */
export interface RegistryClassLike {
  new (contentType?: never): RegistryLike
  /** Content type of the Prometheus text format. */
  readonly PROMETHEUS_CONTENT_TYPE: string
  /** Content type of the OpenMetrics text format. */
  readonly OPENMETRICS_CONTENT_TYPE: string
}

/** The part of the prom-client module this package uses; pass `import * as client from 'prom-client'`. */
export interface PromClientLike {
  /** Registry class: used for per-instance registries and for rendering the other format. */
  readonly Registry: RegistryClassLike
  /** Registers the default process metrics into `config.register`. */
  collectDefaultMetrics(config?: object): void
  /** Holds the static `aggregate()` that sums workers' metrics. */
  readonly AggregatorRegistry: { aggregate(metricsArr: object[][]): RegistryLike }
}

/** The prom-client module this package resolved as its peer dependency. */
export const peerPromClient: PromClientLike = promClientModule

/** Registry with a writable content type (every prom-client registry has it). */
interface TypedRegistry extends RegistryLike {
  setContentType(contentType: string): void
}

// prom-client's default gauges with a `_total` suffix, which Prometheus reserves for counters:
// `promtool check metrics` fails on them. Each one is the sum of the gauge of the same name
// without the suffix (`nodejs_active_handles{type}`), so nothing is lost without them.
const GAUGES_NAMED_LIKE_COUNTERS: readonly string[] = Object.freeze([
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
])

/**
 * Registers prom-client's default process metrics in `registry`, except the gauges named like
 * counters (see above), so the default `/metrics` passes `promtool check metrics`.
 */
export function collectDefaults(
  client: PromClientLike,
  registry: RegistryLike,
  prefix: string,
): void {
  client.collectDefaultMetrics({ register: registry, prefix })
  for (const name of GAUGES_NAMED_LIKE_COUNTERS) {
    if (registry.getSingleMetric(`${prefix}${name}`) !== undefined) {
      registry.removeSingleMetric(`${prefix}${name}`)
    }
  }
}

/** A fresh registry of `client`, in the given content type. */
export function newRegistry(client: PromClientLike, contentType?: string): RegistryLike {
  const registry = new client.Registry() as TypedRegistry
  if (contentType !== undefined) registry.setContentType(contentType)
  return registry
}

/** Sums the `getMetricsAsJSON()` results of several registries into one registry. */
export function aggregateFamilies(client: PromClientLike, perWorker: unknown[][]): RegistryLike {
  return client.AggregatorRegistry.aggregate(perWorker as object[][])
}
