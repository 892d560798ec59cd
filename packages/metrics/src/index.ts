export { createMetrics } from './metrics.js'
export type { Metrics } from './metrics.js'
export type { MetricsRequest } from './scrape-answer.js'
export type { ErrorBody, HttpAnswer, Logger, LoggerOption } from '@uptimekit/internal'
export { DEFAULTS } from './options.js'
export type { ConnectionCounter, MetricNaming, MetricsOptions } from './options.js'
export {
  ClusterTimeoutError,
  ERROR_STATUS,
  InvalidOptionError,
  isClusterTimeoutError,
  isInvalidOptionError,
} from './errors.js'
export type { MetricsErrorCode } from './errors.js'
export { CLIENT_CLOSED_STATUS } from './tracker.js'
export { OVERFLOW_VALUE, UNMATCHED_ROUTE } from './request-series.js'
export type { PromClientLike, RegistryLike } from './prom-client.js'
export { observeBreaker } from './observe-breaker.js'
export type { BreakerState, ObservableBreaker, ObserveBreakerOptions } from './observe-breaker.js'
export { observeBalancer } from './observe-balancer.js'
export type {
  BalancerUpstreamLike,
  BalancerUpstreamState,
  ObservableBalancer,
  ObserveBalancerOptions,
} from './observe-balancer.js'
export { observeHealth } from './observe-health.js'
export type {
  HealthCheckResult,
  HealthReportLike,
  ObservableHealth,
  ObserveHealthOptions,
} from './observe-health.js'
export {
  observeOverload,
  type ObservableOverload,
  type ObserveOverloadOptions,
  type OverloadSnapshotLike,
} from './observe-overload.js'
export {
  observeReplicas,
  type ObservableReplicas,
  type ObserveReplicasOptions,
  type ReplicaChangeLike,
  type ReplicaNodeLike,
} from './observe-replicas.js'
export { createClusterMetrics, shareClusterMetrics } from './cluster.js'
export type { ClusterMetrics, ClusterMetricsOptions } from './cluster.js'
