import type { IncomingHttpHeaders } from 'node:http'
import type { Duplex } from 'node:stream'
import { errors, type Dispatcher } from 'undici'

type Handler = Dispatcher.DispatchHandler
type Controller = Dispatcher.DispatchController

/** Headers as the flat `[name, value, ...]` Buffer list the old handler interface takes. */
function rawOf(
  raw: Controller['rawHeaders'] | undefined,
  parsed: IncomingHttpHeaders | null | undefined,
): Buffer[] {
  if (Array.isArray(raw)) {
    return raw.map((item: Buffer | string) =>
      typeof item === 'string' ? Buffer.from(item, 'latin1') : item,
    )
  }
  const list: Buffer[] = []
  for (const [name, value] of Object.entries(parsed ?? {})) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value]) {
      list.push(Buffer.from(name, 'latin1'), Buffer.from(item, 'latin1'))
    }
  }
  return list
}

/**
 * A handler written for undici's old interface (`onConnect`, `onHeaders`, `onData`,
 * `onComplete`, `onError`: what the fetch of Node 20, 22 and 24 passes) seen through the
 * controller interface (`onRequestStart` ... `onResponseError`: Node 26's fetch), so the balancer
 * speaks one interface whichever fetch or undici calls it.
 */
class LegacyHandler implements Handler {
  private readonly handler: Handler

  constructor(handler: Handler) {
    this.handler = handler
  }

  onRequestStart(controller: Controller, context: unknown): void {
    const abort = (reason?: Error): void =>
      controller.abort(reason ?? new errors.RequestAbortedError())
    ;(this.handler.onConnect as ((a: typeof abort, c: unknown) => void) | undefined)?.call(
      this.handler,
      abort,
      context,
    )
  }

  onResponseStarted(): void {
    this.handler.onResponseStarted?.()
  }

  onRequestUpgrade(
    controller: Controller,
    statusCode: number,
    headers: IncomingHttpHeaders,
    socket: Duplex,
  ): void {
    this.handler.onUpgrade?.(statusCode, rawOf(controller.rawHeaders, headers), socket)
  }

  onResponseStart(
    controller: Controller,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    const go = this.handler.onHeaders?.(
      statusCode,
      rawOf(controller.rawHeaders, headers),
      () => controller.resume(),
      statusMessage ?? '',
    )
    if (go === false) controller.pause()
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.handler.onData?.(chunk) === false) controller.pause()
  }

  onResponseEnd(controller: Controller, trailers: IncomingHttpHeaders): void {
    const raw = controller.rawTrailers
    const list =
      Array.isArray(raw) || Object.keys(trailers).length > 0 ? rawOf(raw, trailers) : null
    ;(this.handler.onComplete as ((t: Buffer[] | null) => void) | undefined)?.call(
      this.handler,
      list,
    )
  }

  onResponseError(_controller: Controller, error: Error): void {
    this.handler.onError?.(error)
  }
}

/** The handler as a controller-interface handler: as it is when it is one, else adapted. */
export function controllerHandler(handler: Handler): Handler {
  return typeof handler.onRequestStart === 'function' ||
    typeof handler.onResponseStart === 'function'
    ? handler
    : new LegacyHandler(handler)
}
