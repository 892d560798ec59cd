import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ExampleProcess, FRAMEWORKS, startExample } from './support/example-process.js'
import { closedPort } from './support/ports.js'

// The two examples are one service on two frameworks: requests the frameworks would treat
// differently left to themselves (encoded paths, trailing slashes, bodies where none belongs,
// requests Node itself rejects) get the same answer from both.

interface Answer {
  status: number
  body: string
}

/** Sends raw bytes and reads the answer until the server closes or `Connection: close`. */
function raw(url: string, request: string): Promise<Answer> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    let text = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => (text += chunk))
    socket.on('error', reject)
    socket.on('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n')
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), body })
    })
    socket.end(request)
  })
}

async function fetched(url: string, init?: RequestInit): Promise<Answer> {
  const res = await fetch(url, init)
  return { status: res.status, body: await res.text() }
}

const CASES: [string, (url: string) => Promise<Answer>, number][] = [
  ['a percent-encoded probe path is the probe', (url) => fetched(`${url}/%72eady`), 200],
  ['a trailing slash is another path', (url) => fetched(`${url}/metrics/`), 404],
  [
    'a GET ignores a body it does not take, even malformed JSON',
    (url) =>
      raw(
        url,
        'GET /api/users/1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
          'Content-Length: 4\r\nConnection: close\r\n\r\n{bad',
      ),
    200,
  ],
  [
    'a login that is not JSON is refused as an unsupported type',
    (url) =>
      fetched(`${url}/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: 'ada:analytical-engine',
      }),
    415,
  ],
  [
    'a malformed request line is a JSON 400 from Node',
    (url) => raw(url, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'),
    400,
  ],
  [
    'headers past the size limit are a JSON 431 from Node',
    (url) => raw(url, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`),
    431,
  ],
]

describe('the Express and Fastify examples answer alike', () => {
  const running: ExampleProcess[] = []

  beforeAll(async () => {
    for (const framework of FRAMEWORKS) {
      running.push(
        await startExample(
          framework,
          await closedPort(),
          { SESSION_STORE: 'memory' },
          {
            upPath: '/live',
          },
        ),
      )
    }
  })
  afterAll(async () => {
    await Promise.all(running.map((example) => example.stop('SIGKILL')))
  })

  it.each(CASES)('%s', async (_name, send, status) => {
    const [express, fastify] = await Promise.all(running.map((example) => send(example.url)))
    expect(express!.status).toBe(status)
    expect(fastify).toEqual(express)
  })
})
