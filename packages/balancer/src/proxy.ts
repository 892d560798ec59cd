import type {
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  ServerResponse,
} from 'node:http'
import type { TLSSocket } from 'node:tls'
import {
  errorAnswer,
  oneOf,
  optionsObject,
  withMethods,
  writeAnswer,
  type HttpAnswer,
} from '@uptimekit/internal'
import type { Dispatcher } from 'undici'
import { BalancerClosedError, NoUpstreamError } from './errors.js'

/** Options of the proxy (`proxyHandler`, `proxyPlugin`). */
export interface ProxyOptions {
  /**
   * The `Host` header sent upstream: the upstream's own (nginx's default, `$proxy_host`) or the
   * one the client sent (`proxy_set_header Host $host`). The client's is always in
   * `X-Forwarded-Host`.
   * @default 'upstream'
   */
  hostHeader?: 'upstream' | 'client'
}

/** Proxy options after checks. */
export interface ResolvedProxyOptions {
  hostHeader: 'upstream' | 'client'
}

/** The one proxy both adapters call: forwards a node:http request and streams the answer back. */
export type Proxy = (req: IncomingMessage, res: ServerResponse, target: string) => void

/** Option names of the proxy, for the adapters' own checks. */
export const PROXY_KEYS: readonly string[] = Object.freeze(['hostHeader'])

// RFC 9110 §7.6.1: hop-by-hop fields are for one connection and must not be forwarded.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
])

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
])

/**
 * The answer when no upstream answered: 503 when none could take the request, 504 when the
 * upstream timed out, 502 for any other failure (refused, reset, a bad response). The message
 * names the error code only, never an upstream address.
 */
export function proxyErrorAnswer(error: unknown): HttpAnswer {
  if (error instanceof NoUpstreamError || error instanceof BalancerClosedError) {
    return errorAnswer(503, 'UPTIMEKIT_NO_UPSTREAM', 'no upstream can take the request')
  }
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
    return errorAnswer(
      504,
      'UPTIMEKIT_UPSTREAM_TIMEOUT',
      `the upstream did not answer in time (${code})`,
    )
  }
  const reason = typeof code === 'string' ? ` (${code})` : ''
  return errorAnswer(502, 'UPTIMEKIT_UPSTREAM_FAILED', `the upstream failed to answer${reason}`)
}

function connectionTokens(value: string | string[] | undefined): Set<string> {
  const joined = Array.isArray(value) ? value.join(',') : (value ?? '')
  return new Set(joined.split(',').map((token) => token.trim().toLowerCase()))
}

/** Headers without the hop-by-hop ones, those the `Connection` header names included. */
function endToEnd(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const named = connectionTokens(headers.connection)
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || named.has(name)) continue
    out[name] = value
  }
  return out
}

/** The headers sent upstream: end-to-end ones plus nginx's usual `X-Forwarded-*` and `X-Real-IP`. */
function upstreamHeaders(
  req: IncomingMessage,
  options: ResolvedProxyOptions,
): Record<string, string | string[]> {
  const headers = endToEnd(req.headers)
  const ip = req.socket.remoteAddress ?? ''
  const forwarded = req.headers['x-forwarded-for']
  // nginx's $proxy_add_x_forwarded_for: the client's list with this hop's address appended.
  headers['x-forwarded-for'] = forwarded === undefined ? ip : `${String(forwarded)}, ${ip}`
  headers['x-real-ip'] = ip
  headers['x-forwarded-proto'] =
    (req.socket as Partial<TLSSocket>).encrypted === true ? 'https' : 'http'
  if (req.headers.host !== undefined) headers['x-forwarded-host'] = req.headers.host
  if (options.hostHeader === 'upstream') delete headers.host
  return headers
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0')
}

/**
 * The response side of one proxied request: the upstream's answer written to the client as it
 * arrives, paused while the client reads slowly, aborted when the client leaves.
 */
class ResponseWriter implements Dispatcher.DispatchHandler {
  private readonly res: ServerResponse
  private controller: Dispatcher.DispatchController | undefined = undefined
  private gone = false

  constructor(res: ServerResponse) {
    this.res = res
    res.once('close', () => {
      if (res.writableFinished) return
      this.gone = true
      this.controller?.abort(new Error('the client closed the connection'))
    })
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller
    if (this.gone) controller.abort(new Error('the client closed the connection'))
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    this.controller = controller
    const out: OutgoingHttpHeaders = endToEnd(headers)
    if (statusMessage === undefined || statusMessage === '') this.res.writeHead(statusCode, out)
    else this.res.writeHead(statusCode, statusMessage, out)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.res.write(chunk)) return
    controller.pause()
    this.res.once('drain', () => controller.resume())
  }

  onResponseEnd(): void {
    this.res.end()
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.gone) return
    // Once the status line is out, the client can only learn of a failure by a cut connection.
    if (this.res.headersSent) this.res.destroy(error)
    else writeAnswer(this.res, proxyErrorAnswer(error))
  }
}

/** Checks proxy options (already known to hold only proxy keys). */
function resolveProxyOptions(options: Record<string, unknown>): ResolvedProxyOptions {
  return {
    hostHeader:
      options.hostHeader === undefined
        ? 'upstream'
        : oneOf('hostHeader', options.hostHeader, ['upstream', 'client'] as const),
  }
}

/** Checks the balancer given to an adapter: any undici `Dispatcher`. */
export function checkDispatcher(option: string, value: unknown): Dispatcher {
  return withMethods<Dispatcher>(
    option,
    value,
    ['dispatch'],
    'must be a balancer (an undici Dispatcher)',
  )
}

/**
 * Creates the proxy: nginx's `proxy_pass` to a balancer. The path is passed on unchanged; the
 * request body streams upstream (a request without one can be retried), the answer streams back.
 */
export function createProxy(
  owner: string,
  balancer: unknown,
  options: ProxyOptions | undefined,
): Proxy {
  const dispatcher = checkDispatcher('balancer', balancer)
  const resolved = resolveProxyOptions(optionsObject(owner, options, PROXY_KEYS))
  return (req, res, target) => {
    const body = hasBody(req) ? req : null
    dispatcher.dispatch(
      {
        origin: 'http://upstream',
        path: target,
        method: req.method ?? 'GET',
        headers: upstreamHeaders(req, resolved),
        body,
      },
      new ResponseWriter(res),
    )
  }
}
