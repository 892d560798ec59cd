export { createShutdown } from './shutdown.js'
export type { Shutdown, ShutdownOutcome } from './shutdown.js'
export { DEFAULTS } from './options.js'
export type { CloseHookOptions, Readiness, ShutdownOptions } from './options.js'
export type { Logger, LoggerOption } from '@uptimekit/internal'
export type { CloseHook, HookResult } from './close-hooks.js'
export {
  HookTimeoutError,
  InvalidOptionError,
  ShutdownDisposedError,
  isHookTimeoutError,
  isInvalidOptionError,
  isShutdownDisposedError,
} from './errors.js'
