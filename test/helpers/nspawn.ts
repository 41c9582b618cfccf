/**
 * The systemd-nspawn oracle: start a real container, read the seccomp filter
 * stack its payload runs under, and hand it back as classic-BPF programs.
 *
 * How (test/helpers/dump-filters.c):
 *   1. `systemd-nspawn -q --register=no --keep-unit --volatile=yes -D / --pipe
 *      --machine=<unique> --bind-ro=<tmp>:/syscage-test <options>
 *      /syscage-test/dump-filters wait` — the payload prints "ready" and waits
 *      for EOF on stdin. `--volatile=yes` puts a tmpfs over / (host /usr
 *      read-only), so nothing on the host changes; the helper comes in through
 *      the read-only bind mount; `--keep-unit --register=no` keep systemd and
 *      D-Bus out of it, so it works without a running systemd (CI, sandboxes).
 *   2. On the host, the payload is found as the descendant of the nspawn
 *      process whose comm is "dump-filters", and `dump-filters pid <PID>`
 *      (unfiltered, root) seizes it and reads every filter with
 *      PTRACE_SECCOMP_GET_FILTER. The kernel refuses that call to a tracer
 *      that is itself under seccomp, which is why the dump cannot run inside.
 *   3. stdin is closed; the payload and the container exit.
 *
 * The kernel's filter index 0 is the OLDEST filter (kernel/seccomp.c
 * get_nth_filter counts from the first installed; `dumpOrderSelfTest` checks
 * it on the running kernel), so the list comes back oldest first, as
 * `evaluateStack` wants it.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeProgram } from "../../src/bpf/codec.js";
import type { Insn } from "../../src/bpf/insn.js";
import { interpret } from "../../src/bpf/interpret.js";
import { getAbi, type AbiName } from "../../src/abi/arch.js";
import { syscallTable } from "../../src/abi/tables.js";

const SOURCE = fileURLToPath(new URL("./dump-filters.c", import.meta.url));

/** The nspawn options the conformance test varies (the same shape as nspawnPolicy's). */
export interface NspawnRunOptions {
  readonly capability?: readonly string[];
  readonly dropCapability?: readonly string[];
  readonly privateNetwork?: boolean;
  /** Each entry is one `--system-call-filter=` argument ("~@clock", "@clock settimeofday"). */
  readonly systemCallFilter?: readonly string[];
}

/** One filter as the kernel returned it. */
export interface DumpedFilter {
  /** The raw `struct sock_filter` array, host byte order. */
  readonly bytes: Uint8Array;
  readonly insns: Insn[];
}

/** The container's filter stack, OLDEST first (the order evaluateStack takes). */
export interface DumpedStack {
  readonly filters: readonly DumpedFilter[];
  /** The nspawn command line that produced it. */
  readonly argv: readonly string[];
  /** What nspawn wrote to stderr (warnings about the options). */
  readonly stderr: string;
}

let helperDir: string | undefined;

/** Build test/helpers/dump-filters.c once per process into a temp dir the container can read. */
export function dumpHelperDir(): string {
  if (helperDir !== undefined && existsSync(join(helperDir, "dump-filters"))) return helperDir;
  const dir = mkdtempSync(join(tmpdir(), "syscage-nspawn-"));
  chmodSync(dir, 0o755);
  execFileSync("cc", ["-O2", "-Wall", "-Werror", "-o", join(dir, "dump-filters"), SOURCE], { stdio: ["ignore", "ignore", "inherit"] });
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  helperDir = dir;
  return dir;
}

/** Parse dump-filters output ("filter <i> <n> <hex>" lines, then "end <count>"), kernel index order. */
export function parseDump(text: string): DumpedFilter[] {
  const out: DumpedFilter[] = [];
  let end = -1;
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const m = /^filter (\d+) (\d+) ([0-9a-f]*)$/.exec(line);
    if (m !== null) {
      const [, index, n, hex] = m;
      if (Number(index) !== out.length) throw new Error(`dump-filters: filter ${index} out of order`);
      const bytes = new Uint8Array(Buffer.from(hex!, "hex"));
      if (bytes.length !== Number(n) * 8) throw new Error(`dump-filters: filter ${index} has ${bytes.length} bytes for ${n} instructions`);
      out.push({ bytes, insns: decodeProgram(bytes, `nspawn filter ${index}`) });
      continue;
    }
    const e = /^end (\d+)$/.exec(line);
    if (e !== null) {
      end = Number(e[1]);
      continue;
    }
    throw new Error(`dump-filters: unexpected output line ${JSON.stringify(line.slice(0, 80))}`);
  }
  if (end !== out.length) throw new Error(`dump-filters: output incomplete (end ${end}, ${out.length} filters)`);
  return out;
}

/**
 * Which end of the stack the kernel's index 0 is, measured: a child installs a
 * 1-instruction filter, then a 2-instruction one, and is dumped.
 */
export function dumpOrderSelfTest(): "oldest-first" | "newest-first" {
  const out = execFileSync(join(dumpHelperDir(), "dump-filters"), ["self-test"], { encoding: "utf8" });
  const f = parseDump(out);
  if (f.length !== 2) throw new Error(`dump-filters self-test: expected 2 filters, got ${f.length}`);
  if (f[0]!.insns.length === 1 && f[1]!.insns.length === 2) return "oldest-first";
  if (f[0]!.insns.length === 2 && f[1]!.insns.length === 1) return "newest-first";
  throw new Error(`dump-filters self-test: unexpected sizes ${f.map((x) => x.insns.length).join(", ")}`);
}

let order: "oldest-first" | "newest-first" | undefined;

/** The kernel's dump order, measured once per process. */
function stackOrder(): "oldest-first" | "newest-first" {
  order ??= dumpOrderSelfTest();
  return order;
}

/** The nspawn arguments for an option set (without the fixed part). */
export function nspawnArgs(opts: NspawnRunOptions): string[] {
  const a: string[] = [];
  if (opts.capability !== undefined && opts.capability.length > 0) a.push(`--capability=${opts.capability.join(",")}`);
  if (opts.dropCapability !== undefined && opts.dropCapability.length > 0) a.push(`--drop-capability=${opts.dropCapability.join(",")}`);
  if (opts.privateNetwork === true) a.push("--private-network");
  for (const f of opts.systemCallFilter ?? []) a.push(`--system-call-filter=${f}`);
  return a;
}

/** Every process id below `root` in the process tree (from /proc/<pid>/stat). */
function descendants(root: number): number[] {
  const parent = new Map<number, number>();
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      // "pid (comm) state ppid ..." — comm may hold spaces and parentheses.
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parent.set(Number(e), Number(rest[1]));
    } catch {
      // the process ended meanwhile
    }
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0) {
    const p = todo.pop()!;
    for (const [c, pp] of parent) {
      if (pp === p) {
        out.push(c);
        todo.push(c);
      }
    }
  }
  return out;
}

function comm(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

let runCounter = 0;

/**
 * Start systemd-nspawn with `opts`, dump the filter stack its payload runs
 * under, and stop the container. Rejects when the container does not come up
 * within `timeoutMs` (nspawn's stderr is in the message).
 */
export async function dumpNspawnFilters(opts: NspawnRunOptions = {}, timeoutMs = 20_000): Promise<DumpedStack> {
  const helper = join(dumpHelperDir(), "dump-filters");
  return withNspawnPayload(opts, (payload, argv, stderr) => {
    const r = spawnSync(helper, ["pid", String(payload)], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`dump-filters pid ${payload} failed (${r.status}): ${r.stderr}`);
    const inKernelOrder = parseDump(r.stdout);
    const filters = stackOrder() === "oldest-first" ? inKernelOrder : [...inKernelOrder].reverse();
    return { filters, argv, stderr: stderr() };
  }, timeoutMs);
}

/**
 * Start systemd-nspawn with `opts` and a payload that waits, call `fn` with
 * the payload's host pid (it carries the container's filter stack) while the
 * container runs, then stop the container. Rejects when the container does
 * not come up within `timeoutMs` (nspawn's stderr is in the message).
 */
export async function withNspawnPayload<T>(
  opts: NspawnRunOptions,
  fn: (payload: number, argv: readonly string[], stderr: () => string) => T | Promise<T>,
  timeoutMs = 20_000,
): Promise<T> {
  const dir = dumpHelperDir();
  const argv = [
    "systemd-nspawn",
    "-q",
    "--register=no",
    "--keep-unit",
    "--volatile=yes",
    "-D",
    "/",
    "--pipe",
    `--machine=syscage-${process.pid}-${++runCounter}`,
    `--bind-ro=${dir}:/syscage-test`,
    ...nspawnArgs(opts),
    "/syscage-test/dump-filters",
    "wait",
  ];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`systemd-nspawn did not start within ${timeoutMs} ms`)), timeoutMs);
      const done = (err?: Error): void => {
        clearTimeout(timer);
        if (err === undefined) resolve();
        else reject(err);
      };
      child.stdout.on("data", (d: string) => {
        stdout += d;
        if (stdout.includes("ready\n")) done();
      });
      child.stderr.on("data", (d: string) => (stderr += d));
      child.on("error", (e) => done(e));
      child.on("close", (code) => done(new Error(`systemd-nspawn exited with ${code} before the payload was ready`)));
    });
    if (child.pid === undefined) throw new Error("systemd-nspawn has no pid");
    const payload = descendants(child.pid).filter((p) => comm(p) === "dump-filters");
    if (payload.length !== 1) throw new Error(`expected one dump-filters process under nspawn ${child.pid}, found ${payload.length}`);
    return await fn(payload[0]!, argv, () => stderr);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`${msg}\n  command: ${argv.join(" ")}\n  nspawn stderr: ${stderr.trim()}`);
  } finally {
    child.stdin.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/** The major version of the installed systemd-nspawn ("systemd 252 (252.39-1~deb12u2)" → 252). */
export function nspawnVersion(): number {
  const out = execFileSync("systemd-nspawn", ["--version"], { encoding: "utf8" });
  const m = /^systemd (\d+)/.exec(out);
  if (m === null) throw new Error(`cannot parse systemd-nspawn --version: ${out.split("\n")[0]}`);
  return Number(m[1]);
}

// ---- what the installed systemd knows: groups, table, libseccomp -----------

/** A systemd syscall group: name (with @) → members (syscall names and @group references). */
export type GroupData = ReadonlyMap<string, readonly string[]>;

/**
 * Parse `systemd-analyze syscall-filter` output: blocks that start with an
 * `@group` line at column 0, an indented `# help` line, then indented
 * members, ended by a blank line. Unindented `#` lines (the "Ungrouped System
 * Calls" section and notes) are skipped.
 */
export function parseSyscallFilterListing(text: string): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.trimEnd();
    if (line === "") {
      current = undefined;
      continue;
    }
    if (line.startsWith("@")) {
      if (groups.has(line)) throw new Error(`systemd-analyze: group ${line} listed twice`);
      current = [];
      groups.set(line, current);
      continue;
    }
    if (line.startsWith("#")) {
      current = undefined;
      continue;
    }
    const word = line.trim();
    if (word.startsWith("#")) continue; // the help line
    if (current === undefined) throw new Error(`systemd-analyze: member ${JSON.stringify(word)} outside a group`);
    if (!/^@?[a-z0-9_]+$/.test(word) && !/^@[a-z0-9-]+$/.test(word)) throw new Error(`systemd-analyze: odd member ${JSON.stringify(word)}`);
    current.push(word);
  }
  if (!groups.has("@known") || !groups.has("@default")) throw new Error("systemd-analyze: @default or @known missing from the listing");
  return groups;
}

/** The installed systemd's groups (`systemd-analyze syscall-filter`). */
export function installedSyscallGroups(): Map<string, string[]> {
  // stderr notes that the running kernel's list is unavailable: not needed here.
  const text = execFileSync("systemd-analyze", ["syscall-filter", "--no-pager"], { encoding: "utf8", maxBuffer: 16 << 20, stdio: ["ignore", "pipe", "ignore"] });
  return parseSyscallFilterListing(text);
}

/** One row of nspawn's allow-list table. */
export interface TableRow {
  readonly capability: string | null;
  readonly name: string;
}

/** A change to nspawn's allow-list table after v252 (research notes §2.5, "Later nspawn-table changes"). */
export interface TableChange {
  readonly commit: string;
  /** The first release with the change. */
  readonly version: number;
  readonly added?: readonly TableRow[];
  readonly removed?: readonly TableRow[];
}

/** §2.5: every nspawn-table change between v252 and v260 (commit → first release). */
export const NSPAWN_TABLE_CHANGES: readonly TableChange[] = [
  { commit: "b9e7f22c2d", version: 253, added: [{ capability: null, name: "sched_rr_get_interval_time64" }] },
  { commit: "e996663475", version: 257, removed: [{ capability: null, name: "seccomp" }] },
  { commit: "7fd70a5326", version: 257, added: [{ capability: null, name: "arm_fadvise64_64" }] },
  { commit: "6cbd126b0b", version: 258, added: [{ capability: null, name: "@keyring" }] },
  { commit: "9cb6d2bf85", version: 258, added: [{ capability: "CAP_BPF", name: "bpf" }] },
  { commit: "93101e7ef0", version: 260, added: [{ capability: null, name: "cachestat" }] },
];

/** How the installed nspawn's table was derived from v260's, for messages. */
export interface InstalledTable {
  readonly rows: readonly TableRow[];
  /** Reverted changes ("93101e7ef0 (v260): -cachestat"). */
  readonly reverted: readonly string[];
  /** Later additions found in the installed binary (stable-branch backports). */
  readonly backported: readonly string[];
}

/**
 * The installed nspawn's allow-list table: v260's with every later change
 * (§2.5) reverted, EXCEPT an added row whose name is a string of the
 * installed systemd-nspawn binary — a backport on the stable branch (Debian's
 * 252.39 carries b9e7f22c2d and 7fd70a5326). A row name is stored in the
 * binary only for the table (group data lives in libsystemd-shared), so its
 * presence is evidence of the row.
 */
export function installedNspawnTable(v260: readonly TableRow[], version: number, binaryPath = "/usr/bin/systemd-nspawn"): InstalledTable {
  const bin = readFileSync(binaryPath);
  const inBinary = (name: string): boolean => bin.includes(Buffer.from(`\0${name}\0`, "latin1"));
  let rows = [...v260];
  const reverted: string[] = [];
  const backported: string[] = [];
  for (const ch of [...NSPAWN_TABLE_CHANGES].reverse()) {
    if (ch.version <= version) continue;
    for (const r of ch.added ?? []) {
      if (inBinary(r.name)) {
        backported.push(`${ch.commit} (v${ch.version}): +${r.name}`);
        continue;
      }
      rows = rows.filter((x) => !(x.name === r.name && x.capability === r.capability));
      reverted.push(`${ch.commit} (v${ch.version}): -${r.name}`);
    }
    for (const r of ch.removed ?? []) {
      rows.push(r);
      reverted.push(`${ch.commit} (v${ch.version}): +${r.name}`);
    }
  }
  return { rows, reverted, backported };
}

/** What libseccomp (the one nspawn links) knows, per ABI. */
export interface LibseccompFacts {
  /** name → libseccomp's number on the ABI (negative: not on that ABI; -1: unknown name). */
  readonly numbers: ReadonlyMap<string, ReadonlyMap<string, number>>;
  /** Does seccomp_rule_add_exact accept nspawn's audit rule (socket, A0 == 16, A2 == 9) on the ABI? */
  readonly auditRuleAccepted: ReadonlyMap<string, boolean>;
  /** The library file behind libseccomp.so.2 ("libseccomp.so.2.5.4"), or "?". */
  readonly library: string;
}

const LIBSECCOMP_SCRIPT = `
import json, sys, seccomp
req = json.load(sys.stdin)
arch = {"x86_64": seccomp.Arch.X86_64, "x86": seccomp.Arch.X86, "x32": seccomp.Arch.X32}
out = {"numbers": {}, "audit": {}}
for abi, names in req.items():
    a = arch[abi]
    out["numbers"][abi] = {n: seccomp.resolve_syscall(a, n) for n in names}
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    f.remove_arch(seccomp.Arch.NATIVE)
    f.add_arch(a)
    try:
        f.add_rule_exactly(seccomp.ERRNO(97), "socket", seccomp.Arg(0, seccomp.EQ, 16), seccomp.Arg(2, seccomp.EQ, 9))
        out["audit"][abi] = True
    except Exception:
        out["audit"][abi] = False
json.dump(out, sys.stdout)
`;

/** Ask libseccomp (python3-seccomp, Debian's python) about `names` on each ABI, in one process. */
export function libseccompFacts(python: string, names: Readonly<Record<string, readonly string[]>>): LibseccompFacts {
  const out = execFileSync(python, ["-c", LIBSECCOMP_SCRIPT], { input: JSON.stringify(names), encoding: "utf8", maxBuffer: 64 << 20 });
  const raw = JSON.parse(out) as { numbers: Record<string, Record<string, number>>; audit: Record<string, boolean> };
  let library = "?";
  for (const p of ["/lib/x86_64-linux-gnu/libseccomp.so.2", "/usr/lib/x86_64-linux-gnu/libseccomp.so.2", "/usr/lib64/libseccomp.so.2"]) {
    if (existsSync(p)) {
      library = basename(realpathSync(p));
      break;
    }
  }
  return {
    numbers: new Map(Object.entries(raw.numbers).map(([abi, m]) => [abi, new Map(Object.entries(m))])),
    auditRuleAccepted: new Map(Object.entries(raw.audit)),
    library,
  };
}

// ---- nspawn's algorithm over given data (research notes §2.3) ---------------

/** Data one nspawn release works from. */
export interface NspawnData {
  readonly groups: GroupData;
  readonly table: readonly TableRow[];
  readonly defaultCapabilities: readonly string[];
}

/** The name sets nspawn builds: allowed names, and the rest of @known (→ EPERM). */
export interface NspawnNameSets {
  readonly allowed: ReadonlySet<string>;
  readonly eperm: ReadonlySet<string>;
}

/**
 * seccomp_add_syscall_filter_item's walk: literal-name exclusion at every
 * level, groups expanded recursively; an unknown @group in a user list is
 * skipped (nspawn warns and goes on).
 */
function walk(groups: GroupData, item: string, exclude: ReadonlySet<string>, on: (name: string) => void, depth = 0): void {
  if (exclude.has(item)) return;
  if (!item.startsWith("@")) {
    on(item);
    return;
  }
  const members = groups.get(item);
  if (members === undefined || depth > 20) return;
  for (const m of members) walk(groups, m, exclude, on, depth + 1);
}

/**
 * nspawn's allowed / EPERM name sets for `opts` over `data`, written from the
 * research notes independently of src/policy/nspawn.ts. The capability
 * numbers come from `capNumber` ("all" = 0..lastCap).
 */
export function nspawnNameSets(data: NspawnData, opts: NspawnRunOptions, capNumber: (name: string) => number | undefined, lastCap: number): NspawnNameSets {
  const caps = new Set<number>();
  const addList = (entries: readonly string[], to: (c: number) => void): void => {
    for (const e of entries)
      for (const w of e.split(",").map((x) => x.trim()).filter((x) => x !== "")) {
        if (w.toLowerCase() === "all") for (let c = 0; c <= lastCap; c++) to(c);
        else {
          const n = capNumber(w);
          if (n === undefined) throw new Error(`unknown capability ${w}`);
          to(n);
        }
      }
  };
  addList(data.defaultCapabilities, (c) => caps.add(c));
  addList(opts.capability ?? [], (c) => caps.add(c));
  if (opts.privateNetwork === true) addList(["CAP_NET_ADMIN"], (c) => caps.add(c));
  addList(opts.dropCapability ?? [], (c) => caps.delete(c));
  const allow: string[] = [];
  const deny = new Set<string>();
  for (const v of opts.systemCallFilter ?? []) {
    const neg = v.startsWith("~");
    const words = (neg ? v.slice(1) : v).split(/\s+/).filter((w) => w !== "");
    if (neg) for (const w of words) deny.add(w);
    else allow.push(...words);
  }
  const allowed = new Set<string>();
  for (const row of data.table) {
    if (row.capability !== null) {
      const n = capNumber(row.capability);
      if (n === undefined || !caps.has(n)) continue;
    }
    walk(data.groups, row.name, deny, (n) => allowed.add(n));
  }
  for (const item of allow) walk(data.groups, item, deny, (n) => allowed.add(n));
  const eperm = new Set<string>();
  walk(data.groups, "@known", allowed, (n) => eperm.add(n));
  return { allowed, eperm };
}

// ---- running filters --------------------------------------------------------

/**
 * Instructions executed per syscall through a whole stack (the kernel runs
 * every filter of the stack, newest first; the constant-action cache of
 * Linux >= 5.11 is not modelled), averaged over every syscall of `abi`'s
 * table with zero arguments. For the benchmark: the real nspawn stack vs. one
 * syscage program.
 */
export function averageStackSteps(programs: readonly (readonly Insn[])[], abi: AbiName): number {
  const a = getAbi(abi);
  const table = syscallTable(abi);
  let total = 0;
  for (const e of table) {
    const data = { nr: e.nr, arch: a.auditArch, instructionPointer: 0n, args: [0n, 0n, 0n, 0n, 0n, 0n] };
    for (const p of programs) total += interpret(p, data, a.endian).steps;
  }
  return total / table.length;
}
