const UNRESERVED = /%(2[DEde]|3[0-9]|4[1-9A-Fa-f]|5[0-9Aa]|5[Ff]|6[1-9A-Fa-f]|7[0-9Aa]|7[Ee])/g

/**
 * The path of a request target as a router sees it, for comparing against configured paths
 * (probes, `/metrics`) the way both frameworks would route it: an absolute-form target
 * (`http://host/live`) loses its origin, the query and fragment go, percent-encoded unreserved
 * characters are decoded (`/%72eady` is `/ready`), one trailing slash is dropped and letters are
 * lower-cased (Express routes `/Metrics/` to `/metrics`).
 */
export function requestPath(target: string): string {
  let path = target
  if (!path.startsWith('/')) {
    const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(path)
    path = origin === null ? path : path.slice(origin[0].length)
    if (!path.startsWith('/')) path = `/${path}`
  }
  const end = path.search(/[?#]/)
  if (end !== -1) path = path.slice(0, end)
  if (path.includes('%')) {
    path = path.replace(UNRESERVED, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)))
  }
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1)
  return path.toLowerCase()
}
