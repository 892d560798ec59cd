import { hasCode } from '@uptimekit/internal'

export { InvalidOptionError, isInvalidOptionError } from '@uptimekit/internal'

/** The `code` of a shed request's 503 body. */
export const OVERLOADED = 'UPTIMEKIT_OVERLOADED' as const

/**
 * Whether a parsed response body is a shed answer (its `code` is `UPTIMEKIT_OVERLOADED`), for a
 * client that backs off from an overloaded service rather than retrying at once.
 */
export const isOverloadedBody = (body: unknown): boolean => hasCode(body, OVERLOADED)
