import type { Deadlines } from './deadlines.js'

/** How a call under a deadline reports back; exactly one of the three runs, once. */
export interface TimedCallOutcome {
  /** `fn` fulfilled in time. */
  succeeded(): void
  /** `fn` threw or rejected in time. */
  errored(error: unknown): void
  /** The deadline passed first: counts the timeout and returns the error the caller gets. */
  timedOut(): Error
}

/**
 * Runs `fn` with a signal of its own that aborts when its deadline in `deadlines` passes or
 * `signal` aborts.
 * The returned promise settles with `fn`'s outcome, or rejects with `timedOut()`'s error at the
 * deadline even if `fn` ignores its signal; a late outcome is then dropped.
 */
export function callWithTimeout<T>(
  fn: (signal: AbortSignal) => T | PromiseLike<T>,
  deadlines: Deadlines,
  signal: AbortSignal | undefined,
  outcome: TimedCallOutcome,
): Promise<T> {
  const controller = new AbortController()
  // One promise and one reaction per call: this is the path every call takes by default.
  return new Promise<T>((resolve, reject) => {
    let done = false
    const forwardAbort = (): void => controller.abort(signal?.reason)
    const finish = (): boolean => {
      if (done) return false
      done = true
      cancelDeadline()
      signal?.removeEventListener('abort', forwardAbort)
      return true
    }
    const cancelDeadline = deadlines.add(() => {
      if (!finish()) return
      const error = outcome.timedOut()
      controller.abort(error)
      reject(error)
    })
    signal?.addEventListener('abort', forwardAbort, { once: true })
    let pending: T | PromiseLike<T>
    try {
      pending = fn(controller.signal)
    } catch (error) {
      if (finish()) outcome.errored(error)
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- fn's own error, passed on untouched
      reject(error)
      return
    }
    Promise.resolve(pending).then(
      (value) => {
        if (finish()) outcome.succeeded()
        resolve(value)
      },
      (error: unknown) => {
        if (finish()) outcome.errored(error)
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- fn's own error, passed on untouched
        reject(error)
      },
    )
  })
}
