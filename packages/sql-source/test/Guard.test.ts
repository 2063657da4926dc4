import { assert, describe, it } from "@effect/vitest"
import * as Either from "effect/Either"
import type { Dialect } from "../src/Guard.js"
import { prepare } from "../src/Guard.js"

const dialects: ReadonlyArray<Dialect> = ["pg", "mysql", "mssql", "sqlite"]

const refused = (dialect: Dialect, sql: string): string => {
  const result = prepare(dialect, sql, "contacts")
  assert.isTrue(Either.isLeft(result), `${dialect} should refuse: ${sql}`)
  return Either.isLeft(result) ? result.left.message : ""
}
const accepted = (dialect: Dialect, sql: string) => {
  const result = prepare(dialect, sql, "contacts")
  if (Either.isLeft(result)) assert.fail(`${dialect} should accept: ${sql}\n${result.left.message}`)
  return Either.getOrThrow(result)
}

describe("Guard", () => {
  describe("accepts single reading statements", () => {
    it("plain SELECT and WITH … SELECT in every dialect", () => {
      for (const d of dialects) {
        accepted(d, "SELECT queue_id AS queue_identifier FROM contacts WHERE ts >= :from AND ts < :to")
        accepted(d, "WITH q AS (SELECT id FROM queues) SELECT id FROM q WHERE id > 0")
        accepted(d, "  select 1 as x ;  ")
      }
    })
    it("PostgreSQL casts, AT TIME ZONE, FILTER and a REPLACE() function", () => {
      const p = accepted(
        "pg",
        "SELECT replace(q.name, 'x', 'y') AS queue_name, c.ts::timestamptz AS timestamp, " +
          "count(*) FILTER (WHERE c.handled) AS handled, c.ts AT TIME ZONE 'Europe/Berlin' AS loc " +
          "FROM contacts c JOIN queues q ON q.id = c.queue_id WHERE c.ts >= :from::timestamptz AND c.ts < :to " +
          "GROUP BY 1, 2, 4"
      )
      assert.deepStrictEqual(p.parameters, ["from", "to"])
      assert.include(p.text, "$1::timestamptz")
      assert.include(p.text, "c.ts < $2")
      assert.include(p.text, "c.ts::timestamptz")
    })
    it("a column named like a keyword, when quoted", () => {
      accepted("pg", "SELECT \"update\" AS x FROM t")
      accepted("mysql", "SELECT `delete` AS x FROM t")
      accepted("mssql", "SELECT [insert] AS x FROM t")
    })
  })

  describe("rewrites :from and :to into bound placeholders", () => {
    const sql = "SELECT a FROM t WHERE ts >= :from AND ts < :TO AND ts2 >= :from AND note <> ':from'"
    it("PostgreSQL reuses $1/$2", () => {
      const p = accepted("pg", sql)
      assert.strictEqual(p.text, "SELECT a FROM t WHERE ts >= $1 AND ts < $2 AND ts2 >= $1 AND note <> ':from'")
      assert.deepStrictEqual(p.parameters, ["from", "to"])
    })
    it("SQL Server reuses @1/@2", () => {
      const p = accepted("mssql", sql)
      assert.strictEqual(p.text, "SELECT a FROM t WHERE ts >= @1 AND ts < @2 AND ts2 >= @1 AND note <> ':from'")
    })
    it("MySQL and SQLite bind one ? per occurrence", () => {
      for (const d of ["mysql", "sqlite"] as const) {
        const p = accepted(d, sql)
        assert.strictEqual(p.text, "SELECT a FROM t WHERE ts >= ? AND ts < ? AND ts2 >= ? AND note <> ':from'")
        assert.deepStrictEqual(p.parameters, ["from", "to", "from"])
      }
    })
    it("drops one trailing semicolon, even before a comment", () => {
      assert.strictEqual(accepted("pg", "SELECT 1 AS x; -- done").text, "SELECT 1 AS x -- done")
    })
  })

  describe("refuses", () => {
    it("a second statement after a semicolon", () => {
      for (const d of dialects) assert.include(refused(d, "SELECT 1; DROP TABLE x"), "more than one statement")
      refused("pg", "SELECT 1;;")
    })
    it("WITH … DELETE (a writing CTE)", () => {
      for (const d of dialects) refused(d, "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d")
      assert.include(refused("pg", "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d"), "DELETE")
    })
    it("writing statements of every kind", () => {
      const statements = [
        "DELETE FROM t",
        "INSERT INTO t VALUES (1)",
        "UPDATE t SET a = 1",
        "DROP TABLE t",
        "TRUNCATE t",
        "CREATE TABLE x (a int)",
        "ALTER TABLE t ADD b int",
        "GRANT ALL ON t TO public",
        "MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DELETE",
        "CALL p()",
        "EXEC xp_cmdshell 'dir'",
        "COPY t TO '/tmp/x'",
        "SET ROLE admin",
        "BEGIN",
        "VALUES (1)",
        "PRAGMA writable_schema = 1",
        "ATTACH DATABASE '/tmp/x.db' AS x"
      ]
      for (const d of dialects) for (const s of statements) refused(d, s)
    })
    it("SELECT … INTO (creates a table or writes a file) and row locks", () => {
      for (const d of dialects) {
        refused(d, "SELECT * INTO copy_of_t FROM t")
        refused(d, "SELECT * FROM t FOR UPDATE")
      }
      refused("mysql", "SELECT * FROM t INTO OUTFILE '/tmp/x'")
    })
    it("functions with side effects a read-only transaction does not stop", () => {
      refused("pg", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity")
      refused("pg", "SELECT set_config('statement_timeout', '0', false)")
      refused("pg", "SELECT lo_export(1, '/tmp/x')")
      refused("sqlite", "SELECT load_extension('/tmp/evil.so')")
      refused("mssql", "SELECT * FROM OPENROWSET('SQLNCLI', 'Server=x;', 'SELECT 1')")
    })
    it("side-effecting functions however their name is quoted, escaped or qualified (PostgreSQL)", () => {
      const calls = [
        "SELECT \"dblink_exec\"('host=127.0.0.1', 'DELETE FROM contacts')",
        "SELECT \"public\".\"dblink_exec\"('x', 'y')",
        "SELECT \"pg_terminate_backend\"(pid) FROM pg_stat_activity",
        "SELECT \"PG_TERMINATE_BACKEND\"(pid) FROM pg_stat_activity",
        "SELECT pg_catalog . /* */ \"set_config\"('statement_timeout', '0', false)",
        "SELECT U&\"\\0064blink_exec\"('x', 'y')",
        "SELECT u&\"\\+000064blink_exec\"('x', 'y')",
        "SELECT U&\"!0064blink_exec\" UESCAPE '!' ('x', 'y')",
        "SELECT pg_stat_reset()",
        "SELECT pg_stat_reset_shared('bgwriter')",
        "SELECT pg_create_logical_replication_slot('s', 'test_decoding')",
        "SELECT pg_create_physical_replication_slot('s')",
        "SELECT pg_drop_replication_slot('s')",
        "SELECT pg_logical_slot_get_changes('s', NULL, NULL)",
        "SELECT pg_file_write('f', 'x', false)",
        "SELECT pg_file_rename('a', 'b')",
        "SELECT pg_file_unlink('a')",
        "SELECT lo_import('/etc/passwd')",
        "SELECT lo_export(1, '/tmp/x')",
        "SELECT pg_read_file('/etc/passwd')",
        "SELECT pg_read_binary_file('/etc/passwd')",
        "SELECT * FROM pg_ls_dir('.')",
        "SELECT pg_advisory_lock(1)",
        "SELECT pg_try_advisory_xact_lock_shared(1)",
        "SELECT pg_cancel_backend(1)",
        "SELECT pg_reload_conf()",
        "SELECT pg_rotate_logfile()",
        "SELECT pg_switch_wal()",
        "SELECT txid_current()",
        "SELECT pg_current_xact_id()",
        "SELECT nextval('s')",
        "SELECT query_to_xml('SELECT dblink_exec(''x'', ''y'')', true, true, '')",
        "SELECT * FROM ts_stat('SELECT dblink_exec(''x'', ''y'')::tsvector')",
        "SELECT pg_notify('c', 'x')"
      ]
      for (const sql of calls) assert.include(refused("pg", sql), "function with side effects", sql)
    })
    it("side-effecting functions in backticks, brackets and ANSI_QUOTES (MySQL, SQL Server, SQLite)", () => {
      assert.include(refused("mysql", "SELECT `load_file`('/etc/passwd') AS x"), "load_file")
      assert.include(refused("mysql", "SELECT `mysql`.`GET_LOCK`('x', 1) AS x"), "get_lock")
      assert.include(refused("mysql", "SELECT \"load_file\"('/etc/passwd') AS x"), "load_file")
      assert.include(refused("mssql", "SELECT * FROM [OPENROWSET]('SQLNCLI', 'Server=x;', 'SELECT 1')"), "openrowset")
      assert.include(refused("mssql", "SELECT * FROM [master].[dbo].[xp_dirtree]('C:\\')"), "xp_dirtree")
      assert.include(refused("mssql", "SELECT * FROM \"openquery\"(srv, 'SELECT 1')"), "openquery")
      for (const quoted of ["[load_extension]", "`load_extension`", "\"load_extension\"", "main.\"LOAD_EXTENSION\""]) {
        assert.include(refused("sqlite", `SELECT ${quoted}('/tmp/evil.so') AS x`), "load_extension")
      }
    })
    it("locking clauses, sequences and lock hints", () => {
      for (const d of dialects) {
        for (const clause of ["FOR UPDATE", "FOR NO KEY UPDATE", "FOR SHARE", "FOR KEY SHARE", "FOR UPDATE SKIP LOCKED"]) {
          refused(d, `SELECT a FROM t ${clause}`)
        }
        assert.include(refused(d, "SELECT a FROM t FOR SHARE"), "locking clause")
      }
      assert.include(refused("mysql", "SELECT a FROM t LOCK IN SHARE MODE"), "LOCK")
      assert.include(refused("mssql", "SELECT a FROM t WITH (UPDLOCK)"), "UPDLOCK")
      assert.include(refused("mssql", "SELECT a FROM t WITH (HOLDLOCK, ROWLOCK)"), "HOLDLOCK")
      assert.include(refused("mssql", "SELECT NEXT VALUE FOR dbo.s AS n"), "NEXT VALUE FOR")
      // FOR in other places stays allowed
      accepted("mssql", "SELECT name FROM queues FOR JSON PATH")
    })
    it("data-modifying WITH queries by their shape, and statements that are not a SELECT after WITH", () => {
      assert.include(refused("pg", "WITH d AS (VALUES (1)) VALUES (2)"), "must be a SELECT")
      assert.include(refused("pg", "WITH \"d\" AS (SHOW search_path) SELECT 1 AS x"), "not a SELECT")
      assert.include(refused("pg", "WITH d AS NOT MATERIALIZED (SELECT 1) TABLE d"), "must be a SELECT")
    })
    it("a second statement hidden after a line comment's end", () => {
      for (const d of dialects) refused(d, "SELECT 1 AS x -- comment\n; DROP TABLE x")
    })
    it("a second statement hidden by comment syntax the server does not have", () => {
      // MySQL: "--" only starts a comment when followed by a space; --1 is minus minus one
      assert.include(refused("mysql", "SELECT 1 --1; DROP TABLE x"), "more than one statement")
      // MySQL and SQLite comments do not nest: the first */ ends it
      refused("mysql", "SELECT 1 /* /* */ ; DROP TABLE x */")
      refused("sqlite", "SELECT 1 /* /* */ ; DROP TABLE x */")
      // MySQL runs the content of /*! … */
      refused("mysql", "SELECT 1 /*! ; DROP TABLE x */")
    })
    it("nested comments are comments where the server nests them", () => {
      // PostgreSQL and SQL Server nest /* */: all of this is one comment
      accepted("pg", "SELECT 1 AS x /* /* */ ; DROP TABLE x */")
      accepted("mssql", "SELECT 1 AS x /* /* */ ; DROP TABLE x */")
      refused("pg", "SELECT 1 AS x /* never closed")
    })
    it("strings whose end depends on backslash escaping", () => {
      // with backslash escapes the ; is inside the string, without them it ends a statement
      refused("mysql", "SELECT 'a\\'; DROP TABLE x; -- ' AS x")
      refused("pg", "SELECT 'a\\'; DROP TABLE x; -- ' AS x")
      refused("pg", "SELECT E'a\\'; DROP TABLE x; --' AS x")
    })
    it("statements hidden in PostgreSQL dollar quotes are strings, and stay harmless", () => {
      accepted("pg", "SELECT $$; DROP TABLE x$$ AS note")
      accepted("pg", "SELECT $tag$ it's ; $tag$ AS note")
      refused("pg", "SELECT $tag$ never closed")
    })
    it("placeholders and variables other than :from and :to", () => {
      assert.include(refused("pg", "SELECT * FROM t WHERE a = :tenant"), "unknown parameter :tenant")
      refused("pg", "SELECT * FROM t WHERE a = $1")
      refused("sqlite", "SELECT * FROM t WHERE a = ?")
      refused("sqlite", "SELECT * FROM t WHERE a = $x")
      refused("mysql", "SELECT @x := 1")
      refused("mssql", "SELECT @@VERSION AS v")
    })
    it("empty queries and unknown statements", () => {
      refused("pg", "   -- nothing\n")
      assert.include(refused("pg", "SHOW search_path"), "SELECT or WITH")
      assert.include(refused("pg", "EXPLAIN SELECT 1"), "SELECT or WITH")
    })
    it("what the SQL parser can't verify, with the view workaround in the message", () => {
      assert.include(refused("pg", "SELECT FROM WHERE"), "view")
    })
  })
})
