ConnectorRegistry.layer(connector).pipe(Layer.provide(AcmeHttp.layerFetch))

export {}
