/**
 * What this kernel and this process can do, found out cheaply and without
 * side effects: the ABIs the kernel really executes, seccomp's actions and
 * filter flags, Landlock, user namespaces, io_uring, the terminal, and the
 * native helper. `syscage doctor` prints it; the tests ask it instead of
 * assuming a kernel.
 *
 * Files under /proc are read here; the facts that need a syscall come from
 * the native helper (`syscage-exec --probe`, native/host-probe.c), whose
 * risky checks (int $0x80, unshare) run in a forked child. Without the
 * helper those facts are `null` (unknown), never guessed.
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants, readFileSync } from "node:fs";
import { release, machine } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { hostAbiIfKnown, type AbiName } from "../abi/arch.js";

/** The version of the `--json` document of `syscage doctor` (docs/doctor.md). */
export const HOST_FACTS_VERSION = 1;

/** The package root: two levels above this file, in `src/host/` and `dist/host/` alike. */
export function packageRoot(): string {
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..");
}

/** Where the built native helper lives (whether or not it exists). */
export function defaultHelperPath(): string {
  return join(packageRoot(), "native", "build", "syscage-exec");
}

/** A fact found by trying: true, false, or null when it could not be tried. */
export interface Tried {
  /** true: works; false: does not; null: unknown (why is in `detail`). */
  readonly available: boolean | null;
  /** What was seen: "ok", "errno 38 (ENOSYS)", "killed by signal 11 (SIGSEGV)", "native helper not built". */
  readonly detail: string;
}

/** The seccomp filter flags syscage may use, by their kernel names (SECCOMP_FILTER_FLAG_*). */
export const SECCOMP_FLAGS = ["TSYNC", "LOG", "SPEC_ALLOW", "NEW_LISTENER", "TSYNC_ESRCH", "WAIT_KILLABLE_RECV"] as const;
export type SeccompFlag = (typeof SECCOMP_FLAGS)[number];

/** The seccomp return actions, as /proc/sys/kernel/seccomp/actions_avail names them. */
export const SECCOMP_ACTIONS = ["kill_process", "kill_thread", "trap", "errno", "user_notif", "trace", "log", "allow"] as const;
export type SeccompActionName = (typeof SECCOMP_ACTIONS)[number];

export interface HostFacts {
  /** The document's version ({@link HOST_FACTS_VERSION}). */
  readonly version: number;
  readonly kernel: {
    /** `uname -r`. */
    readonly release: string;
    /** major.minor.patch parsed from the release, or null. */
    readonly version: readonly [number, number, number] | null;
    /** `uname -m`. */
    readonly machine: string;
  };
  readonly abis: {
    /** The ABI of this process (the filters' native ABI), or null on an unknown platform. */
    readonly native: AbiName | null;
    /** i386 calls through `int $0x80` from a 64-bit process (x86_64 only; null elsewhere). */
    readonly i386: Tried;
    /** x32 calls (syscall numbers with bit 30); a filter sees them either way. */
    readonly x32: Tried;
  };
  readonly seccomp: {
    /** The kernel has seccomp filters (the `Seccomp:` line exists). */
    readonly available: boolean;
    /** Each action, from /proc/sys/kernel/seccomp/actions_avail (null: the file is missing). */
    readonly actions: Readonly<Record<SeccompActionName, boolean | null>>;
    /** Each filter flag the kernel accepts (null: unknown without the helper). */
    readonly flags: Readonly<Record<SeccompFlag, boolean | null>>;
    /** The constant-action cache (Linux ≥ 5.11): allowed calls skip the filter. */
    readonly constantActionCache: boolean | null;
  };
  readonly process: {
    readonly euid: number;
    readonly root: boolean;
    /** 0 none, 1 strict, 2 filter (`Seccomp:`), or null. */
    readonly seccompMode: number | null;
    /** Filters already installed on this process (`Seccomp_filters:`, Linux ≥ 5.9), or null. */
    readonly seccompFilters: number | null;
    readonly noNewPrivs: boolean | null;
    /** The effective capability set, hex as in /proc (`CapEff:`), or null. */
    readonly capEff: string | null;
    /**
     * This process may read other processes' filters (PTRACE_SECCOMP_GET_FILTER):
     * it needs CAP_SYS_ADMIN and must not be under seccomp itself.
     */
    readonly canReadFilters: Tried;
  };
  readonly landlock: {
    /** Landlock's ABI version; 0 when unavailable; null when unknown. */
    readonly abi: number | null;
    readonly detail: string;
  };
  readonly userNamespaces: {
    /** This user can create a user namespace. */
    readonly self: Tried;
    /** An unprivileged user (uid 65534) can; tried only as root, else the same as `self`. */
    readonly unprivileged: Tried;
    /** /proc/sys/user/max_user_namespaces, or null. */
    readonly max: number | null;
  };
  readonly ioUring: {
    /** /proc/sys/kernel/io_uring_disabled (0 allowed, 1 restricted to a group, 2 disabled), or null (older kernels: allowed). */
    readonly disabledSysctl: number | null;
    /** io_uring_setup works for this process. */
    readonly setup: Tried;
  };
  readonly terminal: {
    /**
     * TIOCSTI works for unprivileged users (dev.tty.legacy_tiocsti = 1, or a
     * kernel before 6.2 without the sysctl); false when the sysctl is 0
     * (then only CAP_SYS_ADMIN may push input into a terminal).
     */
    readonly legacyTiocsti: boolean | null;
  };
  readonly helper: {
    readonly path: string;
    /** The file exists and is executable. */
    readonly built: boolean;
    /** It ran and answered the handshake. */
    readonly runs: boolean;
    readonly detail: string;
  };
}

export interface ProbeOptions {
  /** The native helper to ask (default: the package's build). */
  readonly helper?: string;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

function readInt(path: string): number | null {
  const t = readText(path);
  if (t === null) return null;
  const n = Number.parseInt(t.trim(), 10);
  return Number.isFinite(n) ? n : null;
}

/** major.minor.patch of a kernel release such as "6.18.44-fc-v1252" or "5.10.0-28-amd64". */
export function parseKernelVersion(rel: string): [number, number, number] | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(rel);
  if (m === null) return null;
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

/** a ≥ b for kernel versions. */
export function kernelAtLeast(v: readonly [number, number, number] | null, major: number, minor: number): boolean | null {
  if (v === null) return null;
  return v[0] > major || (v[0] === major && v[1] >= minor);
}

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM", 2: "ENOENT", 12: "ENOMEM", 13: "EACCES", 14: "EFAULT", 22: "EINVAL", 28: "ENOSPC", 38: "ENOSYS", 95: "EOPNOTSUPP",
};
const SIGNAL_NAMES: Readonly<Record<number, string>> = { 4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 9: "SIGKILL", 11: "SIGSEGV", 31: "SIGSYS" };

/** "ok" / "err N" / "signal N" from the helper → a Tried. */
function tried(value: string | undefined, missing: string): Tried {
  if (value === undefined) return { available: null, detail: missing };
  if (value === "ok") return { available: true, detail: "ok" };
  const m = /^(err|signal) (\d+)$/.exec(value);
  if (m === null) return { available: null, detail: `unexpected answer "${value}"` };
  const n = Number(m[2]);
  if (m[1] === "signal") return { available: false, detail: `killed by signal ${n}${SIGNAL_NAMES[n] ? ` (${SIGNAL_NAMES[n]})` : ""}` };
  return { available: false, detail: `errno ${n}${ERRNO_NAMES[n] ? ` (${ERRNO_NAMES[n]})` : ""}` };
}

interface HelperAnswer {
  readonly runs: boolean;
  readonly detail: string;
  readonly facts: ReadonlyMap<string, string>;
}

/** Run `helper --probe` and read its "KEY VALUE" lines after the handshake. */
function askHelper(path: string): HelperAnswer & { built: boolean } {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    return { built: false, runs: false, detail: `not built (${path} is missing): run \`npm run build:native\` (needs a C compiler)`, facts: new Map() };
  }
  const r = spawnSync(path, ["--probe"], { encoding: "utf8", timeout: 10_000, stdio: ["ignore", "pipe", "pipe"] });
  if (r.error !== undefined) return { built: true, runs: false, detail: `cannot run ${path}: ${r.error.message}`, facts: new Map() };
  const lines = (r.stdout ?? "").split("\n");
  if (lines[0] !== "syscage-exec-probe 1" || r.status !== 0) {
    const why = r.signal !== null ? `killed by ${r.signal}` : `exit ${r.status}`;
    return { built: true, runs: false, detail: `${path} is not a working syscage helper (${why}, no handshake): rebuild it with \`npm run build:native -- --force\``, facts: new Map() };
  }
  const facts = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const sp = line.indexOf(" ");
    if (sp <= 0) continue;
    const key = line.slice(0, sp);
    const rest = line.slice(sp + 1);
    // "seccomp-flag NAME VALUE" and "seccomp-action NAME VALUE" carry a name.
    if (key === "seccomp-flag" || key === "seccomp-action") {
      const sp2 = rest.indexOf(" ");
      facts.set(`${key}:${rest.slice(0, sp2)}`, rest.slice(sp2 + 1));
    } else {
      facts.set(key, rest);
    }
  }
  return { built: true, runs: true, detail: "ok", facts };
}

function statusField(status: string | null, key: string): string | null {
  if (status === null) return null;
  const m = new RegExp(`^${key}:\\s*(\\S+)`, "m").exec(status);
  return m === null ? null : m[1]!;
}

let cached: HostFacts | undefined;

/**
 * The facts of this host. Cached for the process when called without
 * options (a probe takes a few milliseconds and one helper run).
 */
export function probeHost(options: ProbeOptions = {}): HostFacts {
  if (options.helper === undefined && cached !== undefined) return cached;
  const facts = probeUncached(options.helper ?? defaultHelperPath());
  if (options.helper === undefined) cached = facts;
  return facts;
}

function probeUncached(helperPath: string): HostFacts {
  const rel = release();
  const version = parseKernelVersion(rel);
  const native: AbiName | null = hostAbiIfKnown() ?? null;
  const h = askHelper(helperPath);
  const noHelper = h.built ? `unknown: the native helper does not run (${h.detail})` : "unknown: the native helper is not built (npm run build:native)";
  const f = (key: string): string | undefined => (h.runs ? h.facts.get(key) : undefined);

  const status = readText("/proc/self/status");
  const seccompMode = statusField(status, "Seccomp");
  const filters = statusField(status, "Seccomp_filters");
  const nnp = statusField(status, "NoNewPrivs");

  const availText = readText("/proc/sys/kernel/seccomp/actions_avail");
  const avail = availText === null ? null : new Set(availText.trim().split(/\s+/));
  const actions = Object.fromEntries(
    SECCOMP_ACTIONS.map((a) => {
      if (avail !== null) return [a, avail.has(a)];
      const v = f(`seccomp-action:${a}`);
      return [a, v === undefined ? null : v === "ok"];
    }),
  ) as Record<SeccompActionName, boolean | null>;
  const flags = Object.fromEntries(
    SECCOMP_FLAGS.map((fl) => {
      const v = f(`seccomp-flag:${fl}`);
      return [fl, v === undefined ? null : v === "ok"];
    }),
  ) as Record<SeccompFlag, boolean | null>;

  const isX86 = native === "x86_64";
  const i386 = isX86 ? tried(f("i386"), noHelper) : { available: null, detail: `not an x86_64 host (${native ?? process.arch})` };
  const x32 = isX86 ? tried(f("x32"), noHelper) : { available: null, detail: `not an x86_64 host (${native ?? process.arch})` };

  let landlockAbi: number | null = null;
  let landlockDetail: string;
  const ll = f("landlock");
  if (ll === undefined) landlockDetail = noHelper;
  else if (/^\d+$/.test(ll)) {
    landlockAbi = Number(ll);
    landlockDetail = `ABI ${ll}`;
  } else {
    landlockAbi = 0;
    const t = tried(ll, noHelper);
    landlockDetail = `unavailable: landlock_create_ruleset gave ${t.detail}${/EOPNOTSUPP/.test(t.detail) ? " (built in but not enabled: add landlock to the lsm= boot parameter)" : /ENOSYS/.test(t.detail) ? " (the kernel has no Landlock: CONFIG_SECURITY_LANDLOCK)" : ""}`;
  }

  const euid = process.geteuid?.() ?? -1;
  const self = tried(f("userns"), noHelper);
  const unprivileged = euid === 0 ? tried(f("userns-unprivileged"), noHelper) : self;
  const tiocsti = readInt("/proc/sys/dev/tty/legacy_tiocsti");
  const capEff = statusField(status, "CapEff");
  const sysAdmin = capEff === null ? null : (BigInt(`0x${capEff}`) & (1n << 21n)) !== 0n;
  const canReadFilters: Tried =
    seccompMode !== null && seccompMode !== "0"
      ? { available: false, detail: "this process is under seccomp, and the kernel lets only an unfiltered tracer read filters" }
      : sysAdmin === false
        ? { available: false, detail: "needs CAP_SYS_ADMIN" }
        : sysAdmin === null || seccompMode === null
          ? { available: null, detail: "unknown: /proc/self/status has no Seccomp: or CapEff: line" }
          : { available: true, detail: "ok" };

  return {
    version: HOST_FACTS_VERSION,
    kernel: { release: rel, version, machine: machine() },
    abis: { native, i386, x32 },
    seccomp: {
      available: seccompMode !== null,
      actions,
      flags,
      constantActionCache: kernelAtLeast(version, 5, 11),
    },
    process: {
      euid,
      root: euid === 0,
      seccompMode: seccompMode === null ? null : Number(seccompMode),
      seccompFilters: filters === null ? null : Number(filters),
      noNewPrivs: nnp === null ? null : nnp === "1",
      capEff,
      canReadFilters,
    },
    landlock: { abi: landlockAbi, detail: landlockDetail },
    userNamespaces: { self, unprivileged, max: readInt("/proc/sys/user/max_user_namespaces") },
    ioUring: { disabledSysctl: readInt("/proc/sys/kernel/io_uring_disabled"), setup: tried(f("io_uring"), noHelper) },
    terminal: { legacyTiocsti: tiocsti !== null ? tiocsti === 1 : kernelAtLeast(version, 6, 2) === false ? true : null },
    helper: { path: helperPath, built: h.built, runs: h.runs, detail: h.detail },
  };
}
