import { monotonicMs } from '@uptimekit/internal'

/**
 * How long the event loop has been busy in its current turn: the time a request that reaches
 * the guard now has waited for the loop, on top of what it waited in the kernel.
 *
 * With synchronous handlers every request read in one turn runs in that turn, one after the
 * other, so the tenth request of a turn waited for the nine handlers before it; that wait, not
 * the response time seen by the guard, is what grows under CPU-bound overload. A turn ends at
 * the loop's check phase (a `setImmediate`); the busy time before the first request of a turn
 * (timers, other I/O callbacks) is the time since the previous check phase less the time the
 * loop spent idle waiting for I/O since then (`performance.eventLoopUtilization().idle`).
 */
export interface LoopTurn {
  /** Milliseconds the loop has been busy in the current turn, as of `now`. */
  busyMs(now: number): number
  /** Stops the turn marker. */
  close(): void
}

/** Tracks the current loop turn for one overload instance. */
export function loopTurn(now: () => number = monotonicMs): LoopTurn {
  const idleMs = (): number => performance.eventLoopUtilization().idle
  // Start of the busy part of the current turn; undefined when no request came in this turn.
  let turnStart: number | undefined
  // When the previous check phase ran and how much idle time the loop had then; undefined
  // when the marker did not run in the previous turn (so those figures span several turns).
  let checkAt: number | undefined
  let checkIdle = 0
  let marker: NodeJS.Immediate | undefined
  let closed = false

  const onCheck = (): void => {
    // Requests came in this turn: mark its end, and keep marking while traffic lasts.
    const busy = turnStart !== undefined
    turnStart = undefined
    if (busy && !closed) {
      checkAt = now()
      checkIdle = idleMs()
      marker = setImmediate(onCheck)
      marker.unref()
    } else {
      checkAt = undefined
      marker = undefined
    }
  }

  return {
    busyMs(now) {
      if (turnStart === undefined) {
        turnStart =
          checkAt === undefined ? now : now - Math.max(0, now - checkAt - (idleMs() - checkIdle))
        if (marker === undefined && !closed) {
          marker = setImmediate(onCheck)
          marker.unref()
        }
      }
      return now - turnStart
    },
    close() {
      closed = true
      if (marker !== undefined) clearImmediate(marker)
      marker = undefined
    },
  }
}
