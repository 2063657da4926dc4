/**
 * Digests of what a store holds: one SHA-256 per table over every row (ordered by all columns),
 * with row counts, so a comparison names the table that changed. Read straight from the
 * database (SQLite file read-only, PostgreSQL through `pg`), next to a running server.
 */
import Database from "better-sqlite3"
import { createHash } from "node:crypto"
import pg from "pg"

export interface TableDigest {
  readonly rows: number
  readonly sha256: string
}

export type Digest = Readonly<Record<string, TableDigest>>

const hashRows = (rows: ReadonlyArray<unknown>): string => {
  const hash = createHash("sha256")
  for (const row of rows) hash.update(JSON.stringify(row, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))).update("\n")
  return hash.digest("hex")
}

/** Opens a SQLite file read-only (it may be written by a server child meanwhile: WAL). */
export const openSqlite = (file: string): Database.Database =>
  new Database(file, { readonly: true, fileMustExist: true, timeout: 10_000 })

const digestOpen = (db: Database.Database): Digest =>
  db.transaction(() => {
    const tables = db.prepare<[], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).all()
    const digest: Record<string, TableDigest> = {}
    for (const { name } of tables) {
      const columns = db.prepare<[], { name: string }>(`SELECT name FROM pragma_table_info('${name}')`).all()
      const order = columns.map((c) => `"${c.name}"`).join(", ")
      const rows = db.prepare(`SELECT * FROM "${name}" ORDER BY ${order}`).raw().all()
      digest[name] = { rows: rows.length, sha256: hashRows(rows) }
    }
    return digest
  })()

/** Every table of the SQLite file (the migrations' bookkeeping included). */
export const sqliteDigest = (file: string): Digest => {
  const db = openSqlite(file)
  try {
    return digestOpen(db)
  } finally {
    db.close()
  }
}

/**
 * Digests of a SQLite file that a server child writes, computed only when something was
 * committed since the last one (`PRAGMA data_version` of a connection kept open changes
 * exactly when another connection commits), so a request that wrote nothing costs one pragma.
 */
export const sqliteWatcher = (file: string): { readonly digest: () => Digest; readonly close: () => void } => {
  const db = openSqlite(file)
  const version = db.prepare<[], { data_version: number }>("PRAGMA data_version")
  let last: { version: number; digest: Digest } | undefined
  return {
    digest: () => {
      const now = version.get()!.data_version
      if (last === undefined || last.version !== now) last = { version: now, digest: digestOpen(db) }
      return last.digest
    },
    close: () => db.close()
  }
}

/** Rows of one query on a SQLite file (read-only). */
export const sqliteRows = <T>(file: string, query: string, ...params: ReadonlyArray<unknown>): Array<T> => {
  const db = openSqlite(file)
  try {
    return db.prepare(query).all(...params) as Array<T>
  } finally {
    db.close()
  }
}

/** `PRAGMA integrity_check` of a SQLite file: "ok" when it is sound. */
export const sqliteIntegrity = (file: string): string => {
  const db = new Database(file, { fileMustExist: true, timeout: 10_000 })
  try {
    const rows = db.prepare<[], { integrity_check: string }>("PRAGMA integrity_check").all()
    return rows.map((r) => r.integrity_check).join("; ")
  } finally {
    db.close()
  }
}

/**
 * Digests of every table of a PostgreSQL database's public schema, hashed by the server (md5
 * of the rows' text in order) over one connection kept open.
 */
export const pgWatcher = async (url: string): Promise<{ readonly digest: () => Promise<Digest>; readonly close: () => Promise<void> }> => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  return {
    digest: async () => {
      await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
      try {
        const tables = await client.query<{ table_name: string }>(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
        const digest: Record<string, TableDigest> = {}
        for (const { table_name: name } of tables.rows) {
          const found = await client.query<{ rows: string; hash: string | null }>(
            `SELECT count(*)::text AS rows, md5(string_agg(t::text, E'\\n' ORDER BY t::text)) AS hash FROM "${name}" t`
          )
          digest[name] = { rows: Number(found.rows[0]!.rows), sha256: found.rows[0]!.hash ?? "" }
        }
        return digest
      } finally {
        await client.query("COMMIT")
      }
    },
    close: () => client.end()
  }
}

/** Every table of the PostgreSQL database's public schema. */
export const pgDigest = async (url: string): Promise<Digest> => {
  const watcher = await pgWatcher(url)
  try {
    return await watcher.digest()
  } finally {
    await watcher.close()
  }
}

/** Tables whose digest differs, with their row counts before and after. */
export const changedTables = (before: Digest, after: Digest): Record<string, string> => {
  const changed: Record<string, string> = {}
  for (const name of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[name]
    const b = after[name]
    if (a?.sha256 !== b?.sha256) changed[name] = `${a?.rows ?? "-"} → ${b?.rows ?? "-"} rows`
  }
  return changed
}
