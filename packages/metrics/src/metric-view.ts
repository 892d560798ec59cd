import { InvalidOptionError } from '@uptimekit/internal'
import type { MetricFamily, MetricLike, RegistryLike, SampleValue } from './prom-client.js'

/**
 * A metric prom-client's registry renders like its own (it calls `get()`, or `getForPromString()`
 * when present, and `reset()`), backed by counts this package keeps itself so the hot path never
 * goes through prom-client's per-call label hashing.
 */
export interface MetricView extends MetricLike {
  /** Family name; prom-client rewrites it for counters while rendering OpenMetrics. */
  name: string
  /** `# HELP` text. */
  readonly help: string
  /** `counter`, `gauge` or `histogram`. */
  readonly type: string
  /** Cluster aggregation: workers' values are summed. */
  readonly aggregator: string
  /** The family with flat labels (JSON, cluster aggregation). */
  get(): Promise<MetricFamily>
  /** The family with shared labels, for the text formats. */
  getForPromString(): Promise<MetricFamily>
  /** Zeroes the values (`registry.resetMetrics()`). */
  reset(): void
}

/** Reads the samples; `splay` asks for one flat label object per sample. */
export type SampleReader = (splay: boolean) => SampleValue[] | Promise<SampleValue[]>

/** Builds a {@link MetricView}. */
export function metricView(
  name: string,
  help: string,
  type: 'counter' | 'gauge' | 'histogram',
  read: SampleReader,
  reset: () => void = () => {},
): MetricView {
  const view: MetricView = {
    name,
    help,
    type,
    aggregator: 'sum',
    async get() {
      return { name: view.name, help, type, values: await read(true), aggregator: 'sum' }
    },
    async getForPromString() {
      return { name: view.name, help, type, values: await read(false), aggregator: 'sum' }
    },
    reset,
  }
  return view
}

/** Throws when `name` is taken in `registry`. */
export function claimName(registry: RegistryLike, name: string): void {
  if (registry.getSingleMetric(name) !== undefined) {
    throw new InvalidOptionError(
      'registry',
      `already holds another metric named \`${name}\`; pass another \`registry\` or a \`prefix\``,
      'a registry with that name taken',
    )
  }
}

/**
 * Registers `views` in `registry`, all or none: every name is checked before any is registered,
 * so a clash leaves the registry as it was.
 */
export function registerViews(registry: RegistryLike, views: readonly MetricView[]): void {
  for (const view of views) claimName(registry, view.name)
  for (const view of views) registry.registerMetric(view as never)
}
