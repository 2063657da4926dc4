/**
 * @since 0.1.0
 */
export * as CsvConfig from "./CsvConfig.js"
export * as CsvConnector from "./CsvConnector.js"
export * as CsvError from "./CsvError.js"
export * as CsvFiles from "./CsvFiles.js"
export * as CsvImporter from "./CsvImporter.js"
export * as CsvPreview from "./CsvPreview.js"
export * as CsvReader from "./CsvReader.js"
