import { InvalidOptionError, optionsObject, shown, text } from '@uptimekit/internal'
import { metricView, registerViews, type MetricView } from './metric-view.js'
import { checkPrefix, checkRegistry } from './options.js'
import type { RegistryLike, SampleValue } from './prom-client.js'

/** An upstream's state, as the balancer package names it. */
export type BalancerUpstreamState = 'up' | 'down' | 'backup'

/** One upstream as a balancer's `snapshot()` gives it (structural: `@uptimekit/balancer` fits). */
export interface BalancerUpstreamLike {
  /** The endpoint: the `upstream` label. */
  readonly url: string
  /** `up`, `down`, or `backup` for a backup that is up. */
  readonly state: BalancerUpstreamState
  /** Requests in flight. */
  readonly active: number
  /** Requests sent to it since the balancer started. */
  readonly picks: number
  /** Attempts that failed since the balancer started. */
  readonly failures: number
  /** Outlier ejections since the balancer started. */
  readonly ejections: number
  /** Peak-EWMA response time, in milliseconds. */
  readonly ewmaMs: number
}

/** The shape of a balancer this package reads: anything with `snapshot()`, read at scrape time. */
export interface ObservableBalancer {
  /** Every upstream, now. */
  snapshot(): readonly BalancerUpstreamLike[]
}

/** Options of {@link observeBalancer}. */
export interface ObserveBalancerOptions {
  /** The registry to export to, e.g. `metrics.registry`. */
  registry: RegistryLike
  /** The balancer's name, unique per registry: the `balancer` label (`users`, `payments`). */
  name: string
  /**
   * Prefix of the metric names.
   * @default ''
   */
  prefix?: string
}

const STATES: readonly BalancerUpstreamState[] = ['up', 'down', 'backup']
const BALANCERS_KEY = Symbol.for('uptimekit.metrics.balancers')

type Counted = 'picks' | 'failures' | 'ejections'

interface Observed {
  balancer: ObservableBalancer
  /** Counts at the last `registry.resetMetrics()`, per upstream, subtracted when read. */
  base: Map<string, Record<Counted, number>>
}

type BalancersView = MetricView & { [BALANCERS_KEY]?: Map<string, Observed> }

function balancersIn(registry: RegistryLike, prefix: string): Map<string, Observed> {
  const stateName = `${prefix}balancer_upstream_state`
  const found = (registry.getSingleMetric(stateName) as BalancersView | undefined)?.[BALANCERS_KEY]
  if (found !== undefined) return found
  const observed = new Map<string, Observed>()
  const each =
    (read: (name: string, o: Observed, u: BalancerUpstreamLike) => SampleValue[]) => () => {
      const out: SampleValue[] = []
      for (const [name, o] of observed)
        for (const u of o.balancer.snapshot()) out.push(...read(name, o, u))
      return out
    }
  const counter = (field: Counted, metric: string, help: string): MetricView =>
    metricView(
      `${prefix}${metric}`,
      help,
      'counter',
      each((name, o, u) => [
        {
          labels: { balancer: name, upstream: u.url },
          value: u[field] - (o.base.get(u.url)?.[field] ?? 0),
        },
      ]),
      () => {
        for (const o of observed.values()) {
          o.base = new Map(
            o.balancer
              .snapshot()
              .map((u) => [
                u.url,
                { picks: u.picks, failures: u.failures, ejections: u.ejections },
              ]),
          )
        }
      },
    )
  const state: BalancersView = metricView(
    stateName,
    'Balancer upstream state: 1 for the current state (up, down, backup), 0 for the others',
    'gauge',
    each((name, _o, u) =>
      STATES.map((s) => ({
        labels: { balancer: name, upstream: u.url, state: s },
        value: s === u.state ? 1 : 0,
      })),
    ),
  )
  state[BALANCERS_KEY] = observed
  const views = [
    state,
    metricView(
      `${prefix}balancer_upstream_in_flight`,
      'Requests in flight to each upstream',
      'gauge',
      each((name, _o, u) => [{ labels: { balancer: name, upstream: u.url }, value: u.active }]),
    ),
    metricView(
      `${prefix}balancer_upstream_response_time_seconds`,
      'Peak-EWMA response time of each upstream (failures count as slow), in seconds',
      'gauge',
      each((name, _o, u) => [
        { labels: { balancer: name, upstream: u.url }, value: u.ewmaMs / 1000 },
      ]),
    ),
    counter(
      'picks',
      'balancer_upstream_requests_total',
      'Requests sent to each upstream, retries included',
    ),
    counter(
      'failures',
      'balancer_upstream_failures_total',
      'Attempts that failed (5xx, reset, timeout), per upstream',
    ),
    counter('ejections', 'balancer_upstream_ejections_total', 'Outlier ejections, per upstream'),
  ]
  registerViews(registry, views)
  return observed
}

/**
 * Exports a balancer's upstreams, read from `snapshot()` at scrape time:
 * `balancer_upstream_state{balancer,upstream,state}` (1 for the current state),
 * `balancer_upstream_in_flight`, `balancer_upstream_response_time_seconds`, and the counters
 * `balancer_upstream_requests_total`, `balancer_upstream_failures_total` and
 * `balancer_upstream_ejections_total`. Several balancers share the metrics, told apart by `name`.
 *
 * @returns a function that stops exporting this balancer and removes its series
 */
export function observeBalancer(
  balancer: ObservableBalancer,
  options: ObserveBalancerOptions,
): () => void {
  if (typeof (balancer as Partial<ObservableBalancer> | null)?.snapshot !== 'function') {
    throw new InvalidOptionError('balancer', 'must have a snapshot() method', shown(balancer))
  }
  const o = optionsObject('observeBalancer', options, ['registry', 'name', 'prefix'])
  const registry = checkRegistry(o.registry)
  const name = text('name', o.name)
  const observed = balancersIn(registry, checkPrefix(o.prefix))
  if (observed.has(name)) {
    throw new InvalidOptionError(
      'name',
      'must be unique among observed balancers',
      JSON.stringify(name),
    )
  }
  const entry: Observed = { balancer, base: new Map() }
  observed.set(name, entry)
  return () => {
    if (observed.get(name) === entry) observed.delete(name)
  }
}
