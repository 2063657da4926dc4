/**
 * The `acd-bridge` executable: `Cli.make()` run under `NodeRuntime.runMain`, which turns
 * SIGTERM and SIGINT into an interruption, so `serve` shuts down cleanly and exits with 0.
 *
 * @since 0.1.0
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Cli from "./Cli.js"

Cli.run(Cli.make(), process.argv).pipe(
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: false })
)
