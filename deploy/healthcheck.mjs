/* global process */
// Docker HEALTHCHECK: GET /health of the server in this container (HTTP, or HTTPS when
// ACD_BRIDGE_TLS_CERT is set; the certificate is not checked, it names the public host).
// Exit code 0 when it answers 200, 1 otherwise.
import * as http from "node:http"
import * as https from "node:https"

const tls = (process.env.ACD_BRIDGE_TLS_CERT ?? "") !== ""
const port = Number(process.env.PORT ?? 8080)
const request = (tls ? https : http).get(
  { host: "127.0.0.1", port, path: "/health", timeout: 4000, rejectUnauthorized: false },
  (response) => {
    response.resume()
    process.exit(response.statusCode === 200 ? 0 : 1)
  }
)
request.on("timeout", () => request.destroy(new Error("timeout")))
request.on("error", () => process.exit(1))
