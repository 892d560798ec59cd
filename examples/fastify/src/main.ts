// The Fastify example: `npx tsx examples/fastify/src/main.ts` (every setting
// comes from the environment; see examples/README.md).
import type { AddressInfo } from 'node:net'
import { banner, boot, displayUrl } from '@uptimekit/example-service'
import { createApp } from './app.js'

const { config, logger, service } = await boot('fastify')
const app = await createApp(service)
try {
  await app.listen({ port: config.port, host: config.host })
} catch (error) {
  logger.error({ error }, `cannot listen on ${config.host}:${config.port}`)
  process.exit(1)
}
const { port } = app.server.address() as AddressInfo
console.log(banner('fastify', displayUrl(config.host, port), service))
