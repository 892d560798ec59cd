import { errorAnswer, jsonAnswer, negotiate, type HttpAnswer } from '@uptimekit/internal'
import { ERROR_STATUS, type HealthErrorCode } from './errors.js'
import type { ComponentType, Observation, ResolvedCheck } from './options.js'
import { failingChecks, type CheckResult, type HealthReport } from './report.js'

/** The parts of a probe request the core looks at. */
export interface ProbeRequest {
  /** The `Accept` header; `application/health+json` selects the IETF format. */
  accept?: string | undefined
  /** The `Authorization` header, for `/health/detailed` when `token` is set. */
  authorization?: string | undefined
}

/** Why `/ready` is not ready; a `markNotReady()` reason is passed through as given. */
export type NotReadyReason = 'starting' | 'critical checks failing' | (string & {})

const JSON_TYPE = 'application/json; charset=utf-8'
// draft-inadarei-api-health-check-06 §3: the media type has no parameters.
const IETF_TYPE = 'application/health+json'
const OFFERS = ['application/json', IETF_TYPE] as const
// Probes are polled; an answer cached anywhere could hide a state change.
const NO_STORE = Object.freeze({ 'cache-control': 'no-store' })

/**
 * Whether an Accept header asks for the IETF format: q-values and case as RFC 9110 says, plain
 * JSON on a tie, on `*\/*` and when neither is acceptable (a probe always answers).
 */
export function wantsIetf(accept: string | undefined): boolean {
  return negotiate(accept, OFFERS) === IETF_TYPE
}

/** A JSON answer with the headers every probe carries. */
export function answer(statusCode: number, body: object, ietf: boolean): HttpAnswer {
  return jsonAnswer(statusCode, body, NO_STORE, ietf ? IETF_TYPE : JSON_TYPE)
}

/** The house error answer for one of health's error codes, never cached. */
export function healthError(
  code: HealthErrorCode,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): HttpAnswer {
  return errorAnswer(ERROR_STATUS[code], code, message, { ...NO_STORE, ...headers })
}

/** An answer built once in both formats; call it with whether the request wants IETF. */
export function fixedAnswer(
  statusCode: number,
  plain: object,
  ietfBody: object,
): (ietf: boolean) => HttpAnswer {
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

/**
 * The top-level `output` of a report that is not healthy: which checks fail (names only, so it
 * is safe on public probes), or undefined when every check passes.
 */
export function reportOutput(report: HealthReport): string | undefined {
  const critical = failingChecks(report, true)
  const other = failingChecks(report, false)
  const parts: string[] = []
  if (critical.length > 0) parts.push(`critical checks failing: ${critical.join(', ')}`)
  if (other.length > 0) parts.push(`non-critical checks failing: ${other.join(', ')}`)
  return parts.length === 0 ? undefined : parts.join('; ')
}

function isObservation(value: unknown): value is Observation {
  const shaped = value as Partial<Observation> | null | undefined
  return (
    typeof shaped?.measurement === 'string' &&
    typeof shaped.unit === 'string' &&
    typeof shaped.value === 'number' &&
    Number.isFinite(shaped.value)
  )
}

/** A check's reading from its (already redacted) details; a throwing `observe` gives none. */
function observation(
  check: ResolvedCheck | undefined,
  result: CheckResult,
): Observation | undefined {
  if (check?.check.observe === undefined || result.details === undefined) return undefined
  try {
    const observed = check.check.observe(result.details)
    return isObservation(observed) ? observed : undefined
  } catch {
    return undefined
  }
}

type IetfCheck = {
  componentType: ComponentType
  status: 'pass' | 'warn' | 'fail'
  observedValue: number
  observedUnit: string
  time: string
  output?: string
}

/**
 * The `checks` member of an IETF body: one `<name>:<measurement>` entry per check, each an
 * array as the draft requires, with the check's `componentType`. A check with a reading (heap, disk, event loop) reports it;
 * any other its response time in ms. `detailed` puts the error text in `output`; otherwise
 * `output` only says `timeout` or `error`.
 */
export function ietfChecks(
  report: HealthReport,
  checks: ReadonlyMap<string, ResolvedCheck>,
  detailed: boolean,
  failingCriticalOnly: boolean,
): Record<string, IetfCheck[]> {
  const out: Record<string, IetfCheck[]> = {}
  for (const [name, result] of Object.entries(report.checks)) {
    if (failingCriticalOnly && (result.status === 'pass' || !result.critical)) continue
    const check = checks.get(name)
    const observed = observation(check, result)
    const entry: IetfCheck = {
      componentType: check?.componentType ?? 'component',
      status: ietfStatus(result),
      observedValue: observed?.value ?? result.durationMs,
      observedUnit: observed?.unit ?? 'ms',
      time: report.timestamp,
    }
    if (result.status === 'fail') {
      entry.output = detailed
        ? (result.error ?? 'error')
        : result.timedOut === true
          ? 'timeout'
          : 'error'
    }
    out[`${name}:${observed?.measurement ?? 'responseTime'}`] = [entry]
  }
  return out
}
