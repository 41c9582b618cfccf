#!/usr/bin/env node
// Bundle the CLI: replace dist/cli/main.js (tsc's output) with one file that
// holds every syscage module the CLI can load, so that starting a command
// resolves and reads one module instead of about a hundred (on this machine
// `syscage compile` starts in ~90 ms instead of ~165 ms). Third-party
// packages stay external. The library's modules (dist/*) are left as tsc
// made them. `npm run build` runs this after tsc and before the build id.
// Without esbuild (a dev dependency) the CLI stays unbundled, and works.
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const main = join(root, "dist", "cli", "main.js");
let esbuild;
try {
  esbuild = await import("esbuild");
} catch {
  console.log("syscage: esbuild is not installed; the CLI is left unbundled (it starts slower)");
  process.exit(0);
}
// The bundle sits where tsc put main.js, so paths taken from import.meta.url
// (the package root two levels up, ../../docs/*.schema.json) stay right.
await esbuild.build({
  entryPoints: [main],
  outfile: main,
  allowOverwrite: true,
  bundle: true,
  packages: "external",
  platform: "node",
  format: "esm",
  target: "node20",
  logLevel: "warning",
});
