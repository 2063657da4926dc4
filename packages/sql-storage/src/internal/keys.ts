/** API keys and personal access tokens: hashes only, found by hash, revoked in place. */
import type { StorageDriver } from "@acd-bridge/core"
import * as Effect from "effect/Effect"
import type { Dialect } from "./dialect.js"
import { edge } from "./dialect.js"
import * as Rows from "./rows.js"

export const apiKeys = ({ sql }: Dialect): StorageDriver.StorageDriverShape["apiKeys"] => ({
  revokeLive: (integrationId, at) =>
    sql`UPDATE api_keys SET revoked_at = ${at} WHERE integration_id = ${integrationId} AND revoked_at IS NULL`.pipe(
      Effect.asVoid,
      edge("apiKeys.revokeLive")
    ),
  insert: (key) =>
    sql`INSERT INTO api_keys ${
      sql.insert({
        id: key.id,
        integration_id: key.integrationId,
        tenant_id: key.tenantId,
        prefix: key.prefix,
        hash: key.hash,
        created_at: Rows.millis(key.createdAt),
        revoked_at: Rows.millisOrNull(key.revokedAt)
      })
    } ON CONFLICT (id) DO UPDATE SET integration_id = excluded.integration_id, tenant_id = excluded.tenant_id,
      prefix = excluded.prefix, hash = excluded.hash, created_at = excluded.created_at,
      revoked_at = excluded.revoked_at`.pipe(Effect.asVoid, edge("apiKeys.insert")),
  findByHash: (hash) =>
    sql<Rows.ApiKeyRow>`SELECT id, integration_id, tenant_id, prefix, hash, created_at, revoked_at
      FROM api_keys WHERE hash = ${hash} ORDER BY seq LIMIT 1`.pipe(
      Effect.flatMap((rows) => (rows.length === 0 ? Effect.succeedNone : Effect.asSome(Rows.apiKeyFromRow(rows[0]!)))),
      edge("apiKeys.findByHash")
    )
})

export const accessTokens = ({ sql }: Dialect): StorageDriver.StorageDriverShape["accessTokens"] => ({
  insert: (t) =>
    sql`INSERT INTO access_tokens ${
      sql.insert({
        id: t.id,
        tenant_id: t.tenantId,
        user_id: t.userId,
        name: t.name,
        prefix: t.prefix,
        hash: t.hash,
        created_at: Rows.millis(t.createdAt),
        revoked_at: Rows.millisOrNull(t.revokedAt)
      })
    } ON CONFLICT (id) DO UPDATE SET tenant_id = excluded.tenant_id, user_id = excluded.user_id,
      name = excluded.name, prefix = excluded.prefix, hash = excluded.hash, created_at = excluded.created_at,
      revoked_at = excluded.revoked_at`.pipe(Effect.asVoid, edge("accessTokens.insert")),
  findByHash: (hash) =>
    sql<Rows.AccessTokenRow>`SELECT id, tenant_id, user_id, name, prefix, hash, created_at, revoked_at
      FROM access_tokens WHERE hash = ${hash} ORDER BY seq LIMIT 1`.pipe(
      Effect.flatMap((rows) =>
        rows.length === 0 ? Effect.succeedNone : Effect.asSome(Rows.accessTokenFromRow(rows[0]!))
      ),
      edge("accessTokens.findByHash")
    ),
  get: (id) =>
    sql<Rows.AccessTokenRow>`SELECT id, tenant_id, user_id, name, prefix, hash, created_at, revoked_at
      FROM access_tokens WHERE id = ${id}`.pipe(
      Effect.flatMap((rows) =>
        rows.length === 0 ? Effect.succeedNone : Effect.asSome(Rows.accessTokenFromRow(rows[0]!))
      ),
      edge("accessTokens.get")
    ),
  list: (tenantId) =>
    sql<Rows.AccessTokenRow>`SELECT id, tenant_id, user_id, name, prefix, hash, created_at, revoked_at
      FROM access_tokens WHERE tenant_id = ${tenantId} ORDER BY seq`.pipe(
      Effect.flatMap((rows) => Effect.forEach(rows, Rows.accessTokenFromRow)),
      edge("accessTokens.list")
    ),
  revoke: (id, at) =>
    sql`UPDATE access_tokens SET revoked_at = ${at} WHERE id = ${id} AND revoked_at IS NULL`.pipe(
      Effect.asVoid,
      edge("accessTokens.revoke")
    )
})
