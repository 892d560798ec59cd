export { createHealth } from './health.js'
export type { Health } from './health.js'
export { DEFAULTS } from './options.js'
export type {
  ComponentType,
  HealthOptions,
  HealthCheck,
  HealthCheckEntry,
  HealthLogger,
  Observation,
  Probe,
} from './options.js'
export type { HealthReport, CheckResult, HealthStatus } from './report.js'
export type { ProbeRequest } from './probe-answers.js'
export type { ErrorBody, HttpAnswer } from '@uptimekit/internal'
export {
  CheckFailedError,
  CheckTimeoutError,
  InvalidOptionError,
  isCheckFailedError,
  isCheckTimeoutError,
  isInvalidOptionError,
} from './errors.js'
export { redisCheck } from './checks/redis.js'
export type { RedisCheckOptions, RedisLikeClient, RedisRoleDetails } from './checks/redis.js'
export { mongooseCheck } from './checks/mongoose.js'
export type { MongooseLikeConnection } from './checks/mongoose.js'
export { mongoCheck } from './checks/mongo.js'
export type { MongoLikeClient, MongoLikeDb } from './checks/mongo.js'
export type { NodeRole, NodeRoleDetails, RoleCheckOptions } from './checks/node-role.js'
export { pgCheck } from './checks/pg.js'
export type { PgLikeClient } from './checks/pg.js'
export { mysqlCheck } from './checks/mysql.js'
export type { MysqlLikeClient, MysqlPromiseClient, MysqlCallbackClient } from './checks/mysql.js'
export { httpCheck, HTTP_CHECK_DEFAULTS } from './checks/http.js'
export type { HttpCheckOptions } from './checks/http.js'
export { heapCheck, HEAP_CHECK_DEFAULTS } from './checks/heap.js'
export type { HeapCheckOptions } from './checks/heap.js'
export { diskCheck, DISK_CHECK_DEFAULTS } from './checks/disk.js'
export type { DiskCheckOptions } from './checks/disk.js'
export { eventLoopCheck, EVENT_LOOP_CHECK_DEFAULTS } from './checks/event-loop.js'
export type { EventLoopCheckOptions } from './checks/event-loop.js'
