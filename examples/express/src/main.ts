// The Express example: `npx tsx examples/express/src/main.ts` (every setting
// comes from the environment; see examples/README.md).
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { banner, boot, displayUrl } from '@uptimekit/example-service'
import { createShutdown } from '@uptimekit/shutdown'
import { answerClientErrors, createApp } from './app.js'

const { config, logger, service } = await boot('express')

const server = createServer()
// Longer than nginx's upstream keepalive_timeout (60 s), so an idle
// connection is always closed by the proxy, never under it.
server.keepAliveTimeout = config.keepAliveTimeoutMs
server.headersTimeout = config.keepAliveTimeoutMs + 1000
server.on('request', createApp(service, { server }))
answerClientErrors(server)

const shutdown = createShutdown(server, {
  readiness: service.health,
  drainDelayMs: config.drainDelayMs,
  timeoutMs: config.shutdownTimeoutMs,
  logger,
})
for (const [name, hook] of service.closeHooks) shutdown.onClose(name, hook)

server.once('error', (error) => {
  logger.error({ error }, `cannot listen on ${config.host}:${config.port}`)
  process.exit(1)
})
server.listen(config.port, config.host, () => {
  const { port } = server.address() as AddressInfo
  console.log(banner('express', displayUrl(config.host, port), service))
})
