import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { KeyMaterial } from "../src/KeyMaterial.js"

/** SHA-256 as Web Crypto computes it: the reference the fast path must agree with. */
const webSha256 = async (text: string) =>
  Array.from(
    new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))),
    (b) => b.toString(16).padStart(2, "0")
  ).join("")

describe("KeyMaterial", () => {
  it.effect("sha256: hex of the UTF-8 bytes, as Web Crypto gives it (FIPS 180-2 vector, non-ASCII, empty, long)", () =>
    Effect.gen(function*() {
      const keys = yield* KeyMaterial
      assert.strictEqual(
        yield* keys.sha256("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
      )
      for (const text of ["", "acdb_Ünïcødé ✓ 😀", "contactEvents\n" + "x".repeat(100_000)]) {
        assert.strictEqual(yield* keys.sha256(text), yield* Effect.promise(() => webSha256(text)))
      }
    }).pipe(Effect.provide(KeyMaterial.Default)))
})
