import { monotonicMs } from '@uptimekit/internal'

/** What `add()` returns: cancels the deadline (the call settled first). */
export type CancelDeadline = () => void

interface Slot {
  /** When its callbacks are due, monotonic ms. */
  readonly dueAt: number
  readonly callbacks: Set<() => void>
}

/**
 * The deadlines of one breaker's calls, all `timeoutMs` long. A `setTimeout` + `clearTimeout`
 * pair costs several times the rest of a call, so calls admitted within the same millisecond
 * share a slot, the slots are due in the order they were made, and one timer runs, for the
 * earliest slot that still holds a call. A deadline fires at most 1 ms late, never early.
 * Once nothing is pending the timer is kept but unref()ed until it is due, so calls made one at
 * a time share it too, and an idle breaker still holds nothing that keeps the process up.
 */
export class Deadlines {
  private readonly slots: Slot[] = []
  private head = 0
  private pending = 0
  private timer: ReturnType<typeof setTimeout> | undefined

  /** @param timeoutMs - how long every call may run, in milliseconds (at most 2^31 - 1) */
  constructor(private readonly timeoutMs: number) {}

  /** Calls `onTimeout` once `timeoutMs` have passed, unless the returned function runs first. */
  add(onTimeout: () => void): CancelDeadline {
    // Rounded up, so a deadline is never early.
    const dueAt = Math.ceil(monotonicMs()) + this.timeoutMs
    let slot = this.slots[this.slots.length - 1]
    if (slot === undefined || slot.dueAt !== dueAt || this.head === this.slots.length) {
      slot = { dueAt, callbacks: new Set() }
      this.slots.push(slot)
    }
    slot.callbacks.add(onTimeout)
    this.pending++
    // Referenced while a call is pending: it must still time out when nothing else keeps the
    // process up. A kept timer is due no later than this deadline: it was set for an earlier one.
    if (this.timer === undefined) this.timer = setTimeout(this.fire, this.timeoutMs)
    else if (this.pending === 1) this.timer.ref()
    const { callbacks } = slot
    return () => {
      if (callbacks.delete(onTimeout) && --this.pending === 0) this.idle()
    }
  }

  private readonly fire = (): void => {
    this.timer = undefined
    const now = monotonicMs()
    while (this.head < this.slots.length) {
      const slot = this.slots[this.head]!
      if (slot.callbacks.size > 0 && slot.dueAt > now) {
        // A callback may have added a call, and with it a timer, meanwhile.
        clearTimeout(this.timer)
        this.timer = setTimeout(this.fire, slot.dueAt - now)
        // Fired slots go, so steady traffic cannot grow the list past one timeout's worth.
        this.slots.splice(0, this.head)
        this.head = 0
        return
      }
      this.head++
      for (const onTimeout of slot.callbacks) {
        slot.callbacks.delete(onTimeout)
        this.pending--
        onTimeout()
      }
    }
    this.clear()
  }

  /** Nothing is pending: drop the slots; the timer stays, unref()ed, until it is due. */
  private idle(): void {
    this.timer?.unref()
    this.slots.length = 0
    this.head = 0
  }

  /** Nothing is pending and the timer is due: stop it, so an idle breaker holds none. */
  private clear(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.slots.length = 0
    this.head = 0
  }
}
