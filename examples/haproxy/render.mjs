// Fills haproxy.cfg.template. Used by hand (and by an end-to-end test):
//
//   node examples/haproxy/render.mjs --listen 127.0.0.1:8080 --prefix /tmp/uptimekit-haproxy \
//     --instances 127.0.0.1:3001,127.0.0.1:3002,127.0.0.1:3003 > /tmp/uptimekit-haproxy/haproxy.cfg
//   haproxy -f /tmp/uptimekit-haproxy/haproxy.cfg
import { readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

/** The template's path, for tools that want to read it as it is. */
export const TEMPLATE_PATH = fileURLToPath(new URL('./haproxy.cfg.template', import.meta.url))
const DIR = fileURLToPath(new URL('.', import.meta.url)).replace(/\/$/, '')

/**
 * The config text for three instances.
 *
 * @param {{ listen: string, instances: string[], prefix: string }} options
 *   `listen` as HAProxy's `bind` takes it (`127.0.0.1:8080`, `:8080`); `instances` three
 *   `host:port`; `prefix` an absolute directory for the pid file
 */
export function renderHaproxyConfig({ listen, instances, prefix }) {
  if (instances.length !== 3) {
    throw new RangeError(`instances must list 3 host:port (got ${instances.length})`)
  }
  if (!prefix.startsWith('/')) throw new RangeError(`prefix must be absolute (got ${prefix})`)
  const values = {
    listen: String(listen),
    prefix: prefix.replace(/\/$/, ''),
    dir: DIR,
    instance1: instances[0],
    instance2: instances[1],
    instance3: instances[2],
  }
  return readFileSync(TEMPLATE_PATH, 'utf8').replace(/\{\{(\w+)\}\}/g, (match, name) => {
    if (!(name in values)) throw new RangeError(`the template names an unknown value ${match}`)
    return values[name]
  })
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      listen: { type: 'string', default: '127.0.0.1:8080' },
      instances: { type: 'string', default: '127.0.0.1:3001,127.0.0.1:3002,127.0.0.1:3003' },
      prefix: { type: 'string', default: '/tmp/uptimekit-haproxy' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    process.stdout.write(
      'usage: node examples/haproxy/render.mjs [--listen 127.0.0.1:8080] [--prefix /tmp/uptimekit-haproxy]\n' +
        '         [--instances h:p,h:p,h:p] > haproxy.cfg\n',
    )
  } else {
    process.stdout.write(
      renderHaproxyConfig({
        listen: values.listen,
        instances: values.instances.split(','),
        prefix: values.prefix,
      }),
    )
  }
}
