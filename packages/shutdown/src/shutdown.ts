import { Server as NetServer } from 'node:net'
import { errorText, monotonicMs, InvalidOptionError } from '@uptimekit/internal'
import { type CloseHook, type HookResult, createCloseHooks } from './close-hooks.js'
import { type Member, processCoordinator } from './coordinator.js'
import { trackConnections } from './connection-tracker.js'
import { ShutdownDisposedError } from './errors.js'
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
 * The quiet window before the listener closes: a fifth of the drain delay, at least 250 ms (but
 * never more than half the drain delay) and at most 1 s. In it responses stop asking clients
 * to reconnect, so no client is in the middle of a TCP handshake when the listener closes (the
 * kernel resets connections still in its accept queue); the listener closes only once no
 * connection has arrived for that long.
 */
export const quietWindowMs = (drainDelayMs: number): number =>
  Math.round(Math.min(1000, Math.max(Math.min(250, drainDelayMs / 2), drainDelayMs / 5)))

/**
 * Drains `server` gracefully on SIGTERM/SIGINT (or `shutdown()`): flips readiness, keeps
 * serving for `drainDelayMs`, closes the listener and the idle keep-alive connections, lets
 * in-flight requests finish with `Connection: close`, runs the close hooks, exits. Every
 * server of the process with a shutdown drains on the same signal, and the process exits once,
 * after the last one.
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
  const coordinator = processCoordinator()
  const tracker = trackConnections(server)
  const hooks = createCloseHooks(hookTimeoutMs)
  const forced = new AbortController()
  const hookResults: HookResult[] = []
  const timers = new Set<NodeJS.Timeout>()
  const quietMs = quietWindowMs(drainDelayMs)
  let outcome: Promise<ShutdownOutcome> | undefined
  let settle: ((outcome: ShutdownOutcome) => void) | undefined
  let startedAt = 0
  let disposed = false
  let leave = (): void => {}

  const detach = (): void => {
    leave()
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

  const afterPoll = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

  const finish = (result: Omit<ShutdownOutcome, 'hooks' | 'durationMs'>): void => {
    if (settle === undefined) return
    const done: ShutdownOutcome = {
      ...result,
      hooks: [...hookResults],
      durationMs: Math.round(monotonicMs() - startedAt),
    }
    const resolve = settle
    settle = undefined
    detach()
    const summary = { ...done, hooks: done.hooks.length }
    if (done.exitCode === 0) logger.info(summary, 'shutdown complete')
    else logger.warn(summary, 'shutdown complete')
    resolve(done)
    // Exits the process (when wanted) once the last shutdown of the process has ended.
    coordinator.settled(member, done.exitCode)
  }

  // Keeps the listener open past the drain delay while connections still arrive, so none is
  // in the middle of its handshake at the close: whoever still connects is still routed here
  // and is better served than refused. At most half the time left before the deadline.
  // Resolves in the check phase, right after a poll phase that accepted nothing new: a timer
  // that fires after the process was descheduled sees only the accepts made before, while the
  // kernel may hold a burst of connections in its accept queue, which the poll would accept.
  const waitForQuiet = async (): Promise<void> => {
    const latest = startedAt + (drainDelayMs + timeoutMs) / 2
    for (;;) {
      const left = quietMs - tracker.sinceLastAccept()
      const room = latest - monotonicMs()
      if (room <= 0 || forced.signal.aborted) return
      if (left > 0) await wait(Math.ceil(Math.min(left, room)))
      else {
        await afterPoll()
        if (tracker.sinceLastAccept() >= quietMs) return
      }
    }
  }

  const drain = async (reason: string): Promise<void> => {
    await wait(drainDelayMs - quietMs)
    tracker.beginQuiet()
    await wait(quietMs)
    await waitForQuiet()
    if (forced.signal.aborted) return
    const closed = new Promise<'closed'>((resolve) =>
      tracker.closeListener(() => resolve('closed')),
    )
    logger.info({ open: tracker.open }, 'listener closed, draining connections')
    const deadline = wait(Math.max(1, timeoutMs - (monotonicMs() - startedAt))).then(
      () => 'timeout' as const,
    )
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

  const begin = (reason: string): void => {
    if (outcome !== undefined || disposed) return
    startedAt = monotonicMs()
    outcome = new Promise((resolve) => (settle = resolve))
    logger.info({ reason, drainDelayMs, timeoutMs }, 'shutdown started')
    try {
      readiness?.markNotReady(reason)
    } catch (err) {
      logger.error({ err: errorText(err) }, 'markNotReady threw')
    }
    tracker.beginDrain()
    drain(reason).catch((err: unknown) => {
      logger.error({ err: errorText(err) }, 'shutdown failed')
      finish({
        reason,
        result: 'timed_out',
        exitCode: 1,
        destroyedConnections: tracker.destroyAll(),
      })
    })
  }

  const member: Member = {
    signals,
    exit,
    get started() {
      return outcome !== undefined
    },
    start: begin,
    force(signal, exitCode) {
      if (settle === undefined) return
      logger.warn({ signal, exitCode }, 'second signal, exiting now')
      forced.abort(new Error(`second signal ${signal}`))
      const destroyedConnections = tracker.destroyAll()
      finish({ reason: signal, result: 'forced', exitCode, destroyedConnections })
    },
  }
  leave = coordinator.join(member)

  return {
    onClose: (name, fn, hookOptions) => hooks.add(name, fn, hookOptions),
    shutdown(reason = 'shutdown() called') {
      if (outcome === undefined && disposed) return Promise.reject(new ShutdownDisposedError())
      coordinator.start(member, reason)
      return outcome!
    },
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
