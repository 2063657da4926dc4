/**
 * A connector's configuration as JSON Schema, for forms and command lines: effect's
 * `JSONSchema.make` over the schema's encoded (JSON) side, after one rewrite of the schema —
 * every `Redacted` field is annotated `writeOnly: true`, so a client knows to send it and never
 * to expect it back. Literals come out as `enum`, refinements effect knows as their keywords
 * (`minLength`, `minimum`…), URLs as `format: uri` where the connector's schema says so
 * (`jsonSchema: { format: "uri" }` on its filter).
 *
 * @internal
 */
import * as JSONSchema from "effect/JSONSchema"
import * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"

/** A JSON Schema document (draft 2020-12). */
export type JsonSchema = Readonly<Record<string, unknown>>

const isRedacted = (ast: AST.AST): boolean =>
  AST.isTransformation(ast) && AST.isDeclaration(ast.to) &&
  Option.exists(AST.getTypeConstructorAnnotation(ast.to), (t) => t._tag === "effect/Redacted")

/** `writeOnly` added to the JSON Schema keywords the field already has (its description…) */
const withWriteOnly = (annotations: AST.Annotations): AST.Annotations => ({
  ...annotations,
  [AST.JSONSchemaAnnotationId]: { ...(annotations[AST.JSONSchemaAnnotationId] as object | undefined), writeOnly: true }
})

/** The schema with every `Redacted` marked write-only, at any depth. */
const markSecrets = (ast: AST.AST, seen: Map<AST.AST, AST.AST> = new Map()): AST.AST => {
  const known = seen.get(ast)
  if (known !== undefined) return known
  const go = (child: AST.AST) => markSecrets(child, seen)
  switch (ast._tag) {
    case "Transformation": {
      if (isRedacted(ast)) {
        const inner = new AST.Transformation(go(ast.from), ast.to, ast.transformation, ast.annotations)
        // the identifier would put the secret behind a $ref shared with every other secret
        const { [AST.IdentifierAnnotationId]: _identifier, ...annotations } = inner.annotations
        return new AST.Transformation(inner.from, inner.to, inner.transformation, withWriteOnly(annotations))
      }
      return new AST.Transformation(go(ast.from), ast.to, ast.transformation, ast.annotations)
    }
    case "Refinement":
      return new AST.Refinement(go(ast.from), ast.filter, ast.annotations)
    case "Union":
      return AST.Union.make(ast.types.map(go), ast.annotations)
    case "TypeLiteral":
      // effect describes `{}` as "any object or array"; a config without settings is an empty object
      if (ast.propertySignatures.length === 0 && ast.indexSignatures.length === 0) {
        return AST.annotations(ast, {
          [AST.JSONSchemaAnnotationId]: { type: "object", properties: {}, additionalProperties: false }
        })
      }
      return new AST.TypeLiteral(
        ast.propertySignatures.map((p) =>
          new AST.PropertySignature(p.name, go(p.type), p.isOptional, p.isReadonly, p.annotations)
        ),
        ast.indexSignatures.map((s) => new AST.IndexSignature(s.parameter, go(s.type), s.isReadonly)),
        ast.annotations
      )
    case "TupleType":
      return new AST.TupleType(
        ast.elements.map((e) => new AST.OptionalType(go(e.type), e.isOptional, e.annotations)),
        ast.rest.map((r) => new AST.Type(go(r.type), r.annotations)),
        ast.isReadonly,
        ast.annotations
      )
    case "Suspend": {
      const suspended: AST.AST = new AST.Suspend(() => go(ast.f()), ast.annotations)
      seen.set(ast, suspended)
      return suspended
    }
    default:
      return ast
  }
}

/**
 * The JSON Schema of a connector configuration's JSON form. A schema that has no JSON Schema
 * (a declaration without a `jsonSchema` annotation) gives an open schema with a `$comment`
 * saying why, rather than failing the listing of every connector.
 */
export const make = (schema: Schema.Schema.AnyNoContext): JsonSchema => {
  try {
    const definitions: Record<string, JSONSchema.JsonSchema7> = {}
    const root = JSONSchema.fromAST(markSecrets(schema.ast), {
      definitions,
      target: "jsonSchema2020-12",
      topLevelReferenceStrategy: "skip"
    })
    return {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      ...root,
      ...(Object.keys(definitions).length > 0 ? { $defs: definitions } : {})
    }
  } catch (error) {
    return { $comment: `this configuration can't be described as JSON Schema: ${String(error)}` }
  }
}
