/** Policies: the model, its builders and its reference semantics. */
export * from "./model.js";
export * from "./evaluate.js";
export * from "./groups.js";
export * from "./nspawn.js";
export * from "./json.js";
export * from "./systemd-unit.js";
export * from "./nspawn-settings.js";
