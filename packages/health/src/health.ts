import {
  errorText,
  monotonicMs,
  requestPath,
  type HttpAnswer,
  type Logger,
} from '@uptimekit/internal'
import { CheckRunner } from './check-runner.js'
import { resolveOptions, type HealthOptions, type Probe } from './options.js'
import {
  answer,
  fixedAnswer,
  healthError,
  IETF_STATUS,
  ietfChecks,
  publicChecks,
  reportOutput,
  wantsIetf,
  type ProbeRequest,
} from './probe-answers.js'
import { overallStatus, type CheckResult, type HealthReport } from './report.js'

/** A health service: runs the checks and answers the probes; one per process is typical, each fully independent. */
export interface Health {
  /**
   * Runs every check in parallel, or shares the run in flight, or reuses the
   * last result for `cacheMs` (interval mode: the last background result).
   * Never rejects, whatever a check throws or rejects with.
   */
  check(): Promise<HealthReport>
  /**
   * The complete answer to one probe: status code, headers (always
   * `Cache-Control: no-store` and `Content-Length`) and body. Adapters write it out unchanged.
   * Never rejects.
   */
  answer(probe: Probe, request?: ProbeRequest): Promise<HttpAnswer>
  /** The probes served, by configured path (`/health/detailed` only when `exposeDetails`). */
  readonly routes: ReadonlyMap<string, Probe>
  /**
   * The probe a request path asks for, compared the way routers compare paths: the query, an
   * absolute-form origin, one trailing slash, letter case and percent-encoded unreserved
   * characters (`/%72eady`) make no difference.
   */
  probeAt(path: string): Probe | undefined
  /**
   * Flips `/ready` to 503 for good (e.g. on SIGTERM, so load balancers stop
   * sending traffic); `/live` and `/health` are unaffected. The first reason wins.
   */
  markNotReady(reason: string): void
  /** Marks startup done: `/startup` and `/ready` stop answering 503 `starting` (`startup: 'manual'`). */
  markStarted(): void
  /** Whether `/ready` can answer 200: started and not marked not ready (checks aside). */
  readonly accepting: boolean
  /** Stops interval mode and releases the checkers' resources. Idempotent. */
  close(): void
}

const MB = 1024 * 1024
const inMB = (bytes: number): number => Math.round((bytes / MB) * 10) / 10

/**
 * Creates a health service from named checks.
 *
 * @example
 * ```ts
 * const health = createHealth({
 *   checks: {
 *     redis: redisCheck(redis),
 *     payments: { check: httpCheck('http://payments:3000/health'), critical: false },
 *   },
 *   timeoutMs: 800,
 *   cacheMs: 1000,
 * })
 * app.use(healthRouter(health)) // or: await app.register(healthPlugin, { health })
 * ```
 * @throws InvalidOptionError when an option is missing or out of range.
 */
export function createHealth(options: HealthOptions = {}): Health {
  const resolved = resolveOptions(options)
  const { cacheMs, intervalMs, authorized } = resolved
  const runners = resolved.checks.map((check) => ({
    name: check.name,
    check,
    runner: new CheckRunner(check),
  }))
  const byName = new Map(resolved.checks.map((check) => [check.name, check]))

  let started = resolved.startup === 'immediate'
  let notReadyReason: string | undefined
  let last: { report: HealthReport; at: number } | undefined
  let inFlight: Promise<HealthReport> | undefined
  let timer: NodeJS.Timeout | undefined
  let closed = false

  const log = (level: keyof Logger, details: object, message: string): void => {
    try {
      resolved.logger[level](details, message)
    } catch {
      // A broken logger must not break probes.
    }
  }

  const logChanges = (checks: Record<string, CheckResult>): void => {
    for (const [name, result] of Object.entries(checks)) {
      const before = last?.report.checks[name]?.status
      if (result.status === before) continue
      if (result.status === 'fail') {
        log(
          'warn',
          { check: name, critical: result.critical, error: result.error },
          `health check ${name} failed`,
        )
      } else if (before === 'fail') {
        log('info', { check: name }, `health check ${name} recovered`)
      }
    }
  }

  // Runners never reject; should a bug make this run throw, every check reports it as its
  // failure, so probes say unhealthy and an interval timer cannot crash the process.
  const failedRun = (error: unknown): HealthReport => {
    const text = `health run failed: ${errorText(error)}`
    const checks: Record<string, CheckResult> = {}
    for (const { name, check } of runners) {
      checks[name] = { status: 'fail', critical: check.critical, durationMs: 0, error: text }
    }
    return { status: overallStatus(checks), timestamp: new Date().toISOString(), checks }
  }

  const runAll = async (): Promise<HealthReport> => {
    const results = await Promise.all(runners.map(({ runner }) => runner.run()))
    const checks: Record<string, CheckResult> = {}
    runners.forEach(({ name }, i) => {
      checks[name] = results[i] as CheckResult
    })
    return { status: overallStatus(checks), timestamp: new Date().toISOString(), checks }
  }

  const startRun = (): Promise<HealthReport> => {
    inFlight ??= runAll()
      .catch(failedRun)
      .then((report) => {
        logChanges(report.checks)
        last = { report, at: monotonicMs() }
        return report
      })
      .finally(() => {
        inFlight = undefined
      })
    return inFlight
  }

  const tick = (): void => {
    void startRun().finally(() => {
      if (!closed) timer = setTimeout(tick, intervalMs).unref()
    })
  }
  if (intervalMs > 0) tick()

  const check = (): Promise<HealthReport> => {
    if (last !== undefined && (intervalMs > 0 || monotonicMs() - last.at < cacheMs)) {
      return Promise.resolve(last.report)
    }
    return inFlight ?? startRun()
  }

  // The answers that never change, built once: load balancers hit these constantly.
  const LIVE = fixedAnswer(200, { status: 'ok' }, { status: 'pass' })
  const READY = fixedAnswer(200, { status: 'ready' }, { status: 'pass' })
  const STARTED = fixedAnswer(200, { status: 'started' }, { status: 'pass' })
  const STARTING = fixedAnswer(503, { status: 'starting' }, { status: 'fail', output: 'starting' })

  const readiness = async (ietf: boolean): Promise<HttpAnswer> => {
    const reason = notReadyReason ?? (started ? undefined : 'starting')
    if (reason !== undefined) {
      return answer(
        503,
        ietf ? { status: 'fail', output: reason } : { status: 'not_ready', reason },
        ietf,
      )
    }
    const report = await check()
    if (report.status !== 'unhealthy') return READY(ietf)
    const failing = 'critical checks failing'
    return answer(
      503,
      ietf
        ? {
            status: 'fail',
            output: failing,
            checks: ietfChecks(report, byName, false, true),
          }
        : { status: 'not_ready', reason: failing, checks: publicChecks(report, true) },
      ietf,
    )
  }

  /** The IETF body of a report: status, `output` when it is not a pass, then `extra` and the checks. */
  const ietfReport = (report: HealthReport, detailed: boolean, extra: object): object => {
    const output = reportOutput(report)
    return {
      status: IETF_STATUS[report.status],
      ...(output === undefined ? {} : { output }),
      ...extra,
      checks: ietfChecks(report, byName, detailed, false),
    }
  }

  const overview = async (ietf: boolean): Promise<HttpAnswer> => {
    const report = await check()
    const statusCode = report.status === 'unhealthy' ? 503 : 200
    if (ietf) return answer(statusCode, ietfReport(report, false, {}), ietf)
    return answer(
      statusCode,
      {
        status: report.status,
        timestamp: report.timestamp,
        uptime: Math.floor(process.uptime()),
        checks: publicChecks(report, false),
      },
      ietf,
    )
  }

  const details = async (ietf: boolean, authorization: string | undefined): Promise<HttpAnswer> => {
    if (!resolved.exposeDetails) {
      return healthError('UPTIMEKIT_HEALTH_DETAILS_DISABLED', 'details are disabled')
    }
    if (authorized !== undefined && !authorized(authorization)) {
      return healthError('UPTIMEKIT_HEALTH_UNAUTHORIZED', 'a valid bearer token is required', {
        'www-authenticate': 'Bearer realm="health"',
      })
    }
    const report = await check()
    const statusCode = report.status === 'unhealthy' ? 503 : 200
    if (ietf) {
      return answer(statusCode, ietfReport(report, true, { version: resolved.version }), ietf)
    }
    const memory = process.memoryUsage()
    return answer(
      statusCode,
      {
        status: report.status,
        timestamp: report.timestamp,
        uptime: Math.floor(process.uptime()),
        version: resolved.version,
        environment: resolved.environment,
        memory: {
          heapUsedMB: inMB(memory.heapUsed),
          heapTotalMB: inMB(memory.heapTotal),
          rssMB: inMB(memory.rss),
        },
        checks: report.checks,
      },
      ietf,
    )
  }

  const respond = (probe: Probe, ietf: boolean, request: ProbeRequest): Promise<HttpAnswer> => {
    switch (probe) {
      case 'live':
        return Promise.resolve(LIVE(ietf))
      case 'startup':
        return Promise.resolve(started ? STARTED(ietf) : STARTING(ietf))
      case 'ready':
        return readiness(ietf)
      case 'health':
        return overview(ietf)
      case 'detailed':
        return details(ietf, request.authorization)
    }
  }

  const routes = new Map<string, Probe>()
  const byPath = new Map<string, Probe>()
  for (const [probe, path] of Object.entries(resolved.paths) as [Probe, string][]) {
    if (probe === 'detailed' && !resolved.exposeDetails) continue
    routes.set(path, probe)
    byPath.set(requestPath(path), probe)
  }

  return {
    check,
    routes,
    probeAt: (path) => byPath.get(requestPath(path)),
    async answer(probe, request = {}) {
      try {
        return await respond(probe, wantsIetf(request.accept), request)
      } catch (error) {
        // Unreachable unless there is a bug here: answer as a failing probe, never with a stack.
        log('error', { probe, error: errorText(error) }, `health probe ${probe} failed`)
        return healthError('UPTIMEKIT_HEALTH_ERROR', 'the health checks could not run')
      }
    },
    markNotReady(reason) {
      if (notReadyReason !== undefined) return
      notReadyReason = typeof reason === 'string' && reason !== '' ? reason : 'not ready'
      log('info', { reason: notReadyReason }, 'readiness flipped to not ready')
    },
    markStarted() {
      started = true
    },
    get accepting() {
      return started && notReadyReason === undefined
    },
    close() {
      if (closed) return
      closed = true
      clearTimeout(timer)
      for (const { name, check: fn } of resolved.checks) {
        try {
          fn.close?.()
        } catch (error) {
          log(
            'error',
            { check: name, error: errorText(error) },
            `closing health check ${name} failed`,
          )
        }
      }
    },
  }
}
