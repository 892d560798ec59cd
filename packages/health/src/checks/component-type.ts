import type { HealthCheck } from '../options.js'

/** Marks a checker as a database or cache, so the IETF format reports `componentType: datastore`. */
export function datastore(check: HealthCheck): HealthCheck {
  check.componentType = 'datastore'
  return check
}
