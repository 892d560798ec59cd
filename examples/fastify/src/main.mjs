// The Fastify example: `node examples/fastify/src/main.mjs` (every setting
// comes from the environment; see examples/README.md).
import { banner, boot, displayUrl } from '../../express/src/service/boot.mjs'
import { createApp } from './app.mjs'

const { config, logger, service } = await boot('fastify')
const app = await createApp(service)
try {
  await app.listen({ port: config.port, host: config.host })
} catch (error) {
  logger.error({ error }, `cannot listen on ${config.host}:${config.port}`)
  process.exit(1)
}
console.log(banner('fastify', displayUrl(config.host, app.server.address().port), service))
