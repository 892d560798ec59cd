import { CheckTimeoutError } from './errors.js'
import type { ResolvedCheck } from './options.js'
import type { CheckResult } from './report.js'
import { errorText, safeDetails } from './redact.js'

type Settled =
  { ok: true; value: unknown; endedAt: number } | { ok: false; error: unknown; endedAt: number }

/**
 * Runs one check under its deadline. A check that ignores its AbortSignal
 * keeps at most one execution pending: later runs wait on that same execution
 * (under a fresh deadline) instead of starting another, so a hung dependency
 * cannot pile up calls however many probes arrive.
 */
export class CheckRunner {
  readonly #check: ResolvedCheck
  #pending: Promise<Settled> | undefined

  constructor(check: ResolvedCheck) {
    this.#check = check
  }

  #execute(signal: AbortSignal): Promise<Settled> {
    const execution = new Promise<unknown>((resolve) => resolve(this.#check.check(signal))).then(
      (value): Settled => ({ ok: true, value, endedAt: performance.now() }),
      (error: unknown): Settled => ({ ok: false, error, endedAt: performance.now() }),
    )
    this.#pending = execution
    void execution.then(() => {
      if (this.#pending === execution) this.#pending = undefined
    })
    return execution
  }

  /** Runs (or joins the pending execution of) the check; never rejects. */
  async run(): Promise<CheckResult> {
    const { critical, timeoutMs } = this.#check
    const startedAt = performance.now()
    // Only the run that starts an execution owns its signal; a run joining it has nothing to abort.
    let controller: AbortController | undefined
    let execution = this.#pending
    if (execution === undefined) {
      controller = new AbortController()
      execution = this.#execute(controller.signal)
    }
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs)
    })
    const settled = await Promise.race([execution, deadline])
    clearTimeout(timer)
    if (settled === undefined) {
      controller?.abort(new CheckTimeoutError(timeoutMs))
      return {
        status: 'fail',
        critical,
        durationMs: timeoutMs,
        error: `timed out after ${timeoutMs} ms`,
        timedOut: true,
      }
    }
    const durationMs = Math.round((settled.endedAt - startedAt) * 10) / 10
    if (!settled.ok)
      return { status: 'fail', critical, durationMs, error: errorText(settled.error) }
    const details = safeDetails(settled.value)
    return details === undefined
      ? { status: 'pass', critical, durationMs }
      : { status: 'pass', critical, durationMs, details }
  }
}
