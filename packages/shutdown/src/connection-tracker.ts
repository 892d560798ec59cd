import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2Session } from 'node:http2'
import { Server as NetServer, type Socket } from 'node:net'
import { Server as TlsServer, type TLSSocket } from 'node:tls'

/**
 * How long a connection that has not finished a request yet may take to send one once the
 * listener is closed, in milliseconds. A client that connected a moment before the close is
 * about to send its request; closing it at once is how http-terminator loses requests.
 */
export const FRESH_CONNECTION_GRACE_MS = 1000

interface SocketState {
  /** Requests read on this socket whose response has not closed yet. */
  active: number
  /** `socket.bytesRead` when the socket last had no request in flight. */
  bytesAtIdle: number
  acceptedAt: number
  served: number
  closing: boolean
}

/** Every HTTP connection of one server, and the steps of draining them. */
export interface ConnectionTracker {
  /** From now on every HTTP/1 response, including those not yet started, carries `Connection: close`. */
  beginDrain(): void
  /**
   * Stops accepting connections, closes idle ones with a FIN, sends GOAWAY on HTTP/2 sessions
   * and calls `onClosed` once every connection is gone.
   */
  closeListener(onClosed: () => void): void
  /** Destroys every connection still open; returns how many there were. */
  destroyAll(): number
  /** Connections (and HTTP/2 sessions) currently open. */
  readonly open: number
  /** Detaches from the server and clears timers. */
  dispose(): void
}

/** Starts following the connections of `server`; attach before it accepts any. */
export function trackConnections(server: NetServer): ConnectionTracker {
  const sockets = new Map<Socket, SocketState>()
  const sessions = new Set<Http2Session>()
  const responses = new Set<ServerResponse>()
  const toCheck = new Set<Socket>()
  let phase: 'serving' | 'draining' | 'closing' = 'serving'
  let checkImmediate: NodeJS.Immediate | undefined
  let closeImmediate: NodeJS.Immediate | undefined
  let graceTimer: NodeJS.Timeout | undefined
  let onEmpty: (() => void) | undefined
  const isHttp2 = typeof (server as { updateSettings?: unknown }).updateSettings === 'function'
  const isTls = server instanceof TlsServer
  const connectionEvent = isTls ? 'secureConnection' : 'connection'

  const closeGracefully = (socket: Socket, state: SocketState): void => {
    state.closing = true
    // FIN, then close once it is sent: never an RST to a client that is waiting politely.
    socket.destroySoon()
  }

  const check = (socket: Socket, graceOver: boolean): void => {
    const state = sockets.get(socket)
    if (state === undefined || state.closing || state.active > 0 || socket.destroyed) return
    const quiet = socket.bytesRead === state.bytesAtIdle
    const fresh =
      state.served === 0 && performance.now() - state.acceptedAt < FRESH_CONNECTION_GRACE_MS
    if (graceOver || (quiet && !fresh)) closeGracefully(socket, state)
  }

  const runChecks = (): void => {
    checkImmediate = undefined
    for (const socket of toCheck) check(socket, false)
    toCheck.clear()
  }

  // Decide from setImmediate (check phase), never from an I/O callback: the FIN then goes out
  // in the next loop's pending phase, before any poll could read a request on that socket.
  const schedule = (socket: Socket): void => {
    toCheck.add(socket)
    checkImmediate ??= setImmediate(runChecks)
  }

  const sweep = (): void => {
    graceTimer = undefined
    let next = Infinity
    const now = performance.now()
    for (const [socket, state] of sockets) {
      const age = now - state.acceptedAt
      if (age >= FRESH_CONNECTION_GRACE_MS) check(socket, true)
      else next = Math.min(next, FRESH_CONNECTION_GRACE_MS - age)
    }
    if (next !== Infinity) graceTimer = setTimeout(sweep, Math.ceil(next))
  }

  const notifyIfEmpty = (): void => {
    if (onEmpty !== undefined && sockets.size + sessions.size === 0) onEmpty()
  }

  const register = (socket: Socket): SocketState => {
    const state: SocketState = {
      active: 0,
      bytesAtIdle: socket.bytesRead,
      acceptedAt: performance.now(),
      served: 0,
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
    state.active += 1
    responses.add(res)
    if (phase !== 'serving') res.setHeader('Connection', 'close')
    res.once('close', () => {
      responses.delete(res)
      state.active -= 1
      state.served += 1
      state.bytesAtIdle = socket.bytesRead
      if (phase === 'closing') schedule(socket)
    })
  }

  const onSession = (session: Http2Session): void => {
    sessions.add(session)
    session.once('close', () => {
      sessions.delete(session)
      notifyIfEmpty()
    })
    if (phase === 'closing') session.close()
  }

  server.on(connectionEvent, onConnection)
  // Prepended so the header is set before the application's handler can send the response.
  server.prependListener('request', onRequest)
  server.on('session', onSession)

  return {
    beginDrain() {
      if (phase !== 'serving') return
      phase = 'draining'
      for (const res of responses) if (!res.headersSent) res.setHeader('Connection', 'close')
    },
    closeListener(onClosed) {
      phase = 'closing'
      let done = false
      const finish = (): void => {
        if (done) return
        done = true
        onClosed()
      }
      // Closing the listening socket resets every connection still in the kernel's accept
      // queue. From setImmediate, the poll phase that just ran has accepted all of them.
      closeImmediate = setImmediate(() => {
        // net.Server's close, not http.Server's: the latter also destroys every connection it
        // thinks idle, including one just accepted whose request is still in the kernel buffer.
        NetServer.prototype.close.call(server, (err?: Error) => {
          if (err === undefined) return finish()
          // Not listening (closed elsewhere or never opened): wait for the connections we know.
          onEmpty = finish
          notifyIfEmpty()
        })
        for (const socket of sockets.keys()) schedule(socket)
        for (const session of sessions) session.close()
        graceTimer = setTimeout(sweep, FRESH_CONNECTION_GRACE_MS)
      })
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
      if (checkImmediate !== undefined) clearImmediate(checkImmediate)
      if (closeImmediate !== undefined) clearImmediate(closeImmediate)
      if (graceTimer !== undefined) clearTimeout(graceTimer)
    },
  }
}
