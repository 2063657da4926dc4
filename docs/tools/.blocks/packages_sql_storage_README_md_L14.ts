import { SqlStorage } from "@acd-bridge/sql-storage"

export const embedded = SqlStorage.layerSqlite({ filename: "./data/acd-bridge.sqlite" }) // Layer<Storage, StorageError>
export const production = SqlStorage.layerPg({ url: "postgres://acd:secret@db:5432/acd" }) // Layer<Storage, StorageError>
export const onYourClient = SqlStorage.layer                                           // Layer<Storage, StorageError, SqlClient>
export const driverOnly = SqlStorage.layerDriver()                                     // Layer<StorageDriver, StorageError, SqlClient>
export const driver = SqlStorage.makeDriver()                                          // the driver itself, to wrap (count, trace, test)

export {}
