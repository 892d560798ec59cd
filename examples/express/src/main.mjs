// The Express example: `node examples/express/src/main.mjs` (every setting
// comes from the environment; see examples/README.md).
import { createServer } from 'node:http'
import { createShutdown } from '@uptimekit/shutdown'
import { createApp } from './app.mjs'
import { banner, boot, displayUrl } from './service/boot.mjs'

const { config, logger, service } = await boot('express')

const server = createServer()
// Longer than nginx's upstream keepalive_timeout (60 s), so an idle
// connection is always closed by the proxy, never under it.
server.keepAliveTimeout = config.keepAliveTimeoutMs
server.headersTimeout = config.keepAliveTimeoutMs + 1000
server.on('request', createApp(service, { server }))

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
  console.log(banner('express', displayUrl(config.host, server.address().port), service))
})
