/**
 * Reading request bodies: JSON only (415 otherwise), at most the body limit (413), read
 * strictly (`JsonBody`: UTF-8, nesting, duplicate keys, well-formed text; 400 or 422), and
 * decoded with the route's schema (422 naming the field and, for a choice, every allowed
 * value). A declared `Content-Length` over the limit is refused earlier, by the middleware.
 */
import { JsonBody } from "@acd-bridge/api-push"
import { Issues } from "@acd-bridge/core"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Http from "node:http"
import * as Problem from "../Problem.js"

export interface Options {
  /** largest body in bytes */
  readonly maxBodyBytes: number
  /** deepest nesting of arrays and objects */
  readonly maxJsonDepth: number
}

const jsonMediaType = /^application\/(?:json|[a-z0-9!#$&^_.-]+\+json)$/

/**
 * `application/json` or `application/<anything>+json`, in UTF-8: a `charset` parameter, if
 * any, must say UTF-8 (JSON is UTF-8 on the wire, RFC 8259).
 */
export const isJson = (contentType: string | undefined): boolean => {
  if (contentType === undefined) return false
  const [type, ...parameters] = contentType.split(";")
  if (!jsonMediaType.test(type!.trim().toLowerCase())) return false
  return parameters.every((parameter) => {
    const [name, value] = parameter.split("=")
    return name!.trim().toLowerCase() !== "charset" || value?.trim().replace(/^"|"$/g, "").toLowerCase() === "utf-8"
  })
}

/** What reading a body ends with: its bytes, or the size when it was over the limit. */
type Read = { readonly _tag: "Body"; readonly bytes: Uint8Array } | { readonly _tag: "TooLarge" }

/**
 * Reads a Node request's body with plain stream events: the platform's `request.stream` turns
 * every chunk (16 KiB) into stream elements, which cost about a millisecond per 1,000-record
 * push in the push bench.
 */
const readNode = (incoming: Http.IncomingMessage, limit: number) =>
  Effect.async<Read, Problem.BadRequest>((resume) => {
    // already read to its end (by nothing in this adapter): no 'end' event would come
    if (incoming.readableEnded) {
      resume(Effect.succeed({ _tag: "Body", bytes: new Uint8Array(0) }))
      return
    }
    const chunks: Array<Uint8Array> = []
    let size = 0
    const cleanup = () => {
      incoming.off("data", onData)
      incoming.off("end", onEnd)
      incoming.off("error", onError)
      incoming.off("aborted", onError)
    }
    const onData = (chunk: Uint8Array) => {
      size += chunk.length
      if (size <= limit) chunks.push(chunk)
      else if (size > limit * 4) {
        cleanup()
        incoming.destroy()
        resume(Effect.succeed({ _tag: "TooLarge" }))
      }
    }
    const onEnd = () => {
      cleanup()
      resume(Effect.succeed(size > limit ? { _tag: "TooLarge" } : { _tag: "Body", bytes: Buffer.concat(chunks, size) }))
    }
    const onError = () => {
      cleanup()
      resume(Effect.fail(Problem.badRequest("The request body could not be read")))
    }
    incoming.on("data", onData)
    incoming.on("end", onEnd)
    incoming.on("error", onError)
    incoming.on("aborted", onError)
    return Effect.sync(cleanup)
  })

/** Reads any platform's request body through its stream. */
const readStream = (request: HttpServerRequest.HttpServerRequest, limit: number) =>
  Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    return request.stream.pipe(
      Stream.runForEachWhile((chunk) =>
        Effect.sync(() => {
          size += chunk.length
          if (size <= limit) chunks.push(chunk)
          return size <= limit * 4
        })
      ),
      Effect.mapError(() => Problem.badRequest("The request body could not be read")),
      Effect.map((): Read => (size > limit ? { _tag: "TooLarge" } : { _tag: "Body", bytes: Buffer.concat(chunks, size) }))
    )
  })

/**
 * The body's bytes, at most `limit`. A body over the limit is read on (and dropped) up to
 * four times the limit, so the client gets its 413 instead of a reset connection; past that the
 * connection is cut.
 */
export const bytes = (
  request: HttpServerRequest.HttpServerRequest,
  limit: number
): Effect.Effect<Uint8Array, Problem.UnsupportedMediaType | Problem.PayloadTooLarge | Problem.BadRequest> => {
  const contentType = request.headers["content-type"]
  if (!isJson(contentType)) return Effect.fail(Problem.unsupportedMediaType(contentType))
  // a host serving the routes another way (a web handler) has no Node request underneath
  const source: unknown = NodeHttpServerRequest.toIncomingMessage(request)
  const read = source instanceof Http.IncomingMessage ? readNode(source, limit) : readStream(request, limit)
  return Effect.flatMap(read, (body) =>
    body._tag === "Body" ? Effect.succeed(body.bytes) : Effect.fail(Problem.payloadTooLarge(limit)))
}

/** A schema failure as a 422 naming the field. */
export const unprocessable = (issue: { readonly path: ReadonlyArray<PropertyKey>; readonly message: string }) => {
  const field = issue.path.length === 0 ? undefined : Issues.fieldOf(issue.path)
  return Problem.unprocessable(field === undefined ? issue.message : `${field}: ${issue.message}`, field ?? "body")
}

/**
 * The path of the first string (or key) of `json` holding U+0000, or `undefined`. A key is
 * named by the object that holds it. Only walked when the text holds a `\u0000` escape (the
 * one way JSON can carry a NUL), so well-formed bodies pay one `indexOf`.
 */
const nulPath = (json: unknown, path: Array<PropertyKey> = []): Array<PropertyKey> | undefined => {
  if (typeof json === "string") return json.includes("\u0000") ? path : undefined
  if (typeof json !== "object" || json === null) return undefined
  if (Array.isArray(json)) {
    for (let i = 0; i < json.length; i++) {
      const found = nulPath(json[i], [...path, i])
      if (found !== undefined) return found
    }
    return undefined
  }
  for (const [key, value] of Object.entries(json)) {
    if (key.includes("\u0000")) return path
    const found = nulPath(value, [...path, key])
    if (found !== undefined) return found
  }
  return undefined
}

/** The body decoded with `schema`: 415, 413, 400 for what isn't JSON, 422 naming the failing field. */
export const json = <A, I>(
  request: HttpServerRequest.HttpServerRequest,
  schema: Schema.Schema<A, I>,
  options: Options
): Effect.Effect<
  A,
  Problem.UnsupportedMediaType | Problem.PayloadTooLarge | Problem.BadRequest | Problem.UnprocessableEntity
> =>
  bytes(request, options.maxBodyBytes).pipe(
    Effect.flatMap((body) =>
      Either.mapLeft(JsonBody.parse(body, { maxDepth: options.maxJsonDepth }), (error) =>
        error._tag === "MalformedBody"
          ? Problem.badRequest(error.message, error.field)
          : unprocessable({ path: error.path, message: error.reason }))
    ),
    Effect.flatMap(({ json, text }) => {
      // PostgreSQL can't store NUL in text; refused here so every store answers alike
      const nul = text.includes("\\u0000") ? nulPath(json) : undefined
      return nul !== undefined
        ? Effect.fail(unprocessable({ path: nul, message: "must not contain NUL characters (U+0000)" }))
        : Effect.mapError(Schema.decodeUnknown(schema)(json), (error) => unprocessable(Issues.describe(error)))
    })
  )
