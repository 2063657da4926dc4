/**
 * SOAP calls to the Five9 web services over @effect/platform HttpClient with HTTP Basic auth.
 * One call at a time per user (Five9 denies concurrent use of the same credentials), transient
 * failures retried with backoff, faults mapped to the connector contract's errors.
 *
 * The credentials are sent as base64 of their UTF-8 bytes (RFC 7617's `charset="UTF-8"`):
 * `HttpClientRequest.basicAuth` uses `btoa`, which throws on any character outside Latin-1, so
 * a password such as "pässwörd-€" crashed every call. A defect anywhere in a call (a bug, a
 * client that throws) becomes `InvalidData` naming the operation: a typed failure the
 * scheduler records and does not retry in a loop.
 */
import { Connector } from "@acd-bridge/core"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Redacted from "effect/Redacted"
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

export interface Session {
  readonly gate: Effect.Semaphore
  readonly stats: { calls: number; retries: number; faults: Array<string> }
  /** per report (folder/report): the largest result verified complete (see `capped.ts`) */
  readonly caps: Map<string, { trustedUpTo: number }>
}

export const makeSession = (): Session => ({
  gate: Effect.unsafeMakeSemaphore(1),
  stats: { calls: 0, retries: 0, faults: [] },
  caps: new Map()
})

const backoff = (attempt: number) => Duration.millis(Math.min(10_000, 250 * 2 ** attempt))

/** The `Authorization` header of HTTP Basic auth: base64 of the UTF-8 bytes of `user:password`. */
export const basicAuthorization = (username: string, password: string): string =>
  `Basic ${Encoding.encodeBase64(new TextEncoder().encode(`${username}:${password}`))}`

/** Faults the caller handles; every other fault becomes a connector error here. */
const passThrough = new Set(["ResultIsNotReadyFault", "ReportNotFoundFault"])

/**
 * Calls `operation` and returns its `return` value (parsed XML).
 */
export const call = (
  session: Session,
  ep: Endpoint,
  operation: string,
  body: XmlObject
): Effect.Effect<unknown, Connector.ConnectorError | SoapFault, HttpClient.HttpClient> =>
  session.gate.withPermits(1)(Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const request = HttpClientRequest.post(ep.url).pipe(
      HttpClientRequest.setHeader("Authorization", basicAuthorization(ep.username, Redacted.value(ep.password))),
      HttpClientRequest.setHeader("SOAPAction", "\"\""),
      HttpClientRequest.bodyText(envelope(ep.ns, operation, body), "text/xml;charset=UTF-8")
    )
    for (let attempt = 0;; attempt++) {
      session.stats.calls++
      const raw = yield* Effect.either(
        client.execute(request).pipe(
          Effect.flatMap((res) => Effect.map(res.text, (text) => ({ status: res.status, text }))),
          Effect.scoped
        )
      )
      const retry = (reason: string) =>
        attempt >= ep.maxRetries
          ? Effect.fail(new Connector.Transient({ reason: `${operation}: ${reason}` }))
          : Effect.zipRight(
            Effect.sync(() => {
              session.stats.retries++
            }),
            Effect.as(Effect.sleep(backoff(attempt)), undefined)
          )
      if (Either.isLeft(raw)) {
        yield* retry(raw.left.message)
        continue
      }
      const { status, text } = raw.right
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
      const answer = parseAnswer(text)
      if (answer._tag === "Unreadable") {
        // a body cut short by a closed connection, or a proxy's error page
        yield* retry(`HTTP ${status}, unreadable answer (${answer.reason})`)
        continue
      }
      if (answer._tag === "Result") return answer.value
      session.stats.faults.push(answer.fault)
      if (passThrough.has(answer.fault)) return yield* new SoapFault({ fault: answer.fault, message: answer.message })
      switch (answer.fault) {
        case "OperationsLimitExceededFault":
          return yield* new Connector.RateLimited({
            retryAfterMs: ep.operationsLimitBackoffMs,
            reason: `Five9 operations limit: ${answer.message}`
          })
        case "SessionClosedFault":
          // another session of the same user started: wait and go on, a few times
          yield* retry(
            `another session logged in with user "${ep.username}" (SessionClosedFault); give the connector its own Five9 API user`
          )
          continue
        case "AccessDisallowedFault":
        case "UserHasNoRequiredRolesFault":
          return yield* new Connector.AuthFailed({ reason: `${answer.fault}: ${answer.message}` })
        default:
          if (status >= 500 && answer.fault === "Fault") {
            yield* retry(`HTTP ${status}: ${answer.message}`)
            continue
          }
          return yield* new Connector.InvalidData({ record: operation, reason: `${answer.fault}: ${answer.message}` })
      }
    }
  })).pipe(
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
