import type { IncomingMessage } from 'node:http'
import type { MetricsCore } from './metrics.js'
import type { RouteSeries } from './request-series.js'
import type { LateRouteResolver } from './tracker.js'

/** The parts of Express 5 / router 2 objects the template search reads (structural, no import). */
interface RouteLike {
  path: unknown
}
interface LayerLike {
  route?: RouteLike
  handle?: unknown
  rawPath?: unknown
  matchers?: ((path: string) => false | { path: string })[]
}
interface RouterLike {
  stack: LayerLike[]
}
interface AppLike {
  router?: RouterLike
  mountpath?: unknown
  parent?: AppLike
  handle?: unknown
  set?: unknown
}
interface RequestLike extends IncomingMessage {
  route?: RouteLike
  baseUrl?: string
  app?: AppLike
}

/** One way from the app's router to a route: the mount layers passed and the full template. */
interface Chain {
  template: string
  mounts: { layer: LayerLike; index: number }[]
}

/** A route found under one mount chain, or several chains to choose from by `req.baseUrl`. */
type Resolution = RouteSeries | { chains: Chain[]; series: RouteSeries[] } | null

const MAX_DEPTH = 32

function pathText(path: unknown): string {
  if (typeof path === 'string') return path
  if (Array.isArray(path)) return path.map(pathText).join('|')
  return String(path)
}

/** A mount path as a template prefix: `/` adds nothing, a trailing slash is dropped. */
function mountText(path: unknown): string {
  const text = pathText(path)
  return text === '/' ? '' : text.replace(/\/+$/, '')
}

function isRouter(handle: unknown): handle is RouterLike {
  return typeof handle === 'function' && Array.isArray((handle as Partial<RouterLike>).stack)
}

/** The router of an Express app used directly as a router's handler (`router.use(path, subApp)`). */
function appRouter(handle: unknown): RouterLike | undefined {
  const app = handle as AppLike
  if (typeof handle !== 'function' || typeof app.handle !== 'function') return undefined
  if (typeof app.set !== 'function' || !('mountpath' in app)) return undefined
  return isRouter(app.router) ? app.router : undefined
}

function walk(
  router: RouterLike,
  target: RouteLike,
  prefix: string,
  mounts: Chain['mounts'],
  out: Chain[],
  depth: number,
): void {
  if (depth > MAX_DEPTH) return
  for (const layer of router.stack) {
    if (layer.route === target) {
      out.push({ template: prefix + pathText(target.path), mounts })
    } else if (layer.route === undefined) {
      const inner = isRouter(layer.handle) ? layer.handle : appRouter(layer.handle)
      if (inner === undefined) continue
      const paths = Array.isArray(layer.rawPath) ? (layer.rawPath as unknown[]) : [layer.rawPath]
      paths.forEach((path, index) => {
        const next = [...mounts, { layer, index }]
        walk(inner, target, prefix + mountText(path), next, out, depth + 1)
      })
    }
  }
}

/** True when the mount layers of `chain`, applied in turn, consume exactly `baseUrl`. */
function matchesBase(chain: Chain, baseUrl: string): boolean {
  let rest = baseUrl
  for (const { layer, index } of chain.mounts) {
    const match = layer.matchers?.[index]?.(rest === '' ? '/' : rest)
    if (match === undefined || match === false) return false
    rest = rest.slice(match.path.length)
  }
  return rest === '' || rest === '/'
}

/** Template prefix of a sub-app mounted with `app.use(path, subApp)`. */
function appPrefix(app: AppLike | undefined): string {
  let prefix = ''
  for (let a = app; a?.parent !== undefined; a = a.parent) prefix = mountText(a.mountpath) + prefix
  return prefix
}

/** Whether `app` is `ancestor` or mounted under it by `app.use(path, subApp)` mounts. */
function isWithin(app: AppLike, ancestor: AppLike): boolean {
  for (let a: AppLike | undefined = app; a !== undefined; a = a.parent)
    if (a === ancestor) return true
  return false
}

/**
 * Finds the route template of an Express request when its response ends: `req.route.path` joined
 * with the templates of the routers it is mounted under (`req.baseUrl` holds the matched path, e.g.
 * `/orgs/acme`, not `/orgs/:org`). The search walks the app's router once per route object and
 * is cached; a route mounted under several paths is told apart by matching `req.baseUrl`.
 *
 * @param rootApp - the app the measuring middleware runs in: a sub-app mounted inside a router
 *   (`router.use('/t/:tenant', subApp)`) knows neither its mount path nor its parent, so its
 *   routes are searched for from there.
 */
export function expressRouteResolver(
  metrics: MetricsCore,
  rootApp: () => unknown,
): LateRouteResolver {
  const cache = new WeakMap<RouteLike, Resolution>()

  function resolve(req: RequestLike, route: RouteLike): Resolution {
    const app = req.app
    if (app === undefined) return null
    const root = rootApp() as AppLike | undefined
    const fromRoot = root !== undefined && !isWithin(app, root)
    const router = fromRoot ? root.router : app.router
    if (router === undefined || !Array.isArray(router.stack)) return null
    const chains: Chain[] = []
    walk(router, route, fromRoot ? '' : appPrefix(app), [], chains, 0)
    if (chains.length === 0) return null
    if (chains.length === 1) return metrics.route(chains[0]!.template)
    return { chains, series: chains.map((chain) => metrics.route(chain.template)) }
  }

  return (request: IncomingMessage) => {
    const req = request as RequestLike
    const route = req.route
    if (route === undefined || route === null) return metrics.unmatched
    let found = cache.get(route)
    if (found === undefined) {
      found = resolve(req, route)
      cache.set(route, found)
    }
    if (found !== null && !('chains' in found)) return found
    const baseUrl = req.baseUrl ?? ''
    if (found !== null) {
      const i = found.chains.findIndex((chain) => matchesBase(chain, baseUrl))
      if (i !== -1) return found.series[i]!
    }
    // Not reachable from the app's router (e.g. a sub-app mounted with `app.use` inside a sub-app
    // mounted inside a router): the matched mount path is the best we know; the series cap bounds
    // what its values can add.
    return metrics.route(baseUrl + pathText(route.path))
  }
}
