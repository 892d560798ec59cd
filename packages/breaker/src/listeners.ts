import { InvalidOptionError } from './errors.js'

/**
 * The subscribers of one event. The array is replaced, never mutated, on (un)subscribe, so a
 * listener that unsubscribes during an emit does not make the loop skip its neighbour.
 */
export class Listeners<T> {
  private list: ReadonlyArray<(event: T) => void> = []

  /** @param onError receives what a listener threw; the other listeners still run. */
  constructor(private readonly onError: (error: unknown) => void) {}

  /** Adds `listener`; the returned function removes it and is safe to call twice. */
  add(listener: (event: T) => void): () => void {
    if (typeof listener !== 'function') {
      throw new InvalidOptionError('listener', 'must be a function', typeof listener)
    }
    this.list = [...this.list, listener]
    return () => {
      this.list = this.list.filter((l) => l !== listener)
    }
  }

  /** Calls every listener with `event`. */
  emit(event: T): void {
    for (const listener of this.list) {
      try {
        listener(event)
      } catch (error) {
        this.onError(error)
      }
    }
  }
}
