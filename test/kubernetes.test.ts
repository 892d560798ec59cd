import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '@uptimekit/example-service'
import { DEFAULTS as HEALTH_DEFAULTS } from '@uptimekit/health'
import { DEFAULTS as SHUTDOWN_DEFAULTS } from '@uptimekit/shutdown'
import { parse } from 'yaml'

// The manifests in examples/kubernetes must agree with what the example
// service really does (its paths, port and timings come from its config
// module, fed the Deployment's own env), so the two cannot drift apart.

interface Probe {
  httpGet: { path: string; port: string | number }
  periodSeconds: number
  failureThreshold: number
  timeoutSeconds: number
}
interface EnvVar {
  name: string
  value?: string
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } }
}
interface Container {
  name: string
  command: string[]
  ports: { name: string; containerPort: number }[]
  env: EnvVar[]
  startupProbe: Probe
  readinessProbe: Probe
  livenessProbe: Probe
  lifecycle: { preStop: { exec: { command: string[] } } }
}
interface Deployment {
  kind: 'Deployment'
  spec: {
    replicas: number
    selector: { matchLabels: Record<string, string> }
    strategy: { rollingUpdate: { maxUnavailable: number; maxSurge: number } }
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> }
      spec: { terminationGracePeriodSeconds: number; containers: Container[] }
    }
  }
}
interface Service {
  kind: 'Service'
  metadata: { labels: Record<string, string> }
  spec: {
    selector: Record<string, string>
    ports: { name: string; port: number; targetPort: string | number }[]
  }
}
interface Pdb {
  kind: 'PodDisruptionBudget'
  spec: { maxUnavailable: number; selector: { matchLabels: Record<string, string> } }
}
interface ServiceMonitor {
  kind: 'ServiceMonitor'
  spec: {
    selector: { matchLabels: Record<string, string> }
    endpoints: { port: string; path: string; interval: string; scrapeTimeout: string }[]
  }
}
const dir = new URL('../examples/kubernetes/', import.meta.url)
const read = <T>(file: string): T => parse(readFileSync(new URL(file, dir), 'utf8')) as T

const deployment = read<Deployment>('deployment.yaml')
const service = read<Service>('service.yaml')
const pdb = read<Pdb>('pdb.yaml')
const monitor = read<ServiceMonitor>('servicemonitor.yaml')
const kustomization = read<{ resources: string[] }>('kustomization.yaml')
const pod = deployment.spec.template
const container = pod.spec.containers[0]!

/** What a Secret would hold: placeholders of the right shape for the variables read from one. */
const secretPlaceholders: Record<string, string> = {
  REDIS_URL: 'redis://redis.redis.svc.cluster.local:6379',
  SESSION_SECRET: 'x'.repeat(48),
  DATABASE_URL: 'postgres://app@postgres.db.svc.cluster.local:5432/app',
}

function containerEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const variable of container.env) {
    if (variable.value !== undefined) env[variable.name] = variable.value
    else if (variable.valueFrom?.secretKeyRef !== undefined) {
      const placeholder = secretPlaceholders[variable.name]
      if (placeholder === undefined) throw new Error(`no placeholder for secret ${variable.name}`)
      env[variable.name] = placeholder
    } else if (variable.valueFrom?.fieldRef !== undefined) env[variable.name] = 'pod-name'
  }
  return env
}

const config = loadConfig(containerEnv())

const containerPort = (port: string | number): number =>
  typeof port === 'number' ? port : container.ports.find((p) => p.name === port)!.containerPort

describe('the Kubernetes manifests agree with the example configuration', () => {
  it('apply every manifest through the kustomization', () => {
    expect(kustomization.resources.sort()).toEqual([
      'deployment.yaml',
      'pdb.yaml',
      'service.yaml',
      'servicemonitor.yaml',
    ])
  })

  it('start the service in production mode with an env the config module accepts', () => {
    expect(container.command).toEqual(['node', '--import', 'tsx', 'examples/express/src/main.ts'])
    expect(config.production).toBe(true)
    expect(config.paymentsUrl).toBe('http://payments.payments.svc.cluster.local:8080')
  })

  it('run 3 replicas and roll them one at a time without going below 3 ready', () => {
    expect(deployment.spec.replicas).toBe(3)
    expect(deployment.spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 })
  })

  it('probe the paths and the port the service serves', () => {
    expect(container.ports).toEqual([{ name: 'http', containerPort: config.port }])
    expect(container.startupProbe.httpGet.path).toBe(config.paths.startup)
    expect(container.readinessProbe.httpGet.path).toBe(config.paths.ready)
    expect(container.livenessProbe.httpGet.path).toBe(config.paths.live)
    for (const probe of [
      container.startupProbe,
      container.readinessProbe,
      container.livenessProbe,
    ]) {
      expect(containerPort(probe.httpGet.port)).toBe(config.port)
    }
  })

  it('let a probe outlast the health check timeout, so a hung check answers 503 instead of timing out', () => {
    expect(container.readinessProbe.timeoutSeconds * 1000).toBeGreaterThan(config.healthTimeoutMs)
    expect(container.startupProbe.timeoutSeconds * 1000).toBeGreaterThan(config.healthTimeoutMs)
  })

  it("use the health package's check timeout, which fits Kubernetes' default 1 s probe timeout", () => {
    expect(config.healthTimeoutMs).toBe(HEALTH_DEFAULTS.timeoutMs)
    const KUBERNETES_DEFAULT_TIMEOUT_SECONDS = 1
    expect(HEALTH_DEFAULTS.timeoutMs).toBeLessThan(KUBERNETES_DEFAULT_TIMEOUT_SECONDS * 1000)
    for (const probe of [container.readinessProbe, container.startupProbe]) {
      expect(probe.timeoutSeconds).toBe(KUBERNETES_DEFAULT_TIMEOUT_SECONDS)
    }
  })

  it('end each readiness and startup probe before the next one starts', () => {
    for (const probe of [container.readinessProbe, container.startupProbe]) {
      expect(probe.timeoutSeconds).toBeLessThan(probe.periodSeconds)
    }
  })

  it('take a draining pod out of rotation by readiness before the drain delay ends', () => {
    const { periodSeconds, failureThreshold } = container.readinessProbe
    expect(periodSeconds * failureThreshold * 1000).toBeLessThanOrEqual(config.drainDelayMs)
  })

  it('give preStop, the shutdown timeout and every close hook time before the kubelet kills the pod', () => {
    const [sleep, seconds, ...rest] = container.lifecycle.preStop.exec.command
    expect(sleep).toBe('sleep')
    expect(rest).toEqual([])
    const preStopSeconds = Number(seconds)
    expect(preStopSeconds).toBeGreaterThan(0)
    expect(config.shutdownTimeoutMs).toBeGreaterThan(config.drainDelayMs)
    // The hooks examples/service/src/service.ts registers for this
    // config; past the shutdown timeout each may still run for hookTimeoutMs.
    const hooks = [
      'redis',
      config.databaseUrl === undefined ? [] : ['postgres'],
      config.paymentsUrl === undefined ? ['payments-upstream'] : [],
      'health',
    ].flat()
    expect(hooks).toEqual(['redis', 'postgres', 'health'])
    const hooksSeconds = (hooks.length * SHUTDOWN_DEFAULTS.hookTimeoutMs) / 1000
    // The worst case must end strictly before the SIGKILL, with room for the exit itself.
    const marginSeconds = 5
    expect(pod.spec.terminationGracePeriodSeconds).toBe(
      preStopSeconds + config.shutdownTimeoutMs / 1000 + hooksSeconds + marginSeconds,
    )
  })

  it('route the Service, the budget and the scrape to the Deployment pods', () => {
    const podLabels = pod.metadata.labels
    expect(deployment.spec.selector.matchLabels).toEqual(podLabels)
    expect(service.spec.selector).toEqual(podLabels)
    expect(pdb.spec.selector.matchLabels).toEqual(podLabels)
    expect(pdb.spec.maxUnavailable).toBe(1)
    expect(service.spec.ports.map((p) => containerPort(p.targetPort))).toEqual([config.port])
    expect(monitor.spec.selector.matchLabels).toEqual(service.metadata.labels)
  })

  it('scrape /metrics on the service port, by ServiceMonitor and by pod annotation', () => {
    expect(monitor.spec.endpoints).toEqual([
      {
        port: service.spec.ports[0]!.name,
        path: config.paths.metrics,
        interval: '15s',
        scrapeTimeout: '5s',
      },
    ])
    expect(pod.metadata.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(config.port),
      'prometheus.io/path': config.paths.metrics,
    })
  })
})
