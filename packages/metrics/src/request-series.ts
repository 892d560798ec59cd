import type { MetricFamily, SampleValue } from './prom-client.js'
import type { Logger } from '@uptimekit/internal'

/** `method` label values by index; everything outside the standard set shares `_OTHER`. */
export const METHOD_LABELS: readonly string[] = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'CONNECT',
  'TRACE',
  '_OTHER',
]

/** `route` label of every request that matched no route. */
export const UNMATCHED_ROUTE = '#unmatched'

/** Every label value of the one series that takes label sets past the series cap. */
export const OVERFLOW_VALUE = '#overflow'

/** Index of a request method in {@link METHOD_LABELS}. */
export function methodIndex(method: string | undefined): number {
  // A switch over the parser's own method strings compares pointers first: no allocation, no hash.
  switch (method) {
    case 'GET':
      return 0
    case 'HEAD':
      return 1
    case 'POST':
      return 2
    case 'PUT':
      return 3
    case 'DELETE':
      return 4
    case 'PATCH':
      return 5
    case 'OPTIONS':
      return 6
    case 'CONNECT':
      return 7
    case 'TRACE':
      return 8
    default:
      return 9
  }
}

/** Counts of one label set: histogram buckets (not cumulative), sum and count. */
class Series {
  count = 0
  sum = 0
  readonly buckets: Float64Array
  readonly labels: Readonly<Record<string, string>>
  readonly folded: boolean

  constructor(labels: Record<string, string>, bucketCount: number, folded: boolean) {
    this.labels = labels
    this.buckets = new Float64Array(bucketCount + 1)
    this.folded = folded
  }
}

/**
 * The pre-resolved series of one route template. Adapters look one up per route and hand it to
 * the tracker, so a request costs a method switch and one small Map lookup, no label object.
 */
export class RouteSeries {
  /** The `route` label value. */
  readonly route: string
  /** @internal Series by method index, then by status code. */
  readonly byMethod: (Map<number, Series> | undefined)[]

  constructor(route: string) {
    this.route = route
    this.byMethod = new Array<Map<number, Series> | undefined>(METHOD_LABELS.length).fill(undefined)
  }
}

/** Names and shape of the request metrics one store renders. */
export interface RequestSeriesConfig {
  readonly durationName: string
  /** Undefined under `otel` naming, which has no separate request counter. */
  readonly counterName: string | undefined
  readonly labelNames: readonly [string, string, string]
  readonly staticLabels: Readonly<Record<string, string>>
  readonly buckets: readonly number[]
  readonly maxSeries: number
}

/**
 * One set of label sets shared by the duration histogram and the request counter (the counter is
 * the histogram's count, so a request is one observation), with the series cap.
 */
export class RequestSeries {
  /** Requests in flight; the in-flight gauge reads it. */
  inFlight = 0
  /** Requests folded into the overflow series; the overflow counter reads it. */
  overflowed = 0
  /** Shared series of requests that matched no route. */
  readonly unmatched: RouteSeries
  readonly config: RequestSeriesConfig
  private readonly bounds: Float64Array
  private readonly routes = new Map<string, RouteSeries>()
  private readonly all: Series[] = []
  private readonly overflowRoute = new RouteSeries(OVERFLOW_VALUE)
  private overflowSeries: Series | undefined
  private readonly logger: Logger
  private readonly leLabels: readonly Record<string, string | number>[]

  constructor(config: RequestSeriesConfig, logger: Logger) {
    this.config = config
    this.logger = logger
    this.bounds = Float64Array.from(config.buckets)
    this.leLabels = [...config.buckets.map((le) => ({ le })), { le: '+Inf' }]
    this.unmatched = this.route(UNMATCHED_ROUTE)
  }

  /**
   * The series of a route template. Route templates are capped like label sets (the unmatched
   * route does not count), so unbounded templates cannot grow memory either.
   */
  route(template: string): RouteSeries {
    let found = this.routes.get(template)
    if (found === undefined) {
      if (this.routes.size > this.config.maxSeries) return this.overflowRoute
      found = new RouteSeries(template)
      this.routes.set(template, found)
    }
    return found
  }

  /** Records one finished request. */
  observe(route: RouteSeries, method: number, status: number, seconds: number): void {
    let byStatus = route.byMethod[method]
    if (byStatus === undefined) {
      byStatus = new Map()
      route.byMethod[method] = byStatus
    }
    let series = byStatus.get(status)
    if (series === undefined) {
      series = this.createSeries(route, method, status)
      byStatus.set(status, series)
    }
    if (series.folded) this.overflowed++
    series.count++
    series.sum += seconds
    const bounds = this.bounds
    let i = 0
    while (i < bounds.length && seconds > bounds[i]!) i++
    series.buckets[i]! += 1
  }

  /** Number of label sets held, the overflow series included. */
  get size(): number {
    return this.all.length
  }

  private createSeries(route: RouteSeries, method: number, status: number): Series {
    if (route === this.overflowRoute || this.all.length >= this.config.maxSeries) return this.fold()
    const [methodName, routeName, statusName] = this.config.labelNames
    const labels = {
      [methodName]: METHOD_LABELS[method]!,
      [routeName]: route.route,
      [statusName]: String(status),
      ...this.config.staticLabels,
    }
    const series = new Series(labels, this.bounds.length, false)
    this.all.push(series)
    return series
  }

  private fold(): Series {
    if (this.overflowSeries === undefined) {
      const [methodName, routeName, statusName] = this.config.labelNames
      const labels = {
        [methodName]: OVERFLOW_VALUE,
        [routeName]: OVERFLOW_VALUE,
        [statusName]: OVERFLOW_VALUE,
        ...this.config.staticLabels,
      }
      this.overflowSeries = new Series(labels, this.bounds.length, true)
      this.all.push(this.overflowSeries)
      this.logger.warn(
        { metric: this.config.durationName, maxSeriesPerMetric: this.config.maxSeries },
        `${this.config.durationName} reached ${this.config.maxSeries} series; new label sets now fold into one series labelled ${OVERFLOW_VALUE}`,
      )
    }
    return this.overflowSeries
  }

  /** Histogram samples, series labels passed as `sharedLabels` so prom-client formats them once. */
  histogramSamples(splay: boolean): SampleValue[] {
    const name = this.config.durationName
    const bucketName = `${name}_bucket`
    const sumName = `${name}_sum`
    const countName = `${name}_count`
    const le = this.leLabels
    const out: SampleValue[] = []
    for (const series of this.all) {
      const shared = series.labels
      let cumulative = 0
      for (let i = 0; i < le.length; i++) {
        cumulative += series.buckets[i]!
        out.push(sample(bucketName, le[i]!, shared, cumulative, splay))
      }
      out.push(sample(sumName, NO_LABELS, shared, series.sum, splay))
      out.push(sample(countName, NO_LABELS, shared, series.count, splay))
    }
    return out
  }

  /** Counter samples: one per label set, the request count. */
  counterSamples(): SampleValue[] {
    return this.all.map((series) => ({ labels: series.labels, value: series.count }))
  }

  /** Zeroes every series (prom-client's `registry.resetMetrics()`); keeps the label sets. */
  reset(): void {
    for (const series of this.all) {
      series.count = 0
      series.sum = 0
      series.buckets.fill(0)
    }
    this.overflowed = 0
  }
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({})

function sample(
  metricName: string,
  labels: Readonly<Record<string, string | number>>,
  shared: Readonly<Record<string, string>>,
  value: number,
  splay: boolean,
): SampleValue {
  // getMetricsAsJSON (cluster aggregation) wants one flat label object per sample.
  if (splay) return { metricName, labels: { ...shared, ...labels }, value }
  return { metricName, labels, sharedLabels: shared, value }
}

/** A family built from samples, the shape prom-client's registry renders. */
export function family(
  name: string,
  help: string,
  type: string,
  values: SampleValue[],
): MetricFamily {
  return { name, help, type, values, aggregator: 'sum' }
}
