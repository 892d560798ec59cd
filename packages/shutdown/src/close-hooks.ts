import { type Logger, errorText, func, monotonicMs, text } from '@uptimekit/internal'
import { HookTimeoutError } from './errors.js'
import { type CloseHookOptions, resolveHookTimeout } from './options.js'

/**
 * Cleanup to run once connections are drained: close a pool, flush a queue. Its AbortSignal
 * fires when the hook runs past its timeout or a second signal forces the exit.
 */
export type CloseHook = (signal: AbortSignal) => unknown

/** What happened to one close hook. */
export interface HookResult {
  /** The name it was registered under. */
  name: string
  /** `ok` resolved, `failed` threw or rejected, `timed_out` ran past its timeout. */
  status: 'ok' | 'failed' | 'timed_out'
  /** From its start to its end (or its timeout), in milliseconds, rounded. */
  durationMs: number
  /** The error message when it failed or timed out. */
  error?: string
}

interface Entry {
  name: string
  fn: CloseHook
  timeoutMs: number
}

/** The ordered list of close hooks of one shutdown. */
export interface CloseHooks {
  /** Appends a hook; returns a function that removes it again. */
  add(name: string, fn: CloseHook, options: CloseHookOptions | undefined): () => void
  /**
   * Runs the hooks one after another, appending each result to `results` as it ends;
   * starts no further hook once `forced` aborts.
   */
  run(logger: Logger, forced: AbortSignal, results: HookResult[]): Promise<void>
}

/** Creates an empty hook list whose hooks default to `defaultTimeoutMs` each. */
export function createCloseHooks(defaultTimeoutMs: number): CloseHooks {
  const entries: Entry[] = []

  const runOne = async (entry: Entry, logger: Logger, forced: AbortSignal): Promise<HookResult> => {
    const started = monotonicMs()
    const timeout = new AbortController()
    const signal = AbortSignal.any([timeout.signal, forced])
    const timer = setTimeout(
      () => timeout.abort(new HookTimeoutError(entry.name, entry.timeoutMs)),
      entry.timeoutMs,
    )
    let status: HookResult['status'] = 'ok'
    let error: string | undefined
    try {
      await new Promise<void>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true })
        Promise.resolve()
          .then(() => entry.fn(signal))
          .then(() => resolve(), reject)
      })
    } catch (err) {
      status = timeout.signal.aborted ? 'timed_out' : 'failed'
      error = errorText(err)
    } finally {
      clearTimeout(timer)
    }
    const durationMs = Math.round(monotonicMs() - started)
    const fields = { hook: entry.name, durationMs }
    if (status === 'ok') logger.info(fields, 'close hook done')
    else if (status === 'timed_out') logger.error({ ...fields, err: error }, 'close hook timed out')
    else logger.error({ ...fields, err: error }, 'close hook failed')
    return error === undefined
      ? { name: entry.name, status, durationMs }
      : { name: entry.name, status, durationMs, error }
  }

  return {
    add(name, fn, options) {
      const entry: Entry = {
        name: text('name', name),
        fn: func<CloseHook>('fn', fn),
        timeoutMs: resolveHookTimeout(options, defaultTimeoutMs),
      }
      entries.push(entry)
      return () => {
        const at = entries.indexOf(entry)
        if (at !== -1) entries.splice(at, 1)
      }
    },
    async run(logger, forced, results) {
      for (const entry of [...entries]) {
        if (forced.aborted) return
        const result = await runOne(entry, logger, forced)
        if (!forced.aborted) results.push(result)
      }
    },
  }
}
