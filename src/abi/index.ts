export * from "./arch.js";
export * from "./tables.js";
export * from "./errno.js";
export * from "./capabilities.js";
export * from "./multiplex.js";
export * from "./argtypes.js";
