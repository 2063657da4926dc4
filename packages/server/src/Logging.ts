/**
 * Log format and level from `ACD_BRIDGE_LOG_FORMAT` and `ACD_BRIDGE_LOG_LEVEL`, with Effect's
 * own loggers: `json` writes one JSON object per line (`Logger.jsonLogger`: message, level,
 * timestamp, annotations such as the request id, spans), `logfmt` key=value lines, `pretty`
 * readable lines (coloured on a terminal).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import type * as LogLevel from "effect/LogLevel"
import type { LogFormat } from "./ServerConfig.js"

const loggerOf = (format: LogFormat): Logger.Logger<unknown, void> =>
  format === "json"
    ? Logger.withConsoleLog(Logger.jsonLogger)
    : format === "logfmt"
    ? Logger.withConsoleLog(Logger.logfmtLogger)
    : Logger.prettyLoggerDefault

/**
 * Installs the logger of `format` at `level`, in place of Effect's default logger and of the
 * pretty logger `NodeRuntime.runMain` installs.
 *
 * @since 0.1.0 @category layers
 */
export const layer = (options: { readonly format: LogFormat; readonly level: LogLevel.LogLevel }): Layer.Layer<never> =>
  Layer.merge(
    Layer.scopedDiscard(
      Effect.locallyScopedWith(FiberRef.currentLoggers, (loggers) =>
        loggers.pipe(
          HashSet.remove(Logger.defaultLogger),
          HashSet.remove(Logger.prettyLoggerDefault),
          HashSet.add(loggerOf(options.format))
        ))
    ),
    Logger.minimumLogLevel(options.level)
  )
