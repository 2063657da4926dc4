/**
 * A host application that reuses the server's composition with its own connector and its own
 * authenticator (the README's "Embedding the server" example; `test/host.test.ts` runs it).
 *
 *   node --import tsx examples/server/src/host.ts
 */
import { Connector, Domain, Errors, Principal } from "@acd-bridge/core"
import { Authenticator } from "@acd-bridge/http"
import { Connectors, Server } from "@acd-bridge/server"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

// your own connector: a value with a config schema and a pull (see docs/connectors.md)
export const acme = Connector.make({
  key: "acme",
  displayName: "Acme ACD",
  deliveryModes: ["cloud"],
  dataKinds: ["contacts"],
  configSchema: Schema.Struct({ tenantCode: Schema.String }),
  pull: () => Stream.empty
})

// your own authenticator: here a fixed user token per tenant; in real life your SSO
export const MyAuthenticator = Layer.succeed(Authenticator.Authenticator, {
  authenticate: (credential: Redacted.Redacted<string>, _scope: Authenticator.Scope) =>
    Redacted.value(credential) === "token-of-alice-in-acme"
      ? Effect.succeed(Principal.User({ tenantId: Domain.TenantId.make("acme"), userId: Domain.UserId.make("alice") }))
      : Effect.fail(new Errors.Unauthorized())
})

// the server: built-in connectors plus yours, your authenticator, SQLite (or postgres://…)
export const HostLive = (port = 8080) =>
  Server.layer({
    tenantId: "acme",
    connectors: [...Connectors.builtins, acme],
    authenticator: MyAuthenticator,
    http: { port }
  }).pipe(Layer.provide(Server.storageFromUrl(process.env["ACD_BRIDGE_DATABASE_URL"] ?? "./data/host.sqlite")))

if (import.meta.url === `file://${process.argv[1]}`) {
  HostLive().pipe(Layer.launch, NodeRuntime.runMain)
}
