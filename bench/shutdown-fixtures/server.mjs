// One service per contender, the way its README wires it: `node server.mjs <contender> <drainDelayMs>`.
// Prints {"port":n} once listening; the bench sends SIGTERM and times the exit.
import { setTimeout as sleep } from 'node:timers/promises'

const [contender, drain] = process.argv.slice(2)
const drainDelayMs = Number(drain)
const graceMs = 10_000
const ready = (port) => process.stdout.write(`${JSON.stringify({ port })}\n`)

const expressApp = async () => {
  const { default: express } = await import('express')
  const app = express()
  app.get('/work', (_req, res) => void setTimeout(() => res.json({ ok: true }), 50))
  return app
}

const listen = (app) =>
  new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      resolve(server)
      ready(server.address().port)
    })
  })

if (contender === 'plain') {
  const server = await listen(await expressApp())
  process.once('SIGTERM', () => server.close(() => process.exit(0)))
} else if (contender === 'http-terminator') {
  const { createHttpTerminator } = await import('http-terminator')
  const server = await listen(await expressApp())
  const terminator = createHttpTerminator({ server, gracefulTerminationTimeout: graceMs })
  process.once('SIGTERM', () => void terminator.terminate().then(() => process.exit(0)))
} else if (contender === 'stoppable') {
  const { default: stoppable } = await import('stoppable')
  const server = stoppable(await listen(await expressApp()), graceMs)
  process.once('SIGTERM', () => server.stop(() => process.exit(0)))
} else if (contender === 'terminus') {
  const { createTerminus } = await import('@godaddy/terminus')
  const server = await listen(await expressApp())
  // terminus' README for Kubernetes: wait in beforeShutdown, the same delay ours drains for.
  createTerminus(server, {
    signals: ['SIGTERM'],
    timeout: graceMs,
    useExit0: true,
    beforeShutdown: () => sleep(drainDelayMs),
  })
} else if (contender === 'fastify-close') {
  const { default: Fastify } = await import('fastify')
  const app = Fastify()
  app.get('/work', async () => {
    await sleep(50)
    return { ok: true }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  ready(app.server.address().port)
  process.once('SIGTERM', () => void app.close().then(() => process.exit(0)))
} else if (contender === 'uptimekit-express') {
  const { createShutdown } = await import('@uptimekit/shutdown')
  const { createServer } = await import('node:http')
  const server = createServer(await expressApp())
  createShutdown(server, { drainDelayMs, timeoutMs: graceMs, logger: false })
  server.listen(0, '127.0.0.1', () => ready(server.address().port))
} else if (contender === 'uptimekit-http') {
  const { createServer } = await import('node:http')
  const { createShutdown } = await import('@uptimekit/shutdown')
  const server = createServer((_req, res) => {
    setTimeout(() => {
      res.setHeader('content-type', 'application/json')
      res.end('{"ok":true}')
    }, 50)
  })
  createShutdown(server, { drainDelayMs, timeoutMs: graceMs, logger: false })
  server.listen(0, '127.0.0.1', () => ready(server.address().port))
} else if (contender === 'uptimekit-fastify') {
  const { default: Fastify } = await import('fastify')
  const { shutdownPlugin } = await import('@uptimekit/shutdown/fastify')
  const app = Fastify()
  await app.register(shutdownPlugin, { drainDelayMs, timeoutMs: graceMs, logger: false })
  app.get('/work', async () => {
    await sleep(50)
    return { ok: true }
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  ready(app.server.address().port)
} else {
  throw new Error(`unknown contender ${contender}`)
}
