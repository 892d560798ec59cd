import type { Request, RequestHandler } from 'express'
import { optionsObject, writeAnswer } from '@uptimekit/internal'
import { overloadOption, priorityOption, type PriorityOption } from './options.js'
import type { Admission, Overload } from './overload.js'

/** Options of `overloadGuard()`. */
export interface OverloadGuardOptions {
  /**
   * How readily the guarded requests are shed: one priority for a route-level guard, or a
   * function of the request for an app-wide one (it runs before any body is read).
   * @default 'normal'
   */
  priority?: PriorityOption<Request>
}

/**
 * Express middleware that sheds what the service cannot serve in time: 503 with `Retry-After`
 * and the `UPTIMEKIT_OVERLOADED` body, before the route runs or its body is read. Mount it
 * before body parsers. Probe and metrics paths pass untouched.
 *
 * @example
 * ```ts
 * app.use(overloadGuard(overload, { priority: (req) => (req.path === '/pay' ? 'critical' : 'normal') }))
 * ```
 */
export function overloadGuard(
  overload: Overload,
  options: OverloadGuardOptions = {},
): RequestHandler {
  const guard = overloadOption<Overload>('overload', overload)
  const given = optionsObject('overloadGuard', options, ['priority'])
  const priorityOf = priorityOption<Request>('priority', given.priority)
  return (req, res, next) => {
    const respond = (admission: Admission): void => {
      if (admission.admitted) next()
      else writeAnswer(res, admission.answer)
    }
    const admission = guard.admit({ url: req.originalUrl, priority: priorityOf(req) }, res)
    if (admission instanceof Promise) admission.then(respond, next)
    else respond(admission)
  }
}
