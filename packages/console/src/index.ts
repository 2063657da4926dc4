/**
 * `@acd-bridge/console`: the admin console, a small browser app built by Vite into
 * `dist/app`, and the routes that serve it at `/admin` next to the HTTP API.
 *
 * The app signs in with the admin token or a personal access token, which it keeps in memory
 * only, and calls the same admin API a script would. Its files are served by the server
 * itself under a Content-Security-Policy that allows no other origin, so the console makes no
 * external request.
 *
 * ```ts
 * import { HttpAdapter } from "@acd-bridge/http"
 * import * as AdminConsole from "@acd-bridge/console"
 *
 * // the routes join the API's router: provide the layer to the HTTP adapter's layer
 * HttpAdapter.layer({ port: 8080 }).pipe(Layer.provide(AdminConsole.layer()))
 * ```
 *
 * @since 0.2.0
 */
import * as HttpApiBuilder from "@effect/platform/HttpApiBuilder"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import { readFile } from "node:fs/promises"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/**
 * The directory of the built app (`index.html` and `assets/`). Both the sources
 * (`src/index.ts`) and the built entry (`dist/index.js`) resolve it to the package's `dist/app`.
 *
 * @since 0.2.0 @category constants
 */
export const directory: string = fileURLToPath(new URL("../dist/app/", import.meta.url))

/**
 * Where the console is served.
 *
 * @since 0.2.0 @category constants
 */
export const basePath = "/admin"

/**
 * What the console's page may load and call: its own origin only. `connect-src 'self'` keeps
 * the token from ever being sent elsewhere; no inline script or style is needed.
 *
 * @since 0.2.0 @category constants
 */
export const contentSecurityPolicy = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join("; ")

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json",
  ".woff2": "font/woff2"
}

// a file name Vite writes: no dot segments, no backslashes, nothing a path could escape with
const safeAsset = /^assets\/[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.[a-z0-9]+$/

const securityHeaders = {
  "content-security-policy": contentSecurityPolicy,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY"
}

const notFound = (what: string) =>
  HttpServerResponse.text(`${what}\n`, { status: 404, headers: { "cache-control": "no-store", ...securityHeaders } })

const serveFile = (root: string, relative: string, cacheControl: string) =>
  Effect.tryPromise(() => readFile(path.join(root, relative))).pipe(
    Effect.map((bytes) =>
      HttpServerResponse.uint8Array(bytes, {
        contentType: contentTypes[path.extname(relative)] ?? "application/octet-stream",
        headers: { "cache-control": cacheControl, ...securityHeaders }
      })
    ),
    Effect.orElse(() =>
      Effect.succeed(
        relative === "index.html"
          ? HttpServerResponse.text(
            "The admin console is not built: run `pnpm build` (or `pnpm --filter @acd-bridge/console build`).\n",
            { status: 503, headers: { "cache-control": "no-store", ...securityHeaders } }
          )
          : notFound(`No such file: ${relative}`)
      )
    )
  )

/**
 * The routes: `GET /admin` (and any path under it that is not a file) answers the app's page;
 * `GET /admin/assets/…` answers its hashed, immutable files. No credentials are needed for
 * the files: what the app shows comes from the admin API, which checks the token.
 *
 * @since 0.2.0 @category layers
 */
export const layer = (options: { readonly directory?: string | undefined } = {}): Layer.Layer<never> => {
  const root = options.directory ?? directory
  const handler = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const query = request.url.indexOf("?")
    const pathname = query === -1 ? request.url : request.url.slice(0, query)
    const relative = pathname.slice(basePath.length).replace(/^\/+/, "")
    if (relative.startsWith("assets/")) {
      return safeAsset.test(relative)
        ? yield* serveFile(root, relative, "public, max-age=31536000, immutable")
        : notFound(`No such file: ${relative}`)
    }
    // the app routes by the URL's fragment, so every other path is the page itself
    return yield* serveFile(root, "index.html", "no-store")
  })
  return HttpApiBuilder.Router.use((router) =>
    Effect.all([
      router.get(basePath, handler),
      router.get(`${basePath}/*`, handler)
    ], { discard: true })
  )
}
