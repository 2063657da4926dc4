/** Every generated page, as (path from the repository root, content). */
import * as path from "node:path"
import * as Changelog from "./changelog.js"
import { cataloguePage, connectorPage, connectors } from "./connectors.js"
import * as HttpApiPage from "./httpApi.js"

export const files = (root: string): ReadonlyArray<readonly [string, string]> => [
  ["docs/connectors/README.md", cataloguePage()],
  ...connectors.map((c) => [`docs/connectors/${c.key}.md`, connectorPage(c)] as const),
  ["docs/reference/http-api.md", HttpApiPage.page()],
  ["docs/reference/openapi.json", JSON.stringify(HttpApiPage.spec(), null, 2) + "\n"],
  ["docs/changelog.md", Changelog.page(Changelog.read(path.join(root, ".changeset")))]
]
