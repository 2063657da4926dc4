/**
 * Reading request bodies with a size limit, and JSON bodies with problem answers: 413 over
 * the limit, 400 for bytes that are not JSON, 422 naming the field that fails the schema.
 */
import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as Problem from "../Problem.js"

/**
 * The body as text, at most `limit` bytes. A body over the limit is read on (and dropped) up to
 * four times the limit, so the client gets its 413 instead of a reset connection; past that the
 * connection is cut.
 */
export const text = (
  request: HttpServerRequest.HttpServerRequest,
  limit: number
): Effect.Effect<string, Problem.PayloadTooLarge | Problem.BadRequest> => {
  const declared = Number(request.headers["content-length"])
  if (Number.isFinite(declared) && declared > limit) return Effect.fail(Problem.payloadTooLarge(limit))
  return Effect.suspend(() => {
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
      Effect.flatMap(() =>
        size > limit
          ? Effect.fail(Problem.payloadTooLarge(limit))
          : Effect.succeed(Buffer.concat(chunks, size).toString("utf8"))
      )
    )
  })
}

/** `text` parsed as JSON (400 when it is not JSON). */
export const parse = (body: string): Effect.Effect<unknown, Problem.BadRequest> =>
  Effect.try({
    try: (): unknown => JSON.parse(body),
    catch: (error) =>
      Problem.badRequest(
        body.trim() === "" ? "The request body is empty; send JSON" : `The request body is not valid JSON: ${String(error)}`
      )
  })

/** The first issue of a parse error as a field path and a message. */
export const issue = (error: ParseResult.ParseError): { readonly field: string | undefined; readonly message: string } => {
  const first = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
  if (!first) return { field: undefined, message: error.message }
  return { field: first.path.length === 0 ? undefined : first.path.map(String).join("."), message: first.message }
}

/** The body decoded with `schema`: 413, 400 for malformed JSON, 422 naming the failing field. */
export const json = <A, I>(
  request: HttpServerRequest.HttpServerRequest,
  schema: Schema.Schema<A, I>,
  limit: number
): Effect.Effect<A, Problem.PayloadTooLarge | Problem.BadRequest | Problem.UnprocessableEntity> =>
  text(request, limit).pipe(
    Effect.flatMap(parse),
    Effect.flatMap((value) =>
      Schema.decodeUnknown(schema)(value).pipe(
        Effect.mapError((error) => {
          const { field, message } = issue(error)
          return Problem.unprocessable(field === undefined ? message : `${field}: ${message}`, field ?? "body")
        })
      )
    )
  )
