import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { onTestFinished } from 'vitest'
import type { Balancer } from '../src/index.js'

/** What a test upstream does with a request; may be changed while the test runs. */
export type Behaviour = (req: IncomingMessage, res: ServerResponse, body: string) => void

/** A real upstream on 127.0.0.1: counts its requests, behaves as told. */
export interface TestUpstream {
  readonly url: string
  readonly name: string
  readonly server: Server
  /** Requests seen, in order (method, url, headers, body). */
  readonly seen: {
    method: string
    url: string
    headers: IncomingMessage['headers']
    body: string
  }[]
  behave: Behaviour
}

/** Answers 200 with the upstream's name. */
export const ok =
  (name: string): Behaviour =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end(name)
  }

/** Answers `status` at once. */
export const status =
  (code: number): Behaviour =>
  (_req, res) => {
    res.writeHead(code, { 'content-type': 'text/plain' }).end(`status ${code}`)
  }

/** Starts `count` upstreams named a, b, c ...; each closes when the test ends. */
export async function startUpstreams(count: number): Promise<TestUpstream[]> {
  const list: TestUpstream[] = []
  for (let i = 0; i < count; i++) {
    const name = String.fromCharCode(97 + i)
    const server = createServer()
    const upstream: TestUpstream = {
      url: '',
      name,
      server,
      seen: [],
      behave: ok(name),
    }
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString()
        upstream.seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          headers: req.headers,
          body,
        })
        upstream.behave(req, res, body)
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    onTestFinished(async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    })
    ;(upstream as { url: string }).url =
      `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    list.push(upstream)
  }
  return list
}

/** A port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Registers `balancer.close()` for the end of the test and returns the balancer. */
export function closing<T extends Balancer>(balancer: T): T {
  onTestFinished(() => balancer.close())
  return balancer
}

/** Sends `count` GETs one after another; returns the body of each (the upstream names). */
export async function sequential(
  balancer: Balancer,
  count: number,
  init: RequestInit = {},
): Promise<string[]> {
  const names: string[] = []
  for (let i = 0; i < count; i++) {
    const res = await fetch(`http://service/item/${i}`, {
      ...init,
      dispatcher: balancer,
    } as unknown as RequestInit)
    names.push(await res.text())
  }
  return names
}

/** How many times each value occurs. */
export function tally(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1
  return counts
}
