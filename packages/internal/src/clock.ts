/**
 * Milliseconds on a clock that never steps: every duration, deadline and window in uptimekit is
 * measured on it, so an NTP correction or a manual `date -s` cannot hold a circuit open for an
 * hour or count a 20 ms call as slow.
 */
export const monotonicMs: () => number = () => performance.now()
