const EngineLive = Engine.layer.pipe(
  Layer.provide(Ingest.layerOptions({ stagingLimit: 50_000 })),
  Layer.provideMerge(Layer.mergeAll(storage, registry))
)

export {}
