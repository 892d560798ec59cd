import { constants } from 'node:os'

/** One shutdown as the process-wide coordinator sees it. */
export interface Member {
  /** The signals this shutdown listens to. */
  readonly signals: readonly NodeJS.Signals[]
  /** Whether this shutdown wants the process to exit when it is done. */
  readonly exit: boolean
  /** True once it has started. */
  readonly started: boolean
  /** Starts it (a no-op once started); the coordinator hears of its end through `settled()`. */
  start(reason: string): void
  /** Cuts a started shutdown short: a second signal. */
  force(signal: NodeJS.Signals, exitCode: number): void
}

/**
 * Every shutdown of the process: one listener per signal for all of them, and one exit, after
 * the last one that was shutting down, with the worst exit code.
 */
export interface Coordinator {
  /** Adds a shutdown; returns the function that removes it (dispose, or once it has ended). */
  join(member: Member): () => void
  /**
   * Starts `member`; one that will exit the process first starts every other one too, since
   * the exit would otherwise cut their connections.
   */
  start(member: Member, reason: string): void
  /** Reports that a started member has ended with `exitCode`. */
  settled(member: Member, exitCode: number): void
}

// Versioned: a later copy with another protocol gets its own coordinator instead of a wrong one.
const KEY = Symbol.for('uptimekit.shutdown.coordinator.v1')

function createCoordinator(): Coordinator {
  const members = new Set<Member>()
  const running = new Set<Member>()
  const listeners = new Map<NodeJS.Signals, (signal: NodeJS.Signals) => void>()
  let worst = 0
  let exitWanted = false

  const onSignal = (signal: NodeJS.Signals): void => {
    const listening = [...members].filter((m) => m.signals.includes(signal))
    if (listening.some((m) => m.started)) {
      const exitCode = 128 + (constants.signals[signal] ?? 0)
      for (const member of [...running]) member.force(signal, exitCode)
      return
    }
    for (const member of listening) coordinator.start(member, signal)
  }

  const syncListeners = (): void => {
    const wanted = new Set<NodeJS.Signals>()
    for (const member of members) for (const signal of member.signals) wanted.add(signal)
    for (const signal of wanted) {
      if (listeners.has(signal)) continue
      const listener = (): void => onSignal(signal)
      listeners.set(signal, listener)
      process.on(signal, listener)
    }
    for (const [signal, listener] of listeners) {
      if (wanted.has(signal)) continue
      listeners.delete(signal)
      process.off(signal, listener)
    }
  }

  const coordinator: Coordinator = {
    join(member) {
      members.add(member)
      syncListeners()
      // A server set up while the process is already exiting drains with the others.
      if (exitWanted) coordinator.start(member, 'process exiting')
      return () => {
        members.delete(member)
        syncListeners()
      }
    },
    start(member, reason) {
      if (member.started || !members.has(member)) return
      running.add(member)
      if (member.exit) exitWanted = true
      member.start(reason)
      if (!member.exit) return
      for (const other of [...members]) {
        if (!other.started) {
          running.add(other)
          other.start(reason)
        }
      }
    },
    settled(member, exitCode) {
      if (!running.delete(member)) return
      worst = Math.max(worst, exitCode)
      if (running.size > 0) return
      const code = worst
      const exit = exitWanted
      worst = 0
      exitWanted = false
      if (exit) process.exit(code)
    },
  }
  return coordinator
}

/**
 * The process-wide coordinator, kept on `process` under a `Symbol.for` key, so the ESM and the
 * CommonJS copies of this package (and two installed copies) share one.
 */
export function processCoordinator(): Coordinator {
  const holder = process as unknown as Record<symbol, Coordinator | undefined>
  return (holder[KEY] ??= createCoordinator())
}
