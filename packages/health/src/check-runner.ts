import { errorText, monotonicMs, safeDetails } from '@uptimekit/internal'
import { CheckTimeoutError, isCheckFailedError } from './errors.js'
import type { ResolvedCheck } from './options.js'
import type { CheckResult } from './report.js'

type Settled =
  { ok: true; value: unknown; endedAt: number } | { ok: false; error: unknown; endedAt: number }

/** One call of a check and the runs waiting for it. */
interface Execution {
  readonly startedAt: number
  /** When the check counts as timed out, on the monotonic clock. */
  readonly deadline: number
  /** The runs waiting for this call; each leaves at its deadline, so a hung call holds none. */
  readonly waiters: Set<(settled: Settled | undefined) => void>
}

/** The reading a `CheckFailedError` carries; anything else thrown carries none. */
function failureDetails(error: unknown): unknown {
  try {
    return isCheckFailedError(error) ? error.details : undefined
  } catch {
    // A revoked Proxy throws on any property read.
    return undefined
  }
}

/**
 * Runs one check under its deadline. A check that ignores its AbortSignal keeps at most one call
 * pending: later runs wait on that same call, until its deadline, instead of starting another,
 * so a hung dependency can pile up neither calls nor waiting runs however many probes arrive.
 */
export class CheckRunner {
  readonly #check: ResolvedCheck
  #pending: Execution | undefined

  constructor(check: ResolvedCheck) {
    this.#check = check
  }

  /** How many runs are waiting for the pending call (what a hung check holds in memory). */
  get waiting(): number {
    return this.#pending?.waiters.size ?? 0
  }

  #execute(): Execution {
    const { check, timeoutMs } = this.#check
    const startedAt = monotonicMs()
    const execution: Execution = { startedAt, deadline: startedAt + timeoutMs, waiters: new Set() }
    const controller = new AbortController()
    const abortAt = setTimeout(() => controller.abort(new CheckTimeoutError(timeoutMs)), timeoutMs)
    abortAt.unref()
    this.#pending = execution
    void new Promise<unknown>((resolve) => resolve(check(controller.signal)))
      .then(
        (value): Settled => ({ ok: true, value, endedAt: monotonicMs() }),
        (error: unknown): Settled => ({ ok: false, error, endedAt: monotonicMs() }),
      )
      .then((settled) => {
        clearTimeout(abortAt)
        if (this.#pending === execution) this.#pending = undefined
        // A check that gave up because its signal fired timed out; its rejection says only that.
        const outcome = controller.signal.aborted ? undefined : settled
        for (const waiter of execution.waiters) waiter(outcome)
        execution.waiters.clear()
      })
    return execution
  }

  #wait(execution: Execution): Promise<Settled | undefined> {
    const remaining = execution.deadline - monotonicMs()
    if (remaining <= 0) return Promise.resolve(undefined)
    return new Promise((resolve) => {
      const waiter = (settled: Settled | undefined): void => {
        clearTimeout(timer)
        resolve(settled)
      }
      const timer = setTimeout(() => {
        execution.waiters.delete(waiter)
        resolve(undefined)
      }, Math.ceil(remaining))
      execution.waiters.add(waiter)
    })
  }

  /** Runs (or joins the pending call of) the check; never rejects. */
  async run(): Promise<CheckResult> {
    const { critical, timeoutMs } = this.#check
    const execution = this.#pending ?? this.#execute()
    const settled = await this.#wait(execution)
    if (settled === undefined) {
      return {
        status: 'fail',
        critical,
        durationMs: timeoutMs,
        error: `timed out after ${timeoutMs} ms`,
        timedOut: true,
      }
    }
    const durationMs = Math.round((settled.endedAt - execution.startedAt) * 10) / 10
    const raw = settled.ok ? settled.value : failureDetails(settled.error)
    const details = safeDetails(raw)
    const result: CheckResult = settled.ok
      ? { status: 'pass', critical, durationMs }
      : { status: 'fail', critical, durationMs, error: errorText(settled.error) }
    if (details !== undefined) result.details = details
    return result
  }
}
