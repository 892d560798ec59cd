import type { SessionRuntime } from './session-runtime.js'

/** The express-session request fields this reads, and clears when a save fails. */
export interface SessionRequest {
  readonly sessionID: string
  session?: { touch(): unknown; save(callback: (err?: unknown) => void): unknown } | null
}

/** The node:http response members this wraps and rewrites. */
export interface HeldResponse {
  readonly headersSent: boolean
  statusCode: number
  end: (...args: never[]) => unknown
  removeHeader(name: string): void
  setHeader(name: string, value: string): unknown
}

/** Where a save is recorded, and what to do when it fails. */
export interface SaveHandling {
  /**
   * Records a session this saved. express-session does not track a regenerated session's saves
   * and would write it again at the end; its store skips the next write of a session marked here.
   */
  markSaved(session: object): void
  /** Tells an outage from other errors, and gives its 503. */
  readonly runtime: Pick<SessionRuntime, 'unavailable' | 'isUnavailable'>
  /** The framework's error path, for any other store error. */
  next(err: unknown): void
}

// Headers that describe the handler's body, which the 503 replaces.
const BODY_HEADERS = ['content-length', 'content-encoding', 'etag', 'last-modified']

/** A session's data without its cookie: what express-session compares to decide on a save. */
export function sessionData(session: object): string {
  return JSON.stringify(session, function (this: unknown, key: string, value: unknown) {
    return this === session && key === 'cookie' ? undefined : value
  })
}

/**
 * express-session saves a changed session only once the response is being written, so a failed
 * save would reach the client as a success with its change lost. Call this once the session is
 * loaded: the handler's `res.end` then waits until a changed (or regenerated) session is saved,
 * and a store outage turns the response into the 503 instead; no cookie is sent for a session
 * that was not stored. An unchanged session ends at once, and a streamed response (headers
 * already sent) ends as express-session would end it.
 */
export function holdEndUntilSaved(
  req: SessionRequest,
  res: HeldResponse,
  handling: SaveHandling,
): void {
  const { session } = req
  if (session === undefined || session === null) return
  const loadedId = req.sessionID
  const loadedData = sessionData(session)
  // express-session's own wrapper, which sets the cookie and would save after the fact.
  const commit = res.end as (...args: unknown[]) => unknown
  res.end = (...args: unknown[]) => {
    res.end = commit
    const current = req.session
    const unchanged =
      current === undefined ||
      current === null ||
      (req.sessionID === loadedId && sessionData(current) === loadedData)
    if (unchanged || res.headersSent) return commit.apply(res, args)
    current.touch()
    current.save((err?: unknown) => {
      if (err === undefined || err === null) {
        handling.markSaved(current)
        return void commit.apply(res, args)
      }
      req.session = null
      if (!handling.runtime.isUnavailable(err)) return handling.next(err)
      const { statusCode, headers, body } = handling.runtime.unavailable
      for (const name of BODY_HEADERS) res.removeHeader(name)
      res.statusCode = statusCode
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
      commit.call(res, body)
    })
    return res
  }
}
