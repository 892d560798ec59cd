import {
  errorAnswer,
  errorText,
  negotiate,
  textAnswer,
  type HttpAnswer,
  type Logger,
} from '@uptimekit/internal'
import { ERROR_STATUS, isClusterTimeoutError } from './errors.js'
import { renderAs } from './exposition.js'
import type { PromClientLike, RegistryLike } from './prom-client.js'

/** What an adapter reads from a `/metrics` request. */
export interface MetricsRequest {
  /** The `Accept` header. */
  accept?: string | undefined
  /** The `Authorization` header. */
  authorization?: string | undefined
}

/** How scrapes are answered. */
export interface ScrapeSettings {
  readonly client: PromClientLike
  /** Matches the `Authorization` header; undefined when `/metrics` is open. */
  readonly authorized: ((authorization: string | undefined) => boolean) | undefined
  readonly openMetrics: boolean
  readonly logger: Logger
}

/**
 * Builds the `/metrics` answerer: bearer token first (401 without it), then the format the
 * `Accept` header prefers, then the registry `load()` gives (a cluster timeout answers 504, any
 * other error is logged and answers 500). Errors are the house error body.
 */
export function scrapeAnswerer(
  settings: ScrapeSettings,
  load: () => Promise<RegistryLike>,
): (request: MetricsRequest) => Promise<HttpAnswer> {
  const { authorized, client, logger } = settings
  const { Registry } = client
  // Ours, in order of preference: a scraper that says nothing, or `*/*`, gets the text format.
  const offers = [Registry.PROMETHEUS_CONTENT_TYPE, Registry.OPENMETRICS_CONTENT_TYPE]
  return async (request) => {
    if (authorized !== undefined && !authorized(request.authorization)) {
      return errorAnswer(
        ERROR_STATUS.UPTIMEKIT_METRICS_UNAUTHORIZED,
        'UPTIMEKIT_METRICS_UNAUTHORIZED',
        '/metrics needs a valid bearer token',
        { 'www-authenticate': 'Bearer realm="metrics"' },
      )
    }
    try {
      const registry = await load()
      // An Accept that takes neither format still gets the text format: a scraper with an odd
      // header is better served by metrics than by a 406 it will not log anywhere useful.
      const contentType = settings.openMetrics
        ? (negotiate(request.accept, offers) ?? Registry.PROMETHEUS_CONTENT_TYPE)
        : registry.contentType
      const body = await renderAs(client, registry, contentType)
      return textAnswer(200, body, contentType)
    } catch (err) {
      if (isClusterTimeoutError(err)) {
        return errorAnswer(
          ERROR_STATUS.UPTIMEKIT_METRICS_CLUSTER_TIMEOUT,
          'UPTIMEKIT_METRICS_CLUSTER_TIMEOUT',
          errorText(err),
        )
      }
      logger.error({ error: errorText(err) }, 'rendering /metrics failed')
      return errorAnswer(
        ERROR_STATUS.UPTIMEKIT_METRICS_RENDER_FAILED,
        'UPTIMEKIT_METRICS_RENDER_FAILED',
        'a collector failed; see the service log',
      )
    }
  }
}
