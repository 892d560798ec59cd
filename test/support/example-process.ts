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
  fileURLToPath(new URL(`../../examples/${framework}/src/main.ts`, import.meta.url))

/** The examples are TypeScript, run by tsx's loader as `pnpm demo` runs them. */
export const TSX_LOADER: string = import.meta.resolve('tsx')

/** How `startExample` decides the service is up. */
export interface StartOptions {
  /**
   * The path that must answer 200: `/ready` for a service whose critical
   * dependencies are up, `/live` for one expected to start without them.
   * @default '/ready'
   */
  upPath?: string
  /** @default 15000 */
  withinMs?: number
}

const spawnExample = (framework: Framework, env: Record<string, string>): ChildProcess =>
  spawn(process.execPath, ['--import', TSX_LOADER, entry(framework)], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })

/**
 * Runs the example with `env` until it exits on its own (a bad configuration)
 * and resolves with its exit code and everything it printed.
 */
export async function runExample(
  framework: Framework,
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const child = spawnExample(framework, env)
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
  const [code] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  return { code, output }
}

/**
 * Starts `examples/<framework>/src/main.ts` with `env` on 127.0.0.1:`port`
 * and resolves once `upPath` answers 200 (rejects with its output if it exits
 * first or is not up within `withinMs`). The caller stops it.
 */
export async function startExample(
  framework: Framework,
  port: number,
  env: Record<string, string>,
  { upPath = '/ready', withinMs = 15_000 }: StartOptions = {},
): Promise<ExampleProcess> {
  const child = spawnExample(framework, { PORT: String(port), ...env })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')))
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

  const deadline = Date.now() + withinMs
  let gone = false
  void exited.then(() => (gone = true))
  while (!gone) {
    const status = await fetch(`${url}${upPath}`).then(
      (res) => res.status,
      () => 0,
    )
    if (status === 200) return example
    if (Date.now() > deadline) {
      await example.stop('SIGKILL')
      throw new Error(`${framework} example not up within ${withinMs} ms:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const { code, signal } = await exited
  throw new Error(`${framework} example exited (${code ?? signal}) before it was up:\n${output}`)
}
