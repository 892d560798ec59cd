import { Server as NetServer } from 'node:net'
import { constants } from 'node:os'
import { type CloseHook, type HookResult, createCloseHooks } from './close-hooks.js'
import { trackConnections } from './connection-tracker.js'
import { InvalidOptionError, ShutdownDisposedError } from './errors.js'
import { type CloseHookOptions, type ShutdownOptions, resolveOptions } from './options.js'

/** What a shutdown did, as `shutdown()` resolves it (when `exit` is off) and the last log line says. */
export interface ShutdownOutcome {
  /** The signal name, or the reason given to `shutdown(reason)`. */
  reason: string
  /**
   * `drained` every connection ended on its own; `timed_out` some were destroyed at
   * `timeoutMs`; `forced` a second signal cut it short (hooks not yet started never ran).
   */
  result: 'drained' | 'timed_out' | 'forced'
  /** 0 drained, 1 timed out, 128 + the signal number when forced. */
  exitCode: number
  /** Connections (or HTTP/2 sessions) destroyed because the timeout or a second signal hit. */
  destroyedConnections: number
  /** One entry per close hook that ran, in order. */
  hooks: HookResult[]
  /** From the start of the shutdown to this outcome, in milliseconds, rounded. */
  durationMs: number
}

/** The graceful shutdown of one server, as returned by `createShutdown()`. */
export interface Shutdown {
  /**
   * Registers cleanup to run after the connections are drained, in registration order, each
   * under its own timeout. Returns a function that unregisters it.
   */
  onClose(name: string, fn: CloseHook, options?: CloseHookOptions): () => void
  /**
   * Starts the shutdown as a first signal would (a second call returns the same promise).
   * Resolves with the outcome; with `exit` on, the process exits right after.
   */
  shutdown(reason?: string): Promise<ShutdownOutcome>
  /** True from the first signal or `shutdown()` call on. */
  readonly isShuttingDown: boolean
  /** Stops listening for signals and detaches from the server; a no-op once shutdown has started. */
  dispose(): void
}

const describe = (value: unknown): string =>
  value === null
    ? 'null'
    : typeof value === 'object'
      ? 'an object that is not a server'
      : typeof value

/**
 * Drains `server` gracefully on SIGTERM/SIGINT (or `shutdown()`): flips readiness, keeps
 * serving for `drainDelayMs`, closes the listener and the idle keep-alive connections, lets
 * in-flight requests finish with `Connection: close`, runs the close hooks, exits.
 *
 * @example
 * ```ts
 * const server = app.listen(3000)
 * const shutdown = createShutdown(server, { readiness: health, drainDelayMs: 5000 })
 * shutdown.onClose('redis', () => redis.quit())
 * ```
 */
export function createShutdown(server: NetServer, options?: ShutdownOptions): Shutdown {
  if (!(server instanceof NetServer)) {
    throw new InvalidOptionError(
      'server',
      'must be a node:http, node:https or node:http2 server, such as what app.listen() returns',
      describe(server),
    )
  }
  const { readiness, drainDelayMs, timeoutMs, signals, logger, exit, hookTimeoutMs } =
    resolveOptions(options)
  const tracker = trackConnections(server)
  const hooks = createCloseHooks(hookTimeoutMs)
  const forced = new AbortController()
  const hookResults: HookResult[] = []
  const timers = new Set<NodeJS.Timeout>()
  let outcome: Promise<ShutdownOutcome> | undefined
  let settle: ((outcome: ShutdownOutcome) => void) | undefined
  let startedAt = 0
  let disposed = false

  const detach = (): void => {
    for (const signal of signals) process.off(signal, onSignal)
    for (const timer of timers) clearTimeout(timer)
    tracker.dispose()
  }

  const wait = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        resolve()
      }, ms)
      timers.add(timer)
    })

  const finish = (result: Omit<ShutdownOutcome, 'hooks' | 'durationMs'>): void => {
    if (settle === undefined) return
    const done: ShutdownOutcome = {
      ...result,
      hooks: [...hookResults],
      durationMs: Math.round(performance.now() - startedAt),
    }
    const resolve = settle
    settle = undefined
    detach()
    const summary = { ...done, hooks: done.hooks.length }
    if (done.exitCode === 0) logger.info(summary, 'shutdown complete')
    else logger.warn(summary, 'shutdown complete')
    resolve(done)
    if (exit) process.exit(done.exitCode)
  }

  const drain = async (reason: string): Promise<void> => {
    await wait(drainDelayMs)
    if (forced.signal.aborted) return
    const closed = new Promise<'closed'>((resolve) =>
      tracker.closeListener(() => resolve('closed')),
    )
    logger.info({ open: tracker.open }, 'listener closed, draining connections')
    const deadline = wait(timeoutMs - drainDelayMs).then(() => 'timeout' as const)
    const first = await Promise.race([closed, deadline])
    if (forced.signal.aborted) return
    let destroyedConnections = 0
    if (first === 'timeout') {
      destroyedConnections = tracker.destroyAll()
      logger.warn({ timeoutMs, destroyedConnections }, 'timed out, destroyed the connections left')
    } else {
      logger.info({}, 'connections drained')
    }
    await hooks.run(logger, forced.signal, hookResults)
    if (forced.signal.aborted) return
    const timedOut = first === 'timeout'
    finish({
      reason,
      result: timedOut ? 'timed_out' : 'drained',
      exitCode: timedOut ? 1 : 0,
      destroyedConnections,
    })
  }

  const start = (reason: string): Promise<ShutdownOutcome> => {
    if (outcome !== undefined) return outcome
    if (disposed) return Promise.reject(new ShutdownDisposedError())
    startedAt = performance.now()
    outcome = new Promise((resolve) => (settle = resolve))
    logger.info({ reason, drainDelayMs, timeoutMs }, 'shutdown started')
    try {
      readiness?.markNotReady(reason)
    } catch (err) {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'markNotReady threw')
    }
    tracker.beginDrain()
    drain(reason).catch((err: unknown) => {
      logger.error({ err: err instanceof Error ? err.message : String(err) }, 'shutdown failed')
      finish({
        reason,
        result: 'timed_out',
        exitCode: 1,
        destroyedConnections: tracker.destroyAll(),
      })
    })
    return outcome
  }

  function onSignal(signal: NodeJS.Signals): void {
    if (outcome === undefined) {
      void start(signal)
      return
    }
    const exitCode = 128 + (constants.signals[signal] ?? 0)
    logger.warn({ signal, exitCode }, 'second signal, exiting now')
    forced.abort(new Error(`second signal ${signal}`))
    const destroyedConnections = tracker.destroyAll()
    finish({ reason: signal, result: 'forced', exitCode, destroyedConnections })
  }

  for (const signal of signals) process.on(signal, onSignal)

  return {
    onClose: (name, fn, hookOptions) => hooks.add(name, fn, hookOptions),
    shutdown: (reason = 'shutdown() called') => start(reason),
    get isShuttingDown() {
      return outcome !== undefined
    },
    dispose() {
      if (outcome !== undefined || disposed) return
      disposed = true
      detach()
    },
  }
}
