const pages = (config, path, item, window) =>
  Stream.paginateChunkEffect(undefined as string | undefined, (cursor) =>
    call(config, `${path}?from=${iso(window.from)}&to=${iso(window.to)}${cursor ? `&cursor=${cursor}` : ""}`).pipe(
      Effect.flatMap(Schema.decodeUnknown(Page(item))),
      Effect.catchTag("ParseError", (e) =>
        Effect.fail(new Connector.InvalidData({ record: `${path} page ${cursor ?? "1"}`, reason: e.message }))),
      Effect.map((page) => [Chunk.fromIterable(page.items), Option.fromNullable(page.next)] as const)
    ))

export {}
