import { connect, createServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

/** A TCP proxy on 127.0.0.1 in front of one port, which can hang every connection through it. */
export interface TcpProxy {
  readonly port: number
  /** From now on, bytes in either direction are held, not forwarded: the node hangs. */
  freeze(): void
  /** Forwards everything held and carries on. */
  thaw(): void
  /** Destroys every connection and stops listening. */
  close(): Promise<void>
}

/** Starts a proxy to `127.0.0.1:targetPort` on a spare port. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let frozen = false
  const sockets = new Set<Socket>()
  const held: (() => void)[] = []
  const forward = (from: Socket, to: Socket): void => {
    from.on('data', (chunk) => {
      if (frozen) held.push(() => to.write(chunk))
      else to.write(chunk)
    })
    from.on('close', () => to.destroy())
    from.on('error', () => to.destroy())
  }
  const server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1')
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    }
    forward(client, upstream)
    forward(upstream, client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    freeze: () => {
      frozen = true
    },
    thaw: () => {
      frozen = false
      for (const send of held.splice(0)) send()
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
