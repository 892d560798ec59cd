/**
 * Settles with `work`, or rejects with the signal's reason as soon as the
 * signal fires, for drivers that take no AbortSignal. A late rejection of
 * `work` is swallowed so it never becomes an unhandled rejection.
 */
export function raceAbort<T>(work: PromiseLike<T>, signal: AbortSignal): Promise<T> {
  const settled = Promise.resolve(work)
  settled.catch(() => {})
  if (signal.aborted) return Promise.reject(signal.reason as Error)
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error)
    signal.addEventListener('abort', onAbort, { once: true })
    settled.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}
