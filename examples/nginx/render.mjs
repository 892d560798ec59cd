// Fills nginx.conf.template. Used by the end-to-end test and by hand:
//
//   node examples/nginx/render.mjs --listen 8080 --prefix /tmp/uptimekit-nginx \
//     --instances 127.0.0.1:3001,127.0.0.1:3002,127.0.0.1:3003 > /tmp/uptimekit-nginx/nginx.conf
//   nginx -p /tmp/uptimekit-nginx -e /tmp/uptimekit-nginx/error.log -c nginx.conf -g 'daemon off;'
import { readFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

/** The template's path, for tools that want to read it as it is. */
export const TEMPLATE_PATH = fileURLToPath(new URL('./nginx.conf.template', import.meta.url))

/**
 * The config text for three instances.
 *
 * @param {{ listen: string | number, instances: string[], prefix: string, maintenancePort?: number }} options
 *   `listen` as nginx takes it (`8080`, `127.0.0.1:8080`); `instances` three `host:port`;
 *   `prefix` an absolute directory for the pid file, logs and temp files;
 *   `maintenancePort` the local port of the backup server (default 8081)
 */
export function renderNginxConfig({ listen, instances, prefix, maintenancePort = 8081 }) {
  if (instances.length !== 3) {
    throw new RangeError(`instances must list 3 host:port (got ${instances.length})`)
  }
  if (!prefix.startsWith('/')) throw new RangeError(`prefix must be absolute (got ${prefix})`)
  const values = {
    listen: String(listen),
    prefix: prefix.replace(/\/$/, ''),
    maintenancePort: String(maintenancePort),
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
      listen: { type: 'string', default: '8080' },
      instances: { type: 'string', default: '127.0.0.1:3001,127.0.0.1:3002,127.0.0.1:3003' },
      prefix: { type: 'string', default: '/tmp/uptimekit-nginx' },
      'maintenance-port': { type: 'string', default: '8081' },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    console.log(
      'usage: node examples/nginx/render.mjs [--listen 8080] [--prefix /tmp/uptimekit-nginx]\n' +
        '         [--instances h:p,h:p,h:p] [--maintenance-port 8081] > nginx.conf',
    )
  } else {
    process.stdout.write(
      renderNginxConfig({
        listen: values.listen,
        instances: values.instances.split(','),
        prefix: values.prefix,
        maintenancePort: Number(values['maintenance-port']),
      }),
    )
  }
}
