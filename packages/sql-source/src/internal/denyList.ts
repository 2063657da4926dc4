/**
 * What the guard refuses by name: writing and session keywords, functions with side effects
 * (under any spelling, see `Guard`), and SQL Server lock hints. Public through `Guard`.
 *
 * @internal
 */
/**
 * Words that write, change the session, call procedures or reach outside the database.
 * They are refused as unquoted words anywhere outside strings and comments (quote a column
 * that happens to carry one of these names: a quoted identifier can't start a statement).
 *
 * @since 0.1.0 @category constants
 */
export const forbiddenWords: ReadonlySet<string> = new Set([
  "insert",
  "update",
  "delete",
  "merge",
  "upsert",
  "truncate",
  "drop",
  "alter",
  "create",
  "rename",
  "grant",
  "revoke",
  "deny",
  "copy",
  "call",
  "exec",
  "execute",
  "do",
  "set",
  "reset",
  "into",
  "lock",
  "unlock",
  "begin",
  "commit",
  "rollback",
  "savepoint",
  "release",
  "prepare",
  "deallocate",
  "listen",
  "notify",
  "unlisten",
  "vacuum",
  "reindex",
  "cluster",
  "refresh",
  "discard",
  "checkpoint",
  "attach",
  "detach",
  "pragma",
  "load",
  "handler",
  "outfile",
  "dumpfile",
  "kill",
  "shutdown",
  "returning",
  "declare",
  "use",
  "backup",
  "restore",
  "dbcc",
  "bulk",
  "waitfor",
  // functions of the SQLite command-line shell (not present in better-sqlite3)
  "writefile",
  "readfile",
  "edit"
])

/**
 * Functions a read-only transaction does not stop, or that must not run from a reporting
 * query: they signal or end other sessions, change settings, take locks that outlive the
 * statement, write the server's files or WAL, read the server's files, consume replication
 * slots, reset statistics, assign transaction ids or advance sequences (which a rollback does
 * not undo), reach other databases (dblink, linked servers), or run SQL text the guard never
 * sees (`query_to_xml`, `ts_stat`, `crosstab`). Refused under every spelling of the name —
 * unquoted, quoted (`"…"`, `` `…` ``, `[…]`, PostgreSQL `U&"…"`), in any case and qualified by
 * any schema — wherever it appears, called or not: a column named like one of them has to be
 * renamed in a view. See also `forbiddenFunctionPatterns`.
 *
 * @since 0.1.0 @category constants
 */
export const forbiddenFunctions: ReadonlySet<string> = new Set([
  // PostgreSQL: sessions, settings, server signals
  "pg_terminate_backend",
  "pg_cancel_backend",
  "pg_reload_conf",
  "pg_rotate_logfile",
  "pg_rotate_logfile_old",
  "pg_log_backend_memory_contexts",
  "pg_log_standby_snapshot",
  "set_config",
  "pg_notify",
  // PostgreSQL: WAL, backups, recovery
  "pg_switch_wal",
  "pg_switch_xlog",
  "pg_create_restore_point",
  "pg_backup_start",
  "pg_backup_stop",
  "pg_start_backup",
  "pg_stop_backup",
  "pg_promote",
  "pg_wal_replay_pause",
  "pg_wal_replay_resume",
  "pg_xlog_replay_pause",
  "pg_xlog_replay_resume",
  "pg_export_snapshot",
  "pg_import_system_collations",
  "pg_nextoid",
  "pg_buffercache_evict",
  "pg_buffercache_evict_all",
  "pg_buffercache_evict_relation",
  // PostgreSQL: replication slots and origins
  "pg_drop_replication_slot",
  "pg_replication_slot_advance",
  "pg_sync_replication_slots",
  "pg_logical_emit_message",
  // PostgreSQL: index maintenance that writes
  "brin_summarize_new_values",
  "brin_summarize_range",
  "brin_desummarize_range",
  "gin_clean_pending_list",
  // PostgreSQL: the server's files (adminpack included)
  "pg_read_file",
  "pg_read_binary_file",
  "pg_stat_file",
  "pg_file_write",
  "pg_file_rename",
  "pg_file_unlink",
  "pg_file_sync",
  "pg_file_read",
  "pg_file_length",
  "pg_logdir_ls",
  // PostgreSQL: large objects
  "lo_import",
  "lo_export",
  "lo_unlink",
  "lo_create",
  "lo_creat",
  "lo_from_bytea",
  "lo_put",
  "lo_truncate",
  "lo_truncate64",
  "lo_open",
  "lowrite",
  // PostgreSQL: transaction ids and sequences
  "txid_current",
  "pg_current_xact_id",
  "nextval",
  "setval",
  // PostgreSQL: SQL text run by the server (the guard never sees it)
  "ts_stat",
  "ts_rewrite",
  "crosstab",
  "crosstab2",
  "crosstab3",
  "crosstab4",
  "connectby",
  "pg_stat_statements_reset",
  "postgres_fdw_disconnect",
  "postgres_fdw_disconnect_all",
  // MySQL / MariaDB
  "load_file",
  "get_lock",
  "release_lock",
  "release_all_locks",
  "master_pos_wait",
  "source_pos_wait",
  "wait_for_executed_gtid_set",
  "wait_until_sql_thread_after_gtids",
  "sys_exec",
  "sys_eval",
  "lastval",
  // SQL Server
  "openrowset",
  "openquery",
  "opendatasource",
  "openxml",
  "fn_xe_file_target_read_file",
  "fn_get_audit_file",
  "fn_trace_gettable",
  // SQLite
  "load_extension",
  "fts3_tokenizer"
])

/**
 * Families of forbidden functions, matched against the normalised name: statistics resets,
 * advisory locks, replication slots and origins, logical decoding, directory listings,
 * dblink (another connection, which the read-only transaction does not cover), binary
 * upgrade support, SQL text turned into XML, SQL Server extended procedures.
 *
 * @since 0.1.0 @category constants
 */
export const forbiddenFunctionPatterns: ReadonlyArray<RegExp> = [
  /^pg_stat_reset/,
  /^pg_(try_)?advisory_/,
  /^pg_(create|copy)_\w*replication_slot$/,
  /^pg_replication_origin_/,
  /^pg_logical_slot_/,
  /^pg_ls_/,
  /^dblink/,
  /^binary_upgrade_/,
  /^(query|cursor)_to_xml/,
  /^xp_/
]

/**
 * Whether a function name (unquoted and lower-cased, without its schema) is forbidden.
 *
 * @since 0.1.0 @category predicates
 */
export const isForbiddenFunction = (name: string): boolean => {
  const n = name.toLowerCase()
  return forbiddenFunctions.has(n) || forbiddenFunctionPatterns.some((p) => p.test(n))
}

/** SQL Server table hints that take or hold locks a reporting query has no business holding. */
export const lockHints: ReadonlySet<string> = new Set([
  "updlock",
  "xlock",
  "holdlock",
  "tablock",
  "tablockx",
  "paglock",
  "serializable",
  "repeatableread",
  "readcommittedlock"
])

