/**
 * SOAP 1.1 envelopes for the Five9 web services, built and read with fast-xml-parser (no string
 * slicing): requests are plain objects turned into XML, answers are parsed into objects and a
 * `Fault` is recognised by the element name in its `detail` (e.g. `ResultIsNotReadyFault`).
 */
import { XMLBuilder, XMLParser } from "fast-xml-parser"

export const soapNs = "http://schemas.xmlsoap.org/soap/envelope/"
export const adminNs = "http://service.admin.ws.five9.com/"
export const supervisorNs = "http://service.supervisor.ws.five9.com/"

/** An XML value as built: text, nested elements, or repeated elements (arrays). */
export type XmlValue = string | number | boolean | XmlObject | ReadonlyArray<XmlValue>
export interface XmlObject {
  readonly [key: string]: XmlValue
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  suppressEmptyNode: false,
  format: false
})

/** Repeated elements are always read as arrays, whatever their count. */
const arrayElements = new Set(["records", "rows", "data", "dataUpdate", "values", "addedObjects", "deletedObjects"])

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  isArray: (name) => arrayElements.has(name)
})

/** A request envelope for `operation` of the service at namespace `ns`. */
export const envelope = (ns: string, operation: string, body: XmlObject): string =>
  `<?xml version="1.0" encoding="UTF-8"?>` +
  builder.build({
    "soapenv:Envelope": {
      "@_xmlns:soapenv": soapNs,
      "@_xmlns:ser": ns,
      "soapenv:Header": "",
      "soapenv:Body": { [`ser:${operation}`]: body }
    }
  })

/** An answer envelope (used by the simulators). */
export const responseEnvelope = (ns: string, operation: string, value: XmlValue | undefined): string =>
  `<?xml version="1.0" encoding="UTF-8"?>` +
  builder.build({
    "env:Envelope": {
      "@_xmlns:env": soapNs,
      "env:Header": "",
      "env:Body": {
        [`ns2:${operation}Response`]: {
          "@_xmlns:ns2": ns,
          ...(value === undefined ? {} : { return: value })
        }
      }
    }
  })

/** A fault envelope (used by the simulators). */
export const faultEnvelope = (ns: string, fault: string, message: string, detail: XmlObject = {}): string =>
  `<?xml version="1.0" encoding="UTF-8"?>` +
  builder.build({
    "env:Envelope": {
      "@_xmlns:env": soapNs,
      "env:Header": "",
      "env:Body": {
        "env:Fault": {
          faultcode: "env:Server",
          faultstring: message,
          detail: { [`ns2:${fault}`]: { "@_xmlns:ns2": ns, message, ...detail } }
        }
      }
    }
  })

/** What a SOAP answer says. */
export type Answer =
  | { readonly _tag: "Result"; readonly operation: string; readonly value: unknown }
  | { readonly _tag: "Fault"; readonly fault: string; readonly message: string }
  | { readonly _tag: "Unreadable"; readonly reason: string }

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

/** Parses an envelope: the operation's `return` value, or the fault's name and message. */
export const parseAnswer = (xml: string): Answer => {
  let doc: unknown
  try {
    doc = parser.parse(xml, true)
  } catch (e) {
    return { _tag: "Unreadable", reason: e instanceof Error ? e.message : String(e) }
  }
  const env = isRecord(doc) ? doc["Envelope"] : undefined
  const body = isRecord(env) ? env["Body"] : undefined
  if (!isRecord(body)) return { _tag: "Unreadable", reason: "no SOAP Body" }
  const fault = body["Fault"]
  if (isRecord(fault)) {
    const detail = fault["detail"]
    const name = isRecord(detail) ? Object.keys(detail)[0] : undefined
    const message = typeof fault["faultstring"] === "string" ? fault["faultstring"] : ""
    return { _tag: "Fault", fault: name ?? "Fault", message }
  }
  const operation = Object.keys(body)[0]
  if (operation === undefined) return { _tag: "Unreadable", reason: "empty SOAP Body" }
  const response = body[operation]
  return {
    _tag: "Result",
    operation: operation.replace(/Response$/, ""),
    value: isRecord(response) ? response["return"] : undefined
  }
}

/** Parses a request envelope (used by the simulators): the operation and its parameters. */
export const parseRequest = (xml: string): { operation: string; params: Record<string, unknown> } | undefined => {
  const answer = parseAnswer(xml)
  if (answer._tag !== "Result") return undefined
  const doc = parser.parse(xml) as Record<string, unknown>
  const env = doc["Envelope"] as Record<string, unknown>
  const body = env["Body"] as Record<string, unknown>
  const operation = Object.keys(body)[0]!
  const params = body[operation]
  return { operation, params: isRecord(params) ? params : {} }
}

/** `values.data[]` of a Five9 `record`/`row` as strings. */
export const dataOf = (row: unknown): Array<string> => {
  if (!isRecord(row)) return []
  const values = row["values"]
  const first = Array.isArray(values) ? values[0] : values
  if (!isRecord(first)) return []
  const data = first["data"]
  return Array.isArray(data) ? data.map((d) => (typeof d === "string" ? d : "")) : []
}

export { isRecord }
