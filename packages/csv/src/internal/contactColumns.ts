/**
 * Where the contact rows of a chunk wait until the chunk is applied: in columns (typed arrays,
 * with the queues in a small table), not as one event object and one `DateTime` per row.
 *
 * Why: a chunk lives from its first row until its transaction commits, and meanwhile the next
 * rows are parsed, so objects kept for it survive V8's young-generation collections and are
 * promoted to the old generation, which then grows by the chunk's size for every chunk until a
 * full collection. That, not the data, pushed a long import's peak RSS over 200 MB (see
 * `bench/csv-import.ts`). Typed arrays keep their bytes outside the JavaScript heap, so moving
 * them costs nothing; the events are built (`toEvents`) right before the transaction that
 * applies them and die with it.
 *
 * @internal
 */
import { Time } from "@acd-bridge/core"
import type { Domain } from "@acd-bridge/core"

/** A queue as the rows name it. @internal */
export interface QueueTriple {
  readonly identifier: string
  readonly name: string
  readonly channel: Domain.Channel
}

/** The contact rows of one chunk, in columns. @internal */
export interface ContactBlock {
  readonly length: number
  /** index → queue; shared by the blocks of a file, append-only */
  readonly queues: ReadonlyArray<QueueTriple>
  readonly queue: Uint32Array
  readonly flags: Uint16Array
  /** per row: timestamp, duration, talk, hold, after-call work, wait (ms; NaN: not given) */
  readonly numbers: Float64Array
}

/** @internal */
export const emptyBlock: ContactBlock = {
  length: 0,
  queues: [],
  queue: new Uint32Array(0),
  flags: new Uint16Array(0),
  numbers: new Float64Array(0)
}

/** @internal */
export interface ContactColumns {
  readonly push: (
    queueIdentifier: string,
    queueName: string,
    channel: Domain.Channel,
    timestamp: number,
    offered: boolean,
    handled: boolean,
    durationMs: number,
    talkMs: number | undefined,
    holdMs: number | undefined,
    afterCallWorkMs: number | undefined,
    waitMs: number | undefined,
    abandoned: boolean | undefined,
    answeredInThreshold: boolean | undefined,
    shortAbandoned: boolean | undefined,
    breakout: boolean | undefined
  ) => void
  /** the rows pushed since the last take; the columns are then empty */
  readonly take: () => ContactBlock
}

const OFFERED = 1
const HANDLED = 2
const HAS_ABANDONED = 4
const ABANDONED = 8
const HAS_THRESHOLD = 16
const IN_THRESHOLD = 32
const HAS_SHORT = 64
const SHORT = 128
const HAS_BREAKOUT = 256
const BREAKOUT = 512
const FIELDS = 6
/** past this many distinct queues a new table starts, so a file naming a queue per row stays bounded */
const MAX_QUEUES = 10_000

const orNaN = (value: number | undefined) => value === undefined ? Number.NaN : value

/** @internal */
export const makeContactColumns = (capacity: number): ContactColumns => {
  let size = Math.max(1, capacity)
  let length = 0
  let queue = new Uint32Array(size)
  let flags = new Uint16Array(size)
  let numbers = new Float64Array(size * FIELDS)
  let queues: Array<QueueTriple> = []
  // identifier → name → channel → index
  let index = new Map<string, Map<string, Map<Domain.Channel, number>>>()

  const queueOf = (identifier: string, name: string, channel: Domain.Channel): number => {
    let byName = index.get(identifier)
    if (byName === undefined) {
      byName = new Map()
      index.set(identifier, byName)
    }
    let byChannel = byName.get(name)
    if (byChannel === undefined) {
      byChannel = new Map()
      byName.set(name, byChannel)
    }
    const known = byChannel.get(channel)
    if (known !== undefined) return known
    queues.push({ identifier, name, channel })
    byChannel.set(channel, queues.length - 1)
    return queues.length - 1
  }

  const grow = () => {
    size *= 2
    const q = new Uint32Array(size)
    q.set(queue)
    queue = q
    const f = new Uint16Array(size)
    f.set(flags)
    flags = f
    const n = new Float64Array(size * FIELDS)
    n.set(numbers)
    numbers = n
  }

  const push: ContactColumns["push"] = (
    queueIdentifier,
    queueName,
    channel,
    timestamp,
    offered,
    handled,
    durationMs,
    talkMs,
    holdMs,
    afterCallWorkMs,
    waitMs,
    abandoned,
    answeredInThreshold,
    shortAbandoned,
    breakout
  ) => {
    if (length === size) grow()
    const i = length++
    queue[i] = queueOf(queueIdentifier, queueName, channel)
    flags[i] = (offered ? OFFERED : 0) | (handled ? HANDLED : 0) |
      (abandoned === undefined ? 0 : HAS_ABANDONED | (abandoned ? ABANDONED : 0)) |
      (answeredInThreshold === undefined ? 0 : HAS_THRESHOLD | (answeredInThreshold ? IN_THRESHOLD : 0)) |
      (shortAbandoned === undefined ? 0 : HAS_SHORT | (shortAbandoned ? SHORT : 0)) |
      (breakout === undefined ? 0 : HAS_BREAKOUT | (breakout ? BREAKOUT : 0))
    const o = i * FIELDS
    numbers[o] = timestamp
    numbers[o + 1] = durationMs
    numbers[o + 2] = orNaN(talkMs)
    numbers[o + 3] = orNaN(holdMs)
    numbers[o + 4] = orNaN(afterCallWorkMs)
    numbers[o + 5] = orNaN(waitMs)
  }

  const take = (): ContactBlock => {
    if (length === 0) return emptyBlock
    const block: ContactBlock = {
      length,
      queues,
      queue: queue.slice(0, length),
      flags: flags.slice(0, length),
      numbers: numbers.slice(0, length * FIELDS)
    }
    length = 0
    if (queues.length > MAX_QUEUES) {
      queues = []
      index = new Map()
    }
    return block
  }

  return { push, take }
}

/**
 * The block's rows as contact events, in row order.
 *
 * @internal
 */
export const toEvents = (block: ContactBlock): ReadonlyArray<Domain.ContactEvent> => {
  const out: Array<Domain.ContactEvent> = new Array(block.length)
  const { flags, numbers, queue, queues } = block
  for (let i = 0; i < block.length; i++) {
    const f = flags[i]!
    const o = i * FIELDS
    const q = queues[queue[i]!]!
    // a plain object, built by `Object.create` rather than a literal: V8 tracks where literals
    // are allocated and, once it has seen a chunk's events outlive a young-generation collection,
    // allocates every later event of that literal straight into the old generation, where they
    // pile up as garbage until a full collection (the peak RSS of a long import)
    const event = Object.create(Object.prototype) as { -readonly [K in keyof Domain.ContactEvent]: Domain.ContactEvent[K] }
    event.queueIdentifier = q.identifier
    event.queueName = q.name
    event.channel = q.channel
    event.timestamp = Time.utc(numbers[o]!)
    event.offered = (f & OFFERED) !== 0
    event.handled = (f & HANDLED) !== 0
    event.durationMs = numbers[o + 1]!
    const talk = numbers[o + 2]!
    if (!Number.isNaN(talk)) event.talkMs = talk
    const hold = numbers[o + 3]!
    if (!Number.isNaN(hold)) event.holdMs = hold
    const acw = numbers[o + 4]!
    if (!Number.isNaN(acw)) event.afterCallWorkMs = acw
    const wait = numbers[o + 5]!
    if (!Number.isNaN(wait)) event.waitMs = wait
    if ((f & HAS_ABANDONED) !== 0) event.abandoned = (f & ABANDONED) !== 0
    if ((f & HAS_THRESHOLD) !== 0) event.answeredInThreshold = (f & IN_THRESHOLD) !== 0
    if ((f & HAS_SHORT) !== 0) event.shortAbandoned = (f & SHORT) !== 0
    if ((f & HAS_BREAKOUT) !== 0) event.breakout = (f & BREAKOUT) !== 0
    out[i] = event
  }
  return out
}
