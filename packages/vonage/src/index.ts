/**
 * The Vonage Contact Center connector. The simulator of its API is test-only and lives in
 * `@acd-bridge/vonage/simulator`, so importing this entry point never loads it.
 *
 * @since 0.1.0
 */
export * as Vonage from "./Vonage.js"
