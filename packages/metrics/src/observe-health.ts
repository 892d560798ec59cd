import {
  InvalidOptionError,
  errorText,
  milliseconds,
  optionsObject,
  resolveLogger,
  shown,
  type LoggerOption,
} from '@uptimekit/internal'
import { metricView, registerViews, type MetricView } from './metric-view.js'
import { checkPrefix, checkRegistry, PACKAGE_NAME } from './options.js'
import type { RegistryLike, SampleValue } from './prom-client.js'

/** One check in a health report (the `@uptimekit/health` shape). */
export interface HealthCheckResult {
  /** `pass` or `fail`. */
  status: 'pass' | 'fail'
  /** Whether a failure makes the service unhealthy. */
  critical: boolean
  /** How long the check ran, in milliseconds. */
  durationMs: number
}

/** A health report (the `@uptimekit/health` shape). */
export interface HealthReportLike {
  /** Overall status. */
  status: 'healthy' | 'degraded' | 'unhealthy'
  /** Results by check name. */
  checks: Record<string, HealthCheckResult>
}

/** Anything that runs (or shares a cached run of) its checks on demand, like `createHealth()`. */
export interface ObservableHealth {
  /** Runs the checks, or shares the in-flight or cached run. */
  check(): Promise<HealthReportLike>
}

/** Options of {@link observeHealth}. */
export interface ObserveHealthOptions {
  /** The registry to export to, e.g. `metrics.registry`. */
  registry: RegistryLike
  /**
   * Prefix of the metric names.
   * @default ''
   */
  prefix?: string
  /**
   * Longest a scrape waits for `health.check()`, in milliseconds (at most 2^31-1); past it the
   * health metrics are left out of that scrape and a warning is logged.
   * @default 5000
   */
  timeoutMs?: number
  /**
   * Where a failed or late `health.check()` is reported: a pino-shaped logger, or `false`.
   * @default one JSON line per event on stderr
   */
  logger?: LoggerOption
}

const HEALTH_KEY = Symbol.for('uptimekit.metrics.health')
const OPTION_KEYS: readonly string[] = Object.freeze(['registry', 'prefix', 'timeoutMs', 'logger'])
/** Default `timeoutMs` of {@link observeHealth}. */
const DEFAULT_TIMEOUT_MS = 5000
const STATUSES = ['healthy', 'degraded', 'unhealthy'] as const

type HealthView = MetricView & { [HEALTH_KEY]?: true }

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`health.check() took longer than ${ms} ms`)), ms)
    timer.unref()
  })
  return Promise.race([work, late]).finally(() => clearTimeout(timer))
}

/**
 * Exports a health report at scrape time: `health_check_status{check,critical}` (1 pass, 0 fail),
 * `health_check_duration_seconds{check}` and `health_status{status}` (1 for the current one).
 * One scrape calls `health.check()` once for the three metrics; a report that fails or comes too
 * late leaves them empty for that scrape and logs a warning. One health per registry.
 *
 * @returns a function that stops exporting (the metrics stay registered, empty)
 */
export function observeHealth(health: ObservableHealth, options: ObserveHealthOptions): () => void {
  if (typeof (health as Partial<ObservableHealth> | null)?.check !== 'function') {
    throw new InvalidOptionError(
      'health',
      'must have a check() returning a health report',
      shown(health),
    )
  }
  const o = optionsObject('observeHealth', options, OPTION_KEYS)
  const registry = checkRegistry(o.registry)
  const prefix = checkPrefix(o.prefix)
  const timeoutMs =
    o.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : milliseconds('timeoutMs', o.timeoutMs)
  const logger = resolveLogger('logger', o.logger, PACKAGE_NAME)
  const statusName = `${prefix}health_check_status`
  if ((registry.getSingleMetric(statusName) as HealthView | undefined)?.[HEALTH_KEY] === true) {
    throw new InvalidOptionError(
      'registry',
      'already exports a health; observe one health per registry',
      'a second health',
    )
  }
  let active = true
  let pending: Promise<HealthReportLike | undefined> | undefined
  // The registry reads the three metrics concurrently: they share one report per scrape.
  const report = (): Promise<HealthReportLike | undefined> => {
    if (!active) return Promise.resolve(undefined)
    pending ??= withDeadline(
      Promise.resolve().then(() => health.check()),
      timeoutMs,
    )
      .catch((err: unknown) => {
        logger.warn({ error: errorText(err) }, 'health.check() failed during a metrics scrape')
        return undefined
      })
      .finally(() => {
        pending = undefined
      })
    return pending
  }
  const fromReport =
    (pick: (name: string, result: HealthCheckResult) => SampleValue) =>
    async (): Promise<SampleValue[]> => {
      const r = await report()
      return r === undefined
        ? []
        : Object.entries(r.checks).map(([name, result]) => pick(name, result))
    }
  const status: HealthView = metricView(
    statusName,
    'Health check result: 1 pass, 0 fail',
    'gauge',
    fromReport((check, r) => ({
      labels: { check, critical: String(r.critical) },
      value: r.status === 'pass' ? 1 : 0,
    })),
  )
  status[HEALTH_KEY] = true
  const views = [
    status,
    metricView(
      `${prefix}health_check_duration_seconds`,
      'Duration of the last health check run, in seconds',
      'gauge',
      fromReport((check, r) => ({ labels: { check }, value: r.durationMs / 1000 })),
    ),
    metricView(
      `${prefix}health_status`,
      'Overall health: 1 for the current status, 0 for the others',
      'gauge',
      async () => {
        const r = await report()
        return r === undefined
          ? []
          : STATUSES.map((s) => ({ labels: { status: s }, value: s === r.status ? 1 : 0 }))
      },
    ),
  ]
  registerViews(registry, views)
  return () => {
    active = false
  }
}
