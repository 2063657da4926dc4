/**
 * The `acd-bridge` command line (`@effect/cli`):
 *
 * | command | does |
 * | --- | --- |
 * | `serve` | runs the server (`Server.serve`) until SIGTERM/SIGINT |
 * | `migrate` | applies the schema migrations the database lacks and reports the versions |
 * | `backup <file>` | an online, consistent copy of a SQLite store (PostgreSQL: `pg_dump` advice) |
 * | `connectors` | the connectors a running server offers |
 * | `integrations list/create/pause/resume/check/reimport` | a running server's integrations, over its admin API |
 *
 * `--help` on every command lists the environment variables it reads. `make` takes another
 * `serve` command, so a host (the example server with its demo) keeps every other command.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Span from "@effect/cli/HelpDoc/Span"
import * as Options from "@effect/cli/Options"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type * as Redacted from "effect/Redacted"
import * as fs from "node:fs"
import { AdminClient, layer as adminClientLayer } from "./AdminClient.js"
import type * as Database from "./Database.js"
import * as Logging from "./Logging.js"
import * as Progress from "./Progress.js"
import type * as Server from "./Server.js"
import * as ServerConfig from "./ServerConfig.js"

/** A description followed by the environment variables the command reads. */
const help = (text: string, groups: ReadonlyArray<ServerConfig.Variable["group"]>, names?: ReadonlyArray<string>) => {
  const variables = ServerConfig.variables.filter((v) =>
    groups.includes(v.group) && (names === undefined || names.includes(v.name))
  )
  const [first, ...rest] = variables.map((v): [Span.Span, HelpDoc.HelpDoc] => [
    Span.text(`${v.name} (default: ${v.default})`),
    HelpDoc.p(v.description)
  ])
  return first === undefined
    ? HelpDoc.p(text)
    : HelpDoc.blocks([HelpDoc.p(text), HelpDoc.h2("ENVIRONMENT"), HelpDoc.descriptionList([first, ...rest])])
}

// what `serve`, `migrate` and `backup` need is loaded when they run: the commands that only
// talk to a server start without loading every connector and database driver
const loadServer = Effect.promise(() => import("./Server.js"))
const loadDatabase = Effect.promise(() => import("./Database.js"))

/** Failures of a command as one line on stderr and exit code 1, not a stack trace. */
const reported = <A, E extends { readonly message: string }, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.asVoid,
    Effect.catchAll((error) =>
      Effect.zipRight(
        Console.error(`acd-bridge: ${error.message}`),
        Effect.sync(() => {
          process.exitCode = 1
        })
      )
    )
  )

// ---------------------------------------------------------------------------
// serve
// ---------------------------------------------------------------------------

const serveHelp = help(
  "Runs the server: the HTTP API, every connector and the scheduler, on the database of ACD_BRIDGE_DATABASE_URL, until SIGTERM or SIGINT.",
  ["serve"]
)

/**
 * `acd-bridge serve`.
 *
 * @since 0.1.0 @category commands
 */
export const serve = Command.make("serve", {}, () => Effect.flatMap(loadServer, (S) => S.serve())).pipe(Command.withDescription(serveHelp))

/**
 * A `serve` command with more options and code to run once the server listens (the example
 * server's `--no-demo` and demo feeder).
 *
 * @since 0.1.0 @category commands
 */
export const serveWith = <O>(options: {
  readonly options: Options.Options<O>
  readonly title?: string | undefined
  readonly description?: string | undefined
  readonly onStarted: (
    started: Server.Started,
    flags: O
  ) => Effect.Effect<void, never, Server.StartedServices>
}) =>
  Command.make(
    "serve",
    { flags: options.options },
    ({ flags }) =>
      Effect.flatMap(
        loadServer,
        (S) => S.serve({ title: options.title, onStarted: (started) => options.onStarted(started, flags) })
      )
  ).pipe(Command.withDescription(options.description === undefined ? serveHelp : help(options.description, ["serve"])))

// ---------------------------------------------------------------------------
// migrate, backup
// ---------------------------------------------------------------------------

const database = Effect.all([ServerConfig.databaseUrl, loadDatabase]).pipe(
  Effect.flatMap(([url, D]) => Effect.map(D.parse(url), (db) => ({ db, D })))
)

const withLogging = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.orDie(ServerConfig.logging), (l) =>
    Effect.provide(effect, Logging.layer({ format: l.logFormat, level: l.logLevel })))

/**
 * `acd-bridge migrate`.
 *
 * @since 0.1.0 @category commands
 */
export const migrate = Command.make("migrate", {}, () =>
  reported(Effect.gen(function*() {
    const { D, db } = yield* database
    const report = yield* D.migrate(db)
    const names = (ms: ReadonlyArray<Database.Migration>) => ms.map((m) => `${m.id} ${m.name}`).join(", ")
    yield* Console.log([
      `database: ${report.database}`,
      `schema version before: ${report.before.length === 0 ? "none (a new database)" : report.before.reduce((n, m) => Math.max(n, m.id), 0)}`,
      `applied: ${report.applied.length === 0 ? "nothing (up to date)" : names(report.applied)}`,
      `schema version now: ${report.version}`
    ].join("\n"))
  }).pipe(withLogging))).pipe(
    Command.withDescription(help(
      "Applies the schema migrations the database lacks and reports the schema version before and after. The server applies them at start too; run this before starting a new version to see what changes (back up first).",
      ["serve"],
      ["ACD_BRIDGE_DATABASE_URL", "ACD_BRIDGE_LOG_LEVEL", "ACD_BRIDGE_LOG_FORMAT"]
    ))
  )

/**
 * `acd-bridge backup <file>`.
 *
 * @since 0.1.0 @category commands
 */
export const backup = Command.make(
  "backup",
  { file: Args.text({ name: "file" }).pipe(Args.withDescription("the backup file to write (must not exist)")) },
  ({ file }) =>
    reported(Effect.gen(function*() {
      const { D, db } = yield* database
      const report = yield* D.backup(db, file)
      yield* Console.log(
        `backed up ${report.source} to ${report.target}: ${report.bytes.toLocaleString("en-US")} bytes, schema version ${report.version}, integrity ${report.integrity}`
      )
    }).pipe(withLogging))
).pipe(
  Command.withDescription(help(
    "Writes an online, consistent copy of the SQLite database (VACUUM INTO: one read snapshot, the server keeps running) and checks it. Restore: stop the server, replace the database file with the copy, start it. For PostgreSQL it prints the pg_dump command to use instead.",
    ["serve"],
    ["ACD_BRIDGE_DATABASE_URL", "ACD_BRIDGE_LOG_LEVEL", "ACD_BRIDGE_LOG_FORMAT"]
  ))
)

// ---------------------------------------------------------------------------
// commands against a running server
// ---------------------------------------------------------------------------

const clientOptions = {
  url: Options.text("url").pipe(
    Options.withDescription("the server's URL (else ACD_BRIDGE_URL, else http://127.0.0.1:8080)"),
    Options.optional
  ),
  token: Options.redacted("token").pipe(
    Options.withDescription("bearer token: the admin token or a personal access token (else ACD_BRIDGE_TOKEN, else ACD_BRIDGE_ADMIN_TOKEN)"),
    Options.optional
  ),
  json: Options.boolean("json").pipe(Options.withDescription("print the server's JSON answer"))
}

interface ClientFlags {
  readonly url: Option.Option<string>
  readonly token: Option.Option<Redacted.Redacted<string>>
  readonly json: boolean
}

class MissingToken extends Error {
  override readonly message = "no token: pass --token or set ACD_BRIDGE_TOKEN (or ACD_BRIDGE_ADMIN_TOKEN)"
}

/** Runs `effect` with an admin client for the flags (else the environment). */
const withClient = <A, E extends { readonly message: string }>(
  flags: ClientFlags,
  effect: Effect.Effect<A, E, AdminClient>
) =>
  reported(Effect.gen(function*() {
    const env = yield* Effect.mapError(ServerConfig.client, (e) => new Error(String(e)))
    const url = Option.getOrElse(flags.url, () => env.url)
    const token = Option.orElse(flags.token, () => env.token)
    if (Option.isNone(token)) return yield* Effect.fail(new MissingToken())
    return yield* effect.pipe(
      Effect.provide(adminClientLayer({ url, token: token.value }).pipe(Layer.provide(FetchHttpClient.layer)))
    )
  }))

const clientHelp = (text: string) => help(text, ["client"])

const printJson = (value: unknown) => Console.log(JSON.stringify(value, null, 2))

const str = (value: unknown, key: string): string => {
  if (!Predicate.isRecord(value)) return ""
  const v = value[key]
  return v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v)
}

/** Rows as aligned columns. */
const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()
  return [line(header), ...rows.map(line)].join("\n")
}

/**
 * `acd-bridge connectors`.
 *
 * @since 0.1.0 @category commands
 */
export const connectors = Command.make("connectors", clientOptions, (flags) =>
  withClient(
    flags,
    Effect.gen(function*() {
      const answer = yield* (yield* AdminClient).request("GET", "/v1/connectors")
      if (flags.json) return yield* printJson(answer)
      const list = Array.isArray(answer) ? answer : []
      yield* Console.log(table(
        ["KEY", "NAME", "DELIVERY", "DATA", "REALTIME"],
        list.map((c: unknown) => [
          str(c, "key"),
          str(c, "displayName"),
          Predicate.isRecord(c) && Array.isArray(c["deliveryModes"]) ? c["deliveryModes"].join(",") : "",
          Predicate.isRecord(c) && Array.isArray(c["dataKinds"]) ? c["dataKinds"].join(",") : "",
          Predicate.isRecord(c) && typeof c["realtime"] === "boolean" ? (c["realtime"] ? "yes" : "no") : str(c, "realtime")
        ])
      ))
    })
  )).pipe(Command.withDescription(clientHelp("Lists the connectors the server offers, with their delivery modes and data kinds (--json: their config schemas too).")))

const idArg = Args.text({ name: "id" }).pipe(Args.withDescription("the integration's id"))

const integrationsPath = (id: string, action = "") => `/v1/integrations/${encodeURIComponent(id)}${action}`

const showIntegration = (value: unknown) =>
  Console.log(
    `${str(value, "id")}  ${str(value, "name")}  ${str(value, "connector")} (${str(value, "deliveryMode")})  ${str(value, "status")}${
      str(value, "failing") === "" ? "" : `  failing: ${str(value, "failing")}`
    }`
  )

const list = Command.make("list", clientOptions, (flags) =>
  withClient(
    flags,
    Effect.gen(function*() {
      const answer = yield* (yield* AdminClient).request("GET", "/v1/integrations")
      if (flags.json) return yield* printJson(answer)
      const rows = Array.isArray(answer) ? answer : []
      yield* Console.log(table(
        ["ID", "NAME", "CONNECTOR", "MODE", "STATUS", "SCHEDULE"],
        rows.map((i: unknown) => {
          const schedule = Predicate.isRecord(i) && Predicate.isRecord(i["schedule"]) ? i["schedule"] : {}
          return [
            str(i, "id"),
            str(i, "name"),
            str(i, "connector"),
            str(i, "deliveryMode"),
            str(i, "status") + (str(i, "failing") === "" ? "" : " (failing)"),
            schedule["type"] === "realtime" ? "realtime" : `every ${str(schedule, "everyMinutes")} min`
          ]
        })
      ))
    })
  )).pipe(Command.withDescription(clientHelp("Lists the tenant's integrations.")))

const followOption = Options.boolean("follow").pipe(
  Options.withDescription("show progress until the import is done: a progress bar on a terminal, a line every 5 seconds otherwise")
)

class InvalidInput extends Error {}

const readConfig = (config: Option.Option<string>, file: Option.Option<string>) =>
  Effect.try({
    try: (): unknown => {
      if (Option.isSome(file)) return JSON.parse(fs.readFileSync(file.value, "utf8"))
      if (Option.isSome(config)) return JSON.parse(config.value)
      return undefined
    },
    catch: (cause) => new InvalidInput(`--config/--config-file: not JSON: ${cause instanceof Error ? cause.message : String(cause)}`)
  })

const create = Command.make(
  "create",
  {
    ...clientOptions,
    name: Options.text("name").pipe(Options.withDescription("the integration's name")),
    connector: Options.text("connector").pipe(Options.withDescription("the connector key (see `acd-bridge connectors`)")),
    deliveryMode: Options.choice("delivery-mode", ["cloud", "on-premise"]).pipe(Options.optional),
    schedule: Options.choice("schedule", ["15", "30", "60", "realtime"]).pipe(
      Options.withDescription("historical every 15, 30 or 60 minutes, or realtime (default: the server's default)"),
      Options.optional
    ),
    timezone: Options.text("timezone").pipe(Options.withDescription("the source's IANA time zone"), Options.optional),
    historyDays: Options.integer("history-days").pipe(
      Options.withDescription("how many days of history the first import reads"),
      Options.optional
    ),
    config: Options.text("config").pipe(Options.withDescription("the connector config as JSON"), Options.optional),
    configFile: Options.file("config-file").pipe(Options.withDescription("a file with the connector config as JSON"), Options.optional),
    follow: followOption
  },
  (flags) =>
    withClient(
      flags,
      Effect.gen(function*() {
        const config = yield* readConfig(flags.config, flags.configFile)
        const body = {
          name: flags.name,
          connector: flags.connector,
          ...Option.match(flags.deliveryMode, { onNone: () => ({}), onSome: (deliveryMode) => ({ deliveryMode }) }),
          ...Option.match(flags.schedule, {
            onNone: () => ({}),
            onSome: (s) => ({
              schedule: s === "realtime" ? { type: "realtime" } : { type: "historical", everyMinutes: Number(s) }
            })
          }),
          ...Option.match(flags.timezone, { onNone: () => ({}), onSome: (timezone) => ({ timezone }) }),
          ...Option.match(flags.historyDays, { onNone: () => ({}), onSome: (historyDepthDays) => ({ historyDepthDays }) }),
          ...(config === undefined ? {} : { config })
        }
        const answer = yield* (yield* AdminClient).request("POST", "/v1/integrations", body)
        if (flags.json) yield* printJson(answer)
        else {
          yield* showIntegration(answer)
          const warnings = Predicate.isRecord(answer) && Array.isArray(answer["warnings"]) ? answer["warnings"] : []
          for (const w of warnings) yield* Console.log(`warning: ${String(w)}`)
        }
        if (flags.follow) {
          yield* Console.error("following the first import (history)…")
          yield* Progress.follow(str(answer, "id"), "history")
        }
      })
    )
).pipe(Command.withDescription(clientHelp("Creates an integration; --follow shows its history import.")))

const simple = (name: "pause" | "resume", text: string) =>
  Command.make(name, { ...clientOptions, id: idArg }, (flags) =>
    withClient(
      flags,
      Effect.gen(function*() {
        const answer = yield* (yield* AdminClient).request("POST", integrationsPath(flags.id, `/${name}`))
        yield* flags.json ? printJson(answer) : showIntegration(answer)
      })
    )).pipe(Command.withDescription(clientHelp(text)))

const check = Command.make("check", { ...clientOptions, id: idArg }, (flags) =>
  withClient(
    flags,
    Effect.gen(function*() {
      const answer = yield* (yield* AdminClient).request("POST", integrationsPath(flags.id, "/check"))
      if (flags.json) return yield* printJson(answer)
      const items = Predicate.isRecord(answer) && Array.isArray(answer["items"]) ? answer["items"] : []
      for (const item of items) {
        yield* Console.log(`${Predicate.isRecord(item) && item["ok"] === true ? "ok  " : "FAIL"}  ${str(item, "name")}: ${str(item, "detail")}`)
      }
      const ok = Predicate.isRecord(answer) && answer["ok"] === true
      yield* Console.log(ok ? "check passed" : "check failed")
      if (!ok) {
        yield* Effect.sync(() => {
          process.exitCode = 1
        })
      }
    })
  )).pipe(Command.withDescription(clientHelp("Runs the connector's check with the stored config (connection, credentials) and prints what it found; exit code 1 when it failed.")))

const reimport = Command.make(
  "reimport",
  {
    ...clientOptions,
    id: idArg,
    from: Options.text("from").pipe(Options.withDescription("ISO-8601 instant where the range starts")),
    to: Options.text("to").pipe(Options.withDescription("ISO-8601 instant where the range ends")),
    follow: followOption
  },
  (flags) =>
    withClient(
      flags,
      Effect.gen(function*() {
        const answer = yield* (yield* AdminClient).request("POST", integrationsPath(flags.id, "/reimport"), {
          from: flags.from,
          to: flags.to
        })
        if (flags.json) yield* printJson(answer)
        else yield* Console.log(`re-importing ${str(answer, "from")} to ${str(answer, "to")}`)
        if (flags.follow) yield* Progress.follow(flags.id, "reimport")
      })
    )
).pipe(Command.withDescription(clientHelp("Imports a range again (aligned to the integration's intervals); --follow shows progress until it is done.")))

/**
 * `acd-bridge integrations …`.
 *
 * @since 0.1.0 @category commands
 */
export const integrations = Command.make("integrations").pipe(
  Command.withDescription(clientHelp("A running server's integrations, over its admin API.")),
  Command.withSubcommands([
    list,
    create,
    simple("pause", "Pauses an integration: nothing is imported or applied; pushes are staged."),
    simple("resume", "Resumes an integration: staged pushes are applied and the gap is imported."),
    check,
    reimport
  ])
)

// ---------------------------------------------------------------------------
// the program
// ---------------------------------------------------------------------------

/**
 * The `acd-bridge` command with its subcommands; `serveCommand` replaces `serve`.
 *
 * @since 0.1.0 @category commands
 */
export const make = () => makeWith(serve)

/**
 * The `acd-bridge` command with another `serve` command (`serveWith`).
 *
 * @since 0.1.0 @category commands
 */
export const makeWith = <A, R, E>(serveCommand: Command.Command<"serve", R, E, A>) =>
  Command.make("acd-bridge", {}, () =>
    Console.error("acd-bridge: give a command: serve, migrate, backup, connectors or integrations (--help tells more)").pipe(
      Effect.zipRight(Effect.sync(() => {
        process.exitCode = 2
      }))
    )).pipe(
      Command.withDescription(help(
        "acd-bridge imports contact-centre data into a workforce-management system. `serve` runs the server; the other commands maintain its database or talk to it.",
        ["serve", "client"]
      )),
      Command.withSubcommands([serveCommand, migrate, backup, connectors, integrations])
    )

/**
 * Runs a command line (`process.argv`) with `command`.
 *
 * @since 0.1.0 @category programs
 */
export const run = <A, R, E>(
  command: Command.Command<"acd-bridge", R, E, A>,
  argv: ReadonlyArray<string>,
  options: { readonly name?: string | undefined; readonly version?: string | undefined } = {}
) =>
  Command.run(command, { name: options.name ?? "acd-bridge", version: options.version ?? "0.1.0" })(
    // `pnpm start -- …` hands the script a literal "--": drop it
    argv.filter((arg, i) => !(arg === "--" && i === 2))
  )
