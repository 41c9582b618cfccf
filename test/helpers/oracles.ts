/**
 * Access to the real oracles the tests compare against: libseccomp (through
 * Debian's python3-seccomp and scmp_sys_resolver), the C compiler for the
 * kernel probe helper, and the running kernel.
 *
 * Without SYSCAGE_REQUIRE_ORACLES=1 a missing oracle skips the test loudly;
 * with it (CI), a missing oracle fails the test.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import type { TestContext } from "node:test";

export const REQUIRE_ORACLES = process.env.SYSCAGE_REQUIRE_ORACLES === "1";

/** Debian's python, which has the `seccomp` module (not a pyenv python on PATH). */
export const DEBIAN_PYTHON = "/usr/bin/python3";

const cache = new Map<string, string | null>();

function probe(name: string, check: () => string | null): string | null {
  if (!cache.has(name)) cache.set(name, check());
  return cache.get(name)!;
}

/** Why the oracle is unavailable, or null when it is available. */
export function oracleMissing(name: "python3-seccomp" | "scmp_sys_resolver" | "cc" | "seccomp-kernel" | "systemd-nspawn" | "chromium" | "runc" | "crun"): string | null {
  switch (name) {
    case "python3-seccomp":
      return probe(name, () => {
        if (!existsSync(DEBIAN_PYTHON)) return `${DEBIAN_PYTHON} not found (apt-get install python3-seccomp)`;
        const r = spawnSync(DEBIAN_PYTHON, ["-c", "import seccomp"], { encoding: "utf8" });
        return r.status === 0 ? null : "python module seccomp missing (apt-get install python3-seccomp)";
      });
    case "scmp_sys_resolver":
      return probe(name, () => {
        const r = spawnSync("scmp_sys_resolver", ["-a", "x86_64", "read"], { encoding: "utf8" });
        return r.status === 0 ? null : "scmp_sys_resolver not found (apt-get install seccomp)";
      });
    case "cc":
      return probe(name, () => {
        const r = spawnSync("cc", ["--version"], { encoding: "utf8" });
        return r.status === 0 ? null : "no C compiler (apt-get install gcc)";
      });
    case "seccomp-kernel":
      return probe(name, () => {
        if (process.platform !== "linux") return "not Linux";
        try {
          const status = execFileSync("cat", ["/proc/self/status"], { encoding: "utf8" });
          return /^Seccomp:/m.test(status) ? null : "kernel without seccomp";
        } catch {
          return "cannot read /proc/self/status";
        }
      });
    case "systemd-nspawn":
      // A real systemd-nspawn run as root (test/helpers/nspawn.ts starts containers).
      return probe(name, () => {
        if (process.platform !== "linux") return "not Linux";
        const r = spawnSync("systemd-nspawn", ["--version"], { encoding: "utf8" });
        if (r.status !== 0) return "systemd-nspawn not found (apt-get install systemd-container)";
        if (typeof process.getuid === "function" && process.getuid() !== 0) return "systemd-nspawn needs root";
        const a = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
        if (a.status !== 0) return "systemd-analyze not found (apt-get install systemd)";
        // Can it start a container here (privileges, cgroups)? ~0.1 s.
        const trial = spawnSync(
          "systemd-nspawn",
          ["-q", "--register=no", "--keep-unit", "--volatile=yes", "-D", "/", "--pipe", `--machine=syscage-probe-${process.pid}`, "/bin/true"],
          { encoding: "utf8", timeout: 30_000, stdio: ["ignore", "ignore", "pipe"] },
        );
        if (trial.status !== 0) return `systemd-nspawn cannot start a container here (exit ${trial.status}): ${(trial.stderr ?? "").trim().split("\n")[0]}`;
        return null;
      });
    case "runc":
    case "crun":
      // Debian's container runtimes (test/runtimes.test.ts): the oracles of what a profile means to them.
      return probe(name, () => {
        const r = spawnSync(name, ["--version"], { encoding: "utf8" });
        return r.status === 0 ? null : `${name} not found (apt-get install ${name})`;
      });
    case "chromium":
      // Debian's chromium, driven by playwright-core (test/report.test.ts).
      return probe(name, () => {
        if (!existsSync(CHROMIUM)) return `${CHROMIUM} not found (apt-get install chromium)`;
        const r = spawnSync(CHROMIUM, ["--version"], { encoding: "utf8", timeout: 30_000 });
        return r.status === 0 ? null : `${CHROMIUM} --version failed (exit ${r.status}): ${(r.stderr ?? "").trim().split("\n")[0]}`;
      });
  }
}

/** Debian's chromium (apt-get install chromium), for the browser tests. */
export const CHROMIUM = "/usr/bin/chromium";

/**
 * Call at the start of a test that needs an oracle. Returns false (and marks
 * the test skipped, loudly) when the oracle is missing and not required;
 * throws when it is missing and SYSCAGE_REQUIRE_ORACLES=1.
 */
export function needOracle(t: TestContext, ...names: Parameters<typeof oracleMissing>[0][]): boolean {
  for (const name of names) {
    const why = oracleMissing(name);
    if (why === null) continue;
    if (REQUIRE_ORACLES) throw new Error(`oracle ${name} is required (SYSCAGE_REQUIRE_ORACLES=1) but missing: ${why}`);
    process.stderr.write(`\n*** SKIPPED: oracle ${name} missing: ${why} ***\n`);
    t.skip(`oracle ${name} missing: ${why}`);
    return false;
  }
  return true;
}

import { dirname, resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The shared reference data folder (`../shared/data` next to the repository:
 * /work/shared/data at dev time, `../shared` in CI). Returns null (test marked
 * skipped, loudly) when it is absent, or throws when SYSCAGE_REQUIRE_ORACLES=1.
 */
export function sharedDataDir(t: TestContext): string | null {
  const repoRoot = resolvePath(dirname(fileURLToPath(import.meta.url)), "../..");
  const dir = resolvePath(repoRoot, "../shared/data");
  if (existsSync(dir)) return dir;
  const why = `${dir} not found (the shared reference data lives next to the repository)`;
  if (REQUIRE_ORACLES) throw new Error(`shared data is required (SYSCAGE_REQUIRE_ORACLES=1) but missing: ${why}`);
  process.stderr.write(`\n*** SKIPPED: ${why} ***\n`);
  t.skip(why);
  return null;
}
