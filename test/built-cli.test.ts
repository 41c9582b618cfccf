/**
 * The installed command, bin/syscage (a sh wrapper with a native front door
 * for `run`), runs the built CLI, dist/cli/main.js. It must behave exactly as
 * the CLI run from the sources does, for every kind of command and for errors.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, ensureBuilt, spawnCli } from "./helpers/cli.js";
import { needOracle, sharedDataDir } from "./helpers/oracles.js";

const BIN = join(ROOT, "bin", "syscage");

const cases = (data: string): readonly (readonly string[])[] => [
  ["--version"],
  ["resolve", "--arch", "all", "mkdir"],
  ["resolve", "mkdri"],
  ["groups", "@clock", "--json"],
  ["compile", "--format", "disasm", "--system-call-filter=~@mount"],
  ["stats", "--json"],
  ["explain", "socket", "--arch", "x86", "--args", "16,3,9", "--json"],
  ["explain", "--profile", join(data, "profiles", "docker-default.json"), "clone3"],
  ["diff", "--a-system-call-filter=~mkdir", "--b-capability=CAP_SYS_TIME"],
  ["check", "nspawn"],
  ["compile", "--policy", "/nonexistent.json"],
  ["run", "--dry-run", "--", "/bin/true"],
];

test("bin/syscage (the built CLI) answers every kind of command as the CLI from the sources does", (t) => {
  if (process.platform !== "linux") {
    t.skip("bin/syscage is a POSIX sh script for Linux");
    return;
  }
  const data = sharedDataDir(t);
  if (data === null) return;
  ensureBuilt();
  for (const args of cases(data)) {
    const src = spawnCli(args, { input: "" });
    const bin = spawnSync(BIN, args, { cwd: ROOT, encoding: "utf8", input: "" });
    const label = args.join(" ");
    assert.equal(bin.status, src.status, `${label}: exit status (stderr: ${bin.stderr})`);
    assert.equal(bin.stdout, src.stdout, `${label}: stdout`);
    assert.equal(bin.stderr, src.stderr, `${label}: stderr`);
  }
});

test("the packed package (npm pack) installs and runs: its install script builds the helper, and the second run is a native launch-cache hit", (t) => {
  if (process.platform !== "linux") {
    t.skip("bin/syscage is a POSIX sh script for Linux");
    return;
  }
  if (!needOracle(t, "cc", "seccomp-kernel")) return;
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), "syscage-pack-"));
  chmodSync(dir, 0o755);
  // --ignore-scripts: pack the build that is there (a rebuild here would race the other test files).
  const packed = JSON.parse(execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8" })) as { filename: string; files: { path: string }[] }[];
  const files = packed[0]!.files.map((f) => f.path);
  for (const f of ["bin/syscage", "dist/cli/main.js", "dist/build-id", "native/syscage-exec.c", "native/cached-run.c", "scripts/build-native.mjs", "docs/policy.schema.json"]) assert.ok(files.includes(f), `${f} is in the package`);
  assert.ok(!files.some((f) => f.startsWith("native/build/") || f.startsWith("test/")), "no build products or tests");
  execFileSync("tar", ["xzf", join(dir, packed[0]!.filename), "-C", dir]);
  const pkg = join(dir, "package");
  symlinkSync(join(ROOT, "node_modules"), join(pkg, "node_modules"));
  const manifest = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")) as { scripts: Record<string, string> };
  execFileSync("sh", ["-c", manifest.scripts.install!], { cwd: pkg, stdio: ["ignore", "ignore", "inherit"] });
  const env = { ...process.env, XDG_CACHE_HOME: join(dir, "cache"), SYSCAGE_CACHE_DEBUG: "1" };
  const first = spawnSync(join(pkg, "bin", "syscage"), ["run", "--", "/bin/echo", "hello"], { cwd: dir, encoding: "utf8", env });
  assert.equal(first.stdout, "hello\n", first.stderr);
  assert.match(first.stderr, /syscage: cache: stored /);
  const second = spawnSync(join(pkg, "bin", "syscage"), ["run", "--", "/bin/echo", "hello"], { cwd: dir, encoding: "utf8", env });
  assert.equal(second.stdout, "hello\n");
  assert.match(second.stderr, /^syscage: cache: hit \(native\) /);
});
