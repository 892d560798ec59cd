import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { closedPort } from '../../../test/support/ports.js'

/** A redis-server (or sentinel) process this test run started itself, on a spare port. */
export interface RedisProcess {
  readonly port: number
  readonly url: string
  /** SIGSTOP: the process keeps its sockets open but answers nothing. */
  freeze(): void
  /** SIGCONT after {@link freeze}. */
  thaw(): void
  /** SIGKILL and wait for the exit; safe to call twice. */
  stop(): Promise<void>
}

/** Sends one inline command and resolves with the first reply line, or rejects. */
export function rawCommand(port: number, command: string, timeoutMs = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port })
    let reply = ''
    socket.setTimeout(timeoutMs, () => {
      socket.destroy()
      reject(new Error(`no reply to ${command} on ${port}`))
    })
    socket.once('error', reject)
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      if (reply.includes('\r\n')) {
        socket.destroy()
        resolve(reply.slice(0, reply.indexOf('\r\n')))
      }
    })
    socket.write(`${command}\r\n`)
  })
}

async function waitForPong(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`redis-server on ${port} exited with ${child.exitCode}`)
    const reply = await rawCommand(port, 'PING').catch(() => '')
    if (reply === '+PONG' || reply.startsWith('-NOAUTH')) return
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  throw new Error(`redis-server on ${port} did not answer PING`)
}

/**
 * Starts `redis-server` with no persistence on a spare port (or `port`). With `sentinelConfig`,
 * writes that config to a temp file and starts it in Sentinel mode instead. Kill it with `stop()`;
 * a process exit handler kills it too if a test crashes first.
 */
export async function startRedis(
  options: { args?: string[]; port?: number; sentinelConfig?: string } = {},
): Promise<RedisProcess> {
  const port = options.port ?? (await closedPort())
  // Its own working directory: a replica's full sync writes an RDB file there
  // even with `--save ""`, and a Sentinel rewrites its config file.
  const dir = await mkdtemp(join(tmpdir(), 'uptimekit-redis-'))
  let args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
  if (options.sentinelConfig !== undefined) {
    const file = join(dir, 'sentinel.conf')
    await writeFile(file, `port ${port}\nbind 127.0.0.1\n${options.sentinelConfig}\n`)
    args = [file, '--sentinel']
  }
  const child = spawn('redis-server', [...args, ...(options.args ?? [])], {
    cwd: dir,
    stdio: 'ignore',
  })
  const killOnExit = (): void => void child.kill('SIGKILL')
  process.once('exit', killOnExit)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exited
    await rm(dir, { recursive: true, force: true })
  }
  try {
    await waitForPong(port, child)
  } catch (err) {
    await stop()
    throw err
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    freeze: () => void child.kill('SIGSTOP'),
    thaw: () => void child.kill('SIGCONT'),
    stop,
  }
}

/** Resolves once an ioredis client is connected (ours fail fast before that). */
export async function ready(client: {
  status: string
  once(event: 'ready', listener: () => void): unknown
}): Promise<void> {
  if (client.status === 'ready') return
  await new Promise<void>((resolve) => client.once('ready', () => resolve()))
}
