/** A request in flight on an upstream: a node of that upstream's {@link InFlight} list. */
export interface InFlightNode {
  /** When the attempt was sent, in monotonic milliseconds. */
  startMs: number
  prevInFlight: InFlightNode | undefined
  nextInFlight: InFlightNode | undefined
}

/**
 * An upstream's requests in flight, oldest first, as a doubly linked list through the requests
 * themselves: adding and removing cost O(1) and allocate nothing, and the oldest is the head, so
 * the age of the oldest outstanding request is known at every pick. A stalled upstream answers
 * nothing, so its response-time average never rises; the age of its oldest request does.
 */
export class InFlight {
  /** Requests in flight. */
  count = 0
  private head: InFlightNode | undefined = undefined
  private tail: InFlightNode | undefined = undefined

  /** Adds a request sent at `node.startMs`, which is never earlier than the ones before it. */
  add(node: InFlightNode): void {
    node.prevInFlight = this.tail
    node.nextInFlight = undefined
    if (this.tail === undefined) this.head = node
    else this.tail.nextInFlight = node
    this.tail = node
    this.count++
  }

  /** Removes a request added before, wherever it is in the list. */
  remove(node: InFlightNode): void {
    const { prevInFlight: prev, nextInFlight: next } = node
    if (prev === undefined) this.head = next
    else prev.nextInFlight = next
    if (next === undefined) this.tail = prev
    else next.prevInFlight = prev
    node.prevInFlight = undefined
    node.nextInFlight = undefined
    this.count--
  }

  /** How long the oldest request has been in flight at `nowMs`; 0 when none is. */
  oldestAgeMs(nowMs: number): number {
    return this.head === undefined ? 0 : nowMs - this.head.startMs
  }
}
