const client = yield* HttpApiClient.make(Api.Api, {
  baseUrl: "http://127.0.0.1:8080",
  transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(token))
})
const integration = yield* client.integrations.create({ payload: { name: "ACD", connector: "api-push" } })

export {}
