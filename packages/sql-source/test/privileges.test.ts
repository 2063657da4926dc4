/**
 * The MySQL and SQL Server privilege findings, from catalog rows as the servers document
 * them (no server can run here; PostgreSQL's are tested for real in CheckPrivileges.test.ts).
 */
import { assert, describe, it } from "@effect/vitest"
import type { MssqlLoginRow } from "../src/internal/privileges.js"
import { mssqlFindings, mysqlFindings, mysqlGrantee } from "../src/internal/privileges.js"

describe("MySQL privilege findings", () => {
  it("spells the grantee as information_schema does", () => {
    assert.strictEqual(mysqlGrantee("wfm_reader@%"), "'wfm_reader'@'%'")
    assert.strictEqual(mysqlGrantee("o'brien@10.0.0.%"), "'o''brien'@'10.0.0.%'")
    assert.strictEqual(mysqlGrantee("odd@name@localhost"), "'odd@name'@'localhost'")
  })

  it("a login with SELECT only (USAGE globally): nothing", () => {
    const p = mysqlFindings("wfm_reader@%", [{ privilege: "USAGE", grantable: "NO" }], [
      { db: "acd", privilege: "SELECT" }
    ], [])
    assert.deepStrictEqual(p.findings, [])
  })

  it("FILE, SUPER or GRANT OPTION on *.* fail, with the REVOKE", () => {
    const p = mysqlFindings("etl@%", [
      { privilege: "SELECT", grantable: "YES" },
      { privilege: "FILE", grantable: "YES" },
      { privilege: "SUPER", grantable: "YES" },
      { privilege: "INSERT", grantable: "YES" }
    ], [], [])
    const fail = p.findings.find((f) => f.severity === "fail")!
    assert.include(fail.problem, "FILE, SUPER, GRANT OPTION")
    assert.strictEqual(fail.fix, "REVOKE FILE, SUPER, GRANT OPTION ON *.* FROM 'etl'@'%';")
    const warn = p.findings.find((f) => f.severity === "warn")!
    assert.strictEqual(warn.fix, "REVOKE INSERT ON *.* FROM 'etl'@'%';")
  })

  it("writes on a database and on tables warn, each with its REVOKE", () => {
    const p = mysqlFindings("app@localhost", [{ privilege: "USAGE" }], [
      { db: "acd", privilege: "SELECT" },
      { db: "acd", privilege: "INSERT" },
      { db: "acd", privilege: "DELETE" }
    ], [
      { db: "acd", name: "contacts", privilege: "UPDATE" },
      { db: "acd", name: "contacts", privilege: "SELECT" },
      { db: "acd", name: "queue`s", privilege: "DELETE" }
    ])
    assert.deepStrictEqual(p.findings.map((f) => f.severity), ["warn", "warn"])
    assert.strictEqual(p.findings[0]!.fix, "REVOKE INSERT, DELETE ON `acd`.* FROM 'app'@'localhost';")
    assert.include(p.findings[1]!.problem, "it may write 2 tables: `acd`.`contacts` (UPDATE), `acd`.`queue``s` (DELETE)")
    assert.strictEqual(
      p.findings[1]!.fix,
      "REVOKE UPDATE ON `acd`.`contacts` FROM 'app'@'localhost'; REVOKE DELETE ON `acd`.`queue``s` FROM 'app'@'localhost';"
    )
  })
})

describe("SQL Server privilege findings", () => {
  const login: MssqlLoginRow = {
    login: "ACD\\wfm",
    db_user: "wfm",
    db: "ACD",
    sysadmin: 0,
    control_server: 0,
    db_owner: 0,
    db_securityadmin: 0,
    db_datawriter: 0,
    db_ddladmin: 0,
    control_database: 0,
    alter_database: 0
  }
  const table = (name: string, insert: number, update: number, del: number) => ({
    schema: "dbo",
    name,
    can_insert: insert,
    can_update: update,
    can_delete: del
  })

  it("a db_datareader: nothing", () => {
    assert.deepStrictEqual(mssqlFindings(login, [table("Contacts", 0, 0, 0)]).findings, [])
  })

  it("sysadmin fails, and nothing else is listed (it can do everything)", () => {
    const p = mssqlFindings({ ...login, sysadmin: 1, db_owner: 1 }, [table("Contacts", 1, 1, 1)])
    assert.strictEqual(p.findings.length, 1)
    assert.strictEqual(p.findings[0]!.severity, "fail")
    assert.strictEqual(p.findings[0]!.fix, "ALTER SERVER ROLE sysadmin DROP MEMBER [ACD\\wfm];")
  })

  it("db_owner and db_securityadmin fail; db_datawriter and table writes warn", () => {
    const owner = mssqlFindings({ ...login, db_owner: 1, control_database: 1, alter_database: 1 }, [])
    assert.deepStrictEqual(owner.findings.map((f) => [f.severity, f.fix]), [["fail", "ALTER ROLE db_owner DROP MEMBER [wfm];"]])
    const security = mssqlFindings({ ...login, db_securityadmin: 1 }, [])
    assert.strictEqual(security.findings[0]!.severity, "fail")
    const writer = mssqlFindings({ ...login, db_datawriter: 1 }, [table("Contacts", 1, 1, 1)])
    assert.deepStrictEqual(writer.findings.map((f) => [f.severity, f.fix]), [[
      "warn",
      "ALTER ROLE db_datawriter DROP MEMBER [wfm];"
    ]])
    const grants = mssqlFindings(login, [table("Contacts", 1, 0, 0), table("Odd]Name", 0, 1, 1)])
    assert.strictEqual(grants.findings[0]!.problem, "it may write 2 tables: [dbo].[Contacts] (INSERT), [dbo].[Odd]]Name] (UPDATE, DELETE)")
    assert.strictEqual(grants.findings[0]!.fix, "DENY INSERT, UPDATE, DELETE TO [wfm];")
  })
})
