/**
 * The sandbox around the filter (issue #14): Landlock file-system and TCP
 * rules and IPC scopes, resource limits, a timeout, and a clean start (fds,
 * environment, working directory). Worked out here, in TypeScript, into a
 * {@link SandboxPlan}; the native helper applies it in the child, in this
 * order, before exec: rlimits and nice, the Landlock ruleset (paths opened
 * with O_PATH there), no_new_privs, Landlock restrict_self, capabilities,
 * environment and working directory, closing fds, seccomp. docs/run.md,
 * "The sandbox", is the user's side of this file.
 */
import { isAbsolute, resolve } from "node:path";
import { LANDLOCK_ABI_KNOWN, LANDLOCK_ABI_RELEASE, LANDLOCK_FS_RIGHTS, LANDLOCK_NET_RIGHTS, LANDLOCK_SCOPES, rightNames, rightsAt } from "../abi/landlock.js";
import { SyscageError, didYouMean, suggest } from "../errors.js";

/** Resource limits (setrlimit in the helper): seconds, bytes or counts. */
export interface Limits {
  /** CPU seconds: SIGXCPU at the limit, SIGKILL one second later. */
  readonly cpu?: number;
  /** Address space, bytes. */
  readonly as?: number | bigint;
  /** Processes and threads of the user (the kernel does not apply it to root). */
  readonly nproc?: number;
  /** Open files. */
  readonly nofile?: number;
  /** Largest file the command may write, bytes. */
  readonly fsize?: number | bigint;
  /** Core file size, bytes (0: no core dumps). */
  readonly core?: number | bigint;
  /** Stack size, bytes. */
  readonly stack?: number | bigint;
}

export const LIMIT_NAMES = ["cpu", "as", "nproc", "nofile", "fsize", "core", "stack"] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];
/** RLIMIT_* numbers (asm-generic/resource.h; the same on every Linux ABI syscage runs on). */
const RLIMIT: Readonly<Record<LimitName, number>> = { cpu: 0, fsize: 1, stack: 3, core: 4, nproc: 6, nofile: 7, as: 9 };
const SIZE_LIMITS: ReadonlySet<LimitName> = new Set(["as", "fsize", "core", "stack"]);

export const SCOPE_NAMES = ["abstract-unix", "signal"] as const;
export type ScopeName = (typeof SCOPE_NAMES)[number];

/** The sandbox options of `run`/`spawn()` and the CLI (docs/run.md, "The sandbox"). */
export interface ConfinementOptions {
  /** Paths (a directory means its tree) the command may read. With any --allow-* path, every other path is denied by Landlock. */
  readonly allowRead?: readonly string[];
  /** Paths the command may read and write (create, remove, rename, truncate inside). */
  readonly allowWrite?: readonly string[];
  /** Paths the command may read and execute. */
  readonly allowExec?: readonly string[];
  /** Read and execute what a dynamically linked program needs: /usr, /lib*, /bin, /sbin, the loader's files, /dev/null, /dev/urandom, /proc/self. */
  readonly allowSystem?: boolean;
  /** A private writable temp dir (TMPDIR), made for this run and removed after it. */
  readonly allowTmp?: boolean;
  /** TCP ports the command may connect to; with any, every other TCP connect and bind is denied (Landlock ABI 4). */
  readonly allowConnect?: readonly number[];
  /** TCP ports the command may bind; with any, every other TCP connect and bind is denied. */
  readonly allowBind?: readonly number[];
  /** Landlock scopes (ABI 6): no connecting to abstract unix sockets, no signals, outside the sandbox. */
  readonly scope?: readonly ScopeName[];
  /** "enforce" (default): refuse to run when the kernel's Landlock cannot enforce every option; "best-effort": run with what it can, saying what was left out. */
  readonly landlock?: "enforce" | "best-effort";
  readonly limits?: Limits;
  /** Milliseconds; then SIGTERM to every process of the command, SIGKILL after `killAfter`; exit status 124. */
  readonly timeout?: number;
  /** Milliseconds between the timeout's SIGTERM and SIGKILL (default 2000). */
  readonly killAfter?: number;
  /** Added to the niceness (as nice(1)). */
  readonly nice?: number;
  /** File descriptors above 2 that reach the command; every other one is closed (default: none; spawn() keeps its extra stdio entries). */
  readonly keepFds?: readonly number[];
  /** Start the command with an empty environment (then `setEnv`). */
  readonly clearEnv?: boolean;
  /** "KEY=VALUE" entries set in the command's environment (after clearEnv). */
  readonly setEnv?: readonly string[];
  /** The command's working directory, changed to by the helper. */
  readonly chdir?: string;
  /** "node": what a Node script needs to start under the other options (system files, node's own install). */
  readonly preset?: "node";
}

export const CONFINEMENT_KEYS = ["allowRead", "allowWrite", "allowExec", "allowSystem", "allowTmp", "allowConnect", "allowBind", "scope", "landlock", "limits", "timeout", "killAfter", "nice", "keepFds", "clearEnv", "setEnv", "chdir", "preset"] as const;

/** One path rule: the helper opens `path` with O_PATH and allows `access` beneath it. */
export interface PathRule {
  readonly path: string;
  /** LANDLOCK_ACCESS_FS_* bits (a rule on a file keeps only the file rights). */
  readonly access: bigint;
  /** Skipped when the path does not exist (preset paths); a user's path must exist. */
  readonly optional: boolean;
  /** What asked for it, for messages and --dry-run. */
  readonly from: string;
}

export interface PortRule {
  readonly port: number;
  /** LANDLOCK_ACCESS_NET_* bits. */
  readonly access: bigint;
}

/** The Landlock part of a plan; absent when no option asks for Landlock. */
export interface LandlockPlan {
  /** The ABI the kernel must have (the helper refuses to run below it). */
  readonly abi: number;
  /** Why that ABI: the right that needs it, in words. */
  readonly reason: string;
  readonly handledFs: bigint;
  readonly handledNet: bigint;
  readonly scoped: bigint;
  readonly paths: readonly PathRule[];
  readonly ports: readonly PortRule[];
  /** Rights on the private temp dir (0: none). */
  readonly tmpAccess: bigint;
  /** For each ABI 0..LANDLOCK_ABI_KNOWN, what it knows: the helper keeps only those bits. */
  readonly knownFs: readonly bigint[];
  readonly knownNet: readonly bigint[];
  readonly knownScopes: readonly bigint[];
}

export interface RlimitSetting {
  readonly name: LimitName;
  readonly resource: number;
  readonly soft: bigint;
  readonly hard: bigint;
}

/** Everything of the sandbox but the filter, as the helper applies it. */
export interface SandboxPlan {
  readonly landlock?: LandlockPlan;
  readonly rlimits: readonly RlimitSetting[];
  readonly nice?: number;
  readonly timeoutMs: number;
  readonly killAfterMs: number;
  /** fds > 2 that stay open; all others are closed. */
  readonly keepFds: readonly number[];
  readonly clearEnv: boolean;
  readonly setEnv: readonly string[];
  readonly chdir?: string;
  /** What best-effort mode left out, and other notes for the user. */
  readonly warnings: readonly string[];
}

/** An empty sandbox: nothing but closing fds above 2. */
export const NO_SANDBOX: SandboxPlan = { rlimits: [], timeoutMs: 0, killAfterMs: 0, keepFds: [], clearEnv: false, setEnv: [], warnings: [] };

const fsBits = (...names: string[]): bigint =>
  names.reduce((m, n) => {
    const r = LANDLOCK_FS_RIGHTS.find((x) => x.name === n);
    if (r === undefined) throw new Error(`no Landlock right ${n}`);
    return m | r.bit;
  }, 0n);

/** What each option grants. make_char and make_block are never granted. */
export const ACCESS_READ = fsBits("read_file", "read_dir");
export const ACCESS_EXEC = ACCESS_READ | fsBits("execute");
export const ACCESS_WRITE = ACCESS_READ | fsBits("write_file", "remove_dir", "remove_file", "make_dir", "make_reg", "make_sock", "make_fifo", "make_sym", "refer", "truncate", "ioctl_dev");
/** /dev/null and such: read and write the file, nothing else. */
const ACCESS_DEVICE = fsBits("read_file", "write_file");

/** The preset paths of allowSystem: read and execute. */
export const SYSTEM_EXEC_PATHS = ["/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/ld.so.preload"];
export const SYSTEM_READ_PATHS = ["/dev/urandom", "/dev/random", "/dev/zero", "/proc/self"];
export const SYSTEM_DEVICE_PATHS = ["/dev/null"];

/**
 * Rights the kernel must handle for "everything else is denied" to hold, by
 * option kind: truncate (ABI 3) for any path option, since without it
 * truncate(2) works on files the command may not write; TCP (ABI 4); scopes
 * (ABI 6). refer (ABI 2) and ioctl_dev (ABI 5) are handled where the kernel
 * has them: without them the kernel is stricter (no cross-directory rename)
 * or only ioctls on devices the command may already open are not checked.
 */
const REQUIRED = { fs: { abi: 3, right: "truncate" }, net: { abi: 4, right: "TCP bind/connect" }, scope: { abi: 6, right: "scopes" } };

function fail(message: string): never {
  throw new SyscageError("BAD_OPTIONS", message);
}

function checkPort(p: unknown, where: string): number {
  if (typeof p !== "number" || !Number.isInteger(p) || p < 0 || p > 65535) fail(`${where}: ${String(p)} is not a TCP port (0..65535)`);
  return p;
}

function checkPaths(v: unknown, where: string): readonly string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string" && x !== "")) fail(`${where}: expected a list of paths`);
  for (const p of v as string[]) if (p.includes("\0")) fail(`${where}: a path contains a NUL byte`);
  return v as string[];
}

function checkInt(v: unknown, where: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) fail(`${where}: expected an integer ${min}..${max}, got ${String(v)}`);
  return v;
}

function checkBool(v: unknown, where: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "boolean") fail(`${where}: expected true or false, got ${typeof v}`);
  return v;
}

/** Options that make Landlock rules. */
function wantsLandlock(o: ConfinementOptions): { fs: boolean; net: boolean; scope: boolean } {
  const fs = (o.allowRead?.length ?? 0) + (o.allowWrite?.length ?? 0) + (o.allowExec?.length ?? 0) > 0 || o.allowSystem === true || o.allowTmp === true || o.preset === "node";
  const net = (o.allowConnect?.length ?? 0) + (o.allowBind?.length ?? 0) > 0;
  return { fs, net, scope: (o.scope?.length ?? 0) > 0 };
}

/** Paths node itself needs (its install prefix: binary and bundled files), for the node preset: read and execute. */
export function nodePresetPaths(execPath: string = process.execPath): string[] {
  return [resolve(execPath, "..", "..")];
}

/** What node reads at start and for everyday work (OpenSSL's config and CAs, time zone, name service, users): read. None of it is secret. */
export const NODE_READ_PATHS = ["/etc/ssl", "/etc/localtime", "/etc/nsswitch.conf", "/etc/hosts", "/etc/resolv.conf", "/etc/passwd", "/etc/group"];

/**
 * The Landlock ruleset for the options. `hostAbi` is the kernel's Landlock
 * ABI, asked only in best-effort mode (undefined: enforce, the helper checks).
 */
function planLandlock(o: ConfinementOptions, base: string, hostAbi: number | undefined, warnings: string[]): LandlockPlan | undefined {
  const want = wantsLandlock(o);
  if (!want.fs && !want.net && !want.scope) return undefined;
  const paths: PathRule[] = [];
  const add = (list: readonly string[], access: bigint, from: string, optional = false): void => {
    for (const p of list) paths.push({ path: isAbsolute(p) ? resolve(p) : resolve(base, p), access, optional, from });
  };
  add(checkPaths(o.allowRead, "allowRead"), ACCESS_READ, "--allow-read");
  add(checkPaths(o.allowWrite, "allowWrite"), ACCESS_WRITE, "--allow-write");
  add(checkPaths(o.allowExec, "allowExec"), ACCESS_EXEC, "--allow-exec");
  if (o.allowSystem === true || o.preset === "node") {
    add(SYSTEM_EXEC_PATHS, ACCESS_EXEC, "--allow-system", true);
    add(SYSTEM_READ_PATHS, ACCESS_READ, "--allow-system", true);
    add(SYSTEM_DEVICE_PATHS, ACCESS_DEVICE, "--allow-system", true);
  }
  if (o.preset === "node") {
    add(nodePresetPaths(), ACCESS_EXEC, "--preset node", true);
    add(NODE_READ_PATHS, ACCESS_READ, "--preset node", true);
  }
  const ports = new Map<number, bigint>();
  const [bind, connect] = [LANDLOCK_NET_RIGHTS[0]!.bit, LANDLOCK_NET_RIGHTS[1]!.bit];
  for (const p of o.allowConnect ?? []) ports.set(checkPort(p, "allowConnect"), (ports.get(p) ?? 0n) | connect);
  for (const p of o.allowBind ?? []) ports.set(checkPort(p, "allowBind"), (ports.get(p) ?? 0n) | bind);
  let scoped = 0n;
  for (const s of o.scope ?? []) {
    const i = SCOPE_NAMES.indexOf(s);
    if (i < 0) {
      const sg = suggest(String(s), SCOPE_NAMES);
      fail(`scope: unknown scope "${String(s)}".${didYouMean(sg)} Known: ${SCOPE_NAMES.join(", ")}`);
    }
    scoped |= LANDLOCK_SCOPES[i]!.bit;
  }
  let handledFs = want.fs ? rightsAt(LANDLOCK_FS_RIGHTS, LANDLOCK_ABI_KNOWN) : 0n;
  let handledNet = want.net ? rightsAt(LANDLOCK_NET_RIGHTS, LANDLOCK_ABI_KNOWN) : 0n;
  const needs = [want.fs ? REQUIRED.fs : undefined, want.net ? REQUIRED.net : undefined, want.scope ? REQUIRED.scope : undefined].filter((x) => x !== undefined);
  let abi = needs.reduce((a, n) => Math.max(a, n.abi), 1);
  let reason = needs
    .filter((n) => n.abi === abi)
    .map((n) => `${n.right}: ABI ${n.abi}, Linux ${LANDLOCK_ABI_RELEASE[n.abi]}`)
    .join("; ");
  if (hostAbi !== undefined) {
    // Best effort: keep what this kernel knows and say what is left out.
    const left = [
      ...rightNames(LANDLOCK_FS_RIGHTS, handledFs & ~rightsAt(LANDLOCK_FS_RIGHTS, hostAbi)),
      ...rightNames(LANDLOCK_NET_RIGHTS, handledNet & ~rightsAt(LANDLOCK_NET_RIGHTS, hostAbi)),
      ...rightNames(LANDLOCK_SCOPES, scoped & ~rightsAt(LANDLOCK_SCOPES, hostAbi)),
    ];
    if (hostAbi === 0) {
      warnings.push("--landlock=best-effort: this kernel has no Landlock; the --allow-*, and --scope options are not enforced (only the seccomp filter is)");
      return undefined;
    }
    if (left.length > 0) warnings.push(`--landlock=best-effort: this kernel has Landlock ABI ${hostAbi}; not enforced: ${left.join(", ")}`);
    handledFs &= rightsAt(LANDLOCK_FS_RIGHTS, hostAbi);
    handledNet &= rightsAt(LANDLOCK_NET_RIGHTS, hostAbi);
    scoped &= rightsAt(LANDLOCK_SCOPES, hostAbi);
    if (handledFs === 0n && handledNet === 0n && scoped === 0n) return undefined;
    abi = 1;
    reason = "best effort";
  }
  const known = (table: typeof LANDLOCK_FS_RIGHTS): bigint[] => Array.from({ length: LANDLOCK_ABI_KNOWN + 1 }, (_, a) => rightsAt(table, a));
  return {
    abi,
    reason,
    handledFs,
    handledNet,
    scoped,
    paths: handledFs === 0n ? [] : paths,
    ports: handledNet === 0n ? [] : [...ports].sort((a, b) => a[0] - b[0]).map(([port, access]) => ({ port, access })),
    tmpAccess: o.allowTmp === true && handledFs !== 0n ? ACCESS_WRITE : 0n,
    knownFs: known(LANDLOCK_FS_RIGHTS),
    knownNet: known(LANDLOCK_NET_RIGHTS),
    knownScopes: known(LANDLOCK_SCOPES),
  };
}

const SIZE_UNITS: Readonly<Record<string, bigint>> = { "": 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n };
const U64_MAX = (1n << 64n) - 1n;

/** "512M", "2G", "4096", "unlimited" → bytes. */
export function parseSize(text: string, where: string): bigint {
  const t = text.trim();
  if (t === "unlimited" || t === "infinity") return U64_MAX;
  const m = /^(\d+)([KMGT]?)(i?B)?$/i.exec(t);
  if (m === null) fail(`${where}: "${text}" is not a size; use a number of bytes with an optional K, M, G or T (512M, 2G)`);
  const v = BigInt(m[1]!) * SIZE_UNITS[m[2]!.toUpperCase()]!;
  if (v > U64_MAX) fail(`${where}: ${text} is too large`);
  return v;
}

/** "1.5s", "200ms", "2m", "1h", "10" (seconds) → milliseconds. */
export function parseDuration(text: string, where: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) fail(`${where}: "${text}" is not a duration; use a number with ms, s, m or h (1.5s, 200ms, 2m)`);
  const ms = Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[(m[2] ?? "s") as "ms" | "s" | "m" | "h"];
  const r = Math.round(ms);
  if (r < 1 || r > 0xffffffff) fail(`${where}: ${text} is out of range (1 ms to 49 days)`);
  return r;
}

/** `--limit cpu=10,as=512M,…` entries → Limits (repeatable; the last value of a name wins). */
export function parseLimits(entries: readonly string[]): Limits {
  const out: Record<string, number | bigint> = {};
  for (const entry of entries) {
    for (const part of entry.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
      const eq = part.indexOf("=");
      if (eq < 0) fail(`--limit ${part}: expected NAME=VALUE (names: ${LIMIT_NAMES.join(", ")})`);
      const name = part.slice(0, eq).trim().toLowerCase();
      const value = part.slice(eq + 1).trim();
      if (!(LIMIT_NAMES as readonly string[]).includes(name)) {
        const s = suggest(name, LIMIT_NAMES);
        fail(`--limit: unknown limit "${name}".${didYouMean(s)} Known: ${LIMIT_NAMES.join(", ")}`);
      }
      if (SIZE_LIMITS.has(name as LimitName)) out[name] = parseSize(value, `--limit ${name}`);
      else {
        if (!/^\d+$/.test(value)) fail(`--limit ${name}=${value}: expected a whole number`);
        out[name] = Number(value);
      }
    }
  }
  return out as Limits;
}

function planLimits(limits: Limits | undefined): RlimitSetting[] {
  if (limits === undefined) return [];
  if (typeof limits !== "object" || limits === null || Array.isArray(limits)) fail("limits: expected an object such as { cpu: 10, as: 512 * 2 ** 20 }");
  const out: RlimitSetting[] = [];
  for (const [k, v] of Object.entries(limits)) {
    if (v === undefined) continue;
    if (!(LIMIT_NAMES as readonly string[]).includes(k)) {
      const s = suggest(k, LIMIT_NAMES);
      fail(`limits: unknown limit "${k}".${didYouMean(s)} Known: ${LIMIT_NAMES.join(", ")}`);
    }
    const name = k as LimitName;
    let value: bigint;
    if (typeof v === "bigint") value = v;
    else if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) value = BigInt(v);
    else fail(`limits.${name}: expected a whole number >= 0, got ${String(v)}`);
    if (value < 0n || value > U64_MAX) fail(`limits.${name}: out of range`);
    // CPU: SIGXCPU at the soft limit, the kernel's SIGKILL one second later.
    const hard = name === "cpu" && value < U64_MAX ? value + 1n : value;
    out.push({ name, resource: RLIMIT[name], soft: value, hard });
  }
  return out.sort((a, b) => a.resource - b.resource);
}

/** Check the confinement options and work out the plan. `cwd` resolves relative paths. */
export function planSandbox(o: ConfinementOptions, context: { cwd?: string; hostLandlockAbi?: () => number } = {}): SandboxPlan {
  const base = context.cwd ?? process.cwd();
  const warnings: string[] = [];
  for (const k of ["allowSystem", "allowTmp", "clearEnv"] as const) checkBool(o[k], k);
  if (o.landlock !== undefined && o.landlock !== "enforce" && o.landlock !== "best-effort") fail(`landlock: expected "enforce" or "best-effort", got ${JSON.stringify(o.landlock)}`);
  if (o.preset !== undefined && o.preset !== "node") fail(`preset: unknown preset ${JSON.stringify(o.preset)}; known: node`);
  if (o.scope !== undefined && !(Array.isArray(o.scope) && o.scope.every((s) => typeof s === "string"))) fail(`scope: expected a list such as ["abstract-unix", "signal"]`);
  for (const k of ["allowConnect", "allowBind", "keepFds"] as const) {
    const v = o[k];
    if (v !== undefined && !Array.isArray(v)) fail(`${k}: expected a list of numbers`);
  }
  const want = wantsLandlock(o);
  const any = want.fs || want.net || want.scope;
  const hostAbi = o.landlock === "best-effort" && any ? context.hostLandlockAbi?.() : undefined;
  if (o.landlock === "best-effort" && any && hostAbi === undefined) {
    fail("--landlock=best-effort: cannot find out this kernel's Landlock ABI (the native helper does not answer); use --landlock=enforce");
  }
  const landlock = planLandlock(o, base, hostAbi, warnings);
  const timeoutMs = o.timeout === undefined ? 0 : checkInt(o.timeout, "timeout (ms)", 1, 0xffffffff);
  const killAfterMs = o.killAfter === undefined ? 2000 : checkInt(o.killAfter, "killAfter (ms)", 0, 0xffffffff);
  const nice = o.nice === undefined ? undefined : checkInt(o.nice, "nice", -40, 40);
  const keepFds = [...new Set((o.keepFds ?? []).map((fd) => checkInt(fd, "keepFds", 3, 1 << 20)))].sort((a, b) => a - b);
  const setEnv = o.setEnv ?? [];
  if (!Array.isArray(setEnv)) fail('setEnv: expected a list of "KEY=VALUE" strings');
  for (const kv of setEnv) {
    if (typeof kv !== "string" || !/^[^=\0]+=[^\0]*$/.test(kv)) fail(`--env ${String(kv)}: expected KEY=VALUE (a name, "=", the value)`);
  }
  if (o.chdir !== undefined && (typeof o.chdir !== "string" || o.chdir === "" || o.chdir.includes("\0"))) fail("chdir: expected a directory path");
  return {
    ...(landlock !== undefined ? { landlock } : {}),
    rlimits: planLimits(o.limits),
    ...(nice !== undefined ? { nice } : {}),
    timeoutMs,
    killAfterMs: timeoutMs === 0 ? 0 : killAfterMs,
    keepFds,
    clearEnv: o.clearEnv === true,
    setEnv,
    ...(o.chdir !== undefined ? { chdir: resolve(base, o.chdir) } : {}),
    warnings,
  };
}

/** The sandbox in lines for --dry-run / --explain-sandbox (without the filter part). */
export function describeSandbox(s: SandboxPlan): string[] {
  const lines: string[] = [];
  const ll = s.landlock;
  if (ll === undefined) lines.push("landlock:       none (no --allow-*, --scope option)");
  else {
    lines.push(`landlock:       ${ll.reason === "best effort" ? "best effort" : `needs ABI ${ll.abi} (${ll.reason})`}; handles fs: ${rightNames(LANDLOCK_FS_RIGHTS, ll.handledFs).join(",") || "none"}; net: ${rightNames(LANDLOCK_NET_RIGHTS, ll.handledNet).join(",") || "none"}; scopes: ${rightNames(LANDLOCK_SCOPES, ll.scoped).join(",") || "none"}`);
    const kind = (a: bigint): string => (a === ACCESS_WRITE ? "read+write" : a === ACCESS_EXEC ? "read+exec" : a === ACCESS_READ ? "read" : a === ACCESS_DEVICE ? "read+write (file)" : rightNames(LANDLOCK_FS_RIGHTS, a).join(","));
    for (const p of ll.paths) lines.push(`  path:         ${kind(p.access)} ${p.path}${p.optional ? " (if present)" : ""}  [${p.from}]`);
    if (ll.tmpAccess !== 0n) lines.push("  path:         read+write a private temp dir (TMPDIR), removed after the run  [--allow-tmp]");
    for (const p of ll.ports) lines.push(`  tcp port:     ${rightNames(LANDLOCK_NET_RIGHTS, p.access).join(",")} ${p.port}`);
    if (ll.handledNet !== 0n && ll.ports.length === 0) lines.push("  tcp:          no bind, no connect");
  }
  lines.push(`limits:         ${s.rlimits.length === 0 ? "none" : s.rlimits.map((r) => `${r.name}=${r.soft === U64_MAX ? "unlimited" : r.soft}`).join(", ")}${s.nice !== undefined ? `; nice ${s.nice > 0 ? "+" : ""}${s.nice}` : ""}`);
  lines.push(`timeout:        ${s.timeoutMs === 0 ? "none" : `${s.timeoutMs / 1000}s, then SIGTERM to every process of the command, SIGKILL ${s.killAfterMs / 1000}s later (exit 124)`}`);
  lines.push(`fds:            0-2${s.keepFds.length > 0 ? `, ${s.keepFds.join(", ")}` : ""} (every other fd is closed)`);
  lines.push(`environment:    ${s.clearEnv ? "cleared" : "inherited"}${s.setEnv.length > 0 ? `; set ${s.setEnv.map((kv) => kv.slice(0, kv.indexOf("="))).join(", ")}` : ""}${s.landlock?.tmpAccess ? "; TMPDIR the private temp dir" : ""}`);
  if (s.chdir !== undefined) lines.push(`working dir:    ${s.chdir}`);
  return lines;
}
