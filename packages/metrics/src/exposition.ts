import {
  newRegistry,
  type MetricFamily,
  type MetricLike,
  type PromClientLike,
  type RegistryLike,
} from './prom-client.js'

/**
 * True when an `Accept` header prefers OpenMetrics to the Prometheus text format (Prometheus sends
 * OpenMetrics at q=1 and text/plain at q=0.5).
 */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (accept === undefined || !accept.includes('openmetrics')) return false
  let open = 0
  let text = 0
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';')
    const qParam = params.find((p) => p.trim().startsWith('q='))
    const q = qParam === undefined ? 1 : Number(qParam.trim().slice(2))
    if (!Number.isFinite(q)) continue
    const media = type.trim().toLowerCase()
    if (media === 'application/openmetrics-text') open = Math.max(open, q)
    else if (media === 'text/plain') text = Math.max(text, q)
  }
  return open > 0 && open >= text
}

/**
 * Renders `registry` in `contentType`. The registry's own type goes straight through; the other
 * one is rendered from `getMetricsAsJSON()` by a throw-away registry, because prom-client renames
 * counters in place while rendering OpenMetrics and switching the user's registry would break
 * concurrent scrapes in the other format.
 */
export async function renderAs(
  client: PromClientLike,
  registry: RegistryLike,
  contentType: string,
): Promise<string> {
  if (registry.contentType === contentType) return registry.metrics()
  const toOpenMetrics = contentType === client.Registry.OPENMETRICS_CONTENT_TYPE
  const families = (await registry.getMetricsAsJSON()) as MetricFamily[]
  const target = newRegistry(client, contentType)
  for (const family of families) {
    let name = family.name
    if (family.type === 'counter') {
      const bare = name.replace(/_total$/, '')
      name = toOpenMetrics ? bare : `${bare}_total`
    }
    const snapshot: MetricFamily = { ...family, name }
    target.registerMetric({ name, type: family.type, get: () => snapshot } as MetricLike)
  }
  return target.metrics()
}
