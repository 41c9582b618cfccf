/**
 * The `syscage` CLI in a child process (`node --import tsx src/cli/main.ts`,
 * from the repository root), for the CLI tests: the raw spawnSync result, or
 * its exit code, stdout and stderr.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync, type SpawnSyncOptionsWithStringEncoding, type SpawnSyncReturns } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the CLI runs there). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The node arguments that run the CLI from source (`process.execPath ...CLI_NODE_ARGS ARGS`). */
export const CLI_NODE_ARGS = ["--import", "tsx", join(ROOT, "src", "cli", "main.ts")];

/** Run `syscage ARGS` to the end (utf8 output; `options` add to or override cwd ROOT). */
export function spawnCli(args: readonly string[], options: Omit<SpawnSyncOptionsWithStringEncoding, "encoding"> = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...CLI_NODE_ARGS, ...args], { cwd: ROOT, encoding: "utf8", ...options });
}

/** How a CLI run ended: exit code, stdout, stderr. */
export interface CliRun {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** Run `syscage ARGS`: its exit code and output. */
export function cli(...args: string[]): CliRun {
  const r = spawnCli(args);
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** {@link cli} with stdout as bytes (binary output). */
export function cliBytes(...args: string[]): { readonly code: number | null; readonly out: Buffer; readonly err: string } {
  const r = spawnSync(process.execPath, [...CLI_NODE_ARGS, ...args], { cwd: ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr.toString("utf8") };
}

/** A failure as the CLI must report it: exit 1, nothing on stdout, one `syscage:` line with every fragment, no stack trace. */
export function assertOneLineError(r: { readonly code: number | null; readonly out: string | Buffer; readonly err: string }, ...fragments: string[]): void {
  assert.equal(r.code, 1, `exit code; stderr: ${r.err}`);
  assert.equal(r.out.length, 0, "nothing on stdout");
  const lines = r.err.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `one stderr line, got:\n${r.err}`);
  assert.match(lines[0]!, /^syscage: /);
  assert.doesNotMatch(r.err, /\n\s+at |Error:/, "stack trace or raw error");
  for (const f of fragments) assert.ok(lines[0]!.includes(f), `stderr lacks ${JSON.stringify(f)}: ${lines[0]}`);
}

/** Newest mtime (ms) of the files under `dir`. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) t = Math.max(t, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return t;
}

let built = false;
/**
 * The built CLI (bin/syscage runs dist/cli/main.js; its build id) up to date
 * with src/ and the build scripts: `npm run build` when it is not.
 */
export function ensureBuilt(): void {
  if (built) return;
  let fresh: boolean;
  try {
    const sources = Math.max(newest(join(ROOT, "src")), newest(join(ROOT, "scripts")), statSync(join(ROOT, "package.json")).mtimeMs);
    fresh = statSync(join(ROOT, "dist", "build-id")).mtimeMs >= sources;
  } catch {
    fresh = false;
  }
  if (!fresh) execFileSync("npm", ["run", "build"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  built = true;
}
