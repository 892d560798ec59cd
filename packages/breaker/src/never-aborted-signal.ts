import { setMaxListeners } from 'node:events'

/**
 * The signal handed to calls that have neither a caller signal nor a call timeout. Creating an
 * AbortController costs microseconds, far more than the rest of a call, so every breaker shares
 * this one. Its controller is dropped here, so nothing can ever abort it; the listener cap is
 * lifted because concurrent calls (undici's fetch, for one) each add and later remove a listener.
 */
export const NEVER_ABORTED_SIGNAL: AbortSignal = new AbortController().signal
setMaxListeners(0, NEVER_ABORTED_SIGNAL)
