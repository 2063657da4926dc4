/**
 * SOAP calls to the Five9 web services over `@acd-bridge/connector-http` with HTTP Basic auth.
 * One call at a time per user (Five9 denies concurrent use of the same credentials: the
 * session's client has a concurrency of 1), transient failures (dropped connections, answers
 * cut short, `SessionClosedFault`, a generic fault in a 5xx) retried by the client's schedule,
 * faults mapped to the connector contract's errors.
 *
 * The credentials are sent as base64 of their UTF-8 bytes (RFC 7617's `charset="UTF-8"`):
 * `HttpClientRequest.basicAuth` uses `btoa`, which throws on any character outside Latin-1, so
 * a password such as "pässwörd-€" crashed every call. A defect anywhere in a call (a bug, a
 * client that throws) becomes `InvalidData` naming the operation: a typed failure the
 * scheduler records and does not retry in a loop.
 */
import { Connector } from "@acd-bridge/core"
import { ConnectorHttp } from "@acd-bridge/connector-http"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type { XmlObject } from "./soap.js"
import { envelope, parseAnswer } from "./soap.js"

export interface Endpoint {
  readonly url: string
  readonly ns: string
  readonly username: string
  readonly password: Redacted.Redacted<string>
  readonly maxRetries: number
  readonly operationsLimitBackoffMs: number
}

/** A fault the caller handles itself (e.g. `ResultIsNotReadyFault`). */
export class SoapFault extends Data.TaggedError("SoapFault")<{ readonly fault: string; readonly message: string }> {}

/** What one user of one web service shares between its calls (see `Five9.Sessions`). */
export interface Session {
  readonly http: ConnectorHttp.Client
  readonly faults: Ref.Ref<ReadonlyArray<string>>
  /** per report (folder/report): the largest result verified complete (see `capped.ts`) */
  readonly caps: Map<string, { trustedUpTo: number }>
}

/** A session's diagnostics: SOAP calls sent, retries, the faults Five9 answered. */
export interface Stats {
  readonly calls: number
  readonly retries: number
  readonly faults: ReadonlyArray<string>
}

export const makeSession: Effect.Effect<Session> = Effect.gen(function*() {
  return {
    http: yield* ConnectorHttp.make({ source: "Five9", concurrency: 1 }),
    faults: yield* Ref.make<ReadonlyArray<string>>([]),
    caps: new Map()
  }
})

export const statsOf = (session: Session): Effect.Effect<Stats> =>
  Effect.map(
    Effect.zip(session.http.stats, Ref.get(session.faults)),
    ([http, faults]) => ({ calls: http.requests, retries: http.retries, faults })
  )

/** The `Authorization` header of HTTP Basic auth: base64 of the UTF-8 bytes of `user:password`. */
export const basicAuthorization = (username: string, password: string): string =>
  `Basic ${Encoding.encodeBase64(new TextEncoder().encode(`${username}:${password}`))}`

/** Faults the caller handles; every other fault becomes a connector error here. */
const passThrough = new Set(["ResultIsNotReadyFault", "ReportNotFoundFault"])

/** Reads one SOAP answer: its `return` value, or what the fault means. */
const answerOf = (session: Session, ep: Endpoint, operation: string) =>
(
  response: HttpClientResponse.HttpClientResponse
): Effect.Effect<
  unknown,
  Connector.ConnectorError | SoapFault | ConnectorHttp.Retry | ConnectorHttp.Wait,
  never
> =>
  Effect.gen(function*() {
    const status = response.status
    if (status === 401 || status === 403) {
      return yield* new Connector.AuthFailed({
        reason: `Five9 refused user "${ep.username}" (HTTP ${status}): check the user name and password, and that the user has the roles the web services need (Administrator with reporting rights for reports, Supervisor for statistics)`
      })
    }
    if (status === 404) {
      return yield* new Connector.InvalidData({
        record: ep.url,
        reason: "HTTP 404: no Five9 web service at this address; check the data centre host and the API version"
      })
    }
    const text = yield* Effect.mapError(
      response.text,
      (e) => new ConnectorHttp.Retry({ reason: `${operation}: HTTP ${status}, the answer broke off (${e.reason})` })
    )
    const answer = parseAnswer(text)
    // a body cut short by a closed connection, or a proxy's error page
    if (answer._tag === "Unreadable") {
      return yield* new ConnectorHttp.Retry({
        reason: `${operation}: HTTP ${status}, unreadable answer (${answer.reason})`
      })
    }
    if (answer._tag === "Result") return answer.value
    yield* Ref.update(session.faults, (faults) => [...faults, answer.fault])
    if (passThrough.has(answer.fault)) return yield* new SoapFault({ fault: answer.fault, message: answer.message })
    switch (answer.fault) {
      case "OperationsLimitExceededFault":
        // Five9's windows are long and not public: the scheduler waits, not this call
        return yield* new Connector.RateLimited({
          retryAfterMs: ep.operationsLimitBackoffMs,
          reason: `Five9 operations limit: ${answer.message}`
        })
      case "SessionClosedFault":
        // another session of the same user started: wait and go on, a few times
        return yield* new ConnectorHttp.Retry({
          reason: `${operation}: another session logged in with user "${ep.username}" (SessionClosedFault); give the connector its own Five9 API user`
        })
      case "AccessDisallowedFault":
      case "UserHasNoRequiredRolesFault":
        return yield* new Connector.AuthFailed({ reason: `${answer.fault}: ${answer.message}` })
      default:
        if (status >= 500 && answer.fault === "Fault") {
          return yield* new ConnectorHttp.Retry({ reason: `${operation}: HTTP ${status}: ${answer.message}` })
        }
        return yield* new Connector.InvalidData({ record: operation, reason: `${answer.fault}: ${answer.message}` })
    }
  })

/**
 * Calls `operation` and returns its `return` value (parsed XML).
 */
export const call = (
  session: Session,
  ep: Endpoint,
  operation: string,
  body: XmlObject
): Effect.Effect<unknown, Connector.ConnectorError | SoapFault, HttpClient.HttpClient> =>
  Effect.suspend(() =>
    session.http.execute(
      HttpClientRequest.post(ep.url).pipe(
        HttpClientRequest.setHeader("Authorization", basicAuthorization(ep.username, Redacted.value(ep.password))),
        HttpClientRequest.setHeader("SOAPAction", "\"\""),
        HttpClientRequest.bodyText(envelope(ep.ns, operation, body), "text/xml;charset=UTF-8")
      ),
      answerOf(session, ep, operation),
      { what: operation, retries: ep.maxRetries }
    )
  ).pipe(
    Effect.catchAllDefect((defect) =>
      Effect.fail(
        new Connector.InvalidData({
          record: operation,
          reason: `the call to Five9 failed inside the connector (a bug; not retried): ${
            defect instanceof Error ? `${defect.name}: ${defect.message}` : String(defect)
          }`
        })
      )
    )
  )
