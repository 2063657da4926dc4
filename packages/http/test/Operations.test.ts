import { PushApi } from "@acd-bridge/api-push"
import { Domain, Errors, Principal, Storage } from "@acd-bridge/core"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { Authenticator, Problem } from "../src/index.js"
import {
  admin,
  call,
  contactRecord,
  type LogLine,
  type Problem as ProblemBody,
  pushContacts,
  pushIntegration,
  startServer,
  type TestServer
} from "./helpers.js"

describe("request ids in logs", () => {
  const logs: Array<LogLine> = []
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ storage: "memory", logs })
  })
  afterAll(() => server.close())

  it("every log line of a request carries its id, which the answer sends back", async () => {
    const answer = await call(server, "GET", "/v1/integrations", { headers: { "x-request-id": "trace-me-1" } })
    assert.strictEqual(answer.headers.get("x-request-id"), "trace-me-1")
    const access = logs.filter((l) => l.annotations["requestId"] === "trace-me-1")
    assert.isAtLeast(access.length, 1)
    const line = access.find((l) => l.message === "http request" || (Array.isArray(l.message) && l.message[0] === "http request"))
    assert.isDefined(line)
    assert.deepStrictEqual([line!.annotations["method"], line!.annotations["path"], line!.annotations["status"]], ["GET", "/v1/integrations", 401])
    const made = await call(server, "GET", "/health")
    const id = made.headers.get("x-request-id")!
    assert.isTrue(logs.some((l) => l.annotations["requestId"] === id))
  })
})

describe("a full staging area", () => {
  let server: TestServer
  beforeAll(async () => {
    const full = Layer.effect(
      Storage.Storage,
      Effect.map(Storage.Storage, (store) => ({
        ...store,
        data: {
          ...store.data,
          ingest: (request: Storage.IngestRequest) =>
            Effect.fail(new Errors.StagingFull({ integrationId: request.integrationId, limit: 1_000_000, retryAfterSeconds: 30 }))
        }
      }))
    ).pipe(Layer.provide(Storage.layerMemory))
    server = await startServer({ storage: full })
  })
  afterAll(() => server.close())

  it("answers 429 with Retry-After", async () => {
    const { id, apiKey } = await pushIntegration(server, { name: "full" })
    const answer = await pushContacts(server, apiKey, id, [contactRecord({ timestamp: "2026-03-02T09:00:00Z" })])
    assert.strictEqual(answer.status, 429)
    assert.strictEqual(answer.headers.get("retry-after"), "30")
    const problem = answer.body as ProblemBody & { retryAfterSeconds: number }
    assert.deepStrictEqual([problem.status, problem.retryAfterSeconds, problem.type], [429, 30, "urn:acd-bridge:problem:staging-full"])
  })
})

describe("a host's own Authenticator", () => {
  let server: TestServer
  beforeAll(async () => {
    const sso = Layer.succeed(Authenticator.Authenticator, {
      authenticate: (credential, scope) =>
        Redacted.value(credential) === "sso-session-42"
          ? Effect.succeed(Principal.User({ tenantId: Domain.TenantId.make("tenant-a"), userId: Domain.UserId.make("alice") }))
          : Redacted.value(credential) === "push-gateway" && scope === "push"
          ? Effect.succeed(Principal.Admin({ tenantId: Domain.TenantId.make("tenant-a") }))
          : Effect.fail(new Errors.Unauthorized())
    })
    server = await startServer({ storage: "memory", authenticator: sso })
  })
  afterAll(() => server.close())

  it("replaces the default: its principals are used, everything else is 401", async () => {
    const created = await call<{ id: string }>(server, "POST", "/v1/integrations", {
      token: "sso-session-42",
      body: { name: "via SSO", connector: "api-push" }
    })
    assert.strictEqual(created.status, 201)
    assert.strictEqual((await admin(server).get("/v1/integrations")).status, 401, "the default admin token is not known")
    assert.strictEqual((await call(server, "GET", "/v1/integrations", { token: "push-gateway" })).status, 401)
    const pushed = await pushContacts(server, "push-gateway", created.body.id, [contactRecord({ timestamp: "2026-03-02T09:00:00Z" })])
    assert.deepStrictEqual([pushed.status, pushed.body], [200, { accepted: 1 }])
  })
})

describe("Problem.fromError", () => {
  const integrationId = Domain.IntegrationId.make("i")
  const queueId = Domain.QueueId.make("q")
  const cases: Array<[Problem.EngineError, number, string?]> = [
    [new Errors.IntegrationNotFound({ integrationId: "i" }), 404],
    [new Errors.QueueNotFound({ queueId: "q" }), 404],
    [new Errors.WorkloadNotFound({ workloadId: Domain.WorkloadId.make("w") }), 404],
    [new Errors.IntegrationDeleted({ integrationId }), 410],
    [new Errors.IntegrationNotActive({ integrationId, status: "paused" }), 409],
    [new Errors.QueueUndeletable({ queueId, integrationId }), 409],
    [new Errors.QueueOfDeletedIntegration({ queueId, integrationId }), 409],
    [new Errors.IdempotencyKeyReused({ key: "k" }), 409],
    [new Errors.CursorLocked({ integrationId }), 409],
    [new Errors.UnknownConnector({ connector: "x", known: [] }), 422, "connector"],
    [new Errors.InvalidConfig({ connector: "x", field: "password", reason: "missing" }), 422, "config.password"],
    [new Errors.DeliveryModeNotSupported({ connector: "x", deliveryMode: "cloud", supported: [] }), 422, "deliveryMode"],
    [new Errors.InvalidRequest({ field: "timezone", reason: "bad" }), 422, "timezone"],
    [new Errors.InvalidRecord({ index: 3, field: "channel", reason: "bad" }), 422, "channel"],
    [new Errors.Unauthorized(), 401],
    [new Errors.Forbidden({ reason: "no" }), 403],
    [new Errors.StagingFull({ integrationId, limit: 1, retryAfterSeconds: 0.2 }), 429],
    [new Errors.StorageError({ operation: "ingest", reason: "disk full at /var/lib/x" }), 500],
    [new PushApi.MalformedBody({ reason: "bad" }), 400]
  ]

  it("gives every engine error its status, and keeps storage details out", () => {
    for (const [error, status, field] of cases) {
      const problem = Problem.fromError(error)
      assert.strictEqual(problem.status, status, error._tag)
      assert.isTrue(Problem.isProblem(problem))
      assert.strictEqual(problem.field, field)
      const body = JSON.stringify(Problem.toJson(problem))
      if (status === 500) assert.notInclude(body, "/var/lib/x")
      else assert.include(problem.detail, error.message.slice(0, 10))
    }
    const record = Problem.fromError(new Errors.InvalidRecord({ index: 3, field: "channel", reason: "bad" }))
    assert.strictEqual(record.index, 3)
    const staging = Problem.fromError(new Errors.StagingFull({ integrationId, limit: 1, retryAfterSeconds: 0.2 }))
    assert.strictEqual(staging.retryAfterSeconds, 1)
  })
})
