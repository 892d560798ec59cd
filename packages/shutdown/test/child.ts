import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { onTestFinished } from 'vitest'

/** One JSON line the fixture printed. */
export interface ChildEvent {
  event: string
  [field: string]: unknown
}

/** Fixture configuration (see test/fixtures/server.mjs). */
export interface ChildConfig {
  drainDelayMs: number
  timeoutMs: number
  hookTimeoutMs?: number
  /** three-servers.mjs: how long each server's one close hook takes. */
  hookMs?: number
  hooks?: {
    name: string
    kind: 'ok' | 'throw' | 'hang' | 'slow'
    ms?: number
    timeoutMs?: number
  }[]
}

/** A fixture process serving on 127.0.0.1. */
export interface Child {
  port: number
  /** Every port, for a fixture with several servers (its `listening` event's `ports`). */
  ports: number[]
  /** Every event printed so far, in order. */
  events: ChildEvent[]
  /** Resolves with the exit code once the process is gone. */
  exited: Promise<number | null>
  kill(signal: NodeJS.Signals): void
  /** Resolves with the first event (already printed or to come) that matches. */
  waitFor(match: (event: ChildEvent) => boolean): Promise<ChildEvent>
}

export type Framework = 'http' | 'express' | 'fastify'

/**
 * Spawns `fixture` (test/fixtures/server.mjs unless named) for `framework`, waits until it
 * listens and kills it when the test ends.
 */
export async function startChild(
  framework: Framework,
  config: ChildConfig,
  fixture = 'server.mjs',
): Promise<Child> {
  const path = fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url))
  const proc: ChildProcess = spawn(process.execPath, [path, framework, JSON.stringify(config)], {
    // stdin stays open while this process lives: the fixture kills itself when it ends, so a
    // crashed test worker leaves no server behind.
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  onTestFinished(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  })
  const events: ChildEvent[] = []
  const waiters = new Set<{ match: (e: ChildEvent) => boolean; resolve: (e: ChildEvent) => void }>()
  let buffered = ''
  proc.stdout!.setEncoding('utf8')
  proc.stdout!.on('data', (chunk: string) => {
    buffered += chunk
    let newline = buffered.indexOf('\n')
    while (newline !== -1) {
      const event = JSON.parse(buffered.slice(0, newline)) as ChildEvent
      buffered = buffered.slice(newline + 1)
      events.push(event)
      for (const waiter of waiters) {
        if (waiter.match(event)) {
          waiters.delete(waiter)
          waiter.resolve(event)
        }
      }
      newline = buffered.indexOf('\n')
    }
  })
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  const waitFor = (match: (e: ChildEvent) => boolean): Promise<ChildEvent> => {
    const seen = events.find(match)
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      waiters.add({ match, resolve })
      void exited.then((code) => reject(new Error(`fixture exited (${code}) before the event`)))
    })
  }
  const listening = await waitFor((e) => e.event === 'listening')
  return {
    port: listening.port as number,
    ports: (listening.ports as number[] | undefined) ?? [listening.port as number],
    events,
    exited,
    kill: (signal) => proc.kill(signal),
    waitFor,
  }
}

/** Index of the first event matching, -1 if none; for order assertions. */
export const indexOf = (events: ChildEvent[], match: (e: ChildEvent) => boolean): number =>
  events.findIndex(match)

/** Index of the last event matching, -1 if none. */
export const lastIndexOf = (events: ChildEvent[], match: (e: ChildEvent) => boolean): number =>
  events.findLastIndex(match)
