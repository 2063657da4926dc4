/**
 * Every setting of the server, read from the environment with Effect `Config`. Each variable is
 * declared once here, with its default and what it does: `config` reads them, `variables`
 * documents them (`acd-bridge --help`, `docs/operations.md`), so the two can't drift apart.
 *
 * A host that embeds the server reads the same settings with `ServerConfig.config` or passes
 * its own values to `Server.layer`; tests swap the environment with a `ConfigProvider`.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

/**
 * One environment variable: its name, default (as shown to operators), what it does, and
 * which commands read it.
 *
 * @since 0.1.0 @category models
 */
export interface Variable {
  readonly name: string
  readonly default: string
  readonly description: string
  readonly group: "serve" | "client"
}

/**
 * Every environment variable the server and the command line read.
 *
 * @since 0.1.0 @category constants
 */
export const variables: ReadonlyArray<Variable> = [
  { name: "PORT", default: "8080", description: "port to listen on; 0 picks a free one (printed)", group: "serve" },
  {
    name: "HOST",
    default: "127.0.0.1",
    description: "address to listen on; a non-loopback address needs ACD_BRIDGE_TLS_CERT/KEY or ACD_BRIDGE_TRUST_PROXY=true",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_DATABASE_URL",
    default: "./data/acd-bridge.sqlite",
    description:
      "a SQLite file (relative to the working directory; its directory is created), sqlite:<path>, or postgres://user:pass@host:5432/db",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_ADMIN_TOKEN",
    default: "generated, printed",
    description: "the admin API's bearer token (at least 16 characters); acts in ACD_BRIDGE_TENANT",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_METRICS_TOKEN",
    default: "(none)",
    description:
      "a bearer token (at least 16 characters) that may only read GET /metrics, for a Prometheus scraper; the admin token and personal access tokens may read it too",
    group: "serve"
  },
  { name: "ACD_BRIDGE_TENANT", default: "default", description: "the tenant the admin token acts in", group: "serve" },
  {
    name: "ACD_BRIDGE_TENANTS",
    default: "(none)",
    description: "more tenants whose integrations the scheduler runs, comma-separated (users with personal access tokens)",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_ON_PREMISE",
    default: "local",
    description:
      "local: this server runs on-premise integrations (csv, sql, genesys-engage) itself, as a server inside the customer's network does; link: it leaves them to an on-premise link next to the source (the link agent is not released yet), and their health warns \"waiting for a link\"",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_PLUGINS",
    default: "(none)",
    description:
      "more connectors, comma-separated: module paths (relative to the working directory) or package names installed next to the server, each exporting a Connector (default export, `connector` or `connectors`)",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_SCHEDULER",
    default: "true",
    description: "false: import nothing on a schedule (a node that only serves the HTTP API)",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_POLL_INTERVAL",
    default: "30 seconds",
    description: "how soon the scheduler notices new, resumed or failing integrations it was not told about",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_CLUSTER",
    default: "false",
    description:
      "true: several servers share one PostgreSQL database; each integration's schedule runs on the node holding its lease (docs/operations/scaling.md)",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_NODE_ID",
    default: "(host name:process id)",
    description: "this node's name in the lease tables (with ACD_BRIDGE_CLUSTER)",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_LEASE_TTL",
    default: "15 seconds",
    description: "how long a lease lasts unrenewed: a dead node's integrations move within about this plus a renewal",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_LEASE_RENEW",
    default: "(a third of ACD_BRIDGE_LEASE_TTL)",
    description: "how often a node renews, takes and gives back leases",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_RATE_LIMIT_RPS",
    default: "2000",
    description:
      "requests per second each principal (admin, user token, API key) may send; shared by every node with ACD_BRIDGE_CLUSTER",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_RATE_LIMIT_BURST",
    default: "4000",
    description: "requests a principal may send at once above ACD_BRIDGE_RATE_LIMIT_RPS (429 with Retry-After beyond it)",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_RETAIN_RUNS",
    default: "90 days",
    description: "import runs older than this are pruned (each integration keeps its newest ACD_BRIDGE_RETAIN_RUNS_KEEP); interval data and agent statuses are kept",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_RETAIN_RUNS_KEEP",
    default: "1000",
    description: "import runs each integration keeps whatever their age",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_RETENTION_INTERVAL",
    default: "1 hour",
    description: "how often import runs and expired idempotency records (older than 24 hours) are pruned",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_TLS_CERT",
    default: "(none)",
    description: "PEM certificate file: serve HTTPS (with ACD_BRIDGE_TLS_KEY)",
    group: "serve"
  },
  { name: "ACD_BRIDGE_TLS_KEY", default: "(none)", description: "PEM private key file of ACD_BRIDGE_TLS_CERT", group: "serve" },
  {
    name: "ACD_BRIDGE_TRUST_PROXY",
    default: "false",
    description: "true: a TLS-terminating proxy sits in front (plain HTTP on any address; client addresses from X-Forwarded-For)",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_MAX_BODY_BYTES",
    default: "10485760",
    description: "largest request body (413 above it)",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_SHUTDOWN_GRACE",
    default: "5 seconds",
    description: "on SIGTERM/SIGINT: how long requests in flight may finish before connections are closed",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_LOG_LEVEL",
    default: "Info",
    description: "All, Trace, Debug, Info, Warning, Error, Fatal or None; the access log is at Info",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_LOG_FORMAT",
    default: "pretty",
    description: "pretty (readable lines, coloured on a terminal), logfmt (key=value lines) or json (one JSON object per line, for log collectors)",
    group: "serve"
  },
  {
    name: "ACD_BRIDGE_URL",
    default: "http://127.0.0.1:8080",
    description: "the running server the integrations and connectors commands talk to",
    group: "client"
  },
  {
    name: "ACD_BRIDGE_TOKEN",
    default: "ACD_BRIDGE_ADMIN_TOKEN",
    description: "bearer token of those commands: the admin token or a personal access token",
    group: "client"
  }
]

/**
 * Where on-premise integrations run: in this server (`local`) or in a link agent (`link`).
 *
 * @since 0.1.0 @category models
 */
export type OnPremise = "local" | "link"

/**
 * How log lines are written.
 *
 * @since 0.1.0 @category models
 */
export type LogFormat = "pretty" | "logfmt" | "json"

/**
 * The settings of `acd-bridge serve`.
 *
 * @since 0.1.0 @category models
 */
export interface Settings {
  readonly port: number
  readonly host: string
  readonly databaseUrl: string
  readonly adminToken: Option.Option<Redacted.Redacted<string>>
  readonly metricsToken: Option.Option<Redacted.Redacted<string>>
  readonly tenant: string
  readonly tenants: ReadonlyArray<string>
  readonly onPremise: OnPremise
  readonly plugins: ReadonlyArray<string>
  readonly scheduler: boolean
  readonly pollInterval: Duration.Duration
  /** requests per second per principal (`None`: the HTTP adapter's default) */
  readonly rateLimitRps: Option.Option<number>
  /** requests a principal may send at once (`None`: the HTTP adapter's default) */
  readonly rateLimitBurst: Option.Option<number>
  readonly retainRuns: Duration.Duration
  readonly retainRunsKeep: number
  readonly retentionInterval: Duration.Duration
  readonly tlsCert: Option.Option<string>
  readonly tlsKey: Option.Option<string>
  readonly trustProxy: boolean
  readonly maxBodyBytes: number
  readonly shutdownGrace: Duration.Duration
  readonly logLevel: LogLevel.LogLevel
  readonly logFormat: LogFormat
}

/** A comma-separated list; blanks dropped. */
const list = (name: string) =>
  Config.string(name).pipe(
    Config.withDefault(""),
    Config.map((text) => text.split(",").map((s) => s.trim()).filter((s) => s.length > 0))
  )

const nonEmpty = (name: string, fallback: string) =>
  Config.string(name).pipe(
    Config.withDefault(fallback),
    Config.validate({ message: `${name} must not be empty`, validation: (s) => s.trim().length > 0 })
  )

/**
 * The database URL alone (`migrate` and `backup` need nothing else).
 *
 * @since 0.1.0 @category config
 */
/**
 * A log level by name, in any case: Effect's labels (`WARN`, `OFF`) and the names the help
 * lists (`Warning`, `None`), so what `--help` says is what works.
 */
const logLevelConfig = (name: string): Config.Config<LogLevel.LogLevel> =>
  Config.string(name).pipe(
    Config.mapOrFail((text) => {
      const wanted = text.trim().toLowerCase()
      const alias: Record<string, string> = { warning: "warn", none: "off" }
      const level = LogLevel.allLevels.find((l) => l.label.toLowerCase() === (alias[wanted] ?? wanted))
      return level === undefined
        ? Either.left(ConfigError.InvalidData([name], `must be All, Trace, Debug, Info, Warning, Error, Fatal or None, not "${text}"`))
        : Either.right(level)
    }),
    Config.withDefault(LogLevel.Info)
  )

export const databaseUrl: Config.Config<string> = nonEmpty("ACD_BRIDGE_DATABASE_URL", "./data/acd-bridge.sqlite")

/**
 * The log settings alone (every command logs).
 *
 * @since 0.1.0 @category config
 */
export const logging: Config.Config<{ readonly logLevel: LogLevel.LogLevel; readonly logFormat: LogFormat }> = Config
  .all({
    logLevel: logLevelConfig("ACD_BRIDGE_LOG_LEVEL"),
    logFormat: Config.literal("pretty", "logfmt", "json")("ACD_BRIDGE_LOG_FORMAT").pipe(
      Config.withDefault("pretty" as const)
    )
  })

/**
 * Every setting of `acd-bridge serve`, from the environment.
 *
 * @since 0.1.0 @category config
 */
export const config: Config.Config<Settings> = Config.all({
  port: Config.integer("PORT").pipe(
    Config.withDefault(8080),
    Config.validate({ message: "PORT must be between 0 and 65535", validation: (n) => n >= 0 && n <= 65_535 })
  ),
  host: nonEmpty("HOST", "127.0.0.1"),
  databaseUrl,
  adminToken: Config.option(Config.redacted("ACD_BRIDGE_ADMIN_TOKEN").pipe(
    Config.validate({ message: "ACD_BRIDGE_ADMIN_TOKEN: must have at least 16 characters", validation: (t) => Redacted.value(t).trim().length >= 16 })
  )),
  metricsToken: Config.option(Config.redacted("ACD_BRIDGE_METRICS_TOKEN").pipe(
    Config.validate({ message: "ACD_BRIDGE_METRICS_TOKEN: must have at least 16 characters", validation: (t) => Redacted.value(t).trim().length >= 16 })
  )),
  tenant: nonEmpty("ACD_BRIDGE_TENANT", "default"),
  tenants: list("ACD_BRIDGE_TENANTS"),
  onPremise: Config.literal("local", "link")("ACD_BRIDGE_ON_PREMISE").pipe(Config.withDefault("local" as const)),
  plugins: list("ACD_BRIDGE_PLUGINS"),
  scheduler: Config.boolean("ACD_BRIDGE_SCHEDULER").pipe(Config.withDefault(true)),
  pollInterval: Config.duration("ACD_BRIDGE_POLL_INTERVAL").pipe(Config.withDefault(Duration.seconds(30))),
  rateLimitRps: Config.option(Config.number("ACD_BRIDGE_RATE_LIMIT_RPS").pipe(
    Config.validate({ message: "ACD_BRIDGE_RATE_LIMIT_RPS must be positive", validation: (n) => n > 0 })
  )),
  rateLimitBurst: Config.option(Config.integer("ACD_BRIDGE_RATE_LIMIT_BURST").pipe(
    Config.validate({ message: "ACD_BRIDGE_RATE_LIMIT_BURST must be at least 1", validation: (n) => n >= 1 })
  )),
  retainRuns: Config.duration("ACD_BRIDGE_RETAIN_RUNS").pipe(Config.withDefault(Duration.days(90))),
  retainRunsKeep: Config.integer("ACD_BRIDGE_RETAIN_RUNS_KEEP").pipe(
    Config.withDefault(1_000),
    Config.validate({ message: "ACD_BRIDGE_RETAIN_RUNS_KEEP must be at least 1", validation: (n) => n >= 1 })
  ),
  retentionInterval: Config.duration("ACD_BRIDGE_RETENTION_INTERVAL").pipe(Config.withDefault(Duration.hours(1))),
  tlsCert: Config.option(Config.string("ACD_BRIDGE_TLS_CERT")),
  tlsKey: Config.option(Config.string("ACD_BRIDGE_TLS_KEY")),
  trustProxy: Config.boolean("ACD_BRIDGE_TRUST_PROXY").pipe(Config.withDefault(false)),
  maxBodyBytes: Config.integer("ACD_BRIDGE_MAX_BODY_BYTES").pipe(
    Config.withDefault(10 * 1024 * 1024),
    Config.validate({ message: "ACD_BRIDGE_MAX_BODY_BYTES must be positive", validation: (n) => n > 0 })
  ),
  shutdownGrace: Config.duration("ACD_BRIDGE_SHUTDOWN_GRACE").pipe(Config.withDefault(Duration.seconds(5))),
  logLevel: logLevelConfig("ACD_BRIDGE_LOG_LEVEL"),
  logFormat: Config.literal("pretty", "logfmt", "json")("ACD_BRIDGE_LOG_FORMAT").pipe(
    Config.withDefault("pretty" as const)
  )
}).pipe(
  Config.validate({
    message: "ACD_BRIDGE_TLS_CERT and ACD_BRIDGE_TLS_KEY go together: set both or neither",
    validation: (s) => Option.isSome(s.tlsCert) === Option.isSome(s.tlsKey)
  })
)

/**
 * The settings of the commands that talk to a running server.
 *
 * @since 0.1.0 @category models
 */
export interface ClientSettings {
  readonly url: string
  readonly token: Option.Option<Redacted.Redacted<string>>
}

/**
 * `ACD_BRIDGE_URL` and `ACD_BRIDGE_TOKEN` (else `ACD_BRIDGE_ADMIN_TOKEN`).
 *
 * @since 0.1.0 @category config
 */
export const client: Config.Config<ClientSettings> = Config.all({
  url: nonEmpty("ACD_BRIDGE_URL", "http://127.0.0.1:8080"),
  token: Config.option(Config.redacted("ACD_BRIDGE_TOKEN").pipe(Config.orElse(() => Config.redacted("ACD_BRIDGE_ADMIN_TOKEN"))))
})

/**
 * The variables of a group as help text lines: `NAME (default): what it does`.
 *
 * @since 0.1.0 @category help
 */
export const describe = (groups: ReadonlyArray<Variable["group"]>): string =>
  variables
    .filter((v) => groups.includes(v.group))
    .map((v) => `  ${v.name} (default: ${v.default})\n      ${v.description}`)
    .join("\n")
