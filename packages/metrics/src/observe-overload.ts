import { InvalidOptionError, optionsObject, shown } from '@uptimekit/internal'
import { metricView, registerViews, type MetricView } from './metric-view.js'
import { checkPrefix, checkRegistry } from './options.js'
import type { RegistryLike, SampleValue } from './prom-client.js'

/** A load shedder's readings as its `snapshot()` gives them (structural: `@uptimekit/overload` fits). */
export interface OverloadSnapshotLike {
  /** `normal` or `shedding`. */
  readonly state: string
  /** The concurrency limit now. */
  readonly limit: number
  /** Requests running now. */
  readonly inFlight: number
  /** Requests waiting for a slot now. */
  readonly queued: number
  /** How hard the delay and heap signals shed, 0..1. */
  readonly shedLevel: number
  /** Requests admitted since the shedder was created. */
  readonly admitted: number
  /** Requests shed since the shedder was created, by reason. */
  readonly shed: Readonly<Record<string, number>>
  /** p99 event-loop delay over the shedder's window, in milliseconds. */
  readonly eventLoopDelayMs: number
  /** Event-loop utilization over the last sample, 0..1. */
  readonly eventLoopUtilization: number
  /** Old-generation share of the V8 heap limit, 0..1. */
  readonly heapUsedRatio: number
}

/** The shape of a load shedder this package reads: anything with `snapshot()`, read at scrape time. */
export interface ObservableOverload {
  /** The limit, the queue, the readings and the counts now. */
  snapshot(): OverloadSnapshotLike
}

/** Options of {@link observeOverload}. */
export interface ObserveOverloadOptions {
  /** The registry to export to, e.g. `metrics.registry`. */
  registry: RegistryLike
  /**
   * Prefix of the metric names.
   * @default ''
   */
  prefix?: string
}

const OVERLOAD_KEY = Symbol.for('uptimekit.metrics.overload')

type OverloadView = MetricView & { [OVERLOAD_KEY]?: true }

/**
 * Exports a load shedder, read from `snapshot()` at scrape time: the gauges
 * `overload_concurrency_limit`, `overload_in_flight`, `overload_queued`, `overload_shedding`
 * (1 while shedding), `overload_shed_level`, `overload_event_loop_delay_seconds` (p99),
 * `overload_event_loop_utilization` and `overload_heap_used_ratio`, and the counters
 * `overload_admitted_total` and `overload_shed_total{reason}`. One shedder per registry.
 *
 * @returns a function that stops exporting (the metrics stay registered, empty)
 */
export function observeOverload(
  overload: ObservableOverload,
  options: ObserveOverloadOptions,
): () => void {
  if (typeof (overload as Partial<ObservableOverload> | null)?.snapshot !== 'function') {
    throw new InvalidOptionError('overload', 'must have a snapshot() method', shown(overload))
  }
  const o = optionsObject('observeOverload', options, ['registry', 'prefix'])
  const registry = checkRegistry(o.registry)
  const prefix = checkPrefix(o.prefix)
  const limitName = `${prefix}overload_concurrency_limit`
  if ((registry.getSingleMetric(limitName) as OverloadView | undefined)?.[OVERLOAD_KEY] === true) {
    throw new InvalidOptionError(
      'registry',
      'already exports a load shedder; observe one per registry',
      'a second shedder',
    )
  }
  let active = true
  // Counts at the last `registry.resetMetrics()`, subtracted when read.
  let base: OverloadSnapshotLike | undefined
  const read = (pick: (s: OverloadSnapshotLike) => SampleValue[]) => (): SampleValue[] =>
    active ? pick(overload.snapshot()) : []
  const gauge = (name: string, help: string, value: (s: OverloadSnapshotLike) => number) =>
    metricView(
      `${prefix}${name}`,
      help,
      'gauge',
      read((s) => [{ labels: {}, value: value(s) }]),
    )
  const rebase = () => {
    base = active ? overload.snapshot() : undefined
  }
  const limit: OverloadView = gauge(
    'overload_concurrency_limit',
    'Requests the load shedder lets run at once (adaptive or fixed)',
    (s) => s.limit,
  )
  limit[OVERLOAD_KEY] = true
  const views = [
    limit,
    gauge('overload_in_flight', 'Requests admitted and not yet answered', (s) => s.inFlight),
    gauge('overload_queued', 'Requests waiting for a concurrency slot', (s) => s.queued),
    gauge('overload_shedding', '1 while the load shedder sheds requests, else 0', (s) =>
      s.state === 'shedding' ? 1 : 0,
    ),
    gauge(
      'overload_shed_level',
      'How hard the event-loop delay and heap signals shed, from 0 to 1',
      (s) => s.shedLevel,
    ),
    gauge(
      'overload_event_loop_delay_seconds',
      'p99 event-loop delay over the load shedder window, in seconds',
      (s) => s.eventLoopDelayMs / 1000,
    ),
    gauge(
      'overload_event_loop_utilization',
      'Event-loop utilization over the last sample interval, from 0 to 1',
      (s) => s.eventLoopUtilization,
    ),
    gauge(
      'overload_heap_used_ratio',
      'Old-generation heap used as a share of the V8 heap limit',
      (s) => s.heapUsedRatio,
    ),
    metricView(
      `${prefix}overload_admitted_total`,
      'Requests the load shedder admitted (exempt paths not counted)',
      'counter',
      read((s) => [{ labels: {}, value: s.admitted - (base?.admitted ?? 0) }]),
      rebase,
    ),
    metricView(
      `${prefix}overload_shed_total`,
      'Requests the load shedder answered 503, by reason',
      'counter',
      read((s) =>
        Object.entries(s.shed).map(([reason, value]) => ({
          labels: { reason },
          value: value - (base?.shed[reason] ?? 0),
        })),
      ),
      rebase,
    ),
  ]
  registerViews(registry, views)
  return () => {
    active = false
  }
}
