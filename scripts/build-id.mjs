#!/usr/bin/env node
// Write dist/build-id: a hash of everything the built CLI's behaviour depends
// on (every file under dist/ but the id itself, package.json and the JSON
// schemas). The launch cache of `syscage run` keys its entries on it
// (src/cli/run-cache.ts, native/cached-run.c), so a rebuild that changes any
// of them starts a fresh cache. `npm run build` runs this after tsc.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const files = readdirSync(dist, { recursive: true, withFileTypes: true })
  .filter((e) => e.isFile())
  .map((e) => join(e.parentPath ?? e.path, e.name))
  .filter((f) => f !== join(dist, "build-id"))
  .sort();
const hash = createHash("sha256");
for (const f of [...files, join(root, "package.json"), join(root, "docs", "policy.schema.json"), join(root, "docs", "profile.schema.json")]) {
  hash.update(`${f.slice(root.length + 1)}\0`);
  hash.update(readFileSync(f));
  hash.update("\0");
}
writeFileSync(join(dist, "build-id"), `${hash.digest("hex")}\n`);
