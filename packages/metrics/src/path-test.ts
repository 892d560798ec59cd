/**
 * Builds the test of whether a request URL (query string ignored) is one of `paths`.
 *
 * It runs on every request, so it first looks at the URL's second character: nearly every URL
 * differs there from every path tested for (`/users/42` against `/metrics`, `/health`, …), and
 * those are answered without cutting or hashing the URL.
 */
export function pathTest(paths: ReadonlySet<string>): (url: string) => boolean {
  const secondChars = new Set<number>()
  for (const path of paths) {
    // A path of one character ('/') has no second character: its URLs have none, or a '?'.
    if (path.length === 1) secondChars.add(Number.NaN).add('?'.charCodeAt(0))
    else secondChars.add(path.charCodeAt(1))
  }
  return (url) => {
    if (!secondChars.has(url.charCodeAt(1))) return false
    const query = url.indexOf('?')
    return paths.has(query === -1 ? url : url.slice(0, query))
  }
}
