import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import Fastify from 'fastify'
import { onTestFinished } from 'vitest'
import { overloadGuard } from '../src/express.js'
import { overloadPlugin } from '../src/fastify.js'
import type { OverloadPriority } from '../src/options.js'
import type { Overload } from '../src/overload.js'

/** The routes both apps serve, and the priority each is marked with. */
export const PRIORITY_OF: Readonly<Record<string, OverloadPriority>> = {
  '/critical': 'critical',
  '/cheap': 'sheddable',
  '/hold-critical': 'critical',
}

/** A started app: its URL, how often each handler ran, and the requests held in `/hold`. */
export interface App {
  readonly url: string
  /** Handler runs by route path. */
  readonly hits: Map<string, number>
  /** Paths of the handlers run, in the order they started. */
  readonly order: string[]
  /** Resolves once `n` requests are held in their handlers. */
  readonly held: (n: number) => Promise<void>
  /** Lets every held request answer. */
  readonly release: () => void
}

export type Start = (overload: Overload) => Promise<App>

function holder() {
  const hits = new Map<string, number>()
  const order: string[] = []
  let waiting: (() => void)[] = []
  let watchers: (() => void)[] = []
  return {
    hits,
    order,
    hit(path: string) {
      order.push(path)
      hits.set(path, (hits.get(path) ?? 0) + 1)
    },
    hold(): Promise<void> {
      return new Promise<void>((resolve) => {
        waiting.push(resolve)
        for (const watcher of watchers) watcher()
      })
    },
    held(n: number): Promise<void> {
      return new Promise<void>((resolve) => {
        const check = () => {
          if (waiting.length >= n) {
            watchers = watchers.filter((w) => w !== check)
            resolve()
          }
        }
        watchers.push(check)
        check()
      })
    },
    release() {
      const all = waiting
      waiting = []
      for (const resolve of all) resolve()
    },
  }
}

export const startExpress: Start = async (overload) => {
  const h = holder()
  const app = express()
  app.use(overloadGuard(overload, { priority: (req) => PRIORITY_OF[req.path] ?? 'normal' }))
  app.use(express.json())
  app.get('/ready', (_req, res) => {
    h.hit('/ready')
    res.json({ ready: true })
  })
  for (const path of ['/work', '/critical', '/cheap']) {
    app.get(path, (_req, res) => {
      h.hit(path)
      res.json({ ok: true })
    })
  }
  app.get('/hold', async (_req, res) => {
    h.hit('/hold')
    await h.hold()
    res.json({ held: true })
  })
  app.get('/hold-critical', async (_req, res) => {
    h.hit('/hold-critical')
    await h.hold()
    res.json({ held: true })
  })
  app.post('/upload', (req, res) => {
    h.hit('/upload')
    res.json({ got: req.body as unknown })
  })
  const server = createServer(app)
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    hits: h.hits,
    order: h.order,
    held: (n) => h.held(n),
    release: () => h.release(),
  }
}

export const startFastify: Start = async (overload) => {
  const h = holder()
  const app = Fastify()
  onTestFinished(() => app.close())
  await app.register(overloadPlugin, { overload })
  app.get('/ready', () => {
    h.hit('/ready')
    return { ready: true }
  })
  for (const path of ['/work', '/critical', '/cheap']) {
    const priority = PRIORITY_OF[path]
    app.get(
      path,
      { config: { overload: priority === undefined ? undefined : { priority } } },
      () => {
        h.hit(path)
        return { ok: true }
      },
    )
  }
  app.get('/hold', async () => {
    h.hit('/hold')
    await h.hold()
    return { held: true }
  })
  app.get('/hold-critical', { config: { overload: { priority: 'critical' } } }, async () => {
    h.hit('/hold-critical')
    await h.hold()
    return { held: true }
  })
  app.post('/upload', (request) => {
    h.hit('/upload')
    return { got: request.body }
  })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, hits: h.hits, order: h.order, held: (n) => h.held(n), release: () => h.release() }
}

export const ADAPTERS = [
  ['express', startExpress],
  ['fastify', startFastify],
] as const
