/**
 * Registered on-premise `link` agents of a tenant: create one (its token is shown once and
 * stored as a SHA-256 with a visible prefix, like API keys), list them with when they were last
 * seen, which release and protocol they spoke and which integrations they serve, revoke one
 * (refused at once; the tasks it held go back to the queue), and authenticate a token.
 *
 * An on-premise integration names its link (`Integration.linkId`) or, without one, is served
 * by any link of its tenant whose configuration holds it: with one link per site that is the
 * tenant's default link; with two, they share the work and fail over to each other.
 *
 * @since 0.3.0
 */
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { IntegrationId, TenantId } from "./Domain.js"
import { LinkId } from "./Domain.js"
import { KeyMaterial } from "./KeyMaterial.js"
import { Link, LinkNotFound, LinkTask, tokenPrefix, visibleLength } from "./LinkModel.js"
import { Storage } from "./Storage.js"

/**
 * What a caller gives to register a link.
 *
 * @since 0.3.0 @category models
 */
export const CreateLink = Schema.Struct({
  name: Schema.NonEmptyTrimmedString.pipe(Schema.maxLength(200))
})
/** @since 0.3.0 @category models */
export type CreateLink = typeof CreateLink.Type

/**
 * What a link says about itself when it asks for work.
 *
 * @since 0.3.0 @category models
 */
export interface Seen {
  readonly agentVersion: string | null
  readonly protocol: number | null
  /** the integrations its configuration holds */
  readonly serves?: ReadonlyArray<IntegrationId> | undefined
}

/** Last-seen times are written at most this often per link (a long poll every few seconds adds no write). */
const seenEveryMs = 10_000

/**
 * @since 0.3.0 @category services
 */
export class Links extends Effect.Service<Links>()("@acd-bridge/core/Links", {
  effect: Effect.gen(function*() {
    const storage = yield* Storage
    const keys = yield* KeyMaterial

    /** A new link and its token, shown once. */
    const create = Effect.fn("Links.create")(function*(tenantId: TenantId, input: CreateLink) {
      const token = `${tokenPrefix}${yield* keys.randomToken(32)}`
      const link = new Link({
        id: LinkId.make(keys.uuid()),
        tenantId,
        name: input.name,
        prefix: token.slice(0, visibleLength),
        hash: yield* keys.sha256(token),
        createdAt: DateTime.unsafeMake(yield* Clock.currentTimeMillis),
        revokedAt: null,
        lastSeenAt: null,
        agentVersion: null,
        protocol: null,
        serves: []
      })
      yield* storage.links.insert(link)
      return { link, token } as const
    })

    const list = (tenantId: TenantId) => storage.links.list(tenantId)

    /** The tenant's link (revoked ones included), or `LinkNotFound` (also for another tenant's). */
    const get = Effect.fn("Links.get")(function*(tenantId: TenantId, id: string) {
      const found = yield* storage.links.get(LinkId.make(id))
      if (Option.isNone(found) || found.value.tenantId !== tenantId) return yield* new LinkNotFound({ linkId: id })
      return found.value
    })

    /**
     * Revokes the link's token at once and hands the tasks it holds back to the queue, so
     * another link takes them over without waiting for the leases to run out. Revoking a
     * revoked link changes nothing.
     */
    const revoke = Effect.fn("Links.revoke")(function*(tenantId: TenantId, id: string) {
      const link = yield* get(tenantId, id)
      if (link.revokedAt !== null) return link
      const now = yield* Clock.currentTimeMillis
      yield* storage.links.revoke(link.id, now)
      const revoked = new Link({ ...link, revokedAt: DateTime.unsafeMake(now) })
      for (const task of yield* storage.linkTasks.open(tenantId)) {
        if (task.state !== "leased" || task.leasedBy !== link.id) continue
        yield* storage.linkTasks.update(
          new LinkTask({ ...task, state: "pending", epoch: task.epoch + 1, leaseId: null, leaseUntil: null, updatedAt: now }),
          task.epoch
        )
      }
      return revoked
    })

    /** The live link of a presented token; none for unknown and revoked tokens alike. */
    const authenticate = Effect.fn("Links.authenticate")(function*(presented: string) {
      if (!presented.startsWith(tokenPrefix)) return Option.none<Link>()
      const found = yield* storage.links.findByHash(yield* keys.sha256(presented))
      return Option.filter(found, (l) => l.revokedAt === null)
    })

    /** Notes that the link asked for work: when, its release and protocol, what it serves. */
    const seen = Effect.fn("Links.seen")(function*(link: Link, what: Seen) {
      const now = yield* Clock.currentTimeMillis
      const serves = what.serves ?? link.serves
      const unchanged = link.agentVersion === what.agentVersion && link.protocol === what.protocol &&
        serves.length === link.serves.length && serves.every((id, i) => link.serves[i] === id)
      const last = link.lastSeenAt === null ? undefined : DateTime.toEpochMillis(link.lastSeenAt)
      if (unchanged && last !== undefined && now - last < seenEveryMs) return link
      yield* storage.links.touch(link.id, { at: now, agentVersion: what.agentVersion, protocol: what.protocol, serves })
      return new Link({
        ...link,
        lastSeenAt: DateTime.unsafeMake(now),
        agentVersion: what.agentVersion,
        protocol: what.protocol,
        serves: [...serves]
      })
    })

    return { create, list, get, revoke, authenticate, seen } as const
  }),
  dependencies: [KeyMaterial.Default]
}) {}
