import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyPluginOptions,
  FastifyReply,
} from 'fastify'
import { fastifyPlugin as fp } from 'fastify-plugin'
import type { HttpAnswer } from './answer.js'
import { isLogger, resolveLogger, type Logger } from './logger.js'

/**
 * The one Fastify plugin shell: `register` runs inside an async plugin, so a bad option (a
 * synchronous throw included) makes `app.register()` and `app.ready()` reject instead of
 * escaping avvio and ending the process.
 */
export function definePlugin<TOptions extends FastifyPluginOptions>(
  name: string,
  register: (app: FastifyInstance, options: TOptions) => void | Promise<void>,
): FastifyPluginAsync<TOptions> {
  const plugin: FastifyPluginAsync<TOptions> = async (app, options) => {
    await register(app, options)
  }
  return fp(plugin, { fastify: '5.x', name })
}

/**
 * The logger a plugin writes to: the `logger` option when given (or `false`), else Fastify's own
 * `app.log` when the app has a logger enabled, else the default JSON lines on stderr.
 */
export function pluginLogger(app: FastifyInstance, option: unknown, name: string): Logger {
  if (option !== undefined) return resolveLogger('logger', option, name)
  const level = (app.log as { level?: unknown }).level
  if (typeof level === 'string' && level !== 'silent' && isLogger(app.log)) {
    return app.log.child({ name })
  }
  return resolveLogger('logger', undefined, name)
}

/** Sends an answer as it is; a Buffer, because Fastify appends a charset to string bodies. */
export function sendAnswer(reply: FastifyReply, answer: HttpAnswer): FastifyReply {
  return reply.code(answer.statusCode).headers(answer.headers).send(Buffer.from(answer.body))
}
