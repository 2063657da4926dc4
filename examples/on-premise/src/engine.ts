/**
 * The engine of the example: `acd-bridge` (`@acd-bridge/server`), every command of it, with
 * on-premise integrations left to links. The engine plans their windows and offers each as a
 * task; `acd-link` next to the sources leases, reads and uploads them.
 *
 *   pnpm engine serve       # PORT, ACD_BRIDGE_DATABASE_URL, ACD_BRIDGE_ADMIN_TOKEN … as for acd-bridge
 *
 * The server's own ACD_BRIDGE_ON_PREMISE=link does not serve links yet (its scheduler skips
 * on-premise integrations); here the engine's on-premise mode is set to `link` for the layers
 * the server builds (`LinkModel.layerOnPremise`), which turns on task offers, the link routes'
 * work and the engine's no-secrets rule for on-premise configs.
 */
import { LinkModel } from "@acd-bridge/core"
import { Cli } from "@acd-bridge/server"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

Cli.run(Cli.make(), process.argv, { name: "acd-bridge (on-premise example)" }).pipe(
  Effect.provide(Layer.merge(NodeContext.layer, LinkModel.layerOnPremise("link"))),
  NodeRuntime.runMain
)
