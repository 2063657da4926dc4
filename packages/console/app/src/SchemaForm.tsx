/**
 * A form generated from a connector's config JSON Schema (`GET /v1/connectors`): objects are
 * fieldsets, `enum` a select, `writeOnly` strings (secrets) password fields, numbers number
 * fields with their bounds, a choice between shapes (`anyOf`) a select of the shape, lists of
 * text one line per item, and anything else (maps, lists of objects) JSON text. Fields left
 * empty are left out of the config, so the connector's defaults apply. The server validates
 * the result and names the field it refuses.
 */
import { createContext, type JSX } from "preact"
import { useContext, useState } from "preact/hooks"
import type { JsonSchema } from "./types.js"

type Value = unknown

// `prefix`: the ids of the fields start with it, so two forms on one page don't share ids;
// `partial`: a change to a stored config, where no field is required (left empty: kept)
const FormContext = createContext<{ readonly prefix: string; readonly partial: boolean }>({ prefix: "cfg", partial: false })
type OnChange = (value: Value) => void

const typeOf = (schema: JsonSchema): string | undefined =>
  Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : (schema.type as string | undefined)

const choicesOf = (schema: JsonSchema): ReadonlyArray<JsonSchema> | undefined => schema.anyOf ?? schema.oneOf

/** `clientSecret` → `Client secret` */
export const humanize = (key: string): string => {
  const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/[_-]+/g, " ").toLowerCase()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

// Effect Schema writes descriptions such as "a non empty string" for its refinements: say them
// only when they tell more than the field's type
const usefulDescription = (schema: JsonSchema): string | undefined => {
  const d = schema.description
  if (d === undefined || /^an? (string|number|non empty|array|integer)/.test(d)) {
    const bounds: Array<string> = []
    if (schema.minimum !== undefined && schema.maximum !== undefined) bounds.push(`${schema.minimum} to ${schema.maximum}`)
    else if (schema.minimum !== undefined) bounds.push(`at least ${schema.minimum}`)
    else if (schema.maximum !== undefined) bounds.push(`at most ${schema.maximum}`)
    if (schema.maxLength !== undefined) bounds.push(`up to ${schema.maxLength} characters`)
    return bounds.length === 0 ? undefined : bounds.join(", ")
  }
  return d
}

const isSimpleStringList = (schema: JsonSchema): boolean => {
  const items = schema.items
  return typeOf(schema) === "array" && typeof items === "object" && typeOf(items) === "string" && items.enum === undefined
}

const isPlainObject = (schema: JsonSchema): boolean =>
  typeOf(schema) === "object" && schema.properties !== undefined && Object.keys(schema.properties).length > 0 &&
  schema.patternProperties === undefined && (schema.additionalProperties === undefined || schema.additionalProperties === false)

/** A name for one shape of a choice: what it requires (`folder`, `files`…). */
const choiceLabel = (schema: JsonSchema, index: number): string => {
  if (schema.title !== undefined && !/[()]/.test(schema.title)) return schema.title
  const keys = schema.required ?? Object.keys(schema.properties ?? {})
  return keys.length === 0 ? `Shape ${index + 1}` : `With ${keys.map(humanize).join(", ").toLowerCase()}`
}

/** The value without empty strings, empty objects and unset fields. */
export const prune = (value: Value): Value => {
  if (value === "" || value === undefined || value === null) return undefined
  if (Array.isArray(value)) return value.length === 0 ? undefined : value
  if (typeof value === "object") {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const p = prune(v)
      if (p !== undefined) out[k] = p
    }
    return Object.keys(out).length === 0 ? undefined : out
  }
  return value
}

interface FieldProps {
  readonly schema: JsonSchema
  readonly path: string
  readonly label: string
  readonly required: boolean
  readonly value: Value
  readonly onChange: OnChange
}

const Hint = ({ id, schema }: { readonly id: string; readonly schema: JsonSchema }) => {
  const text = usefulDescription(schema)
  return text === undefined ? null : <span class="hint" id={id}>{text}</span>
}

const labelText = (label: string, required: boolean) => (
  <>
    {label}
    {required ? <span class="required"> (required)</span> : <span class="optional"> (optional)</span>}
  </>
)

const ObjectFields = ({ schema, path, value, onChange }: Omit<FieldProps, "label" | "required">) => {
  const current = (typeof value === "object" && value !== null ? value : {}) as Record<string, Value>
  const required = new Set(schema.required ?? [])
  return (
    <>
      {Object.entries(schema.properties ?? {}).map(([key, child]) => (
        <Field
          key={key}
          schema={child}
          path={path === "" ? key : `${path}.${key}`}
          label={humanize(key)}
          required={required.has(key)}
          value={current[key]}
          onChange={(v) => onChange({ ...current, [key]: v })}
        />
      ))}
    </>
  )
}

const ChoiceField = ({ schema, path, label, required, value, onChange }: FieldProps) => {
  const choices = choicesOf(schema) ?? []
  const [chosen, setChosen] = useState(0)
  const id = `${useContext(FormContext).prefix}-${path}`
  const shape = choices[chosen]
  return (
    <fieldset class="group">
      <legend>{labelText(label, required)}</legend>
      <label for={`${id}-shape`}>Kind</label>
      <select
        id={`${id}-shape`}
        value={String(chosen)}
        onChange={(e) => {
          setChosen(Number(e.currentTarget.value))
          onChange(undefined)
        }}
      >
        {choices.map((c, i) => <option key={i} value={String(i)}>{choiceLabel(c, i)}</option>)}
      </select>
      {shape === undefined ? null : isPlainObject(shape)
        ? <ObjectFields schema={shape} path={path} value={value} onChange={onChange} />
        : <Field schema={shape} path={`${path}.value`} label="Value" required={required} value={value} onChange={onChange} />}
    </fieldset>
  )
}

const JsonField = ({ schema, path, label, required, onChange }: FieldProps) => {
  const [error, setError] = useState<string | null>(null)
  const id = `${useContext(FormContext).prefix}-${path}`
  return (
    <div class="field">
      <label for={id}>{labelText(label, required)}</label>
      <textarea
        id={id}
        rows={3}
        spellcheck={false}
        aria-describedby={`${id}-hint`}
        aria-invalid={error !== null}
        onChange={(e) => {
          const text = e.currentTarget.value.trim()
          if (text === "") {
            setError(null)
            onChange(undefined)
            return
          }
          try {
            onChange(JSON.parse(text))
            setError(null)
          } catch {
            setError("Not valid JSON")
          }
        }}
      />
      <span class="hint" id={`${id}-hint`}>
        {error ?? `JSON${usefulDescription(schema) === undefined ? "" : `: ${usefulDescription(schema)}`}`}
      </span>
    </div>
  )
}

/** One field of the form, by the kind of its schema. */
export const Field = (given: FieldProps): JSX.Element => {
  const partial = useContext(FormContext).partial
  const props = partial ? { ...given, required: false } : given
  const { schema, path, label, required, value, onChange } = props
  const id = `${useContext(FormContext).prefix}-${path}`
  const hintId = `${id}-hint`
  if (choicesOf(schema) !== undefined) return <ChoiceField {...props} />
  if (isPlainObject(schema)) {
    return (
      <fieldset class="group">
        <legend>{labelText(label, required)}</legend>
        <ObjectFields schema={schema} path={path} value={value} onChange={onChange} />
      </fieldset>
    )
  }
  if (schema.enum !== undefined || schema.const !== undefined) {
    const choices = schema.enum ?? [schema.const]
    return (
      <div class="field">
        <label for={id}>{labelText(label, required)}</label>
        <select
          id={id}
          value={value === undefined ? "" : String(value)}
          // the choice as the schema's own value (a number or false stays one)
          onChange={(e) => onChange(choices.find((v) => String(v) === e.currentTarget.value))}
        >
          {required ? null : <option value="">(default)</option>}
          {choices.map((v) => <option key={String(v)} value={String(v)}>{v === "\t" ? "tab" : String(v)}</option>)}
        </select>
      </div>
    )
  }
  const type = typeOf(schema)
  if (type === "boolean") {
    return (
      <div class="field">
        <label for={id}>{labelText(label, required)}</label>
        <select
          id={id}
          value={value === undefined ? "" : String(value)}
          onChange={(e) => onChange(e.currentTarget.value === "" ? undefined : e.currentTarget.value === "true")}
        >
          {required ? null : <option value="">(default)</option>}
          <option value="true">yes</option>
          <option value="false">no</option>
        </select>
      </div>
    )
  }
  if (type === "integer" || type === "number") {
    return (
      <div class="field">
        <label for={id}>{labelText(label, required)}</label>
        <input
          id={id}
          type="number"
          inputMode={type === "integer" ? "numeric" : "decimal"}
          step={type === "integer" ? 1 : "any"}
          {...(schema.minimum === undefined ? {} : { min: schema.minimum })}
          {...(schema.maximum === undefined ? {} : { max: schema.maximum })}
          required={required}
          aria-describedby={hintId}
          value={value === undefined ? "" : String(value)}
          onInput={(e) => onChange(e.currentTarget.value === "" ? undefined : Number(e.currentTarget.value))}
        />
        <Hint id={hintId} schema={schema} />
      </div>
    )
  }
  if (type === "string") {
    const secret = schema.writeOnly === true
    return (
      <div class="field">
        <label for={id}>{labelText(label, required)}{secret ? <span class="secret"> (secret)</span> : null}</label>
        <input
          id={id}
          type={(secret ? "password" : schema.format === "uri" ? "url" : "text") as "text"}
          autocomplete={secret ? "new-password" : "off"}
          spellcheck={false}
          required={required}
          aria-describedby={hintId}
          {...(schema.maxLength === undefined ? {} : { maxLength: schema.maxLength })}
          value={typeof value === "string" ? value : ""}
          onInput={(e) => onChange(e.currentTarget.value)}
        />
        <Hint id={hintId} schema={schema} />
      </div>
    )
  }
  if (isSimpleStringList(schema)) {
    return (
      <div class="field">
        <label for={id}>{labelText(label, required)}</label>
        <textarea
          id={id}
          rows={2}
          spellcheck={false}
          aria-describedby={hintId}
          value={Array.isArray(value) ? value.join("\n") : ""}
          onInput={(e) => {
            const lines = e.currentTarget.value.split("\n").map((l) => l.trim()).filter((l) => l.length > 0)
            onChange(lines.length === 0 ? undefined : lines)
          }}
        />
        <span class="hint" id={hintId}>One per line</span>
      </div>
    )
  }
  return <JsonField {...props} />
}

/** The config part of the create form. */
export const SchemaForm = (
  props: {
    readonly schema: JsonSchema
    readonly value: Value
    readonly onChange: OnChange
    /** what the fields' ids start with (default `cfg`: `cfg-password`) */
    readonly idPrefix?: string
    /** a change to a stored config: no field is required, an empty one keeps its value */
    readonly partial?: boolean
    readonly legend?: string
  }
): JSX.Element => (
  <FormContext.Provider value={{ prefix: props.idPrefix ?? "cfg", partial: props.partial === true }}>
    <Form {...props} />
  </FormContext.Provider>
)

const Form = (
  { schema, value, onChange, legend }: {
    readonly schema: JsonSchema
    readonly value: Value
    readonly onChange: OnChange
    readonly legend?: string
  }
): JSX.Element => {
  if (isPlainObject(schema) || choicesOf(schema) !== undefined) {
    return (
      <fieldset class="group config">
        <legend>{legend ?? "Connector settings"}</legend>
        {choicesOf(schema) !== undefined
          ? <ChoiceField schema={schema} path="config" label="Configuration" required value={value} onChange={onChange} />
          : <ObjectFields schema={schema} path="" value={value} onChange={onChange} />}
      </fieldset>
    )
  }
  if (typeOf(schema) === "object" && Object.keys(schema.properties ?? {}).length === 0 && schema.additionalProperties === false) {
    return <p class="note">This connector needs no settings.</p>
  }
  return <Field schema={schema} path="config" label="Connector settings" required={false} value={value} onChange={onChange} />
}
