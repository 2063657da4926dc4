/**
 * Lints the served OpenAPI document with Redocly's rules (`@redocly/openapi-core`, the
 * engine of `redocly lint`), recommended set: what API tooling and reviewers trip over
 * (missing servers, license, tag descriptions, operation ids, ambiguous paths).
 */
import { createConfig, lintFromString } from "@redocly/openapi-core"

export interface Problem {
  readonly rule: string
  readonly severity: string
  readonly message: string
  readonly where: string
}

export const lint = async (document: unknown): Promise<ReadonlyArray<Problem>> => {
  const config = await createConfig({ extends: ["recommended"] })
  const results = await lintFromString({ source: JSON.stringify(document, null, 2), absoluteRef: "openapi.json", config })
  return results.map((p) => ({
    rule: p.ruleId,
    severity: p.severity,
    message: p.message,
    where: p.location.map((l) => l.pointer ?? "").join(", ")
  }))
}
