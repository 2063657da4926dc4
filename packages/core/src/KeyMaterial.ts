/**
 * Randomness, hashing and ids for keys and records. Behind a service so tests can make
 * them deterministic; the default uses the platform's Web Crypto (no I/O), and `node:crypto`'s
 * hash where the runtime has it.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"

const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

interface Hash {
  readonly update: (text: string, encoding: "utf8") => Hash
  readonly digest: (encoding: "hex") => string
}

/**
 * `node:crypto`'s `createHash`, when the runtime has it (Node ≥ 20.16, Bun, Deno), looked up
 * without an import so core still loads where there is none. Every push with an API key
 * hashes the key: Web Crypto's `subtle.digest` is asynchronous (a round trip through the
 * thread pool, ~50–80 µs on a busy server), `createHash` is a synchronous call of a few µs.
 */
const createHash = ((): ((algorithm: "sha256") => Hash) | undefined => {
  const runtime = (globalThis as { readonly process?: { readonly getBuiltinModule?: (id: string) => unknown } }).process
  const crypto = runtime?.getBuiltinModule?.("node:crypto") as
    | { readonly createHash?: (algorithm: "sha256") => Hash }
    | undefined
  return typeof crypto?.createHash === "function" ? crypto.createHash : undefined
})()

const webSha256 = (text: string): Effect.Effect<string> =>
  Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).pipe(
    Effect.map((buffer) => toHex(new Uint8Array(buffer)))
  )

const toBase64Url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")

/**
 * @since 0.1.0 @category services
 */
export class KeyMaterial extends Effect.Service<KeyMaterial>()("@acd-bridge/core/KeyMaterial", {
  succeed: {
    /** `bytes` cryptographically random bytes, base64url-encoded. */
    randomToken: (bytes: number): Effect.Effect<string> =>
      Effect.sync(() => toBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(bytes)))),
    /** A random UUID (v4) for record ids. */
    uuid: (): string => globalThis.crypto.randomUUID(),
    /** Hex SHA-256 of a UTF-8 string. Keys carry 256 random bits, so a fast hash suffices. */
    sha256: (text: string): Effect.Effect<string> =>
      createHash === undefined
        ? webSha256(text)
        : Effect.sync(() => createHash("sha256").update(text, "utf8").digest("hex"))
  }
}) {}
