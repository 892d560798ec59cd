// Typed handles on the examples' plain-JavaScript modules that the end-to-end
// tests drive directly: the load generator, the payment upstream and the
// nginx config renderer.

/** One request the load sends, and the statuses that count as success. */
export interface LoadRequest {
  method: string
  path: string
  headers?: Record<string, string>
  body?: unknown
  expect: number[]
}

/** What the load counted while one phase was current. */
export interface PhaseStats {
  phase: string
  sent: number
  ok: number
  failed: number
  statuses: Record<string, number>
  servedBy: Record<string, number>
  failures: string[]
}

/** A running load (examples/express/src/load.mjs). */
export interface Load {
  phase(name: string): void
  stats(): PhaseStats[]
  stop(): Promise<PhaseStats[]>
}

interface LoadModule {
  startLoad: (options: {
    baseUrl: string
    concurrency?: number
    pauseMs?: number
    timeoutMs?: number
    phase?: string
    next: (n: number) => LoadRequest
  }) => Load
}

/** The payment upstream (examples/express/src/service/payments-upstream.mjs). */
export interface PaymentsUpstream {
  listen(port?: number, host?: string): Promise<string>
  setFaults(faults: { failureRate?: number; latencyMs?: number }): unknown
  close(): Promise<void>
}

interface UpstreamModule {
  createPaymentsUpstream: (initial?: {
    failureRate?: number
    latencyMs?: number
  }) => PaymentsUpstream
}

interface NginxModule {
  renderNginxConfig: (options: {
    listen: string | number
    instances: string[]
    prefix: string
    maintenancePort?: number
  }) => string
}

const load = async <T>(path: string): Promise<T> =>
  (await import(new URL(`../../examples/${path}`, import.meta.url).href)) as T

export const { startLoad } = await load<LoadModule>('express/src/load.mjs')
export const { createPaymentsUpstream } = await load<UpstreamModule>(
  'express/src/service/payments-upstream.mjs',
)
export const { renderNginxConfig } = await load<NginxModule>('nginx/render.mjs')

/** A phase table for the test log: the numbers the README quotes. */
export function formatPhases(stats: PhaseStats[]): string {
  const rows = stats.map((s) => {
    const statuses = Object.entries(s.statuses)
      .map(([status, n]) => `${status}×${n}`)
      .join(' ')
    const servedBy = Object.keys(s.servedBy).sort().join(', ')
    return `| ${s.phase} | ${s.sent} | ${s.failed} | ${statuses} | ${servedBy} |`
  })
  return [
    '| phase | requests | failed | statuses | served by |',
    '| --- | ---: | ---: | --- | --- |',
    ...rows,
  ].join('\n')
}
