/**
 * The installed command, bin/syscage (a sh wrapper with a native front door
 * for `run`), runs the built CLI, dist/cli/main.js. It must behave exactly as
 * the CLI run from the sources does, for every kind of command and for errors.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { ROOT, ensureBuilt, spawnCli } from "./helpers/cli.js";
import { sharedDataDir } from "./helpers/oracles.js";

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
