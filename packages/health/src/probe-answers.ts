import type { HealthReport, CheckResult } from './report.js'

/** The parts of a probe request the core looks at. */
export interface ProbeRequest {
  /** The `Accept` header; `application/health+json` selects the IETF format. */
  accept?: string | undefined
  /** The `Authorization` header, for `/health/detailed` when `detailsToken` is set. */
  authorization?: string | undefined
}

/** What a probe answers; adapters write it out unchanged. */
export interface ProbeAnswer {
  /** HTTP status code. */
  statusCode: number
  /** Response headers, lower-case names. */
  headers: Readonly<Record<string, string>>
  /** The JSON body, serialized. */
  body: string
}

/** Why `/ready` is not ready; a `markNotReady()` reason is passed through as given. */
export type NotReadyReason = 'starting' | 'critical checks failing' | (string & {})

const JSON_HEADERS = Object.freeze({
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
})
const IETF_HEADERS = Object.freeze({
  'content-type': 'application/health+json',
  'cache-control': 'no-store',
})

/** Whether an Accept header asks for the IETF health-check format (draft-inadarei-api-health-check). */
export function wantsIetf(accept: string | undefined): boolean {
  if (accept === undefined || !accept.includes('health+json')) return false
  return accept.split(',').some((range) => {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase())
    return type === 'application/health+json' && !params.some((p) => /^q=0(\.0*)?$/.test(p))
  })
}

/** A JSON answer with the headers every probe carries. */
export function answer(statusCode: number, body: object, ietf: boolean): ProbeAnswer {
  return { statusCode, headers: ietf ? IETF_HEADERS : JSON_HEADERS, body: JSON.stringify(body) }
}

/** An answer built once in both formats; call it with whether the request wants IETF. */
export function fixedAnswer(
  statusCode: number,
  plain: object,
  ietfBody: object,
): (ietf: boolean) => ProbeAnswer {
  const answers = [answer(statusCode, plain, false), answer(statusCode, ietfBody, true)] as const
  return (wanted) => answers[wanted ? 1 : 0]
}

type PublicCheck = { status: 'pass' | 'fail'; critical: boolean; failure?: 'timeout' | 'error' }

/** A check as public probes show it: pass or fail and why in one word, never the error text. */
function publicCheck(result: CheckResult): PublicCheck {
  if (result.status === 'pass') return { status: 'pass', critical: result.critical }
  return {
    status: 'fail',
    critical: result.critical,
    failure: result.timedOut === true ? 'timeout' : 'error',
  }
}

/** The checks of a report as public probes show them, optionally only the failing critical ones. */
export function publicChecks(
  report: HealthReport,
  failingCriticalOnly: boolean,
): Record<string, PublicCheck> {
  const out: Record<string, PublicCheck> = {}
  for (const [name, result] of Object.entries(report.checks)) {
    if (failingCriticalOnly && (result.status === 'pass' || !result.critical)) continue
    out[name] = publicCheck(result)
  }
  return out
}

/** IETF status of one check: a failing non-critical check is a warning. */
const ietfStatus = (result: CheckResult): 'pass' | 'warn' | 'fail' =>
  result.status === 'pass' ? 'pass' : result.critical ? 'fail' : 'warn'

/** IETF status of a whole report. */
export const IETF_STATUS = { healthy: 'pass', degraded: 'warn', unhealthy: 'fail' } as const

type IetfCheck = {
  status: 'pass' | 'warn' | 'fail'
  observedValue: number
  observedUnit: 'ms'
  time: string
  output?: string
}

/**
 * The `checks` member of an IETF body: one `<name>:responseTime` entry per
 * check, each an array as the draft requires. `detailed` puts the error text
 * in `output`; otherwise `output` only says `timeout` or `error`.
 */
export function ietfChecks(
  report: HealthReport,
  detailed: boolean,
  failingCriticalOnly: boolean,
): Record<string, IetfCheck[]> {
  const out: Record<string, IetfCheck[]> = {}
  for (const [name, result] of Object.entries(report.checks)) {
    if (failingCriticalOnly && (result.status === 'pass' || !result.critical)) continue
    const entry: IetfCheck = {
      status: ietfStatus(result),
      observedValue: result.durationMs,
      observedUnit: 'ms',
      time: report.timestamp,
    }
    if (result.status === 'fail') {
      entry.output = detailed
        ? (result.error ?? 'error')
        : result.timedOut === true
          ? 'timeout'
          : 'error'
    }
    out[`${name}:responseTime`] = [entry]
  }
  return out
}
