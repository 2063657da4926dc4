import { SqlStorage } from "@acd-bridge/sql-storage"

SqlStorage.layerSqlite({ filename: "./data/acd-bridge.sqlite" }) // Layer<Storage, StorageError>
SqlStorage.layerPg({ url: "postgres://acd:secret@db:5432/acd" })  // Layer<Storage, StorageError>
SqlStorage.layer                                                  // Layer<Storage, StorageError, SqlClient>
SqlStorage.layerDriver()                                          // Layer<StorageDriver, StorageError, SqlClient>
SqlStorage.makeDriver()                                           // the driver itself, to wrap (count, trace, test)

export {}
