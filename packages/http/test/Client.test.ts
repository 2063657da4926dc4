import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as HttpApiClient from "@effect/platform/HttpApiClient"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Effect from "effect/Effect"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { Api, Problem } from "../src/index.js"
import { adminToken, startServer, type TestServer } from "./helpers.js"

const makeClient = (baseUrl: string, token = adminToken) =>
  HttpApiClient.make(Api.Api, {
    baseUrl,
    transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(token))
  })
type ApiClient = Effect.Effect.Success<ReturnType<typeof makeClient>>

describe("a typed client from the same Api definition", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer({ storage: "memory" })
  })
  afterAll(() => server.close())

  const withClient = <A, E>(f: (client: ApiClient) => Effect.Effect<A, E>, token?: string) =>
    Effect.runPromise(Effect.flatMap(makeClient(server.url, token), f).pipe(Effect.provide(FetchHttpClient.layer)))

  it("creates, reads and pushes with typed requests and answers", async () => {
    const created = await withClient((client) =>
      client.integrations.create({ payload: { name: "typed", connector: "api-push", timezone: "Europe/Berlin" } })
    )
    assert.strictEqual(created.name, "typed")
    assert.deepStrictEqual(created.warnings, [])
    const read = await withClient((client) => client.integrations.get({ path: { id: created.id } }))
    assert.strictEqual(read.timezone, "Europe/Berlin")
    // sources push with the integration's API key (the admin token may not push)
    const { apiKey } = await withClient((client) => client.integrations.createApiKey({ path: { id: created.id } }))
    const accepted = await withClient((client) =>
      client.push.contactEvents({
        headers: { "idempotency-key": "typed-1" },
        payload: {
          data: [{
            properties: { offered: true, handled: true, duration: 200.1 },
            queueName: "Level 1 support",
            queueIdentifier: "1337_99",
            timestamp: "2026-03-29T01:30:00Z",
            channel: "calls"
          }],
          meta: { integrationConfigurationId: created.id }
        }
      }), apiKey)
    assert.deepStrictEqual(accepted, { accepted: 1 })
  })

  it("decodes problems into their classes", async () => {
    const error = await withClient((client) => Effect.flip(client.integrations.get({ path: { id: "nope" } })))
    assert.instanceOf(error, Problem.NotFound)
    if (error instanceof Problem.NotFound) assert.strictEqual(error.status, 404)
  })
})
