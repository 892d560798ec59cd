export { createOverload } from './overload.js'
export type {
  Admission,
  Overload,
  OverloadChange,
  OverloadHealthCheck,
  OverloadHealthDetails,
  OverloadRequest,
  OverloadSnapshot,
  OverloadState,
  ResponseLike,
} from './overload.js'
export { DEFAULTS } from './options.js'
export type { OverloadOptions, OverloadPriority, QueueOrder } from './options.js'
export { InvalidOptionError, isInvalidOptionError, isOverloadedBody, OVERLOADED } from './errors.js'
export { SHED_REASONS } from './shed-answer.js'
export type { ShedReason } from './shed-answer.js'
export type { PressureReadings } from './pressure.js'
