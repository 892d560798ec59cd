import { createServer as createHttpServer, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import { PassThrough } from 'node:stream'
import express from 'express'
import Fastify from 'fastify'
import { onTestFinished } from 'vitest'
import { shutdownPlugin } from '../src/fastify.js'
import type { ShutdownOptions } from '../src/options.js'
import { type Shutdown, createShutdown } from '../src/shutdown.js'
import { selfSignedCert } from './certificate.js'

/** What a route answers: a text after `delayMs` (0: in the handler itself), or a stream. */
export type Route =
  | { kind: 'text'; body: string; delayMs: number }
  | { kind: 'stream'; first: string; last: string; release: Promise<void> }

/** The server kinds every connection-level case runs on. */
export type ServerKind = 'http' | 'https' | 'express' | 'fastify'

/** A listening server of one kind, with its shutdown (exit off, no signals). */
export interface Started {
  port: number
  shutdown: Shutdown
  server: Server
  /** For https: the certificate to trust. */
  ca?: Buffer
  /** Paths whose handler ran, in order. */
  ran: string[]
}

const after = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function answerRaw(route: Route, res: ServerResponse): void {
  if (route.kind === 'stream') {
    res.write(route.first)
    void route.release.then(() => res.end(route.last))
  } else if (route.delayMs === 0) res.end(route.body)
  else void after(route.delayMs).then(() => res.end(route.body))
}

/** Starts `kind` on 127.0.0.1:0 serving `routes`, closed when the test ends. */
export async function startServer(
  kind: ServerKind,
  routes: Record<string, Route>,
  options: ShutdownOptions,
): Promise<Started> {
  const ran: string[] = []
  const options_ = { signals: [], exit: false, ...options } satisfies ShutdownOptions
  if (kind === 'fastify') {
    const app = Fastify()
    onTestFinished(() => app.close())
    await app.register(shutdownPlugin, options_)
    for (const [path, route] of Object.entries(routes)) {
      app.get(path, (_req, reply) => {
        ran.push(path)
        if (route.kind === 'stream') {
          const body = new PassThrough()
          body.write(route.first)
          void route.release.then(() => body.end(route.last))
          return reply.type('text/plain').send(body)
        }
        if (route.delayMs === 0) return reply.type('text/plain').send(route.body)
        return after(route.delayMs).then(() => reply.type('text/plain').send(route.body))
      })
    }
    await app.listen({ port: 0, host: '127.0.0.1' })
    return {
      port: (app.server.address() as AddressInfo).port,
      shutdown: app.shutdown,
      server: app.server,
      ran,
    }
  }
  let ca: Buffer | undefined
  let server: Server
  if (kind === 'express') {
    const app = express()
    for (const [path, route] of Object.entries(routes)) {
      app.get(path, (_req, res) => {
        ran.push(path)
        answerRaw(route, res)
      })
    }
    server = createHttpServer(app)
  } else {
    const handler = (req: { url?: string }, res: ServerResponse): void => {
      const route = routes[req.url ?? '']
      ran.push(req.url ?? '')
      if (route === undefined) res.writeHead(404).end()
      else answerRaw(route, res)
    }
    if (kind === 'https') {
      const { key, cert } = selfSignedCert()
      ca = cert
      server = createHttpsServer({ key, cert }, handler)
    } else server = createHttpServer(handler)
  }
  const shutdown = createShutdown(server, options_)
  onTestFinished(() => {
    shutdown.dispose()
    server.close()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { port: (server.address() as AddressInfo).port, shutdown, server, ca, ran }
}
