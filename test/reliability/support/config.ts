/**
 * What the suite's server child (`server.ts`) is told, as JSON in `REL_CONFIG`.
 */
import type { HttpAdapter } from "@acd-bridge/http"
import type { FakeSource } from "@acd-bridge/testkit"

export interface TokenRequest {
  /** key in the READY line's `tokens` */
  readonly name: string
  readonly tenant: string
  readonly user: string
  /** revoked right after it is created */
  readonly revoked?: boolean
}

export interface ServerConfig {
  /** a SQLite file path or a postgres:// URL */
  readonly database: string
  readonly adminToken: string
  /** the admin token acts in the first; the scheduler watches all */
  readonly tenants: ReadonlyArray<string>
  readonly tokens?: ReadonlyArray<TokenRequest>
  readonly synchronous?: "full" | "normal"
  /** HttpAdapter options (JSON-able ones) */
  readonly adapter?: Pick<
    HttpAdapter.ApiOptions,
    "maxBodyBytes" | "maxJsonDepth" | "rateLimit" | "maxIntervalRows" | "maxIntervalRangeDays"
  >
  /** run core's scheduler over testkit's FakeConnector (key "fake") and a FakeSource with these options */
  readonly scheduler?: {
    readonly source: Omit<FakeSource.Options, "scenario" | "corrections" | "latency" | "tick"> & {
      /** every request of the source takes this long */
      readonly latencyMs?: number
    }
    readonly chunkMs?: number
    readonly lookbackMs?: number
    readonly settleDelayMs?: number
  }
  readonly logLevel?: "Debug" | "Info" | "Warning" | "Error" | "None"
}
