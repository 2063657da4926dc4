/**
 * A small client of a running server's admin API, for the `integrations` and `connectors`
 * commands: JSON in and out over `@effect/platform`'s `HttpClient`, and the server's problem
 * bodies (`title`, `detail`, `field`) turned into one readable error.
 *
 * @since 0.1.0
 */
import * as HttpBody from "@effect/platform/HttpBody"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"

/**
 * The admin API answered with an error, or could not be reached.
 *
 * @since 0.1.0 @category errors
 */
export class AdminApiError extends Data.TaggedError("AdminApiError")<{
  readonly method: string
  readonly path: string
  /** the HTTP status, or 0 when the server could not be reached */
  readonly status: number
  readonly detail: string
}> {
  override get message() {
    return this.status === 0
      ? `${this.method} ${this.path}: ${this.detail}`
      : `${this.method} ${this.path}: ${this.status} ${this.detail}`
  }
}

/**
 * Where the server is and how to authenticate.
 *
 * @since 0.1.0 @category models
 */
export interface Target {
  readonly url: string
  readonly token: Redacted.Redacted<string>
}

/**
 * @since 0.1.0 @category models
 */
export interface AdminClientShape {
  readonly request: (
    method: "GET" | "POST" | "PATCH" | "DELETE" | "PUT",
    path: string,
    body?: unknown
  ) => Effect.Effect<unknown, AdminApiError>
}

/**
 * @since 0.1.0 @category tags
 */
export class AdminClient extends Context.Tag("@acd-bridge/server/AdminClient")<AdminClient, AdminClientShape>() {}

const problemText = (body: unknown, fallback: string): string => {
  if (!Predicate.isRecord(body)) return fallback
  const title = typeof body["title"] === "string" ? body["title"] : undefined
  const detail = typeof body["detail"] === "string" ? body["detail"] : undefined
  const field = typeof body["field"] === "string" ? ` (field ${body["field"]})` : ""
  if (detail !== undefined && title !== undefined && detail !== title) return `${title}: ${detail}${field}`
  return `${detail ?? title ?? fallback}${field}`
}

/**
 * A client of the server at `target.url` with the bearer token.
 *
 * @since 0.1.0 @category constructors
 */
export const make = (target: Target): Effect.Effect<AdminClientShape, never, HttpClient.HttpClient> =>
  Effect.map(HttpClient.HttpClient, (http) => {
    const base = target.url.replace(/\/+$/, "")
    const request: AdminClientShape["request"] = (method, path, body) =>
      Effect.gen(function*() {
        const fail = (status: number, detail: string) => new AdminApiError({ method, path, status, detail })
        let req = HttpClientRequest.make(method)(`${base}${path}`).pipe(
          HttpClientRequest.bearerToken(Redacted.value(target.token)),
          HttpClientRequest.acceptJson
        )
        if (body !== undefined) req = HttpClientRequest.setBody(req, HttpBody.unsafeJson(body))
        const response = yield* http.execute(req).pipe(
          Effect.mapError((error) => fail(0, `could not reach ${base} (${error.message}); is the server running? (ACD_BRIDGE_URL)`))
        )
        const text = yield* response.text.pipe(Effect.mapError((error) => fail(response.status, error.message)))
        const json = yield* Effect.try(() => (text.length === 0 ? null : JSON.parse(text) as unknown)).pipe(
          Effect.orElseSucceed(() => text)
        )
        if (response.status >= 400) {
          const hint = response.status === 401 ? " (check ACD_BRIDGE_TOKEN or --token)" : ""
          return yield* fail(response.status, problemText(json, text.slice(0, 200)) + hint)
        }
        return json
      }).pipe(Effect.scoped)
    return { request }
  })

/**
 * The client as a layer.
 *
 * @since 0.1.0 @category layers
 */
export const layer = (target: Target): Layer.Layer<AdminClient, never, HttpClient.HttpClient> =>
  Layer.effect(AdminClient, make(target))
