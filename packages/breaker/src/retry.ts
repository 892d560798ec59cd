import { isCircuitOpenError, RetryError } from './errors.js'
import { NEVER_ABORTED_SIGNAL } from './never-aborted-signal.js'
import { resolveRetryOptions, type ResolvedRetryOptions, type RetryOptions } from './options.js'

/**
 * Delay before retry number `retry` (1 for the first retry), in milliseconds. `full` jitter
 * draws uniformly between `minDelayMs` and `min(maxDelayMs, minDelayMs × factor^retry)`;
 * `none` waits `min(maxDelayMs, minDelayMs × factor^(retry-1))`.
 */
export function retryDelayMs(retry: number, options: ResolvedRetryOptions): number {
  const { minDelayMs, maxDelayMs, factor } = options
  if (options.jitter === 'none') return Math.min(maxDelayMs, minDelayMs * factor ** (retry - 1))
  const ceiling = Math.min(maxDelayMs, minDelayMs * factor ** retry)
  return minDelayMs + Math.random() * (ceiling - minDelayMs)
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    // Not unref()ed: a pending retry is work the process should stay up for.
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    function onAbort(): void {
      clearTimeout(timer)
      reject(signal?.reason as Error)
    }
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Calls `fn` until it succeeds, waiting with exponential backoff and jitter between attempts.
 * `fn` gets the `signal` option (or a signal that never aborts) and the attempt number (1-based).
 *
 * Gives up with a `RetryError` (`attempts`, `cause` = last error) when the retries are used up,
 * when `retryOn` says no, or at once on a `CircuitOpenError`: retrying into an open breaker only
 * adds load. When `signal` aborts (before, between or during attempts) it rejects with the
 * signal's reason and calls nothing more.
 *
 * @throws InvalidOptionError on a bad option, synchronously checked before the first call.
 * @example
 * ```ts
 * const user = await retry((signal) => payments.execute((s) => fetchUser(id, s), signal), {
 *   retries: 4, minDelayMs: 200, signal: AbortSignal.timeout(10_000),
 * })
 * ```
 */
export function retry<T>(
  fn: (signal: AbortSignal, attempt: number) => T | PromiseLike<T>,
  options?: RetryOptions,
): Promise<T> {
  const resolved = resolveRetryOptions(options)
  return runAttempts(fn, resolved)
}

async function runAttempts<T>(
  fn: (signal: AbortSignal, attempt: number) => T | PromiseLike<T>,
  options: ResolvedRetryOptions,
): Promise<T> {
  const { signal, retryOn, retries } = options
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted()
    try {
      return await fn(signal ?? NEVER_ABORTED_SIGNAL, attempt)
    } catch (error) {
      if (signal?.aborted === true) throw signal.reason
      const giveUp =
        attempt > retries ||
        isCircuitOpenError(error) ||
        (retryOn !== undefined && !retryOn(error, attempt))
      if (giveUp) throw new RetryError(attempt, error)
      await sleep(retryDelayMs(attempt, options), signal)
    }
  }
}
