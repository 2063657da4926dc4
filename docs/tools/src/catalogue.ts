/**
 * What the code can't say about each connector: its package, where its README explains the
 * counting rules, and what is unverified against the real vendor (from the vendor notes in
 * `../shared/vendors`, marked [U] there). Everything else in the catalogue is read from the
 * connector values themselves.
 */
export interface CatalogueEntry {
  readonly packageName: string
  readonly readme: string
  readonly summary: string
  readonly unverified: string
}

export const catalogue: Readonly<Record<string, CatalogueEntry>> = {
  "api-push": {
    packageName: "@acd-bridge/api-push",
    readme: "packages/api-push/README.md",
    summary: "The ACD or a script pushes contact events and agent statuses over HTTP (injixo's push API shape).",
    unverified: "Nothing vendor-side: the engine defines the API. Limits are ours (see the HTTP contract)."
  },
  csv: {
    packageName: "@acd-bridge/csv",
    readme: "packages/csv/README.md",
    summary: "Files dropped in a folder: contact records, interval aggregates or agent statuses, with a column mapping.",
    unverified: "Nothing vendor-side: the layout is configured per integration."
  },
  sql: {
    packageName: "@acd-bridge/sql-source",
    readme: "packages/sql-source/README.md",
    summary: "A read-only query against a customer database (PostgreSQL, MySQL, SQL Server, SQLite), guarded against writes.",
    unverified: "Nothing vendor-side: the customer writes the query; the guard refuses writes and side-effecting functions."
  },
  five9: {
    packageName: "@acd-bridge/five9",
    readme: "packages/five9/README.md",
    summary: "Five9 VCC: the Configuration Web Services reports (Call Log, Agent State Details, Login-Logout) over SOAP.",
    unverified:
      "Report column spellings, AHT as talk + hold + ACW, per-domain report quotas and finalisation delay; each configurable (README: “What is unverified”)."
  },
  vonage: {
    packageName: "@acd-bridge/vonage",
    readme: "packages/vonage/README.md",
    summary: "Vonage Contact Center (NewVoiceMedia): Insights stats REST API (queue-times, interactions, WFM agent states).",
    unverified:
      "Non-phone `medium` values, the maximum page size, the fair-use rate limit and `x-external-id`'s meaning; configurable or handled either way."
  },
  "genesys-engage": {
    packageName: "@acd-bridge/genesys-engage",
    readme: "packages/genesys-engage/README.md",
    summary: "Genesys Engage on-premise: SQL against the Info Mart (mediation segment facts or RAA aggregates, resource state facts).",
    unverified:
      "RAA measure meanings, the short-abandon threshold, site view names, media codes and the ETL lag; each configurable (README: “Unverified”)."
  }
}
