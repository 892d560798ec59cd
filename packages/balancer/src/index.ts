export { createBalancer } from './balancer.js'
export type { Balancer, UpstreamSnapshot, UpstreamStateChange } from './balancer.js'
export type { DownReason, UpstreamState } from './upstream.js'
export { DEFAULTS, STRATEGIES } from './options.js'
export type {
  ActiveHealthOptions,
  BalancerOptions,
  HashRequest,
  OutlierOptions,
  PassiveHealthOptions,
  PermitLike,
  PermitSource,
  RetryBudgetOptions,
  Strategy,
  UpstreamInput,
  UpstreamOptions,
} from './options.js'
export {
  BalancerClosedError,
  InvalidOptionError,
  isBalancerClosedError,
  isInvalidOptionError,
  isNoUpstreamError,
  NoUpstreamError,
} from './errors.js'
