/**
 * The engine of the example: `acd-bridge` (`@acd-bridge/server`), every command of it. Started
 * with `ACD_BRIDGE_ON_PREMISE=link`, it leaves on-premise integrations to links: it plans their
 * windows and offers each as a task; `acd-link` next to the sources leases, reads and uploads
 * them, and the engine refuses secrets in on-premise configs.
 *
 *   ACD_BRIDGE_ON_PREMISE=link pnpm engine serve   # PORT, ACD_BRIDGE_DATABASE_URL, ACD_BRIDGE_ADMIN_TOKEN … as for acd-bridge
 */
import { Cli } from "@acd-bridge/server"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"

Cli.run(Cli.make(), process.argv, { name: "acd-bridge (on-premise example)" }).pipe(
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain
)
