/**
 * The link's configuration file (YAML or JSON, `--config link.yaml`): where the engine is and
 * the link's token, where the outbox lives, and, per integration id the engine knows, the
 * connector and its connection config — secrets included, which never leave the customer's
 * network. A file that doesn't fit is refused with messages naming the key and its line.
 *
 * ```yaml
 * engine:
 *   url: https://acd-bridge.example.com
 *   token: acdl_…
 * outbox: /var/lib/acd-link/outbox.sqlite
 * integrations:
 *   - id: 6f1c…            # the integration's id in the engine
 *     connector: sql
 *     config: { dialect: postgres, url: postgres://…, … }
 * ```
 *
 * @since 0.3.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as fs from "node:fs/promises"
import * as YAML from "yaml"

/** The connectors a link runs. @since 0.3.0 @category models */
export const ConnectorKey = Schema.Literal("csv", "sql", "genesys-engage")

/** One integration the link serves. @since 0.3.0 @category models */
export const IntegrationEntry = Schema.Struct({
  /** the integration's id in the engine */
  id: Schema.NonEmptyTrimmedString,
  connector: ConnectorKey,
  /** the connector's config, validated by the connector's schema when the link starts */
  config: Schema.Unknown
})

/** @since 0.3.0 @category models */
export const LinkConfig = Schema.Struct({
  engine: Schema.Struct({
    url: Schema.String.pipe(Schema.pattern(/^https?:\/\/[^\s/]+/, { message: () => "must be an http(s) URL" })),
    token: Schema.Redacted(Schema.String.pipe(Schema.startsWith("acdl_", { message: () => "must be a link token (acdl_…)" })))
  }),
  /** the outbox's SQLite file (default `./acd-link-outbox.sqlite`) */
  outbox: Schema.optionalWith(Schema.NonEmptyTrimmedString, { default: () => "./acd-link-outbox.sqlite" }),
  /** seconds a poll for work waits (default 30) */
  wait: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 60)), { default: () => 30 }),
  /** seconds between two looks at the watched folders of csv integrations (default 10) */
  watchSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(0.05, 3_600)), { default: () => 10 }),
  /** records per uploaded part (default 5,000) */
  partSize: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 100_000)), { default: () => 5_000 }),
  integrations: Schema.Array(IntegrationEntry).pipe(Schema.minItems(1))
})
/** @since 0.3.0 @category models */
export type LinkConfig = typeof LinkConfig.Type

/**
 * The file can't be used: each problem names the key path and its line.
 *
 * @since 0.3.0 @category errors
 */
export class ConfigError extends Data.TaggedError("ConfigError")<{
  readonly file: string
  readonly problems: ReadonlyArray<string>
}> {
  override get message() {
    return `${this.file} is not a valid link configuration:\n${this.problems.map((p) => `  - ${p}`).join("\n")}`
  }
}

const decode = Schema.decodeUnknownEither(LinkConfig, { errors: "all" })

/**
 * Parses and validates the text of a configuration file (YAML, of which JSON is a subset).
 *
 * @since 0.3.0 @category constructors
 */
export const parse = (file: string, text: string): Either.Either<LinkConfig, ConfigError> => {
  const lineCounter = new YAML.LineCounter()
  const doc = YAML.parseDocument(text, { lineCounter, prettyErrors: false })
  if (doc.errors.length > 0) {
    return Either.left(
      new ConfigError({
        file,
        problems: doc.errors.map((e) => `line ${lineCounter.linePos(e.pos[0]).line}: ${e.message.split("\n")[0]}`)
      })
    )
  }
  const decoded = decode(doc.toJS())
  if (Either.isRight(decoded)) return Either.right(decoded.right)
  const lineOf = (path: ReadonlyArray<PropertyKey>): number | undefined => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined
      if (node !== undefined && node !== null && typeof node === "object" && node.range !== undefined) {
        return lineCounter.linePos(node.range[0]).line
      }
    }
    return undefined
  }
  const problems = ParseResult.ArrayFormatter.formatErrorSync(decoded.left).map((issue) => {
    const key = issue.path.length === 0 ? "(top level)" : issue.path.map(String).join(".")
    const line = lineOf(issue.path)
    // a secret's value never reaches a message
    const message = key.endsWith("token") ? "must be a link token (acdl_…)" : issue.message
    return `${line === undefined ? "" : `line ${line}: `}${key}: ${message}`
  })
  return Either.left(new ConfigError({ file, problems }))
}

/**
 * Reads and validates the configuration file.
 *
 * @since 0.3.0 @category constructors
 */
export const load = (file: string): Effect.Effect<LinkConfig, ConfigError> =>
  Effect.tryPromise({
    try: () => fs.readFile(file, "utf8"),
    catch: (error) => new ConfigError({ file, problems: [`can't be read: ${String(error)}`] })
  }).pipe(Effect.flatMap((text) => parse(file, text)))
