DriverSuite.suite("my store", Layer.effect(StorageDriver.StorageDriver, myDriver))
StorageSuite.suite("my store", Storage.layer.pipe(Layer.provide(Layer.effect(StorageDriver.StorageDriver, myDriver))))

export {}
