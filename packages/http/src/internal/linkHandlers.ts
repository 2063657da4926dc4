/**
 * The link routes (`LinkApi`): the admin side over `Links`, the agent side over `LinkTasks`,
 * and the link-token middleware. Every agent operation names the calling link, so core's
 * `LinkTasks` checks its tenant and what it may serve.
 */
import type { Domain } from "@acd-bridge/core"
import { Connector, Domain as DomainValues, type Integrations, LinkModel, Links, LinkTasks, Storage } from "@acd-bridge/core"
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import type * as HttpApiGroup from "@effect/platform/HttpApiGroup"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { Api } from "../Api.js"
import type { FailBody } from "../LinkApi.js"
import { CurrentLink, LinkAuthentication } from "../LinkApi.js"
import * as Problem from "../Problem.js"
import type { AdminAuthentication } from "../Security.js"
import { CurrentPrincipal } from "../Security.js"
import { Limits } from "./limits.js"

/** The engine services the link routes use. */
export type Requirements = Links.Links | LinkTasks.LinkTasks | Storage.Storage | Integrations.Integrations

type Groups = HttpApiGroup.ApiGroup<"acd-bridge", "links"> | HttpApiGroup.ApiGroup<"acd-bridge", "linkAgent">

type LinkError =
  | LinkModel.TaskNotFound
  | LinkModel.TaskGone
  | LinkModel.LeaseLost
  | LinkModel.ResultIncomplete
  | LinkModel.FileRejected
  | LinkModel.LinkNotFound
  | Problem.EngineError

const problem = (kind: string, title: string, detail: string) => ({ type: Problem.typeUri(kind), title, detail })

/** Link errors to problems: 404 unknown (or another tenant's), 410 ended, 409 lease lost, 422 bad result. */
const linkProblems = <A, R>(effect: Effect.Effect<A, LinkError, R>) =>
  effect.pipe(
    Effect.tapError((error) => error._tag === "StorageError" ? Effect.logError("storage failed", error) : Effect.void),
    Effect.mapError((error) => {
      switch (error._tag) {
        case "TaskNotFound":
          return new Problem.NotFound({ ...problem("TaskNotFound", "Task not found", error.message), status: 404 })
        case "LinkNotFound":
          return new Problem.NotFound({ ...problem("LinkNotFound", "Link not found", error.message), status: 404 })
        case "TaskGone":
          return new Problem.Gone({ ...problem("TaskGone", "Task ended", error.message), status: 410 })
        case "LeaseLost":
          return new Problem.Conflict({ ...problem("LeaseLost", "Lease lost", error.message), status: 409 })
        case "ResultIncomplete":
          return new Problem.UnprocessableEntity({
            ...problem("ResultIncomplete", "Result incomplete", error.message),
            status: 422
          })
        case "FileRejected":
          return new Problem.UnprocessableEntity({
            ...problem("FileRejected", "File rejected", error.message),
            status: 422
          })
        default:
          return Problem.fromError(error)
      }
    })
  )

const encodeBatch = Schema.encodeSync(DomainValues.BatchJson)

/** The connector error the link reported. */
const sourceError = (e: typeof FailBody.Type["error"]): LinkModel.SourceError => {
  switch (e._tag) {
    case "Transient":
      return new Connector.Transient({ reason: e.reason })
    case "RateLimited":
      return new Connector.RateLimited({ retryAfterMs: e.retryAfterMs ?? 60_000, reason: e.reason })
    case "AuthFailed":
      return new Connector.AuthFailed({ reason: e.reason })
    case "InvalidData":
      return new Connector.InvalidData({ record: e.record ?? "unknown", reason: e.reason })
  }
}

const utc = (ms: number) => DateTime.unsafeMake(ms)

/** The header's value, when given once. */
const header = (request: HttpServerRequest.HttpServerRequest, name: string): string | null => {
  const value = request.headers[name]
  return typeof value === "string" && value.length > 0 ? value : null
}

const authorizationPattern = /^bearer ([\x21-\x7e]+)$/i

/** The link-token middleware: 401 for an unknown or revoked token, 426 for a protocol this engine doesn't serve. */
export const security: Layer.Layer<LinkAuthentication, never, Links.Links | Limits> = Layer.effect(
  LinkAuthentication,
  Effect.gen(function*() {
    const links = yield* Links.Links
    const limits = yield* Limits
    return {
      bearer: () =>
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const now = yield* Clock.currentTimeMillis
          const address = limits.address(request)
          const blocked = yield* limits.authenticationWait(address, now)
          if (blocked > 0) return yield* Effect.fail(Problem.authenticationLimited(Math.max(1, Math.ceil(blocked / 1000))))
          const match = authorizationPattern.exec(request.headers.authorization ?? "")
          const found = match === null ? Option.none() : yield* links.authenticate(match[1]!).pipe(
            Effect.tapError((error) => Effect.logError("link authentication failed", error)),
            Effect.mapError(() => Problem.internal())
          )
          if (Option.isNone(found)) {
            yield* limits.authenticationFailed(address, now)
            return yield* Effect.fail(Problem.unauthorized())
          }
          const offered = header(request, LinkModel.protocolHeader)
          if (offered === null || !LinkModel.supportedProtocols.includes(Number(offered))) {
            const error = new LinkModel.ProtocolUnsupported({ offered })
            return yield* Effect.fail(
              new Problem.UpgradeRequired({ ...problem("ProtocolUnsupported", "Link protocol not served", error.message), status: 426 })
            )
          }
          return found.value
        })
    }
  })
)

const toView = (link: LinkModel.Link, integrations: ReadonlyArray<Domain.Integration>) => ({
  id: link.id,
  name: link.name,
  prefix: link.prefix,
  createdAt: link.createdAt,
  revokedAt: link.revokedAt,
  lastSeenAt: link.lastSeenAt,
  agentVersion: link.agentVersion,
  protocol: link.protocol,
  serves: link.serves,
  integrations: integrations.filter((i) => i.linkId === link.id && i.status !== "deleted").map((i) => i.id)
})

export const layer = (): Layer.Layer<Groups, never, Requirements | LinkAuthentication | AdminAuthentication> => {
  const LinksLive = HttpApiBuilder.group(Api, "links", (handlers) =>
    Effect.gen(function*() {
      const links = yield* Links.Links
      const storage = yield* Storage.Storage
      const integrationsOf = (tenantId: Domain.TenantId) => linkProblems(storage.integrations.list(tenantId))
      return handlers
        .handle("create", ({ payload }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const { link, token } = yield* linkProblems(links.create(principal.tenantId, payload))
            return { ...toView(link, []), token }
          }))
        .handle("list", () =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const all = yield* linkProblems(links.list(principal.tenantId))
            const integrations = yield* integrationsOf(principal.tenantId)
            return all.map((l) => toView(l, integrations))
          }))
        .handle("revoke", ({ path }) =>
          Effect.gen(function*() {
            const principal = yield* CurrentPrincipal
            const revoked = yield* linkProblems(links.revoke(principal.tenantId, path.id))
            return toView(revoked, yield* integrationsOf(principal.tenantId))
          }))
    }))

  const LinkAgentLive = HttpApiBuilder.group(Api, "linkAgent", (handlers) =>
    Effect.gen(function*() {
      const links = yield* Links.Links
      const tasks = yield* LinkTasks.LinkTasks
      const storage = yield* Storage.Storage
      return handlers
        .handle("lease", ({ urlParams }) =>
          Effect.gen(function*() {
            const link = yield* CurrentLink
            const request = yield* HttpServerRequest.HttpServerRequest
            const named = urlParams.integrations?.split(",").map((s) => s.trim()).filter((s) => s.length > 0)
            const serves = named?.map((id) => DomainValues.IntegrationId.make(id)) ??
              (yield* linkProblems(tasks.servable(link))).map((i) => i.id)
            yield* linkProblems(links.seen(link, {
              agentVersion: header(request, LinkModel.agentVersionHeader),
              protocol: Number(header(request, LinkModel.protocolHeader)),
              serves
            }))
            const leased = yield* linkProblems(tasks.lease(link, {
              serves,
              max: urlParams.max,
              waitMs: Math.round((urlParams.wait ?? 0) * 1000)
            }))
            return {
              protocol: LinkModel.protocolVersion,
              leaseMs: tasks.options.leaseMs,
              tasks: yield* Effect.forEach(leased, ({ integration, task }) => Effect.gen(function*() { return {
                taskId: task.id,
                integrationId: task.integrationId,
                connector: task.connector,
                kind: task.kind,
                runKind: task.runKind,
                window: task.windowFrom === null || task.windowTo === null
                  ? null
                  : { from: utc(task.windowFrom), to: utc(task.windowTo) },
                leaseId: task.leaseId ?? "",
                leaseUntil: utc(task.leaseUntil ?? 0),
                attempts: task.attempts,
                progress: task.progress,
                // a stream taken over resumes where the last batch committed, not where it was offered
                position: task.kind === "realtime"
                  ? Option.getOrElse(
                    yield* linkProblems(storage.cursors.get(task.integrationId, "realtime")),
                    () => task.position
                  )
                  : null,
                integration: {
                  name: integration.name,
                  timezone: integration.timezone,
                  dataKinds: integration.dataKinds,
                  settings: integration.config ?? {}
                }
              } }))
            }
          }))
        .handle("renew", ({ path, payload }) =>
          Effect.gen(function*() {
            const link = yield* CurrentLink
            const renewed = yield* linkProblems(tasks.renew(link, path.id, payload.leaseId))
            return { leaseUntil: utc(renewed.leaseUntil ?? 0) }
          }))
        .handle("release", ({ path, payload }) =>
          Effect.gen(function*() {
            const link = yield* CurrentLink
            yield* linkProblems(tasks.release(link, path.id, payload.leaseId))
          }))
        .handle("putPart", ({ path, payload }) =>
          Effect.gen(function*() {
            const link = yield* CurrentLink
            const records = payload.contacts.length + payload.aggregates.length + payload.statuses.length
            // the payload was decoded from this very text (the request keeps it), so the text is a
            // valid part as it is: kept without encoding it again, and the decoded payload is
            // handed over so the commit needn't decode it again either
            const request = yield* HttpServerRequest.HttpServerRequest
            const body = yield* Effect.orElseSucceed(request.text, () => JSON.stringify(encodeBatch(payload)))
            yield* linkProblems(tasks.putPart(link, path.id, path.resultId, { n: path.n, records, body, batch: payload }))
          }))
        .handle("commit", ({ path, payload }) =>
          Effect.gen(function*() {
            const link = yield* CurrentLink
            return yield* linkProblems(tasks.commit(link, path.id, payload))
          }))
        .handle("offerFile", ({ payload }) =>
          Effect.gen(function*() {
            const link = yield* CurrentLink
            const task = yield* linkProblems(tasks.offerFile(link, { ...payload, resultId: payload.sha256 }))
            return {
              taskId: task.id,
              state: task.state,
              resultId: payload.sha256,
              leaseId: task.leaseId,
              leaseUntil: task.leaseUntil === null ? null : utc(task.leaseUntil),
              answer: task.answer,
              error: task.error
            }
          }))
        .handle("realtime", ({ path, payload }) =>
          Effect.gen(function*() {
            const link = yield* CurrentLink
            return yield* linkProblems(
              tasks.realtime(link, path.id, payload.leaseId, { position: payload.position, batch: payload.batch })
            )
          }))
        .handle("fail", ({ path, payload }) =>
          Effect.gen(function*() {
            const link = yield* CurrentLink
            yield* linkProblems(tasks.fail(link, path.id, sourceError(payload.error), payload.read))
          }))
    }))

  return Layer.mergeAll(LinksLive, LinkAgentLive)
}
