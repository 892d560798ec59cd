import { bearerCheck } from './bearer-token.js'
import { ANSWER_STATUS } from './errors.js'
import { prefersOpenMetrics, renderAs } from './exposition.js'
import type { LoggerLike } from './options.js'
import type { PromClientLike, RegistryLike } from './prom-client.js'

/** What an adapter reads from a `/metrics` request. */
export interface MetricsRequest {
  /** The `Accept` header. */
  accept?: string | undefined
  /** The `Authorization` header. */
  authorization?: string | undefined
}

/** The answer to a `/metrics` request; adapters write it as is. */
export interface MetricsAnswer {
  /** 200, or the status of a code in the errors table. */
  statusCode: number
  /** Response headers, lower-case names. */
  headers: Record<string, string>
  /** The exposition text, or a one-line reason. */
  body: string
}

/** How scrapes are answered. */
export interface ScrapeSettings {
  readonly client: PromClientLike
  readonly token: string | undefined
  readonly openMetrics: boolean
  readonly logger: LoggerLike
}

const TEXT = 'text/plain; charset=utf-8'

/** A one-line answer for a code of the errors table. */
export function failure(code: keyof typeof ANSWER_STATUS, reason: string): MetricsAnswer {
  return {
    statusCode: ANSWER_STATUS[code],
    headers: { 'content-type': TEXT },
    body: `${code}: ${reason}\n`,
  }
}

/**
 * Builds the `/metrics` answerer: bearer token first (401 without it), then the format the
 * `Accept` header prefers, then the registry `load()` gives (a cluster timeout answers 504, any
 * other error is logged and answers 500).
 */
export function scrapeAnswerer(
  settings: ScrapeSettings,
  load: () => Promise<RegistryLike>,
): (request: MetricsRequest) => Promise<MetricsAnswer> {
  const authorized = settings.token === undefined ? undefined : bearerCheck(settings.token)
  const { Registry } = settings.client
  return async (request) => {
    if (authorized !== undefined && !authorized(request.authorization)) {
      const answer = failure(
        'UPTIMEKIT_METRICS_UNAUTHORIZED',
        '/metrics needs a valid bearer token',
      )
      answer.headers['www-authenticate'] = 'Bearer realm="metrics"'
      return answer
    }
    try {
      const registry = await load()
      const contentType = !settings.openMetrics
        ? registry.contentType
        : prefersOpenMetrics(request.accept)
          ? Registry.OPENMETRICS_CONTENT_TYPE
          : Registry.PROMETHEUS_CONTENT_TYPE
      const body = await renderAs(settings.client, registry, contentType)
      return { statusCode: 200, headers: { 'content-type': contentType }, body }
    } catch (err) {
      const code = (err as { code?: unknown } | null)?.code
      if (code === 'UPTIMEKIT_METRICS_CLUSTER_TIMEOUT') return failure(code, (err as Error).message)
      settings.logger.error({ err }, 'rendering /metrics failed')
      return failure('UPTIMEKIT_METRICS_RENDER_FAILED', 'a collector failed; see the service log')
    }
  }
}
