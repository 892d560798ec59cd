export { createMetrics } from './metrics.js'
export type { Metrics } from './metrics.js'
export type { MetricsAnswer, MetricsRequest } from './scrape-answer.js'
export { DEFAULTS } from './options.js'
export type { ConnectionCounter, LoggerLike, MetricNaming, MetricsOptions } from './options.js'
export { InvalidOptionError, isInvalidOptionError, ANSWER_STATUS } from './errors.js'
export type { MetricsAnswerCode } from './errors.js'
export { CLIENT_CLOSED_STATUS } from './tracker.js'
export type { LateRouteResolver, RequestTracker } from './tracker.js'
export { METHOD_LABELS, OVERFLOW_VALUE, UNMATCHED_ROUTE, RouteSeries } from './request-series.js'
export type { MetricFamily, PromClientLike, RegistryLike, SampleValue } from './prom-client.js'
export { observeBreaker } from './observe-breaker.js'
export type { BreakerState, ObservableBreaker, ObserveBreakerOptions } from './observe-breaker.js'
export { observeHealth } from './observe-health.js'
export type {
  HealthCheckResult,
  HealthReportLike,
  ObservableHealth,
  ObserveHealthOptions,
} from './observe-health.js'
export { createClusterMetrics, shareClusterMetrics } from './cluster.js'
export type { ClusterMetrics, ClusterMetricsOptions } from './cluster.js'
