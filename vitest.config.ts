import { defineConfig } from "vitest/config"
import { ReliabilityReporter } from "./test/reliability/support/summarySetup.js"

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "examples/*/test/**/*.test.ts", "test/**/*.test.ts", "docs/tools/test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**", "**/build/**"],
    globalSetup: ["./test/setup/postgres.ts", "./test/reliability/support/summarySetup.ts"],
    // the reliability table first, so vitest's summary line is the log's last
    reporters: [new ReliabilityReporter(), "default"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    sequence: { concurrent: false }
  }
})
