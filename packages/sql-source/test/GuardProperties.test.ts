/**
 * Property tests of the guard (fast-check): every forbidden function, spelled in any way the
 * dialect's server would still resolve to it — any case, quoted in each of the dialect's
 * quote styles (PostgreSQL `U&"…"` with escaped code points too), schema-qualified, with
 * whitespace and comments between the tokens, in several positions of a query — is refused;
 * and every query the tests and the README use, re-spaced, re-cased and commented, passes.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import * as fc from "fast-check"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { Dialect } from "../src/Guard.js"
import { forbiddenFunctionPatterns, forbiddenFunctions, isForbiddenFunction, prepare } from "../src/Guard.js"
import { tokenize } from "../src/internal/tokenizer.js"
import { sqliteContactsQuery, sqliteStatusesQuery } from "./fixtures.js"

const dialects: ReadonlyArray<Dialect> = ["pg", "mysql", "mssql", "sqlite"]

/** one name per family of `forbiddenFunctionPatterns` */
const patternSamples = [
  "pg_stat_reset_single_table_counters",
  "pg_stat_reset_replication_slot",
  "pg_advisory_lock_shared",
  "pg_advisory_unlock_all",
  "pg_try_advisory_xact_lock",
  "pg_create_logical_replication_slot",
  "pg_create_physical_replication_slot",
  "pg_copy_logical_replication_slot",
  "pg_replication_origin_create",
  "pg_logical_slot_get_changes",
  "pg_logical_slot_peek_binary_changes",
  "pg_ls_dir",
  "pg_ls_waldir",
  "dblink",
  "dblink_exec",
  "dblink_connect_u",
  "dblink_send_query",
  "binary_upgrade_set_next_heap_pg_class_oid",
  "query_to_xml",
  "query_to_xml_and_xmlschema",
  "cursor_to_xml",
  "xp_cmdshell",
  "xp_dirtree"
]
const denied = [...forbiddenFunctions, ...patternSamples]

/** A name with some of its characters as PostgreSQL Unicode escapes, for U&"…". */
const unicodeEscaped = (name: string, escaped: ReadonlyArray<boolean>, escape: string, long: boolean) =>
  [...name].map((c, i) => {
    if (c === escape) return escape + escape
    if (!escaped[i % escaped.length]) return c
    const hex = c.codePointAt(0)!.toString(16).toUpperCase()
    return long ? `${escape}+${hex.padStart(6, "0")}` : `${escape}${hex.padStart(4, "0")}`
  }).join("")

/** How the dialect lets a name be written: returns the spelled name for a case pattern. */
const spellings = (dialect: Dialect, name: string): fc.Arbitrary<string> => {
  const cased = fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }).map((upper) =>
    [...name].map((c, i) => upper[i % upper.length] ? c.toUpperCase() : c.toLowerCase()).join("")
  )
  const styles: Array<fc.Arbitrary<string>> = [cased]
  if (dialect !== "mysql") styles.push(cased.map((n) => `"${n}"`))
  if (dialect === "mysql") {
    styles.push(cased.map((n) => `\`${n}\``), cased.map((n) => `"${n}"`)) // "…": ANSI_QUOTES
  }
  if (dialect === "mssql") styles.push(cased.map((n) => `[${n}]`))
  if (dialect === "sqlite") styles.push(cased.map((n) => `[${n}]`), cased.map((n) => `\`${n}\``))
  if (dialect === "pg") {
    styles.push(
      fc.tuple(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom("\\", "!", "#")
      ).map(([escaped, long, lowerU, escape]) =>
        `${lowerU ? "u" : "U"}&"${unicodeEscaped(name, escaped, escape, long)}"` +
        (escape === "\\" ? "" : ` UESCAPE '${escape}'`)
      )
    )
  }
  return fc.oneof(...styles)
}

const separator = (dialect: Dialect): fc.Arbitrary<string> =>
  fc.constantFrom(
    "",
    " ",
    "  ",
    "\n",
    "\t",
    " /* note */ ",
    dialect === "mysql" ? " -- note\n" : "--note\n",
    ...(dialect === "mysql" ? ["#note\n"] : [])
  )

const schemaFor: Record<Dialect, ReadonlyArray<string>> = {
  pg: ["pg_catalog", "public", "\"public\"", "\"Ext\""],
  mysql: ["mysql", "`db`", "sys"],
  mssql: ["dbo", "[dbo]", "master.dbo", "[master].[dbo]"],
  sqlite: ["main", "\"main\"", "[temp]"]
}

/** A call of `name` in one of several places of an otherwise harmless query. */
const deniedQuery = (dialect: Dialect, name: string): fc.Arbitrary<string> =>
  fc.tuple(
    spellings(dialect, name),
    fc.option(fc.constantFrom(...schemaFor[dialect]), { nil: undefined }),
    separator(dialect),
    separator(dialect),
    separator(dialect),
    fc.integer({ min: 0, max: 5 })
  ).map(([spelled, schema, s1, s2, s3, place]) => {
    const qualified = schema === undefined ? spelled : `${schema}${s1}.${s2}${spelled}`
    const call = `${qualified}${s3}(1)`
    switch (place) {
      case 0:
        return `SELECT ${call} AS x`
      case 1:
        return `SELECT * FROM ${call} AS f`
      case 2:
        return `SELECT a FROM t WHERE ${call} IS NOT NULL`
      case 3:
        return `WITH w AS (SELECT ${call} AS x) SELECT x FROM w`
      case 4:
        return `SELECT (SELECT ${call}) AS x FROM t`
      default:
        return `SELECT a FROM t WHERE a >= :from${s1 || " "}AND a < :to ORDER BY ${qualified}`
    }
  })

/** The queries the tests and the examples use, which must keep passing. */
const here = path.dirname(fileURLToPath(import.meta.url))
const readmeQueries = (): Array<[Dialect, string]> => {
  const readme = fs.readFileSync(path.join(here, "..", "README.md"), "utf8")
  const out: Array<[Dialect, string]> = []
  for (const block of readme.matchAll(/```json\n([\s\S]*?)```/g)) {
    const config = JSON.parse(block[1]!.replace(/"…"/g, "\"x\"")) as {
      driver?: Dialect
      contacts?: { query?: string }
      agentStatuses?: { query?: string }
    }
    if (!config.driver) continue
    for (const q of [config.contacts?.query, config.agentStatuses?.query]) if (q) out.push([config.driver, q])
  }
  return out
}

const pgContacts = `
  SELECT c.queue_id AS queue_identifier, q.name AS queue_name, q.channel AS channel, c.started_at AS timestamp,
         c.offered AS offered, c.handled AS handled, c.seconds AS duration
  FROM contacts c JOIN queues q ON q.id = c.queue_id
  WHERE c.started_at >= :from AND c.started_at < :to
  ORDER BY c.id`
const pgStatuses = `
  SELECT agent AS agent_identifier, activity AS activity_identifier, started AS start_time, ended AS end_time
  FROM statuses WHERE started < :to AND (ended IS NULL OR ended > :from) ORDER BY started`

const allowedQueries: ReadonlyArray<[Dialect, string]> = [
  ...dialects.flatMap((d): Array<[Dialect, string]> => [
    [d, "SELECT queue_id AS queue_identifier FROM contacts WHERE ts >= :from AND ts < :to"],
    [d, "WITH q AS (SELECT id FROM queues) SELECT id FROM q WHERE id > 0"],
    [d, "SELECT a FROM t WHERE ts >= :from AND ts < :TO AND ts2 >= :from AND note <> ':from'"]
  ]),
  [
    "pg",
    "SELECT replace(q.name, 'x', 'y') AS queue_name, c.ts::timestamptz AS timestamp, " +
    "count(*) FILTER (WHERE c.handled) AS handled, c.ts AT TIME ZONE 'Europe/Berlin' AS loc " +
    "FROM contacts c JOIN queues q ON q.id = c.queue_id WHERE c.ts >= :from::timestamptz AND c.ts < :to " +
    "GROUP BY 1, 2, 4"
  ],
  ["pg", "SELECT \"update\" AS x FROM t"],
  ["mysql", "SELECT `delete` AS x FROM t"],
  ["mssql", "SELECT [insert] AS x FROM t"],
  ["pg", "SELECT $$; DROP TABLE x$$ AS note"],
  ["pg", pgContacts],
  ["pg", pgStatuses],
  ["pg", pgContacts.replace("FROM contacts c", "FROM contacts c CROSS JOIN (SELECT pg_sleep(5)) AS s")],
  ["pg", pgContacts.replace("c.started_at >= :from AND", "c.started_at >= to_timestamp(:from) AND")],
  [
    "pg",
    `SELECT 'Q' || (n % 7) AS queue_identifier, 'Queue ' || (n % 7) AS queue_name, 'calls' AS channel,
     ts AS timestamp, true AS offered, n % 2 = 0 AS handled, n % 600 AS duration
     FROM big WHERE ts >= :from AND ts < :to ORDER BY n`
  ],
  ["sqlite", sqliteContactsQuery],
  ["sqlite", sqliteStatusesQuery],
  ...readmeQueries()
]

describe("Guard properties", () => {
  it("the samples of each pattern family are forbidden, and harmless names are not", () => {
    for (const name of patternSamples) assert.isTrue(isForbiddenFunction(name), name)
    for (const pattern of forbiddenFunctionPatterns) {
      assert.isTrue(patternSamples.some((n) => pattern.test(n)), `no sample for ${pattern}`)
    }
    for (const name of ["count", "coalesce", "extract", "pg_sleep", "to_timestamp", "replace", "lower", "now"]) {
      assert.isFalse(isForbiddenFunction(name), name)
    }
  })

  for (const dialect of dialects) {
    it(`${dialect}: every forbidden function, however spelled and placed, is refused`, () => {
      fc.assert(
        fc.property(fc.constantFrom(...denied).chain((name) => deniedQuery(dialect, name)), (sql) => {
          const result = prepare(dialect, sql, "contacts")
          assert.isTrue(Either.isLeft(result), `${dialect} accepted: ${sql}`)
        }),
        { numRuns: 400 }
      )
      // and each name at least once, unquoted and in the dialect's own quotes
      const quote: Record<Dialect, (n: string) => string> = {
        pg: (n) => `"${n}"`,
        mysql: (n) => `\`${n}\``,
        mssql: (n) => `[${n}]`,
        sqlite: (n) => `"${n}"`
      }
      for (const name of denied) {
        for (const spelled of [name, quote[dialect](name)]) {
          const sql = `SELECT ${spelled}(1) AS x`
          assert.isTrue(Either.isLeft(prepare(dialect, sql, "contacts")), `${dialect} accepted: ${sql}`)
        }
      }
    })
  }

  it("every allowed query of the tests and the README passes, re-spaced, re-cased and commented", () => {
    assert.isAbove(readmeQueries().length, 4, "the README's example queries were not found")
    for (const [dialect, sql] of allowedQueries) {
      const plain = prepare(dialect, sql, "contacts")
      if (Either.isLeft(plain)) assert.fail(`${dialect} refused: ${sql}\n${plain.left.reason}`)
    }
    fc.assert(
      fc.property(
        fc.constantFrom(...allowedQueries),
        fc.array(fc.constantFrom(" ", "\n", "\t ", "  \n  "), { minLength: 1, maxLength: 16 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
        fc.boolean(),
        ([dialect, sql], spaces, upper, comment) => {
          const tokens = tokenize(sql, dialect, { backslashEscapes: false })
          if (!Array.isArray(tokens)) throw new Error(`not tokenized: ${sql}`)
          let i = 0
          const variant = (tokens as ReadonlyArray<{ kind: string; text: string }>).map((t, k, all) => {
            i++
            if (t.kind === "ws") {
              const space = spaces[i % spaces.length]!
              // a line comment ends at the end of its line
              const afterLineComment = all[k - 1]?.kind === "comment" && !all[k - 1]!.text.startsWith("/*")
              return afterLineComment && !space.includes("\n") ? `${space}\n` : space
            }
            if (t.kind === "word") return upper[i % upper.length] ? t.text.toUpperCase() : t.text.toLowerCase()
            return t.text
          }).join("") + (comment ? " /* read-only */" : "")
          const result = prepare(dialect, variant, "contacts")
          if (Either.isLeft(result)) assert.fail(`${dialect} refused: ${variant}\n${result.left.reason}`)
        }
      ),
      { numRuns: 300 }
    )
  })
})
