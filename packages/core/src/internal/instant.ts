/**
 * `DateTime.Utc` values made cheaply, for `Time.utc`: connectors and the push API make one per
 * record, millions in an import, and Effect's constructor spends most of its time on an
 * `Object.defineProperty` per value (its cache of the UTC parts is a non-enumerable own
 * property, so that it stays out of equality, JSON and `Object.keys`).
 *
 * Here a value is a plain constructor call on Effect's own `DateTime.Utc` prototype, with only
 * `epochMillis` of its own. The parts cache is an accessor added once to that prototype: it
 * reads `undefined` until Effect first computes the parts, and its setter then defines on the
 * value the same non-enumerable own property Effect would have. Values Effect makes define
 * their own property, which hides the accessor, so they behave exactly as before. A value made
 * here has the same prototype, own enumerable keys, tag, equality, hash, JSON and formatting as
 * `DateTime.unsafeMake`'s (`node:assert`'s `deepStrictEqual` holds between them); only
 * `Object.getOwnPropertyNames` tells them apart until the parts are computed.
 *
 * This leans on how Effect 3 lays out a `DateTime.Utc` (`epochMillis` and `partsUtc` own
 * properties, methods on a shared prototype), which is not public API. So the layout is
 * checked once, when the module loads, against values Effect made itself; if a check fails
 * (a later Effect changed it), the accessor is taken away again and `make` falls back to
 * `DateTime.mapEpochMillis`, the public way, and `fast` says so. `test/Time.test.ts` runs the
 * same comparison over random instants.
 */
import * as DateTime from "effect/DateTime"
import * as Equal from "effect/Equal"
import * as Hash from "effect/Hash"

const EPOCH = DateTime.unsafeMake(0)

interface Instant {
  epochMillis: number
}
type InstantConstructor = new(epochMillis: number) => Instant

const prototypeOfUtc: object = Object.getPrototypeOf(EPOCH)
// another copy of this module (two versions of the package in one program) finds its own
// accessor already there: the same code, so it is taken as it is
const accessorThere = Object.getOwnPropertyDescriptor(prototypeOfUtc, "partsUtc")
const accessorAdded = accessorThere === undefined && Reflect.defineProperty(prototypeOfUtc, "partsUtc", {
  get: () => undefined,
  set(this: object, parts: unknown) {
    Object.defineProperty(this, "partsUtc", { value: parts, enumerable: false, writable: true })
  },
  enumerable: false,
  configurable: true
})
const Constructor = function(this: Instant, epochMillis: number) {
  this.epochMillis = epochMillis
} as unknown as InstantConstructor
Object.defineProperty(Constructor, "prototype", { value: prototypeOfUtc })

const construct = (epochMs: number): DateTime.Utc => new Constructor(epochMs) as unknown as DateTime.Utc

/**
 * Whether `made` behaves as Effect's own `DateTime.Utc` of the same instant does, in every way
 * the engine and its users can see.
 *
 * @internal
 */
export const sameAsEffects = (made: DateTime.Utc): boolean => {
  const ms = made.epochMillis
  const effects = DateTime.unsafeMake(ms)
  const keys = (value: object) => Object.keys(value).join(",")
  if (
    Object.getPrototypeOf(made) !== Object.getPrototypeOf(effects) || !DateTime.isDateTime(made) || !DateTime.isUtc(made) || !Equal.equals(made, effects) ||
    !Equal.equals(effects, made) || Hash.hash(made) !== Hash.hash(effects) ||
    keys(made) !== keys(effects) || JSON.stringify(made) !== JSON.stringify(effects) ||
    String(made) !== String(effects) || DateTime.formatIso(made) !== DateTime.formatIso(effects)
  ) return false
  // the parts are computed and cached on both: the cache must stay out of sight on ours too
  const parts = DateTime.toPartsUtc(made)
  const theirs = DateTime.toPartsUtc(effects)
  if (JSON.stringify(parts) !== JSON.stringify(theirs) || keys(made) !== keys(effects)) return false
  if (DateTime.toPartsUtc(made) !== parts) return false
  // offset 0: any instant in the range of `Date` stays in it
  const zone = DateTime.zoneMakeOffset(0)
  return DateTime.formatIsoZoned(DateTime.setZone(made, zone)) === DateTime.formatIsoZoned(DateTime.setZone(effects, zone))
}

/**
 * Whether `make` takes the cheap path (Effect's layout is the one this module knows).
 *
 * @internal
 */
export const fast: boolean = (accessorAdded || accessorThere?.set !== undefined) &&
  [0, 1_700_000_000_123, -86_400_001].every((ms) => {
    try {
      return sameAsEffects(construct(ms))
    } catch {
      return false
    }
  })
if (!fast && accessorAdded) Reflect.deleteProperty(prototypeOfUtc, "partsUtc")

/**
 * The `DateTime.Utc` of a safe integer within the range of `Date` (the caller checks).
 *
 * @internal
 */
export const make: (epochMs: number) => DateTime.Utc = fast
  ? construct
  : (epochMs) => DateTime.mapEpochMillis(EPOCH, () => epochMs)
