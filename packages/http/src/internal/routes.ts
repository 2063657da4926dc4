/**
 * The route template a request matched (`/v1/integrations/{id}/check`), from the API's own
 * definition: metrics are labelled by route, never by raw path (an id per label would grow
 * without bound).
 */
import * as HttpApi from "@effect/platform/HttpApi"

interface Route {
  readonly method: string
  readonly pattern: RegExp
  readonly template: string
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** `routeOf(method, path)`: the template, or `unmatched` for paths the API doesn't have. */
export const make = (
  api: HttpApi.HttpApi.Any,
  extra: ReadonlyArray<readonly [method: string, path: string]> = []
): (method: string, path: string) => string => {
  const routes: Array<Route> = []
  const add = (method: string, path: string) => {
    const segments = path.split("/").map((segment) => (segment.startsWith(":") ? null : escape(segment)))
    routes.push({
      method,
      pattern: new RegExp(`^${segments.map((s) => s ?? "[^/]+").join("/")}/?$`),
      template: path.split("/").map((segment) => (segment.startsWith(":") ? `{${segment.slice(1)}}` : segment)).join("/")
    })
  }
  HttpApi.reflect(api as HttpApi.HttpApi<string, never, never, never>, {
    onGroup: () => {},
    onEndpoint: ({ endpoint }) => add(endpoint.method, endpoint.path)
  })
  for (const [method, path] of extra) add(method, path)
  // fixed paths before parameterised ones that could match them too
  routes.sort((a, b) => a.template.split("{").length - b.template.split("{").length)
  return (method, path) =>
    routes.find((r) => r.method === method && r.pattern.test(path))?.template ??
      (method === "HEAD" ? routes.find((r) => r.method === "GET" && r.pattern.test(path))?.template : undefined) ??
      "unmatched"
}
