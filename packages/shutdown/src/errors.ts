/** Thrown by `createShutdown()` and `shutdownPlugin` when an option is missing, of the wrong type or out of range. */
export class InvalidOptionError extends TypeError {
  /** Stable code shared by every uptimekit package for bad options. */
  readonly code = 'UPTIMEKIT_INVALID_OPTION'
  /** Name of the option that was rejected. */
  readonly option: string

  constructor(option: string, rule: string, got: string) {
    super(`\`${option}\` ${rule} (got ${got})`)
    this.name = 'InvalidOptionError'
    this.option = option
  }
}

/**
 * The abort reason a close hook's AbortSignal carries when the hook ran past its timeout;
 * also what the hook's entry in the shutdown outcome reports.
 */
export class HookTimeoutError extends Error {
  /** Stable code for a close hook that ran past its own timeout. */
  readonly code = 'UPTIMEKIT_HOOK_TIMEOUT'
  /** Name the hook was registered under. */
  readonly hook: string
  /** The timeout it ran past, in milliseconds. */
  readonly timeoutMs: number

  constructor(hook: string, timeoutMs: number) {
    super(`close hook "${hook}" timed out after ${timeoutMs} ms`)
    this.name = 'HookTimeoutError'
    this.hook = hook
    this.timeoutMs = timeoutMs
  }
}

const codeOf = (err: unknown): unknown =>
  typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined

/** True for an {@link InvalidOptionError}, from this copy of the package or any other. */
export const isInvalidOptionError = (err: unknown): err is InvalidOptionError =>
  codeOf(err) === 'UPTIMEKIT_INVALID_OPTION'

/** True for a {@link HookTimeoutError}, from this copy of the package or any other. */
export const isHookTimeoutError = (err: unknown): err is HookTimeoutError =>
  codeOf(err) === 'UPTIMEKIT_HOOK_TIMEOUT'

/** Thrown by `shutdown.shutdown()` after `shutdown.dispose()`: nothing is tracked any more. */
export class ShutdownDisposedError extends Error {
  /** Stable code for a shutdown used after it was disposed. */
  readonly code = 'UPTIMEKIT_SHUTDOWN_DISPOSED'

  constructor() {
    super('this shutdown was disposed; create a new one with createShutdown()')
    this.name = 'ShutdownDisposedError'
  }
}
