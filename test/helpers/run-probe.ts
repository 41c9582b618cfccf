/**
 * Shared by the `syscage run` tests: the native helper (built on demand with
 * scripts/build-native.mjs), the syscall probe command (test/helpers/
 * syscall-probe.c, which loads no filter itself), and the probe numbers.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { resolveSyscall } from "../../src/abi/tables.js";
import { defaultHelperPath } from "../../src/run/helper.js";
import { REQUIRE_ORACLES, needOracle } from "./oracles.js";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
const SOURCE = fileURLToPath(new URL("./syscall-probe.c", import.meta.url));

/** The unprivileged user the tests switch to. */
export const NOBODY = 65534;

let probePath: string | undefined;

/**
 * Needs: seccomp in the kernel, a C compiler, the built helper and probe.
 * Returns the probe's path, or null (test skipped loudly / failed in CI).
 */
export function setup(t: TestContext): string | null {
  if (process.platform !== "linux" || process.arch !== "x64") {
    const why = `the run tests probe x86_64, x86 and x32 calls; this is ${process.platform}/${process.arch}`;
    if (REQUIRE_ORACLES) throw new Error(why);
    process.stderr.write(`\n*** SKIPPED: ${why} ***\n`);
    t.skip(why);
    return null;
  }
  if (!needOracle(t, "seccomp-kernel", "cc")) return null;
  execFileSync(process.execPath, [join(REPO, "scripts", "build-native.mjs")], { stdio: ["ignore", "inherit", "inherit"] });
  if (!existsSync(defaultHelperPath())) throw new Error(`building the native helper failed: ${defaultHelperPath()} is missing`);
  if (probePath === undefined || !existsSync(probePath)) {
    const dir = mkdtempSync(join(tmpdir(), "syscage-run-probe-"));
    chmodSync(dir, 0o755); // the unprivileged runs exec it too
    const out = join(dir, "syscall-probe");
    execFileSync("cc", ["-O2", "-Wall", "-Wextra", "-Werror", "-pthread", "-o", out, SOURCE], { stdio: ["ignore", "ignore", "inherit"] });
    probePath = out;
  }
  return probePath;
}

let unprivHelper: string | undefined;

/**
 * The native helper where an unprivileged user can exec it: a copy next to
 * the probe (0755 directory). The checkout itself may sit under a directory
 * that only root can enter.
 */
export function unprivilegedHelper(): string {
  if (unprivHelper !== undefined && existsSync(unprivHelper)) return unprivHelper;
  const dir = mkdtempSync(join(tmpdir(), "syscage-run-helper-"));
  chmodSync(dir, 0o755);
  const out = join(dir, "syscage-exec");
  copyFileSync(defaultHelperPath(), out);
  chmodSync(out, 0o755);
  unprivHelper = out;
  return out;
}

/**
 * Can `uid` read the checkout (to run the CLI from it as that user)? Tests
 * that run the whole CLI as nobody need a checkout outside root-only
 * directories.
 */
export function checkoutReadableBy(uid: number): boolean {
  return spawnSync("test", ["-r", join(REPO, "package.json")], { uid, gid: uid }).status === 0;
}

/** True when running as root; otherwise the test is skipped loudly (or fails with SYSCAGE_REQUIRE_ORACLES=1). */
export function needRoot(t: TestContext): boolean {
  if (process.getuid?.() === 0) return true;
  const why = "needs root (capabilities, switching to an unprivileged user, network namespaces)";
  if (REQUIRE_ORACLES) throw new Error(`${why}; SYSCAGE_REQUIRE_ORACLES=1`);
  process.stderr.write(`\n*** SKIPPED: ${why} ***\n`);
  t.skip(why);
  return false;
}

/** Run the probe with no filter at all (the baseline). */
export function baseline(probe: string, specs: readonly string[], uid?: number): string[] {
  const r = spawnSync(probe, specs, { encoding: "utf8", ...(uid !== undefined ? { uid, gid: uid } : {}) });
  if (r.status !== 0) throw new Error(`probe failed: ${r.stderr}`);
  return r.stdout.trimEnd().split("\n");
}

/** The capability sets of a `status` probe line. */
export interface StatusLine {
  noNewPrivs: string;
  seccomp: string;
  capBnd: bigint;
  capEff: bigint;
  capPrm: bigint;
  capAmb: bigint;
}

export function parseStatus(line: string): StatusLine {
  const f = Object.fromEntries(line.split(" ").map((kv) => kv.split("=") as [string, string]));
  const hex = (k: string): bigint => {
    if (f[k] === undefined) throw new Error(`status line without ${k}: ${line}`);
    return BigInt(`0x${f[k]}`);
  };
  return { noNewPrivs: f.NoNewPrivs ?? "?", seccomp: f.Seccomp ?? "?", capBnd: hex("CapBnd"), capEff: hex("CapEff"), capPrm: hex("CapPrm"), capAmb: hex("CapAmb") };
}

/** This process's bounding set (the most any child can keep). */
export function hostBounding(): bigint {
  const m = /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
  if (m === null) throw new Error("no CapBnd in /proc/self/status");
  return BigInt(`0x${m[1]}`);
}

/** A capability set as a mask. */
export function mask(caps: Iterable<number>): bigint {
  let m = 0n;
  for (const c of caps) m |= 1n << BigInt(c);
  return m;
}

export const X32_BIT = 0x40000000;
/** Syscall numbers used by the probes. */
export const NR = {
  getpid: resolveSyscall("x86_64", "getpid"),
  getppid: resolveSyscall("x86_64", "getppid"),
  read: resolveSyscall("x86_64", "read"),
  dup: resolveSyscall("x86_64", "dup"),
  getpriority: resolveSyscall("x86_64", "getpriority"),
  socket: resolveSyscall("x86_64", "socket"),
  reboot: resolveSyscall("x86_64", "reboot"),
  ioperm: resolveSyscall("x86_64", "ioperm"),
  iopl: resolveSyscall("x86_64", "iopl"),
  ptrace: resolveSyscall("x86_64", "ptrace"),
  i386: {
    getpid: resolveSyscall("x86", "getpid"),
    ioperm: resolveSyscall("x86", "ioperm"),
    iopl: resolveSyscall("x86", "iopl"),
    reboot: resolveSyscall("x86", "reboot"),
    getpriority: resolveSyscall("x86", "getpriority"),
  },
  x32: {
    getpid: resolveSyscall("x32", "getpid"),
    ioperm: resolveSyscall("x32", "ioperm"),
    iopl: resolveSyscall("x32", "iopl"),
    reboot: resolveSyscall("x32", "reboot"),
    dup: resolveSyscall("x32", "dup"),
    getpriority: resolveSyscall("x32", "getpriority"),
  },
} as const;

export const ERRNO = { EPERM: 1, EBADF: 9, EXDEV: 18, EINVAL: 22, ENOSYS: 38, EAFNOSUPPORT: 97 } as const;
/** reboot(2) with a wrong magic number: EINVAL when allowed and capable, never a reboot. */
export const REBOOT_WRONG_MAGIC = `:0,0,0,0`;
/** socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT). */
export const AUDIT_SOCKET_ARGS = ":16,3,9";
/** ioperm(0, 0, 0) / iopl(4): EINVAL (or ENOSYS without CONFIG_X86_IOPL_IOPERM) when allowed; in @raw-io, denied by nspawn's default. */
export const IOPERM_ARGS = ":0,0,0";
export const IOPL_ARGS = ":4";

/**
 * The pid of the process whose command line is exactly `argv`, once its
 * `Seccomp:` mode is `mode` (any mode when undefined); polls /proc.
 */
export async function findProcess(argv: readonly string[], mode: string | undefined, timeoutMs = 15_000): Promise<number> {
  const target = argv.join("\0");
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    for (const e of readdirSync("/proc")) {
      if (!/^\d+$/.test(e)) continue;
      try {
        if (readFileSync(`/proc/${e}/cmdline`, "utf8").replace(/\0$/, "") !== target) continue;
        const m = /^Seccomp:\s*(\d)/m.exec(readFileSync(`/proc/${e}/status`, "utf8"))?.[1];
        if (mode === undefined || m === mode) return Number(e);
      } catch {
        // gone meanwhile
      }
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no process ${argv.join(" ")} with Seccomp: ${mode} within ${timeoutMs} ms`);
}
