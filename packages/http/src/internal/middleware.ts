/**
 * The middleware around every route: request ids, the body limit (by declared length), the
 * access log, and the answer for every failure as a problem body (typed problems,
 * parameters that can't be read, unknown routes, defects: never a stack trace).
 */
import type * as HttpApp from "@effect/platform/HttpApp"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import { Issues } from "@acd-bridge/core"
import { randomUUID } from "node:crypto"
import type { MetricsShape } from "../Metrics.js"
import * as Problem from "../Problem.js"

export interface Options {
  readonly maxBodyBytes: number
  readonly accessLog: LogLevel.LogLevel
  readonly metrics: MetricsShape
  /** the route template of a method and path (`/v1/integrations/{id}`), for metrics and the log */
  readonly routeOf: (method: string, path: string) => string
}

const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/

/** The caller's request id when it is a sane token, else a new one. */
const requestIdOf = (request: HttpServerRequest.HttpServerRequest): string => {
  const given = request.headers["x-request-id"]
  return given !== undefined && requestIdPattern.test(given) ? given : randomUUID()
}

const pathOf = (request: HttpServerRequest.HttpServerRequest): string => {
  const q = request.url.indexOf("?")
  return q === -1 ? request.url : request.url.slice(0, q)
}

export const problemResponse = (problem: Problem.Problem): HttpServerResponse.HttpServerResponse => {
  const headers: Record<string, string> = {}
  if (problem.status === 401) headers["www-authenticate"] = "Bearer"
  if (problem instanceof Problem.TooManyRequests) headers["retry-after"] = String(problem.retryAfterSeconds)
  if (problem instanceof Problem.ServiceUnavailable && problem.retryAfterSeconds !== undefined) {
    headers["retry-after"] = String(problem.retryAfterSeconds)
  }
  return HttpServerResponse.unsafeJson(Problem.toJson(problem), {
    status: problem.status,
    contentType: "application/problem+json",
    headers
  })
}

const tagOf = (u: unknown): string | undefined =>
  typeof u === "object" && u !== null && "_tag" in u && typeof u._tag === "string" ? u._tag : undefined

interface DecodeIssue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

const isIssue = (u: unknown): u is DecodeIssue =>
  typeof u === "object" && u !== null && "path" in u && Array.isArray(u.path) && "message" in u &&
  typeof u.message === "string"

/** The first issue of an `HttpApiDecodeError`, naming every allowed value where there is a choice. */
const decodeIssue = (u: unknown): DecodeIssue | undefined => {
  if (typeof u !== "object" || u === null || !("issues" in u) || !Array.isArray(u.issues)) return undefined
  return Issues.describeIssues(u.issues.filter(isIssue))
}

/** The problem a failure becomes; `undefined` for an interruption (the client went away). */
const toProblem = (
  cause: Cause.Cause<unknown>,
  request: HttpServerRequest.HttpServerRequest
): Effect.Effect<Problem.Problem | undefined> => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    if (Problem.isProblem(error)) return Effect.succeed(error)
    switch (tagOf(error)) {
      case "HttpApiDecodeError": {
        const issue = decodeIssue(error)
        const field = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : undefined
        return Effect.succeed(
          Problem.badRequest(
            issue ? (field ? `${field}: ${issue.message}` : issue.message) : "The request could not be read",
            field
          )
        )
      }
      case "RouteNotFound":
        return Effect.succeed(Problem.notFound(`No route ${request.method} ${pathOf(request)}`))
      case "RequestError":
        return Effect.succeed(Problem.badRequest("The request could not be read"))
    }
  }
  if (Cause.isInterruptedOnly(cause)) return Effect.succeed(undefined)
  // a driver's out-of-space error may arrive as a defect: still worth a 503 the client can retry
  const outOfSpace = Problem.isOutOfSpace(Cause.squash(cause))
  return Effect.as(Effect.logError("request failed", cause), outOfSpace ? Problem.storageFull() : Problem.internal())
}

/** The middleware, applied to the API's routes. */
export const make = (options: Options) => {
  const handle = <E, R>(app: HttpApp.Default<E, R>, request: HttpServerRequest.HttpServerRequest, requestId: string) =>
    Effect.gen(function*() {
      const path = pathOf(request)
      const started = yield* Clock.currentTimeMillis
      const guarded = Effect.gen(function*() {
        // the one check of a declared length; a body without one is counted as it is read
        const declared = Number(request.headers["content-length"])
        if (Number.isFinite(declared) && declared > options.maxBodyBytes) {
          return yield* Effect.fail(Problem.payloadTooLarge(options.maxBodyBytes))
        }
        // %00 is the only way a URL carries NUL, which no id or name can hold and PostgreSQL
        // can't even compare against
        if (request.url.includes("%00")) {
          const where = request.url.indexOf("%00") < path.length ? "path" : "query"
          return yield* Effect.fail(Problem.badRequest(`The ${where} must not contain NUL characters (%00)`, where))
        }
        return yield* app
      })
      const response = yield* Effect.catchAllCause(guarded, (cause) =>
        Effect.flatMap(toProblem(cause, request), (problem) =>
          problem === undefined ? Effect.interrupt : Effect.succeed(problemResponse(problem))))
      const finished = yield* Clock.currentTimeMillis
      const route = options.routeOf(request.method, path)
      options.metrics.httpRequests.inc({ method: request.method, route, status: String(response.status) })
      options.metrics.httpDuration.observe({ method: request.method, route }, (finished - started) / 1_000)
      // never the headers or the query: they carry credentials (Authorization, a token in a URL)
      yield* Effect.logWithLevel(options.accessLog, "http request").pipe(
        Effect.annotateLogs({
          method: request.method,
          path,
          route,
          status: response.status,
          durationMs: finished - started
        })
      )
      return HttpServerResponse.setHeader(response, "x-request-id", requestId)
    })
  return <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<never, R> =>
    Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
      const requestId = requestIdOf(request)
      return handle(app, request, requestId).pipe(Effect.annotateLogs("requestId", requestId))
    })
}
