/**
 * The `acd-link` commands: `run`, `check`, `status`, with `--help` on each. The agent, the
 * connectors and the engine's client are loaded when a command runs, so `--help` and
 * `--version` start quickly and work from the built `dist/` alone.
 *
 * @since 0.3.0
 */
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as LinkConfig from "./LinkConfig.js"
import * as Progress from "./Progress.js"

/** The link's release (kept in step with `Agent.version`). @since 0.3.0 @category constants */
export const version = "0.3.0"

const config = Options.file("config").pipe(
  Options.withAlias("c"),
  Options.withDescription("the link's configuration (YAML or JSON); in the Docker image /etc/acd-link/link.yaml"),
  Options.withDefault("link.yaml")
)

const progressEvery = Options.integer("progress-every").pipe(
  Options.withDescription(
    "seconds between plain progress lines of a history import when the output is not a terminal (a terminal gets a bar)"
  ),
  Options.withDefault(10)
)

/** The agent and the connectors, loaded when a command needs them. */
const runtime = Effect.promise(async () => {
  const [{ ConnectorRegistry, LinkModel }, { CsvConnector }, { GenesysEngage }, { SqlConnector }, Agent, Outbox, Fetch] =
    await Promise.all([
      import("@acd-bridge/core"),
      import("@acd-bridge/csv"),
      import("@acd-bridge/genesys-engage"),
      import("@acd-bridge/sql-source"),
      import("./Agent.js"),
      import("./Outbox.js"),
      import("@effect/platform/FetchHttpClient")
    ])
  return {
    Agent,
    Outbox,
    ConnectorRegistry,
    LinkModel,
    http: Fetch.layer,
    registry: ConnectorRegistry.layer(CsvConnector.connector, SqlConnector.connector, GenesysEngage.connector)
  }
})

const loaded = (file: string) =>
  LinkConfig.load(file).pipe(
    Effect.tapError((error) => Console.error(error.message)),
    Effect.orElse(() => Effect.sync(() => process.exit(2)))
  )

const run = Command.make("run", { config, progressEvery }, ({ config: file, progressEvery: every }) =>
  Effect.gen(function*() {
    const cfg = yield* loaded(file)
    const rt = yield* runtime
    yield* rt.Agent.run(cfg).pipe(
      Effect.provide(Layer.mergeAll(
        rt.Outbox.layer(cfg.outbox),
        rt.registry,
        rt.http,
        Progress.layer({ stream: process.stderr, every: `${Math.max(1, every)} seconds` })
      ))
    )
  })).pipe(
    Command.withDescription(
      "lease the engine's tasks and run them until stopped (SIGTERM hands leases back); a history import shows a progress bar on a terminal, plain lines otherwise"
    )
  )

/**
 * Whether the engine takes the link's token and protocol, without changing anything there: a
 * poll for work would record what the link serves (and could lease a window the running link
 * should get), so `check` renews a lease that doesn't exist. The engine authenticates the
 * token and the protocol first (401, 426) and then answers 404 for the unknown task.
 *
 * @since 0.3.0 @category checks
 */
export const probeEngine = (
  cfg: LinkConfig.LinkConfig,
  headers: { readonly protocol: string; readonly protocolVersion: number }
): Effect.Effect<Either.Either<string, string>, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const { HttpClient, HttpClientRequest } = yield* Effect.promise(async () => ({
      HttpClient: await import("@effect/platform/HttpClient"),
      HttpClientRequest: await import("@effect/platform/HttpClientRequest")
    }))
    const http = yield* HttpClient.HttpClient
    const url = `${cfg.engine.url.replace(/\/+$/, "")}/v1/link/tasks/acd-link-check/renew`
    const request = HttpClientRequest.post(url).pipe(
      HttpClientRequest.bearerToken(Redacted.value(cfg.engine.token)),
      HttpClientRequest.setHeader(headers.protocol, String(headers.protocolVersion)),
      HttpClientRequest.bodyUnsafeJson({ leaseId: "acd-link-check" })
    )
    return yield* http.execute(request).pipe(
      Effect.flatMap((response) =>
        Effect.map(Effect.orElseSucceed(response.text, () => ""), (text): Either.Either<string, string> => {
          if (response.status === 404) return Either.right("token accepted")
          const detail = (() => {
            try {
              const json = JSON.parse(text) as unknown
              return typeof json === "object" && json !== null && "detail" in json ? String(json.detail) : text
            } catch {
              return text
            }
          })()
          return Either.left(`the engine answered ${response.status}: ${detail}`)
        })
      ),
      Effect.scoped,
      Effect.catchAll((error) => Effect.succeed(Either.left(error.message) as Either.Either<string, string>))
    )
  })

const check = Command.make("check", { config }, ({ config: file }) =>
  Effect.gen(function*() {
    const cfg = yield* loaded(file)
    const rt = yield* runtime
    const outcome = yield* Effect.gen(function*() {
      let failed = false
      const reg = yield* rt.ConnectorRegistry.ConnectorRegistry
      for (const entry of cfg.integrations) {
        const registered = yield* reg.get(entry.connector).pipe(Effect.orDie)
        const configured = registered.configure(entry.config)
        if (Either.isLeft(configured)) {
          failed = true
          yield* Console.log(`✗ ${entry.id} (${entry.connector}): ${configured.left.message}`)
          continue
        }
        const report = yield* configured.right.check
        failed ||= !report.ok
        yield* Console.log(`${report.ok ? "✓" : "✗"} ${entry.id} (${entry.connector})`)
        for (const item of report.items) yield* Console.log(`    ${item.ok ? "✓" : "✗"} ${item.name}: ${item.detail}`)
      }
      const engine = yield* probeEngine(cfg, {
        protocol: rt.LinkModel.protocolHeader,
        protocolVersion: rt.LinkModel.protocolVersion
      })
      if (Either.isLeft(engine)) failed = true
      yield* Console.log(
        Either.isRight(engine) ? `✓ engine ${cfg.engine.url}: ${engine.right}` : `✗ engine ${cfg.engine.url}: ${engine.left}`
      )
      return failed
    }).pipe(Effect.provide(Layer.mergeAll(rt.registry, rt.http)))
    if (outcome) return yield* Effect.sync(() => process.exit(1))
  })).pipe(
    Command.withDescription(
      "test every integration's connection and the engine's URL and token, changing nothing on the engine; non-zero exit on failure"
    )
  )

const status = Command.make("status", { config }, ({ config: file }) =>
  Effect.gen(function*() {
    const cfg = yield* loaded(file)
    const rt = yield* runtime
    const s = yield* rt.Agent.status.pipe(Effect.provide(rt.Outbox.layer(cfg.outbox)))
    yield* Console.log(`outbox: ${s.depth} result(s) waiting for upload, ${s.parked.length} parked`)
    for (const p of s.parked) yield* Console.log(`  parked ${p.taskId} (${p.integrationId}, ${p.records} records): ${p.reason}`)
  })).pipe(Command.withDescription("the outbox's depth and parked results"))

/** What `acd-link --help` says about running it where customers run it. */
const about = [
  "The on-premise agent of acd-bridge: it reads Genesys Info Mart, customer databases (sql) and CSV folders next to the source and uploads each window to the engine.",
  "Install and run: `npx @acd-bridge/link run --config link.yaml` (Node 20.19+ or 22), or `npm install -g @acd-bridge/link`.",
  "Docker: the image of packages/link/Dockerfile runs as a non-root user with the configuration mounted at /etc/acd-link/link.yaml and the outbox in the volume /var/lib/acd-link.",
  "Linux service: packages/link/deploy/acd-link.service (systemd; Restart=on-failure, user acd-link).",
  "Windows service: NSSM (`nssm install acd-link …`), see the package README."
].join(" ")

/**
 * The `acd-link` command line.
 *
 * @since 0.3.0 @category commands
 */
export const cli = Command.run(
  Command.make("acd-link").pipe(Command.withDescription(about), Command.withSubcommands([run, check, status])),
  { name: "acd-link", version }
)
