/** Policies: the model, its builders (systemd groups, nspawn, unit files, .nspawn settings, OCI / Docker / Podman profiles) and its reference semantics. Output formats are in syscage/export. */
export * from "./model.js";
export * from "./evaluate.js";
export * from "./groups.js";
export * from "./nspawn.js";
export * from "./json.js";
export * from "./systemd-unit.js";
export * from "./nspawn-settings.js";
export * from "./oci.js";
