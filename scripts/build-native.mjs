#!/usr/bin/env node
// Build the native helper of `syscage run` (native/syscage-exec.c) with the C
// compiler directly: no node-gyp, no network. Without a compiler it prints a
// notice and exits 0, so `npm ci` still succeeds and every other command works;
// `syscage run` then explains how to build the helper.
//
//   node scripts/build-native.mjs [--force]
//
// The compiler is $CC or `cc`. The output is written to a temporary name and
// renamed, so concurrent builds (parallel test files) never see half a binary.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, statSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const sources = ["syscage-exec.c", "cached-run.c", "host-probe.c", "sandbox.c", "dump.c"].map((f) => join(root, "native", f));
const header = join(root, "native", "syscage-exec.h");
const outDir = join(root, "native", "build");
const out = join(outDir, "syscage-exec");
const force = process.argv.includes("--force");

if (process.platform !== "linux") {
  console.log("syscage: skipping the native helper (Linux only); `syscage run` will not be available");
  process.exit(0);
}
if (!force && existsSync(out) && [...sources, header].every((f) => statSync(out).mtimeMs >= statSync(f).mtimeMs)) process.exit(0);

const cc = process.env.CC || "cc";
mkdirSync(outDir, { recursive: true });
const tmp = `${out}.tmp-${process.pid}`;
const r = spawnSync(cc, ["-O2", "-Wall", "-Wextra", "-o", tmp, ...sources], { stdio: ["ignore", "inherit", "inherit"] });
if (r.error !== undefined && r.error.code === "ENOENT") {
  console.log(`syscage: no C compiler (${cc}) found; the native helper of \`syscage run\` was not built.`);
  console.log("syscage: install one (e.g. apt-get install gcc libc6-dev) and run `npm run build:native`; everything else works without it.");
  process.exit(0);
}
if (r.status !== 0) {
  rmSync(tmp, { force: true });
  console.error(`syscage: building the native helper failed (${cc} exited with ${r.status ?? r.signal}); \`syscage run\` will not be available`);
  // A broken toolchain must not break `npm ci`: report and carry on.
  process.exit(0);
}
renameSync(tmp, out);
