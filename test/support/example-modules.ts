// What the end-to-end tests drive directly from the examples: the load generator, the payment
// upstream and the nginx config renderer.
import type { PhaseStats } from '@uptimekit/example-service'

export { createPaymentsUpstream, startLoad } from '@uptimekit/example-service'
export type { Load, LoadRequest, PaymentsUpstream, PhaseStats } from '@uptimekit/example-service'

interface NginxModule {
  renderNginxConfig: (options: {
    listen: string | number
    instances: string[]
    prefix: string
    maintenancePort?: number
  }) => string
}

export const { renderNginxConfig } = (await import(
  new URL('../../examples/nginx/render.mjs', import.meta.url).href
)) as NginxModule

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
