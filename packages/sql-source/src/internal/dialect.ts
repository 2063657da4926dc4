/**
 * The four source dialects and what differs between them.
 */

/** @internal */
export type Dialect = "pg" | "mysql" | "mssql" | "sqlite"

/** @internal */
export const dialectName: Record<Dialect, string> = {
  pg: "PostgreSQL",
  mysql: "MySQL/MariaDB",
  mssql: "SQL Server",
  sqlite: "SQLite"
}

/**
 * The placeholder the driver expects for the n-th bound value (0-based) and whether a
 * placeholder may be reused (`$1` twice) or each occurrence needs its own value (`?`).
 *
 * @internal
 */
export const placeholder: Record<Dialect, { readonly text: (index: number) => string; readonly reusable: boolean }> = {
  pg: { text: (i) => `$${i + 1}`, reusable: true },
  mssql: { text: (i) => `@${i + 1}`, reusable: true },
  mysql: { text: () => "?", reusable: false },
  sqlite: { text: () => "?", reusable: false }
}
