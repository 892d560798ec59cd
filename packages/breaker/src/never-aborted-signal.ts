import { setMaxListeners } from 'node:events'

const ignore = (): void => {}

/**
 * The signal handed to calls that have neither a caller signal nor a call timeout. Creating an
 * AbortController costs microseconds, more than the rest of a call, so every breaker shares this
 * one, and it must carry nothing from one call to the next:
 * - it is `AbortSignal.any([])` (a bare signal before Node 20.3, which has no `any`): no
 *   controller exists, so nothing can abort it, and `AbortSignal.any([it, other])` skips it
 *   instead of registering the new signal on it;
 * - it fires no event, so a listener could never run: `addEventListener` drops the listener
 *   (undici's fetch and `timers/promises` add one per call), `dispatchEvent` does nothing and
 *   `onabort` stays `null`; these can be neither reassigned nor redefined;
 * - it takes no new properties. Node's own bookkeeping slots are created first (the one
 *   `setMaxListeners` writes, and the dependant set `AbortSignal.any` looks up) so those calls
 *   still work on it; they stay empty.
 */
export const NEVER_ABORTED_SIGNAL: AbortSignal =
  typeof AbortSignal.any === 'function' ? AbortSignal.any([]) : new AbortController().signal
Object.defineProperties(NEVER_ABORTED_SIGNAL, {
  addEventListener: { value: ignore },
  removeEventListener: { value: ignore },
  dispatchEvent: { value: () => true },
  onabort: { get: () => null, set: ignore },
})
setMaxListeners(0, NEVER_ABORTED_SIGNAL)
if (typeof AbortSignal.any === 'function') AbortSignal.any([NEVER_ABORTED_SIGNAL])
Object.preventExtensions(NEVER_ABORTED_SIGNAL)
