/**
 * The agent status stream (`GET /v1/agent-statuses/stream`) read with `fetch`, because an
 * `EventSource` can't send the Authorization header and the token must not go into the URL.
 * `eventsource-parser` reads the event-stream format; this module reconnects with
 * `Last-Event-ID` so what was missed comes first, and reports `reset` when the server can't
 * tell what was missed.
 */
import { createParser } from "eventsource-parser"
import { authorization } from "./api.js"
import type { AgentStatus } from "./types.js"

export type StreamState = "connecting" | "live" | "reconnecting" | "closed"

export interface StreamHandlers {
  readonly onStatus: (status: AgentStatus, id: string | undefined) => void
  /** the server could not replay what was missed: read the statuses again */
  readonly onReset: () => void
  readonly onState: (state: StreamState) => void
}

/** Opens the stream; the function it answers closes it. */
export const openStatusStream = (integrationId: string | undefined, handlers: StreamHandlers): () => void => {
  const abort = new AbortController()
  let lastEventId: string | undefined
  let retryMs = 3_000

  const connectOnce = async (): Promise<void> => {
    const url = integrationId === undefined
      ? "/v1/agent-statuses/stream"
      : `/v1/agent-statuses/stream?integrationId=${encodeURIComponent(integrationId)}`
    const response = await fetch(url, {
      headers: {
        accept: "text/event-stream",
        ...authorization(),
        ...(lastEventId === undefined ? {} : { "last-event-id": lastEventId })
      },
      credentials: "omit",
      cache: "no-store",
      signal: abort.signal
    })
    if (!response.ok || response.body === null) throw new Error(`stream answered ${response.status}`)
    handlers.onState("live")
    const parser = createParser({
      onEvent: (event) => {
        if (event.id !== undefined) lastEventId = event.id
        if (event.event === "agent-status") {
          handlers.onStatus(JSON.parse(event.data) as AgentStatus, event.id)
        } else if (event.event === "reset") {
          handlers.onReset()
        }
      },
      onRetry: (ms) => {
        retryMs = ms
      }
    })
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      parser.feed(value)
    }
  }

  const loop = async () => {
    handlers.onState("connecting")
    while (!abort.signal.aborted) {
      try {
        await connectOnce()
      } catch {
        // a refused or dropped connection: try again after the server's retry delay
      }
      if (abort.signal.aborted) break
      handlers.onState("reconnecting")
      await new Promise((resolve) => setTimeout(resolve, retryMs))
    }
    handlers.onState("closed")
  }
  void loop()
  return () => abort.abort()
}
