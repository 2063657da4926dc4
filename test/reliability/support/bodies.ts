/**
 * Push bodies for the bad-input properties: valid batches generated from the wire schema's
 * rules (so the suite knows exactly what an accepted batch must add to the store), and
 * mutations of them, each tagged with whether it must be refused.
 *
 * A mutation works on the body's JSON value, on its JSON text (duplicate keys, escapes, tokens
 * JSON.parse would never produce) or on its bytes (invalid UTF-8), so what reaches the server
 * is exactly what a careless or hostile client can send.
 */
import * as fc from "fast-check"

export const QUARTER_MS = 15 * 60_000
const DAY_MS = 86_400_000
const YEAR_MS = 365 * DAY_MS

export const channels = ["calls", "chats", "emails", "social_media", "documents", "cases"] as const

export interface ContactRecord {
  readonly properties: { readonly offered: boolean; readonly handled: boolean; readonly duration: number }
  readonly queueName: string
  readonly queueIdentifier: string
  readonly timestamp: string
  readonly channel: string
}

export interface StatusRecord {
  readonly agentIdentifier: string
  readonly activityIdentifier: string
  readonly startTime: string
  readonly endTime?: string | null
}

export type Route = "contactEvents" | "agentStatuses"

export const routePath: Record<Route, string> = {
  contactEvents: "/external-systems/contact-events",
  agentStatuses: "/external-systems/agent-statuses"
}

/** Text as the wire allows it: any well-formed Unicode without NUL (control characters, emoji, RTL included). */
const wireText = (min: number, max: number) =>
  fc.oneof(
    fc.string({ minLength: min, maxLength: Math.min(max, 40) }),
    fc.string({ unit: "grapheme", minLength: min, maxLength: Math.min(max, 20) }),
    // any code point: control characters, private use, astral planes (no lone surrogates)
    fc.string({ unit: "binary", minLength: min, maxLength: Math.min(max, 20) }),
    fc.constantFrom("=HYPERLINK(\"http://x\")", "+SUM(A1)", "-1+1", "@cmd", "\t\r\n", "Ünïcødé ☎️", "עברית", "a\u202Eb")
      .filter((s) => s.length >= min)
  ).map((s) => s.replaceAll("\u0000", "")).filter((s) => s.length >= min && s.length <= max)

/** An instant inside the acceptance window, as ISO-8601 with `Z`, an offset, or no offset (read in UTC). */
const wireInstant = (now: number) =>
  fc.record({
    ms: fc.integer({ min: now - 4 * YEAR_MS, max: now }),
    form: fc.constantFrom("Z", "offset", "local", "fraction"),
    offsetMinutes: fc.constantFrom(-570, -300, 0, 60, 330, 345, 840)
  }).map(({ form, ms, offsetMinutes }) => {
    const whole = Math.floor(ms / 1000) * 1000
    switch (form) {
      case "Z":
        return { ms: whole, text: new Date(whole).toISOString().replace(".000Z", "Z") }
      case "fraction":
        return { ms, text: new Date(ms).toISOString() }
      case "local":
        return { ms: whole, text: new Date(whole).toISOString().slice(0, 19) }
      default: {
        const local = new Date(whole + offsetMinutes * 60_000).toISOString().slice(0, 19)
        const sign = offsetMinutes < 0 ? "-" : "+"
        const abs = Math.abs(offsetMinutes)
        return {
          ms: whole,
          text: `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`
        }
      }
    }
  })

/** A valid contact-event batch; `tag` makes its queue identifiers unique to the case. */
export const contactBatch = (now: number, tag: string) =>
  fc.record({
    queues: fc.array(fc.record({ id: wireText(0, 40), name: wireText(0, 40) }), { minLength: 1, maxLength: 3 }),
    records: fc.array(
      fc.record({
        queue: fc.nat(),
        offered: fc.boolean(),
        handled: fc.boolean(),
        durationMs: fc.oneof(fc.integer({ min: 0, max: 4_000_000 }), fc.constant(0), fc.constant(10_000_000_000)),
        at: wireInstant(now),
        channel: fc.constantFrom(...channels)
      }),
      { minLength: 1, maxLength: 25 }
    )
  }).map(({ queues, records }) =>
    records.map((r): ContactRecord & { readonly ms: number } => {
      const q = queues[r.queue % queues.length]!
      return {
        properties: { offered: r.offered, handled: r.handled, duration: r.durationMs / 1000 },
        queueName: q.name,
        queueIdentifier: `${tag}${q.id}`,
        timestamp: r.at.text,
        channel: r.channel,
        ms: r.at.ms
      }
    })
  )

/** A valid agent-status batch: one agent per case, segments in order, none overlapping. */
export const statusBatch = (now: number, tag: string) =>
  fc.record({
    agent: wireText(0, 30),
    start: fc.integer({ min: now - 2 * YEAR_MS, max: now - DAY_MS }),
    steps: fc.array(
      fc.record({ activity: wireText(1, 30), gapS: fc.integer({ min: 0, max: 600 }), lengthS: fc.integer({ min: 1, max: 7200 }) }),
      { minLength: 1, maxLength: 10 }
    ),
    openLast: fc.boolean()
  }).map(({ agent, openLast, start, steps }) => {
    let at = Math.floor(start / 1000) * 1000
    return steps.map((step, i): StatusRecord & { readonly startMs: number; readonly endMs: number | null } => {
      const s = at + step.gapS * 1000
      const e = s + step.lengthS * 1000
      at = e
      const open = openLast && i === steps.length - 1
      return {
        agentIdentifier: `${tag}${agent}`,
        activityIdentifier: step.activity,
        startTime: new Date(s).toISOString(),
        ...(open ? { endTime: null } : { endTime: new Date(e).toISOString() }),
        startMs: s,
        endMs: open ? null : e
      }
    })
  })

/** What is sent: bytes and headers, and whether the engine must refuse it. */
export interface Wire {
  readonly name: string
  readonly bytes: Uint8Array
  readonly contentType: string | undefined
  /** true: must be a 4xx; false: may be accepted (then it must land exactly as `data` says) */
  readonly mustRefuse: boolean
}

const utf8 = (text: string) => new Uint8Array(Buffer.from(text, "utf8"))

/** Inserts `bytes` in place of the first occurrence of `marker` in the JSON text. */
const withBytes = (text: string, marker: string, bytes: ReadonlyArray<number>): Uint8Array => {
  const i = text.indexOf(marker)
  return new Uint8Array(Buffer.concat([Buffer.from(text.slice(0, i), "utf8"), Buffer.from(bytes), Buffer.from(text.slice(i + marker.length), "utf8")]))
}

type Json = unknown
type Body = { data: Array<Record<string, Json>>; meta: Record<string, Json> }

const clone = (body: Body): Body => JSON.parse(JSON.stringify(body)) as Body

/** Sets (or, with `undefined`, deletes) the value at a path of objects/arrays. */
const setAt = (root: Json, path: ReadonlyArray<string | number>, value: Json | undefined): void => {
  let node = root as Record<string | number, Json>
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, Json>
  const last = path[path.length - 1]!
  if (value === undefined) delete node[last]
  else node[last] = value
}

const deep = (levels: number): string => "[".repeat(levels) + "]".repeat(levels)

/** Fields of a record of the route, as paths inside `data[i]`. */
const requiredPaths: Record<Route, ReadonlyArray<ReadonlyArray<string>>> = {
  contactEvents: [
    ["properties"],
    ["properties", "offered"],
    ["properties", "handled"],
    ["properties", "duration"],
    ["queueIdentifier"],
    ["timestamp"],
    ["channel"],
    ["queueName"]
  ],
  agentStatuses: [["agentIdentifier"], ["activityIdentifier"], ["startTime"]]
}

const wrongTypeValues: ReadonlyArray<Json> = [null, 0, 1.5, -1, true, "", "x", [], {}, [1, 2], { a: 1 }, "true", "1"]

/** Whether `value` is still a valid value of the field (the wire schema's rules). */
const fits = (field: string, value: Json): boolean => {
  switch (field) {
    case "queueIdentifier":
    case "agentIdentifier":
    case "activityIdentifier":
      return typeof value === "string" && value.length >= 1
    case "queueName":
      return typeof value === "string"
    case "offered":
    case "handled":
      return typeof value === "boolean"
    case "duration":
      return typeof value === "number" && Number.isFinite(value) && value >= 0
    default:
      // properties, timestamps and channels: none of the values above is one
      return false
  }
}

/**
 * Mutations of a valid body. Each returns the wire form; `mustRefuse` says whether the
 * contract (docs/http-contract.md) requires a 4xx.
 */
export const mutation = (route: Route) => {
  const paths = requiredPaths[route]
  const text = (name: string, body: Body | Json, mustRefuse: boolean, contentType = "application/json"): Wire => ({
    name,
    bytes: utf8(JSON.stringify(body)),
    contentType,
    mustRefuse
  })
  return fc.oneof(
    // a required field with a value of another type (some values still fit the field: then it may pass)
    fc.record({ at: fc.nat(), path: fc.constantFrom(...paths), value: fc.constantFrom(...wrongTypeValues) }).map(
      ({ at, path, value }) => (body: Body): Wire => {
        const b = clone(body)
        const i = at % b.data.length
        setAt(b.data[i], path, value)
        return text(`type of data.${i}.${path.join(".")} = ${JSON.stringify(value)}`, b, !fits(path[path.length - 1]!, value))
      }
    ),
    // a required field missing
    fc.record({ at: fc.nat(), path: fc.constantFrom(...paths) }).map(({ at, path }) => (body: Body): Wire => {
      const b = clone(body)
      const i = at % b.data.length
      setAt(b.data[i], path, undefined)
      return text(`missing data.${i}.${path.join(".")}`, b, true)
    }),
    // numbers at and past the limits, and tokens JSON.parse turns into Infinity
    fc.constantFrom("1e400", "-1e400", "1e308", "-1", "-0.001", "10000000.001", "9007199254740993", "1e-400", "-0").map(
      (token) => (body: Body): Wire => {
        const b = clone(body)
        if (route === "contactEvents") {
          ;(b.data[0]!["properties"] as Record<string, Json>)["duration"] = "@@NUM@@"
        } else b.data[0]!["startTime"] = "@@NUM@@"
        const okDuration = route === "contactEvents" && ["1e-400", "-0"].includes(token)
        return {
          name: `number token ${token}`,
          bytes: utf8(JSON.stringify(b).replace("\"@@NUM@@\"", token)),
          contentType: "application/json",
          mustRefuse: !okDuration
        }
      }
    ),
    // NaN / Infinity as strings and as bare tokens (not JSON)
    fc.constantFrom("\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "NaN", "Infinity", "-Infinity", "undefined", "0x10", "1_000").map(
      (token) => (body: Body): Wire => {
        const b = clone(body)
        if (route === "contactEvents") (b.data[0]!["properties"] as Record<string, Json>)["duration"] = "@@NUM@@"
        else b.data[0]!["startTime"] = "@@NUM@@"
        return {
          name: `token ${token}`,
          bytes: utf8(JSON.stringify(b).replace("\"@@NUM@@\"", token)),
          contentType: "application/json",
          mustRefuse: true
        }
      }
    ),
    // nesting: inside a record, at the root, and past any sane depth
    fc.constantFrom(63, 65, 200, 5_000, 100_000).map((levels) => (body: Body): Wire => {
      const bytes = utf8(JSON.stringify({ ...body, extra: "@@DEEP@@" }).replace("\"@@DEEP@@\"", deep(levels)))
      // the body is level 1 and `extra` sits one level down: 63 more levels stay within 64
      return { name: `nesting ${levels}`, bytes, contentType: "application/json", mustRefuse: levels + 1 > 64 }
    }),
    // long strings: one past the field limit, 1 MB, 9 MB (under the body limit), 11 MB (over it)
    fc.constantFrom(256, 1_000_000, 9_000_000, 11_000_000).map((length) => (body: Body): Wire => {
      const b = clone(body)
      b.data[0]![route === "contactEvents" ? "queueIdentifier" : "agentIdentifier"] = "x".repeat(length)
      return text(`string of ${length}`, b, true)
    }),
    // bytes that are not UTF-8, inside an identifier
    fc.constantFrom([0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80]).map(
      (bytes) => (body: Body): Wire => {
        const b = clone(body)
        const field = route === "contactEvents" ? "queueIdentifier" : "agentIdentifier"
        b.data[0]![field] = `${String(b.data[0]![field])}@@BYTES@@`
        return { name: `bytes ${bytes.map((x) => x.toString(16)).join(" ")}`, bytes: withBytes(JSON.stringify(b), "@@BYTES@@", bytes), contentType: "application/json", mustRefuse: true }
      }
    ),
    // half a surrogate pair, escaped and in a key
    fc.constantFrom("\\ud800", "\\udfff", "\\ud83d\\u0041", "x\\udc00y").map((escape) => (body: Body): Wire => {
      const b = clone(body)
      const field = route === "contactEvents" ? "queueIdentifier" : "activityIdentifier"
      b.data[0]![field] = "@@SURR@@"
      return { name: `surrogate ${escape}`, bytes: utf8(JSON.stringify(b).replace("@@SURR@@", escape)), contentType: "application/json", mustRefuse: true }
    }),
    // NUL in text
    fc.constant((body: Body): Wire => {
      const b = clone(body)
      b.data[0]![route === "contactEvents" ? "queueName" : "agentIdentifier"] = "a\u0000b"
      return text("NUL in text", b, true)
    }),
    // keys that are special to JavaScript objects: ignored as unknown fields, never a prototype change
    fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty").chain((key) =>
      fc.constantFrom("root", "meta", "record", "properties").map((where) => (body: Body): Wire => {
        const json = JSON.stringify(body)
        const payload = `"${key}":{"offered":true,"handled":true,"isAdmin":true,"polluted":1}`
        const spliced = where === "root"
          ? json.replace(/^\{/, `{${payload},`)
          : where === "meta"
          ? json.replace("\"meta\":{", `"meta":{${payload},`)
          : where === "record"
          ? json.replace("\"data\":[{", `"data":[{${payload},`)
          : route === "contactEvents"
          ? json.replace("\"properties\":{", `"properties":{${payload},`)
          : json.replace("\"data\":[{", `"data":[{${payload},`)
        return { name: `${key} key in ${where}`, bytes: utf8(spliced), contentType: "application/json", mustRefuse: false }
      })
    ),
    // a key twice, the second spelled with an escape
    fc.constantFrom("duration", "meta", "channel", "startTime").map((key) => (body: Body): Wire => {
      const json = JSON.stringify(body)
      const m = new RegExp(`"${key}":("[^"]*"|[^,}\\]]+)`).exec(json)
      if (m === null) return text(`duplicate ${key} (absent: unchanged)`, body, false)
      const dup = `"${key.slice(0, -1)}\\u00${key.charCodeAt(key.length - 1).toString(16)}":${m[1]}`
      return { name: `duplicate ${key}`, bytes: utf8(json.replace(m[0], `${m[0]},${dup}`)), contentType: "application/json", mustRefuse: true }
    }),
    // content types that are not JSON, or not UTF-8
    fc.constantFrom(
      undefined,
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/json; charset=latin1",
      "application/jsonx",
      "application/xml",
      "json"
    ).map((contentType) => (body: Body): Wire => ({
      name: `content type ${contentType}`,
      bytes: utf8(JSON.stringify(body)),
      contentType,
      mustRefuse: true
    })),
    // content types that are JSON after all
    fc.constantFrom("application/json; charset=utf-8", "APPLICATION/JSON", "application/vnd.acd+json", "application/json;charset=UTF-8").map(
      (contentType) => (body: Body): Wire => ({ name: `content type ${contentType}`, bytes: utf8(JSON.stringify(body)), contentType, mustRefuse: false })
    ),
    // what is not a body of records
    fc.constantFrom("", " ", "null", "[]", "{}", "\"data\"", "42", "{\"data\":[]}", "{\"data\":{}}", "{\"data\":null}", "{", "{\"data\":[{}]}", "\uFEFF{}")
      .map((raw) => (body: Body): Wire => {
        const withMeta = raw.startsWith("{\"data\"") ? raw.replace(/\}$/, `,"meta":${JSON.stringify(body.meta)}}`) : raw
        return { name: `body ${JSON.stringify(withMeta).slice(0, 60)}`, bytes: utf8(withMeta), contentType: "application/json", mustRefuse: true }
      }),
    // trailing garbage and truncation
    fc.constantFrom("trailing", "truncated", "two-documents").map((kind) => (body: Body): Wire => {
      const json = JSON.stringify(body)
      const raw = kind === "trailing" ? `${json}x` : kind === "truncated" ? json.slice(0, -1) : `${json}${json}`
      return { name: kind, bytes: utf8(raw), contentType: "application/json", mustRefuse: true }
    }),
    // the envelope: a missing or wrong meta
    fc.constantFrom<ReadonlyArray<[string, Json | undefined]>>(
      [["meta", undefined]],
      [["meta", null]],
      [["meta", "x"]],
      [["meta", { integrationConfigurationId: "" }]],
      [["meta", { integrationConfigurationId: "   " }]],
      [["meta", { integrationConfigurationId: null }]],
      [["meta", { integrationConfigurationId: [] }]],
      [["meta", { integrationConfigurationId: "no-such-integration" }]],
      [["meta", { integrationConfigurationId: Number.MAX_VALUE }]],
      [["data", undefined]],
      [["data", "x"]]
    ).map((changes) => (body: Body): Wire => {
      const b = clone(body) as unknown as Record<string, Json>
      for (const [key, value] of changes) {
        if (value === undefined) delete b[key]
        else b[key] = value
      }
      return text(`envelope ${JSON.stringify(changes)}`, b, true)
    }),
    fc.constantFrom(42, true, { x: 1 }).map((value) => (body: Body): Wire => {
      const b = clone(body)
      b.meta["externalSystem"] = value
      return text(`meta.externalSystem = ${JSON.stringify(value)}`, b, true)
    }),
    // timestamps the window or the calendar refuses
    fc.constantFrom(
      "0001-01-01T00:00:00Z",
      "9999-12-31T23:59:59Z",
      "2026-02-30T00:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-01-01T24:00:00Z",
      "2026-01-01T00:00:00+24:00",
      "2026-01-01",
      "yesterday",
      "1711675800",
      "2026-01-01T00:00:60Z",
      ""
    ).map((value) => (body: Body): Wire => {
      const b = clone(body)
      b.data[b.data.length - 1]![route === "contactEvents" ? "timestamp" : "startTime"] = value
      return text(`timestamp ${value}`, b, true)
    }),
    // a channel the wire does not know (case matters; back_office is core's, not the wire's)
    fc.constantFrom("fax", "Calls", "CALLS", "back_office", " calls", "").map((value) => (body: Body): Wire => {
      const b = clone(body)
      if (route === "contactEvents") b.data[0]!["channel"] = value
      else b.data[0]!["endTime"] = "2000-01-01T00:00:00Z"
      return text(`channel ${value}`, b, true)
    }),
    // fields the schema doesn't know: ignored
    fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !["data", "meta", "__proto__"].includes(k)), fc.jsonValue({ maxDepth: 3 }), {
      maxKeys: 3
    }).map((extra) => (body: Body): Wire => ({
      name: `unknown fields ${Object.keys(extra).join(",")}`,
      bytes: utf8(JSON.stringify({ ...extra, ...body })),
      contentType: "application/json",
      mustRefuse: false
    }))
  )
}
