/**
 * A predicate compiled from a schema's AST: true exactly when decoding would succeed, without
 * building results or issues. Decoding with Schema costs about 9 µs per push record (most of
 * a push's CPU time, measured with `node --cpu-prof`); the compiled predicate costs well under
 * 1 µs. It is derived from the schema, not written beside it, so the wire is defined once: a
 * batch the predicate accepts is used as is, one it refuses is decoded by the schema, whose
 * first issue names the record and field.
 *
 * Supported: the keywords, literals, unions, structs (property signatures), arrays and
 * refinements (`Schema.filter`, `minLength`, `finite`, … run their own `filter`). A schema
 * with anything else (transformations, suspensions, declarations, index signatures) gets
 * `Schema.is` instead.
 */
import * as AST from "effect/SchemaAST"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

type Predicate = (u: unknown) => boolean

const isRecord = (u: unknown): u is Record<PropertyKey, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const hasOwn = Object.prototype.hasOwnProperty

const parseOptions: AST.ParseOptions = {}

/**
 * Effect's own bounds (`minLength`, `maxLength`, `minItems`, `finite`,
 * `greaterThanOrEqualTo`, `lessThanOrEqualTo`), read from their schema id and the bound in
 * their JSON Schema annotation: a comparison instead of a call that returns an `Option`. The
 * property test against the schemas covers the bounds of the wire.
 */
type Bounded = { readonly length: number } & number

const bound = (ast: AST.Refinement): ((u: Bounded) => boolean) | undefined => {
  const json = ast.annotations[AST.JSONSchemaAnnotationId] as Readonly<Record<string, unknown>> | undefined
  const value = (key: string): number | undefined => {
    const v = json?.[key]
    return typeof v === "number" ? v : undefined
  }
  const atLeastLength = (min: number | undefined) => (min === undefined ? undefined : (u: Bounded) => u.length >= min)
  switch (ast.annotations[AST.SchemaIdAnnotationId]) {
    case Schema.MinLengthSchemaId:
      return atLeastLength(value("minLength"))
    case Schema.MinItemsSchemaId:
      return atLeastLength(value("minItems"))
    case Schema.MaxLengthSchemaId: {
      const max = value("maxLength")
      return max === undefined ? undefined : (u) => u.length <= max
    }
    case Schema.FiniteSchemaId:
      return (u) => Number.isFinite(u)
    case Schema.GreaterThanOrEqualToSchemaId: {
      const min = value("minimum")
      return min === undefined ? undefined : (u) => u >= min
    }
    case Schema.LessThanOrEqualToSchemaId: {
      const max = value("maximum")
      return max === undefined ? undefined : (u) => u <= max
    }
    default:
      return undefined
  }
}

const go = (ast: AST.AST): Predicate | undefined => {
  switch (ast._tag) {
    case "StringKeyword":
      return (u) => typeof u === "string"
    case "NumberKeyword":
      return (u) => typeof u === "number"
    case "BooleanKeyword":
      return (u) => typeof u === "boolean"
    case "UndefinedKeyword":
      return (u) => u === undefined
    case "UnknownKeyword":
    case "AnyKeyword":
      return () => true
    case "Literal": {
      const literal = ast.literal
      return (u) => u === literal
    }
    case "Union": {
      const literals = ast.types.every(AST.isLiteral)
        ? new Set<unknown>((ast.types as ReadonlyArray<AST.Literal>).map((t) => t.literal))
        : undefined
      if (literals !== undefined) {
        return (u) => literals.has(u)
      }
      const members: Array<Predicate> = []
      for (const type of ast.types) {
        const member = go(type)
        if (member === undefined) return undefined
        members.push(member)
      }
      return (u) => {
        for (let i = 0; i < members.length; i++) if (members[i]!(u)) return true
        return false
      }
    }
    case "Refinement": {
      const from = go(ast.from)
      if (from === undefined) return undefined
      const known = bound(ast)
      if (known !== undefined) return (u) => from(u) && known(u as Bounded)
      const filter = ast.filter
      return (u) => from(u) && Option.isNone(filter(u, parseOptions, ast))
    }
    case "TupleType": {
      if (ast.elements.length > 0 || ast.rest.length !== 1) return undefined
      const item = go(ast.rest[0]!.type)
      if (item === undefined) return undefined
      return (u) => {
        if (!Array.isArray(u)) return false
        for (let i = 0; i < u.length; i++) if (!item(u[i])) return false
        return true
      }
    }
    case "TypeLiteral": {
      if (ast.indexSignatures.length > 0) return undefined
      if (ast.propertySignatures.length === 0) return (u) => u !== null && u !== undefined
      const names: Array<PropertyKey> = []
      const optional: Array<boolean> = []
      const types: Array<Predicate> = []
      for (const ps of ast.propertySignatures) {
        const type = go(ps.type)
        if (type === undefined) return undefined
        names.push(ps.name)
        optional.push(ps.isOptional)
        types.push(type)
      }
      return (u) => {
        if (!isRecord(u)) return false
        for (let i = 0; i < names.length; i++) {
          const name = names[i]!
          // an absent optional key is fine; an absent required one is read as undefined
          if (optional[i] && !hasOwn.call(u, name)) continue
          if (!types[i]!(u[name])) return false
        }
        return true
      }
    }
    default:
      return undefined
  }
}

/**
 * True exactly when `Schema.decodeUnknown(schema)` would succeed, for schemas without
 * transformations (their decoded value is their input).
 */
export const compile = <A, I>(schema: Schema.Schema<A, I>): (u: unknown) => u is A =>
  (go(schema.ast) ?? Schema.is(schema)) as (u: unknown) => u is A

/** Whether `compile` handles `schema` itself (else it falls back to `Schema.is`). */
export const isCompiled = <A, I>(schema: Schema.Schema<A, I>): boolean => go(schema.ast) !== undefined
