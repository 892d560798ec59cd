import { errorAnswer, type HttpAnswer } from '@uptimekit/internal'
import { OVERLOADED } from './errors.js'

/** Why a request was shed; the `reason` label of `overload_shed_total`. */
export type ShedReason =
  'concurrency' | 'queue_timeout' | 'event_loop_backlog' | 'event_loop_delay' | 'heap'

/** Every shed reason, in the order snapshots and metrics list them. */
export const SHED_REASONS: readonly ShedReason[] = Object.freeze([
  'concurrency',
  'queue_timeout',
  'event_loop_backlog',
  'event_loop_delay',
  'heap',
])

const WHY: Readonly<Record<ShedReason, string>> = Object.freeze({
  concurrency: 'every request slot and the queue are taken',
  queue_timeout: 'no request slot freed in time',
  event_loop_backlog: 'the event loop is behind',
  event_loop_delay: 'the event-loop delay is over its limit',
  heap: 'the heap is close to its limit',
})

/**
 * The answers to a shed request, one per reason, built once: 503, `Retry-After` and the house
 * error body with code `UPTIMEKIT_OVERLOADED`, so shedding costs no serialization per request.
 */
export function shedAnswers(retryAfterSeconds: number): Readonly<Record<ShedReason, HttpAnswer>> {
  const headers = { 'retry-after': String(retryAfterSeconds) }
  const answers = {} as Record<ShedReason, HttpAnswer>
  for (const reason of SHED_REASONS) {
    answers[reason] = errorAnswer(
      503,
      OVERLOADED,
      `Service overloaded: ${WHY[reason]}; retry later.`,
      headers,
    )
  }
  return Object.freeze(answers)
}
