/**
 * Heavy third-party modules, loaded on first use. `syscage run` with the
 * nspawn default never needs a JSON Schema validator, a JSON tree parser or a
 * YAML writer, and loading them costs more than compiling the policy; these
 * accessors keep the APIs that use them synchronous.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

let ajv: typeof import("ajv/dist/2020.js") | undefined;
let jsonc: typeof import("jsonc-parser") | undefined;
let yaml: typeof import("yaml") | undefined;

/** ajv's draft 2020-12 validator (`ajv/dist/2020`). */
export function ajv2020(): typeof import("ajv/dist/2020.js") {
  return (ajv ??= require("ajv/dist/2020.js") as typeof import("ajv/dist/2020.js"));
}

/** jsonc-parser: JSON with offsets, for exact numbers and line numbers. */
export function jsoncParser(): typeof import("jsonc-parser") {
  return (jsonc ??= require("jsonc-parser") as typeof import("jsonc-parser"));
}

/** The yaml package. */
export function yamlModule(): typeof import("yaml") {
  return (yaml ??= require("yaml") as typeof import("yaml"));
}
