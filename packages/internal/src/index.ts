export { errorAnswer, jsonAnswer, textAnswer, writeAnswer } from './answer.js'
export type { ErrorBody, HttpAnswer } from './answer.js'
export { negotiate } from './accept.js'
export { bearerMatcher, MIN_TOKEN_LENGTH } from './bearer.js'
export { monotonicMs } from './clock.js'
export { closestName } from './closest-name.js'
export { hasCode, InvalidOptionError, isInvalidOptionError, UptimekitError } from './errors.js'
export { isLogger, resolveLogger, silentLogger, stderrLogger } from './logger.js'
export type { Logger, LoggerOption } from './logger.js'
export {
  bool,
  finiteNumber,
  func,
  integer,
  MAX_TIMER_MS,
  milliseconds,
  oneOf,
  optional,
  optionsObject,
  plainObject,
  ratio,
  secret,
  text,
  withMethods,
} from './option-checks.js'
export type { NumberBounds } from './option-checks.js'
export { heapLimitBytes, heapUsedBytes } from './heap-limit.js'
export { errorText, isSecretKey, redact, safeDetails } from './redact.js'
export { requestPath } from './request-path.js'
export { shown } from './shown.js'
export { mysqlRoleDetails, PG_ROLE_SQL, pgRoleDetails } from './node-role.js'
export type { NodeRoleDetails, SqlRows } from './node-role.js'
