/** The outcome of one check in one run. */
export interface CheckResult {
  /** `'pass'` when the check resolved, `'fail'` when it threw, rejected or timed out. */
  status: 'pass' | 'fail'
  /** Whether this check's failure makes the service unhealthy and not ready. */
  critical: boolean
  /** How long the check took, in milliseconds (the time waited when it timed out). */
  durationMs: number
  /** Why it failed, one line, credentials removed; absent on pass. */
  error?: string
  /** True when the failure was the check's `timeoutMs` passing. */
  timedOut?: boolean
  /**
   * What the check resolved with (or the reading a `CheckFailedError` carried), JSON-safe,
   * strings redacted and secret-named keys masked; absent when there was none.
   */
  details?: unknown
}

/** The overall state: any failing critical check is `unhealthy`, any other failing check `degraded`. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy'

/** The result of one run of every check, as `health.check()` returns it. */
export interface HealthReport {
  /** `healthy`, `degraded` (only non-critical checks fail) or `unhealthy` (a critical check fails). */
  status: HealthStatus
  /** When the run finished, ISO 8601. Cached answers carry the time of the run they reuse. */
  timestamp: string
  /** Each check's outcome, by name. */
  checks: Record<string, CheckResult>
}

/** The overall status of a set of check results. */
export function overallStatus(checks: Record<string, CheckResult>): HealthStatus {
  let status: HealthStatus = 'healthy'
  for (const result of Object.values(checks)) {
    if (result.status === 'pass') continue
    if (result.critical) return 'unhealthy'
    status = 'degraded'
  }
  return status
}

/** The names of the failing checks, critical or not. */
export function failingChecks(report: HealthReport, critical: boolean): string[] {
  return Object.entries(report.checks)
    .filter(([, result]) => result.status === 'fail' && result.critical === critical)
    .map(([name]) => name)
}
