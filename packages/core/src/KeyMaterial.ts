/**
 * Randomness, hashing and ids for keys and records. Behind a service so tests can make
 * them deterministic; the default uses the platform's Web Crypto (no I/O).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"

const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

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
      Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(text))).pipe(
        Effect.map((buffer) => toHex(new Uint8Array(buffer)))
      )
  }
}) {}
