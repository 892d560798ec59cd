import { createHash, timingSafeEqual } from 'node:crypto'

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i

/**
 * Returns a check of an `Authorization` header against `token`. Both sides are hashed first, so
 * the comparison takes the same time whatever the length or content of the guess.
 */
export function bearerCheck(token: string): (authorization: string | undefined) => boolean {
  const expected = createHash('sha256').update(token).digest()
  return (authorization) => {
    const match = authorization === undefined ? null : BEARER.exec(authorization)
    const given = createHash('sha256')
      .update(match?.[1] ?? '')
      .digest()
    return timingSafeEqual(given, expected) && match !== null
  }
}
