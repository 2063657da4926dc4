/**
 * @since 0.1.0
 */
export * as SqlStorage from "./SqlStorage.js"
