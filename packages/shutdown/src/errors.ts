import { UptimekitError, hasCode } from '@uptimekit/internal'

export { InvalidOptionError, isInvalidOptionError } from '@uptimekit/internal'

/**
 * The abort reason a close hook's AbortSignal carries when the hook ran past its timeout;
 * also what the hook's entry in the shutdown outcome reports.
 */
export class HookTimeoutError extends UptimekitError {
  /** Stable code for a close hook that ran past its own timeout. */
  static override readonly code: string = 'UPTIMEKIT_HOOK_TIMEOUT'
  /** Name the hook was registered under. */
  readonly hook: string
  /** The timeout it ran past, in milliseconds. */
  readonly timeoutMs: number

  constructor(hook: string, timeoutMs: number) {
    super(HookTimeoutError.code, `close hook "${hook}" timed out after ${timeoutMs} ms`)
    this.hook = hook
    this.timeoutMs = timeoutMs
  }
}

/** Thrown by `shutdown.shutdown()` after `shutdown.dispose()`: nothing is tracked any more. */
export class ShutdownDisposedError extends UptimekitError {
  /** Stable code for a shutdown used after it was disposed. */
  static override readonly code: string = 'UPTIMEKIT_SHUTDOWN_DISPOSED'

  constructor() {
    super(
      ShutdownDisposedError.code,
      'this shutdown was disposed; create a new one with createShutdown()',
    )
  }
}

/** True for a {@link HookTimeoutError}, from this copy of the package or any other. */
export const isHookTimeoutError = (err: unknown): err is HookTimeoutError =>
  hasCode(err, HookTimeoutError.code)

/** True for a {@link ShutdownDisposedError}, from this copy of the package or any other. */
export const isShutdownDisposedError = (err: unknown): err is ShutdownDisposedError =>
  hasCode(err, ShutdownDisposedError.code)
