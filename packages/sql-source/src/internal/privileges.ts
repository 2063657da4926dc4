/**
 * What the configured login may do beyond reading, for `check`. The read-only transaction
 * stops plain writes, not a superuser's functions (dblink to itself, `COPY … PROGRAM`, admin
 * functions); the login's privileges are the guarantee the other layers back up, so `check`
 * names what is too much and the statement that takes it away.
 *
 * Each dialect has its catalog queries here and a pure function turning their rows into
 * findings (unit-tested without a server for MySQL and SQL Server).
 */
import type { Dialect } from "./dialect.js"

/** Something the login may do beyond reading. @internal */
export interface Finding {
  /**
   * `fail`: it can reach outside the database or take over the server (superuser, running
   * programs, writing the server's files, granting itself roles); `warn`: it can write or
   * create objects, which the read-only transaction stops only for plain statements
   */
  readonly severity: "fail" | "warn"
  /** what is wrong, in an administrator's words */
  readonly problem: string
  /** a statement that takes it away */
  readonly fix: string
}

/** The login and what it may do beyond reading. @internal */
export interface LoginPrivileges {
  readonly login: string
  readonly findings: ReadonlyArray<Finding>
}

/** What to grant instead, per dialect, for messages and the README. @internal */
export const readOnlyGrant = (dialect: Dialect, login: string): string => {
  switch (dialect) {
    case "pg":
      return `GRANT pg_read_all_data TO ${pgIdent(login)}; (PostgreSQL 14+; before: GRANT SELECT ON ALL TABLES IN SCHEMA … TO ${
        pgIdent(login)
      };)`
    case "mysql":
      return `GRANT SELECT ON <database>.* TO ${login};`
    case "mssql":
      return `ALTER ROLE db_datareader ADD MEMBER ${mssqlIdent(login)};`
    case "sqlite":
      return "the file is opened read-only"
  }
}

// ---------------------------------------------------------------------------
// PostgreSQL
// ---------------------------------------------------------------------------

/** A quoted identifier (always quoted: a role may well be called "user"). @internal */
export const pgIdent = (name: string): string => `"${name.replace(/"/g, "\"\"")}"`

/** Roles whose membership matters, and why. */
const pgRoles: Record<string, { readonly severity: Finding["severity"]; readonly why: string }> = {
  pg_execute_server_program: {
    severity: "fail",
    why: "it can run programs on the database server (COPY … PROGRAM)"
  },
  pg_write_server_files: { severity: "fail", why: "it can write files on the database server (COPY … TO a file)" },
  pg_signal_backend: { severity: "warn", why: "it can cancel and end other sessions (pg_terminate_backend)" },
  pg_write_all_data: { severity: "warn", why: "it can write every table of the database" },
  pg_create_subscription: { severity: "warn", why: "it can create subscriptions that write into the database" }
}

/**
 * One row: the login's attributes, the roles of `pgRoles` it is a member of (directly or
 * not), the schemas it may create objects in, whether it may create schemas, and every table,
 * view or foreign table it may write, with the privileges (INSERT and UPDATE on any column).
 *
 * @internal
 */
export const pgPrivilegesQuery = `
SELECT current_user AS login,
       current_database() AS database,
       r.rolsuper AS superuser,
       r.rolcreaterole AS createrole,
       r.rolcreatedb AS createdb,
       r.rolreplication AS replication,
       has_database_privilege(current_database(), 'CREATE') AS create_database,
       ARRAY(SELECT g.rolname::text FROM pg_roles g
             WHERE g.rolname = ANY ($1::text[]) AND pg_has_role(current_user, g.oid, 'MEMBER')
             ORDER BY 1) AS roles,
       ARRAY(SELECT n.nspname::text FROM pg_namespace n
             WHERE has_schema_privilege(n.oid, 'CREATE')
               AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'
             ORDER BY 1) AS create_schemas,
       (SELECT coalesce(json_agg(json_build_object('schema', w.nspname, 'name', w.relname, 'privileges', w.privileges)
                                 ORDER BY w.nspname, w.relname), '[]')
        FROM (SELECT n.nspname, c.relname,
                     array_remove(ARRAY[
                       CASE WHEN has_any_column_privilege(c.oid, 'INSERT') THEN 'INSERT' END,
                       CASE WHEN has_any_column_privilege(c.oid, 'UPDATE') THEN 'UPDATE' END,
                       CASE WHEN has_table_privilege(c.oid, 'DELETE') THEN 'DELETE' END,
                       CASE WHEN has_table_privilege(c.oid, 'TRUNCATE') THEN 'TRUNCATE' END], NULL) AS privileges
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE c.relkind IN ('r', 'p', 'v', 'f')
                AND n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema') w
        WHERE cardinality(w.privileges) > 0) AS writable
FROM pg_roles r
WHERE r.rolname = current_user`

/** @internal */
export const pgPrivilegesParameters = [Object.keys(pgRoles)]

/** A row of `pgPrivilegesQuery`. @internal */
export interface PgPrivilegesRow {
  readonly login: string
  readonly database: string
  readonly superuser: boolean
  readonly createrole: boolean
  readonly createdb: boolean
  readonly replication: boolean
  readonly create_database: boolean
  readonly roles: ReadonlyArray<string>
  readonly create_schemas: ReadonlyArray<string>
  readonly writable: ReadonlyArray<{ schema: string; name: string; privileges: ReadonlyArray<string> }>
}

/** A list of names, the first few spelled out. */
const some = (names: ReadonlyArray<string>, max = 5): string =>
  names.length <= max ? names.join(", ") : `${names.slice(0, max).join(", ")} and ${names.length - max} more`

/** @internal */
export const pgFindings = (row: PgPrivilegesRow): LoginPrivileges => {
  const login = pgIdent(row.login)
  if (row.superuser) {
    return {
      login: row.login,
      findings: [{
        severity: "fail",
        problem: "it is a superuser: it can write through dblink to its own database, run programs with " +
          "COPY … PROGRAM, write the server's files and end other sessions, none of which a read-only " +
          "transaction stops",
        fix: `ALTER ROLE ${login} NOSUPERUSER;`
      }]
    }
  }
  const findings: Array<Finding> = []
  for (const role of row.roles) {
    const known = pgRoles[role]
    if (!known) continue
    findings.push({
      severity: known.severity,
      problem: `it is a member of ${role}: ${known.why}`,
      fix: `REVOKE ${role} FROM ${login}; (or from the role it inherits ${role} through)`
    })
  }
  if (row.createrole) {
    findings.push({
      severity: "fail",
      problem: "it has CREATEROLE: it can create and change roles (on PostgreSQL 15 and older, also make " +
        "itself a member of pg_execute_server_program)",
      fix: `ALTER ROLE ${login} NOCREATEROLE;`
    })
  }
  if (row.replication) {
    findings.push({
      severity: "warn",
      problem: "it has REPLICATION: it can create replication slots, which keep WAL on the server's disk",
      fix: `ALTER ROLE ${login} NOREPLICATION;`
    })
  }
  if (row.createdb) {
    findings.push({ severity: "warn", problem: "it has CREATEDB: it can create databases", fix: `ALTER ROLE ${login} NOCREATEDB;` })
  }
  if (row.create_database) {
    findings.push({
      severity: "warn",
      problem: `it may create schemas in the database ${row.database}`,
      fix: `REVOKE CREATE ON DATABASE ${pgIdent(row.database)} FROM ${login};`
    })
  }
  for (const schema of row.create_schemas) {
    findings.push({
      severity: "warn",
      problem: `it may create objects in the schema ${schema}`,
      fix: `REVOKE CREATE ON SCHEMA ${pgIdent(schema)} FROM ${login};` +
        (schema === "public" ? " (PostgreSQL 14 and older grant it to everyone: REVOKE CREATE ON SCHEMA public FROM PUBLIC;)" : "")
    })
  }
  if (row.writable.length > 0) {
    const schemas = [...new Set(row.writable.map((w) => w.schema))]
    findings.push({
      severity: "warn",
      problem: `it may write ${row.writable.length} table${row.writable.length === 1 ? "" : "s"}: ` +
        some(row.writable.map((w) => `${w.schema}.${w.name} (${w.privileges.join(", ")})`)),
      fix: schemas.map((s) => `REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA ${pgIdent(s)} FROM ${login};`)
        .join(" ") +
        " (a privilege granted to PUBLIC or to a role it belongs to is revoked there; an owner keeps all rights " +
        "on its tables: use a login that owns none)"
    })
  }
  return { login: row.login, findings }
}

// ---------------------------------------------------------------------------
// MySQL / MariaDB (not verified against a server)
// ---------------------------------------------------------------------------

/** `'user'@'host'` as information_schema spells a grantee, from CURRENT_USER()'s `user@host`. @internal */
export const mysqlGrantee = (currentUser: string): string => {
  const at = currentUser.lastIndexOf("@")
  const user = at < 0 ? currentUser : currentUser.slice(0, at)
  const host = at < 0 ? "%" : currentUser.slice(at + 1)
  return `'${user.replace(/'/g, "''")}'@'${host.replace(/'/g, "''")}'`
}

/** @internal */
export const mysqlPrivilegesQueries = {
  login: "SELECT CURRENT_USER() AS login",
  global: "SELECT PRIVILEGE_TYPE AS privilege, IS_GRANTABLE AS grantable FROM information_schema.USER_PRIVILEGES " +
    "WHERE GRANTEE = ?",
  schema: "SELECT TABLE_SCHEMA AS db, PRIVILEGE_TYPE AS privilege FROM information_schema.SCHEMA_PRIVILEGES " +
    "WHERE GRANTEE = ?",
  table: "SELECT TABLE_SCHEMA AS db, TABLE_NAME AS name, PRIVILEGE_TYPE AS privilege " +
    "FROM information_schema.TABLE_PRIVILEGES WHERE GRANTEE = ?"
} as const

/** Global privileges that reach past the database: files, processes, other accounts, the server. */
const mysqlServerPrivileges = new Set([
  "SUPER",
  "FILE",
  "SHUTDOWN",
  "RELOAD",
  "CREATE USER",
  "GRANT OPTION",
  "SYSTEM_USER",
  "SYSTEM_VARIABLES_ADMIN",
  "CONNECTION_ADMIN",
  "ROLE_ADMIN",
  "BINLOG_ADMIN",
  "REPLICATION_SLAVE_ADMIN"
])

/** Privileges that write or change objects. */
const mysqlWritePrivileges = new Set([
  "INSERT",
  "UPDATE",
  "DELETE",
  "CREATE",
  "DROP",
  "ALTER",
  "INDEX",
  "REFERENCES",
  "CREATE VIEW",
  "CREATE ROUTINE",
  "ALTER ROUTINE",
  "EXECUTE",
  "EVENT",
  "TRIGGER",
  "LOCK TABLES",
  "PROCESS",
  "DELETE HISTORY"
])

/** @internal */
export const mysqlFindings = (
  currentUser: string,
  global: ReadonlyArray<{ privilege: string; grantable?: string }>,
  schema: ReadonlyArray<{ db: string; privilege: string }>,
  table: ReadonlyArray<{ db: string; name: string; privilege: string }>
): LoginPrivileges => {
  const grantee = mysqlGrantee(currentUser)
  const findings: Array<Finding> = []
  const server = global.filter((g) => mysqlServerPrivileges.has(g.privilege.toUpperCase())).map((g) => g.privilege)
  if (global.some((g) => g.grantable?.toUpperCase() === "YES") && !server.includes("GRANT OPTION")) {
    server.push("GRANT OPTION")
  }
  if (server.length > 0) {
    findings.push({
      severity: "fail",
      problem: `it holds ${server.join(", ")} on the whole server: ` +
        "it can read and write the server's files (LOAD_FILE, INTO OUTFILE), manage accounts or stop the server",
      fix: `REVOKE ${server.join(", ")} ON *.* FROM ${grantee};`
    })
  }
  const globalWrites = global.filter((g) => mysqlWritePrivileges.has(g.privilege.toUpperCase())).map((g) => g.privilege)
  if (globalWrites.length > 0) {
    findings.push({
      severity: "warn",
      problem: `it holds ${globalWrites.join(", ")} on every database`,
      fix: `REVOKE ${globalWrites.join(", ")} ON *.* FROM ${grantee};`
    })
  }
  const bySchema = new Map<string, Array<string>>()
  for (const s of schema) {
    if (!mysqlWritePrivileges.has(s.privilege.toUpperCase())) continue
    bySchema.set(s.db, [...(bySchema.get(s.db) ?? []), s.privilege])
  }
  for (const [db, privileges] of bySchema) {
    findings.push({
      severity: "warn",
      problem: `it holds ${privileges.join(", ")} on the database ${db}`,
      fix: `REVOKE ${privileges.join(", ")} ON \`${db.replace(/`/g, "``")}\`.* FROM ${grantee};`
    })
  }
  const byTable = new Map<string, Array<string>>()
  for (const t of table) {
    if (!mysqlWritePrivileges.has(t.privilege.toUpperCase())) continue
    const key = `\`${t.db.replace(/`/g, "``")}\`.\`${t.name.replace(/`/g, "``")}\``
    byTable.set(key, [...(byTable.get(key) ?? []), t.privilege])
  }
  if (byTable.size > 0) {
    findings.push({
      severity: "warn",
      problem: `it may write ${byTable.size} table${byTable.size === 1 ? "" : "s"}: ` +
        some([...byTable].map(([t, p]) => `${t} (${p.join(", ")})`)),
      fix: [...byTable].map(([t, p]) => `REVOKE ${p.join(", ")} ON ${t} FROM ${grantee};`).join(" ")
    })
  }
  return { login: currentUser, findings }
}

// ---------------------------------------------------------------------------
// SQL Server (not verified against a server)
// ---------------------------------------------------------------------------

/** @internal */
export const mssqlIdent = (name: string): string => `[${name.replace(/]/g, "]]")}]`

/** @internal */
export const mssqlPrivilegesQueries = {
  login: `SELECT SUSER_SNAME() AS login, USER_NAME() AS db_user, DB_NAME() AS db,
    IS_SRVROLEMEMBER('sysadmin') AS sysadmin,
    HAS_PERMS_BY_NAME(NULL, NULL, 'CONTROL SERVER') AS control_server,
    IS_ROLEMEMBER('db_owner') AS db_owner,
    IS_ROLEMEMBER('db_securityadmin') AS db_securityadmin,
    IS_ROLEMEMBER('db_datawriter') AS db_datawriter,
    IS_ROLEMEMBER('db_ddladmin') AS db_ddladmin,
    HAS_PERMS_BY_NAME(DB_NAME(), 'DATABASE', 'CONTROL') AS control_database,
    HAS_PERMS_BY_NAME(DB_NAME(), 'DATABASE', 'ALTER') AS alter_database`,
  writable: `SELECT SCHEMA_NAME(t.schema_id) AS [schema], t.name AS name,
    HAS_PERMS_BY_NAME(QUOTENAME(SCHEMA_NAME(t.schema_id)) + '.' + QUOTENAME(t.name), 'OBJECT', 'INSERT') AS can_insert,
    HAS_PERMS_BY_NAME(QUOTENAME(SCHEMA_NAME(t.schema_id)) + '.' + QUOTENAME(t.name), 'OBJECT', 'UPDATE') AS can_update,
    HAS_PERMS_BY_NAME(QUOTENAME(SCHEMA_NAME(t.schema_id)) + '.' + QUOTENAME(t.name), 'OBJECT', 'DELETE') AS can_delete
    FROM sys.tables t WHERE t.is_ms_shipped = 0`
} as const

/** A row of `mssqlPrivilegesQueries.login` (flags as 1/0). @internal */
export interface MssqlLoginRow {
  readonly login: string
  readonly db_user: string
  readonly db: string
  readonly sysadmin: number | null
  readonly control_server: number | null
  readonly db_owner: number | null
  readonly db_securityadmin: number | null
  readonly db_datawriter: number | null
  readonly db_ddladmin: number | null
  readonly control_database: number | null
  readonly alter_database: number | null
}

/** @internal */
export const mssqlFindings = (
  row: MssqlLoginRow,
  writable: ReadonlyArray<
    { schema: string; name: string; can_insert: number | null; can_update: number | null; can_delete: number | null }
  >
): LoginPrivileges => {
  const findings: Array<Finding> = []
  const user = mssqlIdent(row.db_user)
  if (row.sysadmin === 1) {
    findings.push({
      severity: "fail",
      problem: "it is a member of sysadmin: it can do anything on the server (xp_cmdshell, other databases, " +
        "linked servers), which a rolled-back transaction does not undo",
      fix: `ALTER SERVER ROLE sysadmin DROP MEMBER ${mssqlIdent(row.login)};`
    })
  } else if (row.control_server === 1) {
    findings.push({
      severity: "fail",
      problem: "it has CONTROL SERVER: it can do anything on the server",
      fix: `REVOKE CONTROL SERVER FROM ${mssqlIdent(row.login)};`
    })
  }
  if (findings.length > 0) return { login: row.login, findings }
  if (row.db_owner === 1) {
    findings.push({
      severity: "fail",
      problem: `it is a member of db_owner in ${row.db}: it can change and grant anything in the database`,
      fix: `ALTER ROLE db_owner DROP MEMBER ${user};`
    })
  } else if (row.control_database === 1) {
    findings.push({
      severity: "fail",
      problem: `it has CONTROL on the database ${row.db}`,
      fix: `REVOKE CONTROL ON DATABASE::${mssqlIdent(row.db)} FROM ${user};`
    })
  }
  if (row.db_securityadmin === 1) {
    findings.push({
      severity: "fail",
      problem: "it is a member of db_securityadmin: it can grant itself any permission in the database",
      fix: `ALTER ROLE db_securityadmin DROP MEMBER ${user};`
    })
  }
  if (row.db_datawriter === 1) {
    findings.push({
      severity: "warn",
      problem: "it is a member of db_datawriter: it can write every table",
      fix: `ALTER ROLE db_datawriter DROP MEMBER ${user};`
    })
  }
  if (row.db_ddladmin === 1) {
    findings.push({
      severity: "warn",
      problem: "it is a member of db_ddladmin: it can create, change and drop objects",
      fix: `ALTER ROLE db_ddladmin DROP MEMBER ${user};`
    })
  } else if (row.alter_database === 1 && row.db_owner !== 1 && row.control_database !== 1) {
    findings.push({
      severity: "warn",
      problem: "it has ALTER on the database: it can create, change and drop objects",
      fix: `REVOKE ALTER ON DATABASE::${mssqlIdent(row.db)} FROM ${user};`
    })
  }
  const tables = writable.flatMap((t) => {
    const privileges = [
      ...(t.can_insert === 1 ? ["INSERT"] : []),
      ...(t.can_update === 1 ? ["UPDATE"] : []),
      ...(t.can_delete === 1 ? ["DELETE"] : [])
    ]
    return privileges.length > 0 ? [`${mssqlIdent(t.schema)}.${mssqlIdent(t.name)} (${privileges.join(", ")})`] : []
  })
  if (tables.length > 0 && row.db_owner !== 1 && row.control_database !== 1 && row.db_datawriter !== 1) {
    findings.push({
      severity: "warn",
      problem: `it may write ${tables.length} table${tables.length === 1 ? "" : "s"}: ${some(tables)}`,
      fix: `DENY INSERT, UPDATE, DELETE TO ${user};`
    })
  }
  return { login: row.login, findings }
}
