/**
 * `--help` on every command lists the environment variables the command reads, beside its
 * options.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import { assert, describe, it } from "@effect/vitest"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Cli from "../src/Cli.js"
import * as ServerConfig from "../src/ServerConfig.js"

/** Runs `acd-bridge <args>` in this process and returns what it printed. */
const help = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const base = yield* Console.consoleWith(Effect.succeed)
    const printed: Array<string> = []
    const capture = (...parts: ReadonlyArray<unknown>) => {
      printed.push(parts.map(String).join(" "))
    }
    const console: Console.Console = {
      ...base,
      log: (...parts) => Effect.sync(() => capture(...parts)),
      error: (...parts) => Effect.sync(() => capture(...parts)),
      unsafe: { ...base.unsafe, log: capture, error: capture }
    }
    yield* Cli.run(Cli.make(), ["node", "acd-bridge", ...args, "--help"]).pipe(
      Effect.withConsole(console),
      Effect.provide(NodeContext.layer)
    )
    // without colours: the help is styled for a terminal
    // eslint-disable-next-line no-control-regex
    return printed.join("\n").replace(/\u001b\[[0-9;]*m/g, "")
  })

const serveVariables = ServerConfig.variables.filter((v) => v.group === "serve").map((v) => v.name)
const clientVariables = ServerConfig.variables.filter((v) => v.group === "client").map((v) => v.name)

const commands: ReadonlyArray<readonly [ReadonlyArray<string>, ReadonlyArray<string>]> = [
  [[], [...serveVariables, ...clientVariables]],
  [["serve"], serveVariables],
  [["migrate"], ["ACD_BRIDGE_DATABASE_URL", "ACD_BRIDGE_LOG_FORMAT"]],
  [["backup"], ["ACD_BRIDGE_DATABASE_URL"]],
  [["connectors"], clientVariables],
  [["integrations"], clientVariables],
  ...["list", "create", "pause", "resume", "check", "reimport"].map((c) =>
    [["integrations", c], clientVariables] as const
  )
]

describe("acd-bridge --help", () => {
  for (const [args, expected] of commands) {
    it.effect(`acd-bridge ${[...args, "--help"].join(" ")} lists ${expected.length} environment variables`, () =>
      Effect.gen(function*() {
        const text = yield* help(args)
        const environment = text.split("ENVIRONMENT")[1]
        assert.isDefined(environment, text)
        for (const name of expected) assert.include(environment, `${name} (default: `, `${args.join(" ")}: ${name}`)
        // the commands that only talk to a server don't list the server's settings
        if (args[0] === "integrations" || args[0] === "connectors") {
          assert.notInclude(text, "ACD_BRIDGE_DATABASE_URL")
        }
      }))
  }

  it.effect("reimport --help describes --follow's progress", () =>
    Effect.gen(function*() {
      const text = yield* help(["integrations", "reimport"])
      assert.include(text, "--follow")
      assert.include(text, "a progress bar on a terminal")
    }))
})
