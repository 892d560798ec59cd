import { createHash, timingSafeEqual } from 'node:crypto'

const digest = (text: string): Buffer => createHash('sha256').update(text).digest()

/**
 * Returns a matcher for `Authorization: Bearer <token>` headers. Both sides
 * are hashed first so the comparison takes the same time whatever the length
 * or content of the guess.
 */
export function bearerMatcher(token: string): (authorization: string | undefined) => boolean {
  const expected = digest(token)
  return (authorization) => {
    const match = /^bearer\s+(\S+)\s*$/i.exec(authorization ?? '')
    return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), expected)
  }
}
