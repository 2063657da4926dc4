/**
 * Who may call what: the expected outcome of every (route class × credential) cell, written
 * down as data from DESIGN §2/§4 and docs/http-contract.md. The suite reads the routes from
 * `/openapi.json`, so a new route is covered as soon as it exists: it falls in a class by its
 * path (or is named in `routeClasses` when its class differs from its prefix's).
 */

/** The credentials every route is tried with. */
export const credentials = [
  "none",
  "malformed",
  "wrongScheme",
  "revokedKey",
  "otherIntegrationKey",
  "ownKey",
  "deletedIntegrationKey",
  "revokedPat",
  "otherTenantPat",
  "ownTenantPat",
  "adminToken"
] as const

export type Credential = typeof credentials[number]

/**
 * - `ok`: authenticated and allowed (the route runs: any answer but 401/403/5xx)
 * - `401` / `403` / `404`: refused with exactly that status, as a problem body, nothing written
 * - `isolated`: the other tenant's user is authenticated but acts in its own tenant: the answer
 *   holds nothing of tenant A and tenant A's data is unchanged (a route naming A's resources
 *   answers 404)
 */
export type Outcome = "ok" | 401 | 403 | 404 | "isolated"

export type RouteClass = "public" | "admin" | "adminTokenOnly" | "link" | "push"

/** DESIGN §2, §4 and docs/http-contract.md, "Authentication". */
export const expected: Record<RouteClass, Record<Credential, Outcome>> = {
  // /health, /openapi.json: no credentials needed; whatever is sent is not looked at
  public: {
    none: "ok",
    malformed: "ok",
    wrongScheme: "ok",
    revokedKey: "ok",
    otherIntegrationKey: "ok",
    ownKey: "ok",
    deletedIntegrationKey: "ok",
    revokedPat: "ok",
    otherTenantPat: "ok",
    ownTenantPat: "ok",
    adminToken: "ok"
  },
  // admin routes: the host's admin token or a personal access token of the tenant; an API key
  // is not an admin credential (401); missing, malformed, unknown and revoked are one 401
  admin: {
    none: 401,
    malformed: 401,
    wrongScheme: 401,
    revokedKey: 401,
    otherIntegrationKey: 401,
    ownKey: 401,
    deletedIntegrationKey: 401,
    revokedPat: 401,
    otherTenantPat: "isolated",
    ownTenantPat: "ok",
    adminToken: "ok"
  },
  // personal access tokens are managed with the admin token only (DESIGN §2): a user's token,
  // of this tenant or another, is authenticated but forbidden (403), and writes nothing
  adminTokenOnly: {
    none: 401,
    malformed: 401,
    wrongScheme: 401,
    revokedKey: 401,
    otherIntegrationKey: 401,
    ownKey: 401,
    deletedIntegrationKey: 401,
    revokedPat: 401,
    otherTenantPat: 403,
    ownTenantPat: 403,
    adminToken: "ok"
  },
  // the link agent's routes (/v1/link/*): only a link token opens them; none of these
  // credentials is one, so every one is the same 401 (link tokens are tested in packages/http)
  link: {
    none: 401,
    malformed: 401,
    wrongScheme: 401,
    revokedKey: 401,
    otherIntegrationKey: 401,
    ownKey: 401,
    deletedIntegrationKey: 401,
    revokedPat: 401,
    otherTenantPat: 401,
    ownTenantPat: 401,
    adminToken: 401
  },
  // push routes (into tenant A's integration): its API key or a PAT of tenant A; another
  // integration's key is 403; the admin token is 403 (docs/http-contract.md); a revoked key or
  // the key of a deleted integration is 401; another tenant's user doesn't see the integration (404)
  push: {
    none: 401,
    malformed: 401,
    wrongScheme: 401,
    revokedKey: 401,
    otherIntegrationKey: 403,
    ownKey: "ok",
    deletedIntegrationKey: 401,
    revokedPat: 401,
    otherTenantPat: 404,
    ownTenantPat: "ok",
    adminToken: 403
  }
}

/** Routes whose class isn't their prefix's (`METHOD /path` as in the OpenAPI document). */
export const routeClasses: Readonly<Record<string, RouteClass>> = {
  "GET /health": "public",
  "GET /openapi.json": "public",
  "POST /v1/access-tokens": "adminTokenOnly",
  "GET /v1/access-tokens": "adminTokenOnly",
  "DELETE /v1/access-tokens/{id}": "adminTokenOnly"
}

/** The class of a route: named above, else by its path. */
export const classOf = (method: string, path: string): RouteClass => {
  const named = routeClasses[`${method.toUpperCase()} ${path}`]
  if (named !== undefined) return named
  if (path.startsWith("/external-systems/")) return "push"
  if (path.startsWith("/v1/link/")) return "link"
  // everything else is an admin route until it is named: a new route starts closed
  return "admin"
}
