import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2Session } from 'node:http2'
import { Server as NetServer, type Socket } from 'node:net'
import { Server as TlsServer, type TLSSocket } from 'node:tls'
import { monotonicMs } from '@uptimekit/internal'

/**
 * How long a connection may still send a request once the listener is closed, in milliseconds,
 * counted from when it was accepted (no request yet) or from the end of its last response, if
 * that response let the client keep the connection. A client that connected a moment ago, or
 * that just read a keep-alive answer, is about to send its request: closing it at once is how
 * http-terminator loses requests.
 */
export const REQUEST_GRACE_MS = 1000

interface SocketState {
  /** Requests read on this socket whose response has not closed yet. */
  active: number
  /** `socket.bytesRead` when the socket last had no request in flight. */
  bytesAtIdle: number
  /** When the client may no longer be about to send a request (see REQUEST_GRACE_MS). */
  graceEndsAt: number
  /** The newest response of this socket (pipelined requests queue theirs behind the others). */
  latest: ServerResponse | undefined
  closing: boolean
}

type Phase = 'serving' | 'draining' | 'quiet' | 'closing'

/** Every HTTP connection of one server, and the steps of draining them. */
export interface ConnectionTracker {
  /** From now on HTTP/1 responses not yet started carry `Connection: close`. */
  beginDrain(): void
  /** Responses stop carrying `Connection: close` (ours), so clients stop reconnecting. */
  beginQuiet(): void
  /** Milliseconds since the last connection was accepted (Infinity if none was). */
  sinceLastAccept(): number
  /**
   * Stops accepting connections, asks every connection to close after its current request,
   * closes idle ones with a FIN, sends GOAWAY on HTTP/2 sessions and calls `onClosed` once every
   * connection is gone. Closing the listening socket resets every connection still in the
   * kernel's accept queue: call it from the check phase (setImmediate), right after a poll phase
   * accepted what was queued.
   */
  closeListener(onClosed: () => void): void
  /** Destroys every connection still open; returns how many there were. */
  destroyAll(): number
  /** Connections (and HTTP/2 sessions) currently open. */
  readonly open: number
  /** Detaches from the server and clears timers. */
  dispose(): void
}

const saysClose = (res: ServerResponse): boolean =>
  /(?:^|,)\s*close\s*(?:,|$)/i.test(String(res.getHeader('connection') ?? ''))

/** Starts following the connections of `server`; attach before it accepts any. */
export function trackConnections(server: NetServer): ConnectionTracker {
  const sockets = new Map<Socket, SocketState>()
  const sessions = new Set<Http2Session>()
  // Responses whose `Connection: close` we set (and may move to a later pipelined one).
  const ours = new WeakSet<ServerResponse>()
  const toCheck = new Set<Socket>()
  let phase: Phase = 'serving'
  let lastAcceptAt = -Infinity
  let closedAt = Infinity
  let checkImmediate: NodeJS.Immediate | undefined
  let graceTimer: NodeJS.Timeout | undefined
  let graceTimerAt = Infinity
  let onEmpty: (() => void) | undefined
  let emit: NetServer['emit'] | undefined
  const isHttp2 = typeof (server as { updateSettings?: unknown }).updateSettings === 'function'
  const isTls = server instanceof TlsServer
  const connectionEvent = isTls ? 'secureConnection' : 'connection'
  const asksClose = (): boolean => phase === 'draining' || phase === 'closing'

  const askClose = (res: ServerResponse): void => {
    if (res.headersSent || saysClose(res)) return
    res.setHeader('Connection', 'close')
    ours.add(res)
  }

  const unaskClose = (res: ServerResponse): void => {
    if (!ours.has(res) || res.headersSent) return
    res.removeHeader('Connection')
    ours.delete(res)
  }

  const closeGracefully = (socket: Socket, state: SocketState): void => {
    state.closing = true
    // FIN, then close once it is sent: never an RST to a client that is waiting politely.
    socket.destroySoon()
  }

  const armGraceTimer = (at: number): void => {
    if (at >= graceTimerAt) return
    if (graceTimer !== undefined) clearTimeout(graceTimer)
    graceTimerAt = at
    graceTimer = setTimeout(sweep, Math.max(1, Math.ceil(at - monotonicMs())))
    graceTimer.unref()
  }

  const check = (socket: Socket): void => {
    const state = sockets.get(socket)
    if (state === undefined || state.closing || state.active > 0 || socket.destroyed) return
    // Bytes of a request still arriving: the sender gets the grace from the listener's close.
    const until =
      socket.bytesRead === state.bytesAtIdle
        ? state.graceEndsAt
        : Math.max(state.graceEndsAt, closedAt + REQUEST_GRACE_MS)
    if (monotonicMs() >= until) closeGracefully(socket, state)
    else armGraceTimer(until)
  }

  const runChecks = (): void => {
    checkImmediate = undefined
    for (const socket of toCheck) check(socket)
    toCheck.clear()
  }

  // Decide from setImmediate (check phase), never from an I/O callback: the FIN then goes out
  // in the next loop's pending phase, before any poll could read a request on that socket.
  const schedule = (socket: Socket): void => {
    toCheck.add(socket)
    checkImmediate ??= setImmediate(runChecks)
  }

  function sweep(): void {
    graceTimer = undefined
    graceTimerAt = Infinity
    for (const socket of sockets.keys()) schedule(socket)
  }

  const notifyIfEmpty = (): void => {
    if (onEmpty !== undefined && sockets.size + sessions.size === 0) onEmpty()
  }

  const register = (socket: Socket): SocketState => {
    const now = monotonicMs()
    lastAcceptAt = now
    const state: SocketState = {
      active: 0,
      bytesAtIdle: socket.bytesRead,
      graceEndsAt: now + REQUEST_GRACE_MS,
      latest: undefined,
      closing: false,
    }
    sockets.set(socket, state)
    socket.once('close', () => {
      sockets.delete(socket)
      notifyIfEmpty()
    })
    if (phase === 'closing') schedule(socket)
    return state
  }

  const onConnection = (socket: Socket): void => {
    // HTTP/2 connections are drained through their session (GOAWAY), not the socket.
    if (isHttp2 && (!isTls || (socket as TLSSocket).alpnProtocol === 'h2')) return
    register(socket)
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.httpVersionMajor === 2) return
    const socket = req.socket
    const state = sockets.get(socket) ?? register(socket)
    const previous = state.latest
    state.active += 1
    state.latest = res
    if (asksClose()) {
      // Only the newest response of a pipeline may say close: Node ends the connection after
      // the one that does, and the answers queued behind it would never be written.
      if (previous !== undefined) unaskClose(previous)
      askClose(res)
    }
    res.once('close', () => {
      state.active -= 1
      state.bytesAtIdle = socket.bytesRead
      // A client that was not told to close may send its next request right away.
      state.graceEndsAt = monotonicMs() + (saysClose(res) ? 0 : REQUEST_GRACE_MS)
      if (phase === 'closing') schedule(socket)
    })
  }

  // RFC 9112 §9.6: after a response saying close, the server processes no further request on
  // that connection. Node would still run their handlers and then drop their answers, so they
  // are not emitted at all: the client saw the close and retries them, unprocessed.
  const dropsRequest = (req: IncomingMessage): boolean => {
    const latest = sockets.get(req.socket)?.latest
    return latest !== undefined && latest.headersSent && saysClose(latest)
  }

  function emitUnlessDropped(this: NetServer, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'request' && dropsRequest(args[0] as IncomingMessage)) {
      ;(args[0] as IncomingMessage).resume()
      return true
    }
    return Reflect.apply(emit!, this, [event, ...args]) as boolean
  }

  const onSession = (session: Http2Session): void => {
    lastAcceptAt = monotonicMs()
    sessions.add(session)
    session.once('close', () => {
      sessions.delete(session)
      notifyIfEmpty()
    })
    if (phase === 'closing') session.close()
  }

  // A listener that opens once the listener was closed (listen() called after a signal that
  // came first) is closed at once: nothing is served after the drain. From nextTick, so the
  // framework's own listening callback still sees its address, and before any poll phase could
  // accept a connection.
  const onListening = (): void => {
    process.nextTick(() => NetServer.prototype.close.call(server))
  }

  const wrapEmit = (): void => {
    if (emit !== undefined) return
    // Called with the server as `this` (emitUnlessDropped passes it on), as Node calls it.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    emit = server.emit
    server.emit = emitUnlessDropped as NetServer['emit']
  }

  const forEachOpenResponse = (fn: (res: ServerResponse) => void): void => {
    for (const state of sockets.values()) {
      if (state.active > 0 && state.latest !== undefined) fn(state.latest)
    }
  }

  server.on(connectionEvent, onConnection)
  // Prepended so the header is set before the application's handler can send the response.
  server.prependListener('request', onRequest)
  server.on('session', onSession)

  return {
    beginDrain() {
      if (phase !== 'serving') return
      phase = 'draining'
      // Only the drain pays for the wrapper: serving requests never go through it.
      wrapEmit()
      forEachOpenResponse(askClose)
    },
    beginQuiet() {
      if (phase !== 'draining') return
      phase = 'quiet'
      forEachOpenResponse(unaskClose)
    },
    sinceLastAccept: () => monotonicMs() - lastAcceptAt,
    closeListener(onClosed) {
      wrapEmit()
      server.prependListener('listening', onListening)
      let done = false
      const finish = (): void => {
        if (done) return
        done = true
        onClosed()
      }
      // net.Server's close, not http.Server's: the latter also destroys every connection it
      // thinks idle, including one just accepted whose request is still in the kernel buffer.
      NetServer.prototype.close.call(server, (err?: Error) => {
        if (err === undefined) return finish()
        // Not listening (closed elsewhere or never opened): wait for the connections we know.
        onEmpty = finish
        notifyIfEmpty()
      })
      // Only now may answers ask clients to reconnect: a reconnection that reached the
      // kernel's accept queue before the close would be reset; after it, it is refused
      // before anything was sent, which every client retries elsewhere.
      phase = 'closing'
      forEachOpenResponse(askClose)
      closedAt = monotonicMs()
      for (const socket of sockets.keys()) schedule(socket)
      for (const session of sessions) session.close()
    },
    destroyAll() {
      const count = sockets.size + sessions.size
      for (const session of sessions) session.destroy()
      for (const socket of sockets.keys()) socket.destroy()
      return count
    },
    get open() {
      return sockets.size + sessions.size
    },
    dispose() {
      server.off(connectionEvent, onConnection)
      server.off('request', onRequest)
      server.off('session', onSession)
      if (emit !== undefined && server.emit === (emitUnlessDropped as NetServer['emit'])) {
        server.emit = emit
      }
      if (checkImmediate !== undefined) clearImmediate(checkImmediate)
      if (graceTimer !== undefined) clearTimeout(graceTimer)
    },
  }
}
