/**
 * A connector's config JSON Schema as a Markdown reference: one row per setting (dotted path),
 * with its type, whether it is required and, in its notes, its description, constraints and default.
 */
type Json = Readonly<Record<string, unknown>>

export interface Row {
  readonly path: string
  readonly type: string
  readonly required: boolean
  readonly secret: boolean
  /** the constraints, in words */
  readonly notes: ReadonlyArray<string>
  /** what the setting means (the schema's `description` annotation), or "" */
  readonly description: string
  /** the JSON of its default (the schema's `default`), or undefined when it has none */
  readonly default: string | undefined
}

const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

const resolve = (schema: Json, root: Json): Json => {
  const ref = schema["$ref"]
  if (typeof ref === "string" && ref.startsWith("#/$defs/")) {
    const defs = root["$defs"]
    const target = isObject(defs) ? defs[ref.slice("#/$defs/".length)] : undefined
    if (isObject(target)) return { ...target, ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== "$ref")) }
  }
  return schema
}

const alternatives = (schema: Json): ReadonlyArray<Json> => {
  const anyOf = schema["anyOf"] ?? schema["oneOf"]
  return Array.isArray(anyOf) ? anyOf.filter(isObject) : []
}

const typeOf = (schema: Json, root: Json): string => {
  const s = resolve(schema, root)
  if (Array.isArray(s["enum"])) return s["enum"].map((v) => JSON.stringify(v)).join(" \\| ")
  if ("const" in s) return JSON.stringify(s["const"])
  const alts = alternatives(s)
  if (alts.length > 0) return [...new Set(alts.map((a) => typeOf(a, root)))].join(" \\| ")
  const type = s["type"]
  if (type === "array") {
    const items = s["items"]
    return isObject(items) ? `array of ${typeOf(items, root)}` : "array"
  }
  if (typeof type === "string") return type === "object" ? "object" : type
  if (Array.isArray(type)) return type.join(" \\| ")
  return "any"
}

const constraintNotes = (s: Json): Array<string> => {
  const notes: Array<string> = []
  const keys: ReadonlyArray<readonly [string, string]> = [
    ["minimum", "≥"], ["exclusiveMinimum", ">"], ["maximum", "≤"], ["exclusiveMaximum", "<"],
    ["minLength", "min length"], ["maxLength", "max length"], ["minItems", "min items"], ["maxItems", "max items"],
    ["pattern", "pattern"], ["format", "format"]
  ]
  for (const [key, label] of keys) {
    const value = s[key]
    if (value === undefined) continue
    if (key === "pattern") notes.push(value === trimmedPattern ? "no leading or trailing spaces" : `${label} \`${String(value)}\``)
    else if (key === "minLength" && value === 1) notes.push("not empty")
    else notes.push(`${label} ${String(value)}`)
  }
  return notes
}

/** effect's `Schema.trimmed()` as a JSON Schema pattern. */
const trimmedPattern = "^\\S[\\s\\S]*\\S$|^\\S$|^$"

// effect describes its own refinements ("a non empty string", "between(1, 366)"); the
// constraints column says the same more plainly, so only an author's words are kept
const effectDefault = /^(an? (non[ -]empty |positive |negative |non-negative |finite )?(string|number|integer|boolean|array)\b|(nonEmptyString|trimmed|between|greaterThan|lessThan|int|minLength|maxLength|pattern|minItems|maxItems)\b)/

const describe = (s: Json): string => {
  const description = s["description"]
  return typeof description === "string" && !effectDefault.test(description) ? description : ""
}

/** Every setting of the schema, depth first, objects inside unions included. */
export const rows = (root: Json): ReadonlyArray<Row> => {
  const out: Array<Row> = []
  const walk = (schema: Json, prefix: string, depth: number): void => {
    if (depth > 8) return
    const s = resolve(schema, root)
    const objects = [s, ...alternatives(s).map((a) => resolve(a, root))].filter((o) => isObject(o["properties"]))
    for (const object of objects) {
      const properties = object["properties"] as Json
      const required = new Set(Array.isArray(object["required"]) ? object["required"] : [])
      for (const [name, child] of Object.entries(properties)) {
        if (!isObject(child)) continue
        const c = resolve(child, root)
        const path = prefix === "" ? name : `${prefix}.${name}`
        out.push({
          path,
          type: typeOf(c, root),
          required: required.has(name),
          secret: c["writeOnly"] === true,
          notes: constraintNotes(c),
          description: describe(c),
          default: c["default"] === undefined ? undefined : JSON.stringify(c["default"])
        })
        walk(c, path, depth + 1)
        const items = c["items"]
        if (c["type"] === "array" && isObject(items)) walk(items, `${path}[]`, depth + 1)
      }
    }
  }
  walk(root, "", 0)
  // a setting reachable through several union members is listed once, unless it means
  // something else in another member (a count in one layout, a flag in the other)
  const seen = new Set<string>()
  return out.filter((r) => {
    const key = `${r.path}|${r.type}|${r.description}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ")

export const table = (root: Json): string => {
  const all = rows(root)
  if (all.length === 0) return "This connector has no settings.\n"
  const lines = [
    "| setting | type | required | notes |",
    "| --- | --- | --- | --- |",
    ...all.map((r) => {
      // what it means first, then what it accepts, then what applies when it is left out
      const facts = [
        ...(r.secret ? ["**secret** (write-only, never shown back)"] : []),
        ...r.notes,
        ...(r.default === undefined ? [] : [`default: \`${r.default}\``])
      ].join("; ")
      const notes = [r.description, facts.charAt(0).toUpperCase() + facts.slice(1)].filter((part) => part !== "").join(" ")
      return `| \`${r.path}\` | ${r.type.includes("\\|") ? r.type : cell(r.type)} | ${r.required ? "yes" : "no"} | ${cell(notes)} |`
    })
  ]
  return lines.join("\n") + "\n"
}
