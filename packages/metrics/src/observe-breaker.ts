import { InvalidOptionError, optionsObject, shown } from '@uptimekit/internal'
import { metricView, registerViews, type MetricView } from './metric-view.js'
import { checkPrefix, checkRegistry } from './options.js'
import type { RegistryLike, SampleValue } from './prom-client.js'

/** A circuit-breaker state, as the breaker package names it on the wire. */
export type BreakerState = 'closed' | 'open' | 'half_open'

/** The shape of a circuit breaker this package reads (structural: `@uptimekit/breaker` fits). */
export interface ObservableBreaker {
  /** Name, unique per registry: the `breaker` label. */
  readonly name: string
  /** Current state, read at scrape time. */
  readonly state: BreakerState
  /** Subscribes to state changes; returns the unsubscribe function. */
  onStateChange(listener: (change: { from: BreakerState; to: BreakerState }) => void): () => void
}

/** Options of {@link observeBreaker}. */
export interface ObserveBreakerOptions {
  /** The registry to export to, e.g. `metrics.registry`. */
  registry: RegistryLike
  /**
   * Prefix of the metric names.
   * @default ''
   */
  prefix?: string
}

const STATES: readonly BreakerState[] = ['closed', 'open', 'half_open']
const BREAKERS_KEY = Symbol.for('uptimekit.metrics.breakers')

interface Observed {
  breaker: ObservableBreaker
  labels: Readonly<Record<BreakerState, Record<string, string>>>
  transitions: Map<string, { labels: Record<string, string>; value: number }>
}

type BreakersView = MetricView & { [BREAKERS_KEY]?: Map<string, Observed> }

function breakersIn(registry: RegistryLike, prefix: string): Map<string, Observed> {
  const stateName = `${prefix}circuit_breaker_state`
  const found = (registry.getSingleMetric(stateName) as BreakersView | undefined)?.[BREAKERS_KEY]
  if (found !== undefined) return found
  const observed = new Map<string, Observed>()
  const state: BreakersView = metricView(
    stateName,
    'Circuit breaker state: 1 for the current state, 0 for the others',
    'gauge',
    () => {
      const out: SampleValue[] = []
      for (const { breaker, labels } of observed.values()) {
        const current = breaker.state
        for (const s of STATES) out.push({ labels: labels[s], value: s === current ? 1 : 0 })
      }
      return out
    },
  )
  state[BREAKERS_KEY] = observed
  const transitions = metricView(
    `${prefix}circuit_breaker_transitions_total`,
    'Circuit breaker state changes, by breaker, from and to',
    'counter',
    () => [...observed.values()].flatMap((o) => [...o.transitions.values()]),
    () => observed.forEach((o) => o.transitions.forEach((t) => (t.value = 0))),
  )
  registerViews(registry, [state, transitions])
  return observed
}

/**
 * Exports a circuit breaker's state as `circuit_breaker_state{breaker,state}` (1 for the current
 * state, 0 for the two others; read at scrape time) and its state changes as
 * `circuit_breaker_transitions_total{breaker,from,to}`. Several breakers share the two metrics.
 *
 * @returns a function that stops exporting this breaker and removes its series
 */
export function observeBreaker(
  breaker: ObservableBreaker,
  options: ObserveBreakerOptions,
): () => void {
  const candidate = breaker as Partial<ObservableBreaker> | null
  if (typeof candidate?.name !== 'string' || candidate.name === '') {
    throw new InvalidOptionError(
      'breaker.name',
      'must be a non-empty string',
      shown(candidate?.name),
    )
  }
  if (typeof candidate.onStateChange !== 'function') {
    throw new InvalidOptionError(
      'breaker.onStateChange',
      'must be a function (listener) => unsubscribe',
      shown(candidate.onStateChange),
    )
  }
  const o = optionsObject('observeBreaker', options, ['registry', 'prefix'])
  const registry = checkRegistry(o.registry)
  const observed = breakersIn(registry, checkPrefix(o.prefix))
  const name = breaker.name
  if (observed.has(name)) {
    throw new InvalidOptionError(
      'breaker.name',
      'must be unique among observed breakers',
      JSON.stringify(name),
    )
  }
  const entry: Observed = {
    breaker,
    labels: {
      closed: { breaker: name, state: 'closed' },
      open: { breaker: name, state: 'open' },
      half_open: { breaker: name, state: 'half_open' },
    },
    transitions: new Map(),
  }
  observed.set(name, entry)
  const unsubscribe = breaker.onStateChange(({ from, to }) => {
    const key = `${from}>${to}`
    let counter = entry.transitions.get(key)
    if (counter === undefined) {
      counter = { labels: { breaker: name, from, to }, value: 0 }
      entry.transitions.set(key, counter)
    }
    counter.value++
  })
  return () => {
    unsubscribe()
    if (observed.get(name) === entry) observed.delete(name)
  }
}
