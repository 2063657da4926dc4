/**
 * Who is calling: the host's admin, a tenant's user (personal access token), or an
 * integration's API key.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import type { IntegrationId, TenantId, UserId } from "./Domain.js"

/** @since 0.1.0 @category models */
export type Principal = Data.TaggedEnum<{
  /** The host's administrator, acting within one tenant. */
  Admin: { readonly tenantId: TenantId }
  /** A tenant's user, through a personal access token. */
  User: { readonly tenantId: TenantId; readonly userId: UserId }
  /** An integration's API key: it may only push into its own integration. */
  IntegrationKey: { readonly tenantId: TenantId; readonly integrationId: IntegrationId }
}>

/** @since 0.1.0 @category constructors */
export const { $is: is, Admin, IntegrationKey, User } = Data.taggedEnum<Principal>()
