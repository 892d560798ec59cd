export { createReplicaSet } from './replica-set.js'
export type {
  NodeSnapshot,
  NodeState,
  ReadOptions,
  ReplicaSet,
  ReplicaSetChange,
  ReplicaSetHealth,
  WriteTracking,
} from './replica-set.js'
export { DEFAULTS } from './options.js'
export type {
  MysqlPoolLike,
  PgPoolLike,
  ReadStrategy,
  ReplicaNodeOption,
  ReplicaSetKind,
  ReplicaSetOptions,
} from './options.js'
export {
  FallbackFullError,
  InvalidOptionError,
  isFallbackFullError,
  isInvalidOptionError,
  isNoPrimaryError,
  isNoReadableNodeError,
  NoPrimaryError,
  NoReadableNodeError,
} from './errors.js'
