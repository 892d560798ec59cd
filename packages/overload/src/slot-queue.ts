import type { QueueOrder } from './options.js'

/** One request waiting for a concurrency slot. */
export interface Waiter {
  /** Critical waiters get a slot before any normal one. */
  readonly critical: boolean
  /** Called once, when the waiter gets a slot. */
  readonly grant: () => void
  /** Called once, when the waiter leaves the queue without a slot (deadline, eviction, client gone). */
  readonly expire: (why: 'queue_timeout' | 'concurrency' | 'client_closed') => void
  /** The deadline timer, cleared when the waiter leaves the queue. */
  timer: NodeJS.Timeout | undefined
}

/**
 * Requests waiting for a concurrency slot: critical ones ahead of normal ones, each class in
 * `order`. Under overload LIFO serves the requests whose clients are still waiting and lets the
 * oldest run out their deadline; FIFO is fairer when there is no overload.
 */
export class SlotQueue {
  private readonly critical: Waiter[] = []
  private readonly normal: Waiter[] = []
  private readonly order: QueueOrder
  /** Whether the queue was empty at some point since the last `standing()` call. */
  private emptied = true

  constructor(order: QueueOrder) {
    this.order = order
  }

  /** Requests waiting. */
  get size(): number {
    return this.critical.length + this.normal.length
  }

  /** Adds a waiter; when the queue holds `capacity` already, evicts a normal one or refuses. */
  add(waiter: Waiter, capacity: number): boolean {
    if (this.size >= capacity) {
      if (!waiter.critical || this.normal.length === 0) return false
      // The oldest normal waiter is the one least likely to be served in time.
      const evicted = this.normal.shift() as Waiter
      this.leave(evicted)
      evicted.expire('concurrency')
    }
    ;(waiter.critical ? this.critical : this.normal).push(waiter)
    return true
  }

  /** Takes the next waiter to get a slot, or undefined. */
  take(): Waiter | undefined {
    const from = this.critical.length > 0 ? this.critical : this.normal
    const waiter = this.order === 'lifo' ? from.pop() : from.shift()
    if (waiter !== undefined) this.leave(waiter)
    return waiter
  }

  /** Removes a waiter that gave up (deadline or client gone); false when it had already left. */
  remove(waiter: Waiter): boolean {
    const list = waiter.critical ? this.critical : this.normal
    const at = list.indexOf(waiter)
    if (at === -1) return false
    list.splice(at, 1)
    this.leave(waiter)
    return true
  }

  /**
   * Whether the queue held requests the whole time since the previous call: a standing queue,
   * CoDel's sign of overload rather than of a burst.
   */
  standing(): boolean {
    const standing = !this.emptied && this.size > 0
    this.emptied = this.size === 0
    return standing
  }

  private leave(waiter: Waiter): void {
    clearTimeout(waiter.timer)
    waiter.timer = undefined
    if (this.size === 0) this.emptied = true
  }
}
