import { requestPath } from '@uptimekit/internal'

const SLASH = 0x2f
const PERCENT = 0x25
const UPPER_A = 0x41
const UPPER_Z = 0x5a

/**
 * Builds the test of whether a request target is one of `paths` (already normalized by
 * `requestPath`), compared after the same normalization: `/metrics/`, `/Metrics`, `/%6detrics`
 * and `http://host/metrics` are all `/metrics`.
 *
 * It runs on every request, so it first looks at the target's second character: nearly every
 * target starts with `/` and differs there from every path tested for (`/users/42` against
 * `/metrics`, `/health` …), and those are answered without normalizing anything. Only a target
 * whose second character is one of the paths', a `%`, an upper-case letter, or whose first is not
 * `/` (absolute form) is normalized.
 */
export function excludedPathTest(paths: ReadonlySet<string>): (target: string) => boolean {
  if (paths.size === 0) return () => false
  const secondChars = new Set<number>()
  for (const path of paths) {
    // The root path has no second character: its targets have none, or a `?` or `#`.
    if (path.length === 1) secondChars.add(Number.NaN).add(0x3f).add(0x23)
    else secondChars.add(path.charCodeAt(1))
  }
  return (target) => {
    if (target.charCodeAt(0) === SLASH) {
      const second = target.charCodeAt(1)
      if (
        !secondChars.has(second) &&
        second !== PERCENT &&
        (second < UPPER_A || second > UPPER_Z)
      ) {
        return false
      }
    }
    return paths.has(requestPath(target))
  }
}

/**
 * Builds the test of whether a request target is exactly `path`, query string allowed: how
 * `metricsPath` is served, matching what Fastify's router does with a route of that path.
 */
export function exactPathTest(path: string): (target: string) => boolean {
  const withQuery = `${path}?`
  return (target) => target === path || target.startsWith(withQuery)
}
