import {
  newRegistry,
  type MetricFamily,
  type PromClientLike,
  type RegistryLike,
} from './prom-client.js'

/** What prom-client's registry reads from a registered metric. */
interface RenderableMetric {
  name: string
  type: string
  get(): Promise<MetricFamily> | MetricFamily
  getForPromString?(): Promise<MetricFamily> | MetricFamily
}

/** A prom-client registry's own metric list and default labels (present in prom-client 15). */
interface OpenRegistry extends RegistryLike {
  getMetricsAsArray?(): RenderableMetric[]
  setDefaultLabels?(labels: object): void
  _defaultLabels?: unknown
}

function familyName(name: string, type: string, toOpenMetrics: boolean): string {
  if (type !== 'counter') return name
  const bare = name.replace(/_total$/, '')
  return toOpenMetrics ? bare : `${bare}_total`
}

/**
 * A stand-in for `metric` in a throw-away registry: prom-client renames counters in place while
 * rendering OpenMetrics, so the user's metric objects are never handed to it.
 */
function standIn(metric: RenderableMetric, toOpenMetrics: boolean): RenderableMetric {
  const name = familyName(metric.name, metric.type, toOpenMetrics)
  const read = async (): Promise<MetricFamily> => {
    const family =
      typeof metric.getForPromString === 'function'
        ? await metric.getForPromString()
        : await metric.get()
    return { ...family, name }
  }
  return { name, type: metric.type, get: read, getForPromString: read }
}

/**
 * Renders `registry` in `contentType`. The registry's own type goes straight through. The other
 * one is rendered by a throw-away registry of stand-ins (same samples, shared labels kept, so
 * about as fast), or, for a registry without `getMetricsAsArray`, from `getMetricsAsJSON()`.
 */
export async function renderAs(
  client: PromClientLike,
  registry: RegistryLike,
  contentType: string,
): Promise<string> {
  if (registry.contentType === contentType) return registry.metrics()
  const toOpenMetrics = contentType === client.Registry.OPENMETRICS_CONTENT_TYPE
  const source = registry as OpenRegistry
  const target = newRegistry(client, contentType) as OpenRegistry
  const defaults = source._defaultLabels
  if (typeof source.getMetricsAsArray === 'function' && typeof defaults === 'object') {
    if (defaults !== null && Object.keys(defaults).length > 0) target.setDefaultLabels?.(defaults)
    for (const metric of source.getMetricsAsArray()) {
      target.registerMetric(standIn(metric, toOpenMetrics) as never)
    }
    return target.metrics()
  }
  for (const family of (await registry.getMetricsAsJSON()) as MetricFamily[]) {
    target.registerMetric(standIn({ ...family, get: () => family }, toOpenMetrics) as never)
  }
  return target.metrics()
}
