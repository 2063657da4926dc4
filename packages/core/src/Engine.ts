/**
 * All engine services in one layer. The host provides `Storage` and `ConnectorRegistry`.
 *
 * @since 0.1.0
 */
import * as Layer from "effect/Layer"
import { AccessTokens } from "./AccessTokens.js"
import { AgentStatuses } from "./AgentStatuses.js"
import { ApiKeys } from "./ApiKeys.js"
import { Ingest } from "./Ingest.js"
import { Integrations } from "./Integrations.js"
import { Intervals } from "./Intervals.js"
import { KeyMaterial } from "./KeyMaterial.js"
import { Links } from "./Links.js"
import { LinkTasks } from "./LinkTasks.js"
import { Lifecycle } from "./Lifecycle.js"
import { Mappings } from "./Mappings.js"
import { Queues } from "./Queues.js"
import { Workloads } from "./Workloads.js"

/**
 * @since 0.1.0 @category layers
 */
export const layer = Layer.mergeAll(
  Integrations.Default,
  Lifecycle.Default,
  Queues.Default,
  Workloads.Default,
  Mappings.Default,
  Ingest.Default,
  Intervals.Default,
  ApiKeys.Default,
  AccessTokens.Default,
  Links.Default
).pipe(
  // the link tasks need `Ingest` (their results go through it)
  Layer.provideMerge(LinkTasks.Default.pipe(Layer.provideMerge(Ingest.Default))),
  Layer.provideMerge(Layer.mergeAll(AgentStatuses.Default, KeyMaterial.Default))
)

/** Every service `layer` provides. @since 0.1.0 @category models */
export type Services = Layer.Layer.Success<typeof layer>
