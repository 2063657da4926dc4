/** The routes of `/v1/integrations`. */
import { ApiKeys, Domain, Errors, Integrations, Lifecycle, Mappings, Scheduler, Storage } from "@acd-bridge/core"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { Api, ReimportRange } from "../Api.js"
import * as Problem from "../Problem.js"
import { CurrentPrincipal } from "../Security.js"
import * as Body from "./body.js"
import type { Options } from "./handlerSupport.js"
import { fixedFields, PatchBody, problems, versionOf, wake, withEtag } from "./handlerSupport.js"

export const integrationsGroup = (options: Options) =>
  HttpApiBuilder.group(Api, "integrations", (handlers) =>
    Effect.gen(function*() {
      const integrations = yield* Integrations.Integrations
      const lifecycle = yield* Lifecycle.Lifecycle
      const apiKeys = yield* ApiKeys.ApiKeys
      const mappings = yield* Mappings.Mappings
      const storage = yield* Storage.Storage
      const view = (integration: Domain.Integration) =>
        Effect.map(integrations.redactedConfig(integration), (config) => ({ ...integration, config }))
      const bodyOptions = { maxBodyBytes: options.maxBodyBytes, maxJsonDepth: options.maxJsonDepth }
      return handlers
        .handleRaw("create", ({ request }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const input = yield* Body.json(request, Integrations.CreateIntegration, bodyOptions)
            const { integration, warnings } = yield* problems(integrations.create(principal.tenantId, input))
            // a pull integration starts its first import now, not at the scheduler's next poll
            yield* wake(principal.tenantId, integration.id)
            return { ...(yield* view(integration)), warnings }
          }))
        .handle("list", () =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const all = yield* problems(integrations.list(principal.tenantId))
            return yield* Effect.forEach(all, view)
          }))
        .handle("get", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            return yield* withEtag(yield* view(yield* problems(integrations.get(principal.tenantId, path.id))))
          }))
        .handleRaw("update", ({ headers, path, request }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const ifVersion = yield* versionOf(headers["if-match"])
            const body = yield* Body.json(request, PatchBody, bodyOptions)
            const fixed = Object.keys(fixedFields).find((key) => body[key as keyof typeof body] !== undefined)
            if (fixed !== undefined) return yield* Effect.fail(Problem.unprocessable(`${fixed}: ${fixedFields[fixed]}`, fixed))
            const { connector: _c, dataKinds: _k, deliveryMode: _d, id: _i, status: _s, ...settings } = body
            const updated = yield* problems(integrations.update(principal.tenantId, path.id, settings, { ifVersion }))
            // a new config or schedule takes effect now, not at the next poll
            yield* wake(principal.tenantId, updated.id)
            return yield* withEtag(yield* view(updated))
          }))
        .handle("check", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            return yield* problems(integrations.check(principal.tenantId, path.id)).pipe(
              Effect.timeoutTo({
                duration: options.checkTimeoutMs,
                onSuccess: (report) => report,
                onTimeout: () => ({
                  ok: false,
                  items: [{
                    name: "check",
                    ok: false,
                    detail: `the check did not finish within ${Math.round(options.checkTimeoutMs / 1000)} s: ` +
                      "the source may be unreachable (firewall, DNS, a host that does not answer)"
                  }]
                })
              })
            )
          }))
        .handle("createApiKey", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const created = yield* problems(apiKeys.generate(principal.tenantId, path.id))
            return { apiKey: created.apiKey, prefix: created.prefix }
          }))
        .handle("pause", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const paused = yield* problems(lifecycle.pause(principal.tenantId, path.id))
            yield* wake(principal.tenantId, path.id)
            return yield* view(paused)
          }))
        .handle("resume", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const resumed = yield* problems(lifecycle.resume(principal.tenantId, path.id))
            yield* wake(principal.tenantId, path.id)
            return yield* view(resumed)
          }))
        .handle("delete", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            yield* problems(lifecycle.delete(principal.tenantId, path.id))
          }))
        .handle("runs", ({ path, urlParams }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const integration = yield* problems(integrations.get(principal.tenantId, path.id))
            return yield* problems(storage.runs.list(integration.id, urlParams.limit ?? 100))
          }))
        .handle("health", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const scheduler = yield* Effect.serviceOption(Scheduler.Scheduler)
            if (Option.isSome(scheduler)) return yield* problems(scheduler.value.health(principal.tenantId, path.id))
            // an engine without a scheduler: what storage knows
            const integration = yield* problems(integrations.get(principal.tenantId, path.id))
            const runs = yield* problems(storage.runs.list(integration.id, 50))
            const watermark = yield* problems(storage.cursors.get(integration.id, Scheduler.streams.incremental))
            const now = yield* Clock.currentTimeMillis
            const failed = runs.find((r) => r.error !== null)
            const succeeded = runs.find((r) => r.error === null)
            // nothing here runs on-premise integrations: a link agent would have to
            const waitingForLink = integration.status !== "deleted" && integration.deliveryMode === "on-premise"
            const warnings = [
              ...(integration.failing === null ? [] : [`failing: ${integration.failing}`]),
              ...(waitingForLink
                ? ["waiting for a link: this engine runs no scheduler; a link agent next to the source runs on-premise integrations"]
                : [])
            ]
            return {
              integrationId: integration.id,
              status: integration.status,
              failing: integration.failing,
              scheduled: false,
              waitingForLink,
              waitingForLinkSince: null,
              watermark: Option.getOrNull(Option.map(watermark, (ms) => DateTime.unsafeMake(ms))),
              completeUntil: Option.getOrNull(Option.map(watermark, (ms) => DateTime.unsafeMake(ms))),
              lagMs: Option.getOrNull(Option.map(watermark, (ms) => Math.max(0, now - ms))),
              stalled: false,
              warnings,
              retrying: null,
              rateLimitedUntil: null,
              history: null,
              gap: null,
              reimport: null,
              realtimePosition: null,
              lastRun: runs[0] ?? null,
              lastError: failed !== undefined && (succeeded === undefined ||
                  DateTime.toEpochMillis(failed.startedAt) >= DateTime.toEpochMillis(succeeded.startedAt))
                ? { at: failed.startedAt, kind: failed.kind, message: failed.error! }
                : null
            }
          }))
        .handleRaw("reimport", ({ path, request }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const range = yield* Body.json(request, ReimportRange, bodyOptions)
            // a push-only host runs no scheduler: say so instead of failing to build the adapter
            const scheduler = yield* Effect.serviceOption(Scheduler.Scheduler)
            if (Option.isNone(scheduler)) {
              return yield* problems(Effect.fail(
                new Errors.InvalidRequest({
                  field: "integration",
                  reason: "this engine runs no scheduler (the host did not provide core's Scheduler.layer to the HTTP " +
                    "adapter), so it imports nothing in windows and can't re-import a range"
                })
              ))
            }
            return yield* problems(scheduler.value.reimport(principal.tenantId, path.id, range))
          }))
        .handleRaw("putAgentMappings", ({ path, request }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const body = yield* Body.json(request, Schema.Array(Domain.AgentMapping), bodyOptions)
            return yield* problems(mappings.putAgents(principal.tenantId, path.id, body))
          }))
        .handleRaw("putActivityMappings", ({ path, request }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const body = yield* Body.json(request, Schema.Array(Domain.ActivityMapping), bodyOptions)
            return yield* problems(mappings.putActivities(principal.tenantId, path.id, body))
          }))
        .handle("unmapped", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            return yield* problems(mappings.unmapped(principal.tenantId, path.id))
          }))
    }))
