import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

/** The two example services; both answer the same routes the same way. */
export const FRAMEWORKS = ['express', 'fastify'] as const
export type Framework = (typeof FRAMEWORKS)[number]

/** An example service running as a child process. */
export interface ExampleProcess {
  readonly framework: Framework
  readonly url: string
  readonly child: ChildProcess
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string
  /** Resolves with how it exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Sends `signal` (default SIGTERM) and resolves once it has exited. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const entry = (framework: Framework): string =>
  fileURLToPath(new URL(`../../examples/${framework}/src/main.mjs`, import.meta.url))

/**
 * Starts `examples/<framework>/src/main.mjs` with `env` on 127.0.0.1:`port`
 * and resolves once `/ready` answers 200 (rejects with its output if it exits
 * first or is not ready within `readyWithinMs`). The caller stops it.
 */
export async function startExample(
  framework: Framework,
  port: number,
  env: Record<string, string>,
  readyWithinMs = 15_000,
): Promise<ExampleProcess> {
  const child = spawn(process.execPath, [entry(framework)], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }))
  const url = `http://127.0.0.1:${port}`
  const example: ExampleProcess = {
    framework,
    url,
    child,
    output: () => output,
    exited,
    stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    },
  }

  const deadline = Date.now() + readyWithinMs
  let gone = false
  void exited.then(() => (gone = true))
  while (!gone) {
    const status = await fetch(`${url}/ready`).then(
      (res) => res.status,
      () => 0,
    )
    if (status === 200) return example
    if (Date.now() > deadline) {
      await example.stop('SIGKILL')
      throw new Error(`${framework} example not ready within ${readyWithinMs} ms:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const { code, signal } = await exited
  throw new Error(`${framework} example exited (${code ?? signal}) before it was ready:\n${output}`)
}
