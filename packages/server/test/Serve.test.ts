/**
 * `Server.serve` in this process, with the environment given as a `ConfigProvider`: every
 * setting an operator can get wrong is refused with one sentence naming the variable, and
 * plugins are loaded from paths (or refused) as documented.
 */
import { assert, describe, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Connectors, Database, Server, ServerConfig } from "../src/index.js"

const dir = mkdtempSync(join(tmpdir(), "acd-server-serve-"))

/** Runs `serve` with `env` until it prints its banner (then interrupts it) or fails; returns what it printed. */
const serveWith = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const current = yield* Console.consoleWith(Effect.succeed)
    const console: Console.Console = {
      ...current,
      unsafe: { ...current.unsafe, log: (...a) => lines.push(a.join(" ")), error: (...a) => lines.push(a.join(" ")) },
      log: (...a) => Effect.sync(() => void lines.push(a.join(" "))),
      error: (...a) => Effect.sync(() => void lines.push(a.join(" ")))
    }
    const before = process.exitCode
    const fiber = yield* Server.serve().pipe(
      Effect.withConsole(console),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries({ PORT: "0", ...env })))),
      Effect.fork
    )
    for (let i = 0; i < 400 && lines.every((l) => !l.includes("listening on")) && fiber.unsafePoll() === null; i++) {
      yield* Effect.sleep("25 millis")
    }
    yield* Fiber.interrupt(fiber)
    const exitCode = process.exitCode
    process.exitCode = before
    return { output: lines.join("\n"), exitCode }
  })

describe("ServerConfig", () => {
  it.effect("reads every default", () =>
    Effect.gen(function*() {
      const settings = yield* ServerConfig.config.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map())))
      assert.strictEqual(settings.port, 8080)
      assert.strictEqual(settings.host, "127.0.0.1")
      assert.strictEqual(settings.databaseUrl, "./data/acd-bridge.sqlite")
      assert.strictEqual(settings.tenant, "default")
      assert.strictEqual(settings.onPremise, "local")
      assert.isTrue(settings.scheduler)
      assert.strictEqual(settings.logFormat, "pretty")
      assert.isTrue(Option.isNone(settings.adminToken))
    }))

  it.effect("documents every variable it reads, and reads every variable it documents", () =>
    Effect.gen(function*() {
      // each documented variable set to a value its reader refuses must fail naming it
      const serveVariables = ServerConfig.variables.filter((v) => v.group === "serve").map((v) => v.name)
      const numeric = ["PORT", "ACD_BRIDGE_MAX_BODY_BYTES"]
      const enumerated = ["ACD_BRIDGE_ON_PREMISE", "ACD_BRIDGE_LOG_FORMAT", "ACD_BRIDGE_LOG_LEVEL", "ACD_BRIDGE_SCHEDULER", "ACD_BRIDGE_TRUST_PROXY"]
      for (const name of [...numeric, ...enumerated]) {
        assert.include(serveVariables, name)
        const result = yield* Effect.either(
          ServerConfig.config.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map([[name, "§nonsense§"]]))))
        )
        assert.isTrue(Either.isLeft(result), name)
        if (Either.isLeft(result)) assert.include(String(result.left), name)
      }
      const described = ServerConfig.describe(["serve", "client"])
      for (const v of ServerConfig.variables) assert.include(described, v.name)
    }))

  it("docs/operations.md has a row for every variable, with its default", () => {
    const doc = readFileSync(new URL("../../../docs/operations.md", import.meta.url), "utf8")
    const rows = doc.split("\n").filter((l) => l.startsWith("| `"))
    for (const v of ServerConfig.variables) {
      const row = rows.find((r) => r.split("|")[1]!.includes(`\`${v.name}\``))
      assert.isDefined(row, v.name)
      const shown = /^[\w .:/-]+$/.test(v.default) && !v.default.includes(" ") ? `\`${v.default}\`` : undefined
      if (shown !== undefined) assert.include(row, shown, v.name)
    }
  })

  it.effect("ACD_BRIDGE_TENANTS and ACD_BRIDGE_PLUGINS are comma-separated lists", () =>
    Effect.gen(function*() {
      const settings = yield* ServerConfig.config.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map([
        ["ACD_BRIDGE_TENANTS", " acme, beta ,,"],
        ["ACD_BRIDGE_PLUGINS", "./a.mjs,@acme/connector"],
        ["ACD_BRIDGE_ADMIN_TOKEN", "a-token-of-twenty-chars"]
      ]))))
      assert.deepStrictEqual(settings.tenants, ["acme", "beta"])
      assert.deepStrictEqual(settings.plugins, ["./a.mjs", "@acme/connector"])
      assert.strictEqual(Option.map(settings.adminToken, Redacted.value).pipe(Option.getOrNull), "a-token-of-twenty-chars")
    }))
})

describe("Database.parse", () => {
  it("reads SQLite paths and PostgreSQL URLs, and refuses other stores", () => {
    assert.deepStrictEqual(Database.parse("./data/x.sqlite", "/srv"), Either.right({ _tag: "Sqlite", filename: "/srv/data/x.sqlite" }))
    assert.deepStrictEqual(Database.parse("sqlite:/var/lib/a.db", "/srv"), Either.right({ _tag: "Sqlite", filename: "/var/lib/a.db" }))
    assert.deepStrictEqual(Database.parse("file://rel/a.db", "/srv"), Either.right({ _tag: "Sqlite", filename: "/srv/rel/a.db" }))
    const pg = Database.parse("postgresql://u:secret@db:5433/acd")
    assert.isTrue(Either.isRight(pg) && pg.right._tag === "Postgres")
    if (Either.isRight(pg)) assert.strictEqual(Database.describe(pg.right), "PostgreSQL db:5433/acd")
    const mysql = Database.parse("mysql://u:p@h/db")
    assert.isTrue(Either.isLeft(mysql))
    if (Either.isLeft(mysql)) assert.include(mysql.left.message, "\"mysql:\" is not a store the server can use")
    assert.isTrue(Either.isLeft(Database.parse("sqlite:")))
  })
})

describe("Database.backup", () => {
  it.effect("refuses a missing database or an existing target, and gives pg_dump advice for PostgreSQL", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(Database.backup({ _tag: "Sqlite", filename: join(dir, "none", "db.sqlite") }, join(dir, "x.sqlite")))
      assert.include(missing.message, "there is no database at")
      const source = join(dir, "exists.sqlite")
      writeFileSync(source, "")
      const taken = yield* Effect.flip(Database.backup({ _tag: "Sqlite", filename: source }, source))
      assert.include(taken.message, "exists already: give a new file name")
      const pg = Database.parse("postgres://acd:secret@db.example:5432/acd")
      assert.isTrue(Either.isRight(pg))
      if (Either.isLeft(pg)) return
      const advice = yield* Effect.flip(Database.backup(pg.right, join(dir, "x.dump")))
      assert.include(advice.message, "pg_dump --format=custom")
      assert.include(advice.message, "PostgreSQL db.example:5432/acd")
      assert.notInclude(advice.message, "secret")
    }))
})

describe("Server.serve refuses what can't work, naming the setting", () => {
  const cases: ReadonlyArray<readonly [string, Record<string, string>, string]> = [
    ["an unusable database URL", { ACD_BRIDGE_DATABASE_URL: "mysql://u:p@db/x" }, "ACD_BRIDGE_DATABASE_URL: \"mysql:\" is not a store"],
    [
      "a plugin that is not there",
      { ACD_BRIDGE_PLUGINS: "./no/such/plugin.mjs" },
      "ACD_BRIDGE_PLUGINS: ./no/such/plugin.mjs: could not be imported"
    ],
    ["half a TLS pair", { ACD_BRIDGE_TLS_CERT: "/x.pem" }, "ACD_BRIDGE_TLS_CERT and ACD_BRIDGE_TLS_KEY go together"],
    ["an unreadable certificate", { ACD_BRIDGE_TLS_CERT: "/no/x.pem", ACD_BRIDGE_TLS_KEY: "/no/y.pem" }, "ACD_BRIDGE_TLS_CERT: can't read /no/x.pem"],
    ["plain HTTP on every address", { HOST: "0.0.0.0" }, "ACD_BRIDGE_TRUST_PROXY=true"],
    ["a short admin token", { ACD_BRIDGE_ADMIN_TOKEN: "short" }, "ACD_BRIDGE_ADMIN_TOKEN: must have at least 16 characters"],
    ["an unknown on-premise mode", { ACD_BRIDGE_ON_PREMISE: "cloud" }, "ACD_BRIDGE_ON_PREMISE"]
  ]
  for (const [what, env, message] of cases) {
    it.live(what, () =>
      Effect.gen(function*() {
        const { exitCode, output } = yield* serveWith({ ACD_BRIDGE_DATABASE_URL: join(dir, "refused.sqlite"), ...env })
        assert.strictEqual(exitCode, 1, output)
        assert.include(output, message)
        assert.notInclude(output, "listening on")
      }))
  }
})

describe("plugins", () => {
  const plugin = (name: string, body: string) => {
    const file = join(dir, name)
    writeFileSync(file, body)
    return file
  }
  const acme = `
import * as Schema from "effect/Schema"
export const connector = {
  key: "acme", displayName: "Acme ACD", deliveryModes: ["cloud"], dataKinds: ["contacts"],
  configSchema: Schema.Struct({ baseUrl: Schema.String })
}`

  it.effect("a module path exporting a connector adds it; a taken key or a module without one is refused", () =>
    Effect.gen(function*() {
      const file = plugin("acme.mjs", acme)
      const loaded = yield* Connectors.load([file])
      assert.deepStrictEqual(loaded.map((c) => c.key), ["acme"])
      // relative to the working directory
      const relative = yield* Connectors.load(["./acme.mjs"], { cwd: dir })
      assert.deepStrictEqual(relative.map((c) => c.key), ["acme"])

      const taken = yield* Effect.flip(Connectors.load([plugin("csv.mjs", acme.replace("\"acme\"", "\"csv\""))]))
      assert.include(taken.message, "connector key \"csv\" is taken by a built-in connector")
      const twice = yield* Effect.flip(Connectors.load([file, plugin("acme2.mjs", acme)]))
      assert.include(twice.message, "connector key \"acme\" is taken by")
      const none = yield* Effect.flip(Connectors.load([plugin("none.mjs", "export const x = 1")]))
      assert.include(none.message, "exports no connector")
    }))

  it.live("serve lists a plugin's connector beside the built-in ones", () =>
    Effect.gen(function*() {
      const file = plugin("acme-serve.mjs", acme)
      const { output } = yield* serveWith({ ACD_BRIDGE_DATABASE_URL: join(dir, "plugin.sqlite"), ACD_BRIDGE_PLUGINS: file })
      assert.include(output, "connectors: api-push, csv, sql, five9, vonage, genesys-engage, acme")
    }))
})
