import { connect } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it, onTestFinished } from 'vitest'
import { recordLogs } from './log-recorder.js'
import { type Route, type ServerKind, startServer } from './servers.js'

interface Parsed {
  status: string
  connection: string | undefined
  body: string
}

/**
 * Writes `paths` as pipelined GETs in one packet on a raw connection and resolves with every
 * response read before the server closed it.
 */
function pipeline(port: number, paths: string[], ready?: Promise<void>): Promise<Parsed[]> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    onTestFinished(() => void socket.destroy())
    let raw = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => (raw += chunk))
    socket.on('error', () => {})
    socket.on('close', () => resolve(parse(raw)))
    void socket.once('connect', () => {
      void (ready ?? Promise.resolve()).then(() =>
        socket.write(paths.map((p) => `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`).join('')),
      )
    })
  })
}

function parse(raw: string): Parsed[] {
  const answers: Parsed[] = []
  let rest = raw
  for (;;) {
    const end = rest.indexOf('\r\n\r\n')
    if (end === -1) return answers
    const head = rest.slice(0, end)
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0)
    if (rest.length < end + 4 + length) return answers
    answers.push({
      status: head.split(' ')[1] ?? '',
      connection: /\r\nconnection: *([^\r]+)/i.exec(head)?.[1]?.toLowerCase(),
      body: rest.slice(end + 4, end + 4 + length),
    })
    rest = rest.slice(end + 4 + length)
  }
}

const kinds: ServerKind[] = ['express', 'fastify', 'http']
const text = (body: string, delayMs: number): Route => ({ kind: 'text', body, delayMs })

describe.each(kinds)('%s, pipelined requests during a shutdown', (kind) => {
  it('answers all 5 pipelined GETs sent during the drain delay; only the last says close', async () => {
    // The others carry no Connection header: HTTP/1.1 keeps the connection by default.
    const routes = Object.fromEntries(
      [1, 2, 3, 4, 5].map((n) => [`/p${n}`, text(`answer ${n}`, 10)]),
    )
    const started = await startServer(kind, routes, {
      drainDelayMs: 1500,
      timeoutMs: 5000,
      logger: recordLogs().logger,
    })
    const done = started.shutdown.shutdown('deploy')
    const answers = await pipeline(started.port, Object.keys(routes))
    expect(answers).toEqual(
      [1, 2, 3, 4, 5].map((n) => ({
        status: '200',
        connection: n === 5 ? 'close' : undefined,
        body: `answer ${n}`,
      })),
    )
    expect(started.ran).toEqual(Object.keys(routes))
    expect((await done).result).toBe('drained')
  })

  it('runs no handler it cannot answer when each answer is sent from the handler itself', async () => {
    const routes = Object.fromEntries(
      [1, 2, 3, 4, 5].map((n) => [`/p${n}`, text(`answer ${n}`, 0)]),
    )
    const started = await startServer(kind, routes, {
      drainDelayMs: 1500,
      timeoutMs: 5000,
      logger: recordLogs().logger,
    })
    const done = started.shutdown.shutdown('deploy')
    const answers = await pipeline(started.port, Object.keys(routes))
    // The first answer says close, so the server processes nothing after it (RFC 9112 §9.6);
    // the client retries the rest, which never ran.
    expect(answers.length).toBeGreaterThan(0)
    expect(answers.at(-1)?.connection).toBe('close')
    expect(started.ran).toEqual(answers.map((_, i) => `/p${i + 1}`))
    expect(answers.map((a) => a.body)).toEqual(answers.map((_, i) => `answer ${i + 1}`))
    expect((await done).result).toBe('drained')
  })

  it('answers a slow request and the 3 pipelined behind it across the listener close', async () => {
    let listenerClosed = (): void => {}
    const closed = new Promise<void>((resolve) => (listenerClosed = resolve))
    const { logger } = recordLogs()
    const started = await startServer(
      kind,
      {
        '/slow': text('slow', 400),
        '/a': text('a', 0),
        '/b': text('b', 5),
        '/c': text('c', 0),
      },
      {
        drainDelayMs: 100,
        timeoutMs: 5000,
        logger: {
          ...logger,
          info: (_fields, msg) => {
            if (msg === 'listener closed, draining connections') listenerClosed()
          },
        },
      },
    )
    let sent = (): void => {}
    const written = new Promise<void>((resolve) => (sent = resolve))
    const answers = pipeline(started.port, ['/slow', '/a', '/b', '/c'], written)
    sent()
    while (started.ran.length < 4) await sleep(5)
    const done = started.shutdown.shutdown('deploy')
    await closed
    // All four were written before the signal, without close; the connection is closed (a FIN)
    // once the client sent nothing more within the grace after the last answer.
    expect(await answers).toEqual(
      ['slow', 'a', 'b', 'c'].map((body) => ({ status: '200', connection: 'keep-alive', body })),
    )
    expect(started.ran).toEqual(['/slow', '/a', '/b', '/c'])
    expect((await done).result).toBe('drained')
  })
})
