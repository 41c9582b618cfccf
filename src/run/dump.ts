/**
 * Reading the seccomp filter stack of a live process (`syscage dump`, and the
 * `pid:N` sources of prove, diff, explain and stats), through the native
 * helper (`syscage-exec --dump PID`, `--dump-exec`; native/dump.c):
 * ptrace(PTRACE_SECCOMP_GET_FILTER) for each filter, oldest first, and
 * PTRACE_SECCOMP_GET_METADATA for the flags the kernel kept.
 *
 * What /proc says is checked first, so that a process that does not exist,
 * a kernel thread and a process without a filter are told apart without any
 * privilege; only the read itself needs CAP_SYS_ADMIN (and a reader that is
 * not under seccomp itself: the kernel refuses a filtered tracer).
 *
 * Errors are SyscageError with one of the codes of {@link DUMP_ERROR_CODES}.
 */
import { spawnSync } from "node:child_process";
import { fstatSync, readFileSync } from "node:fs";
import { decodeProgram, hostEndian } from "../bpf/codec.js";
import type { Insn } from "../bpf/insn.js";
import { SyscageError } from "../errors.js";
import { requireHelper } from "./helper.js";

/** The SECCOMP_FILTER_FLAG_* bits the kernel reports in a filter's metadata (only LOG is kept). */
const METADATA_FLAGS: readonly (readonly [number, string])[] = [
  [1 << 0, "TSYNC"],
  [1 << 1, "LOG"],
  [1 << 2, "SPEC_ALLOW"],
  [1 << 3, "NEW_LISTENER"],
  [1 << 4, "TSYNC_ESRCH"],
  [1 << 5, "WAIT_KILLABLE_RECV"],
];

/** One filter of a process, as the kernel holds it. */
export interface DumpedFilter {
  /** The kernel's index: 0 is the oldest filter. */
  readonly index: number;
  readonly insns: Insn[];
  /** The raw `struct sock_filter` array, in this machine's byte order, byte for byte as the kernel returned it. */
  readonly bytes: Uint8Array;
  /** The flags of PTRACE_SECCOMP_GET_METADATA, or null when the kernel does not have it. */
  readonly flags: number | null;
  /** {@link flags} by name ("LOG"; an unknown bit as 0x…). */
  readonly flagNames: readonly string[];
}

/** Where the process was when it was read. */
export type DumpStop = "attach" | "exec" | "filter";

/** The filter stack of one process. */
export interface FilterDump {
  readonly pid: number;
  /** `attach`: a running process, stopped for the read; `exec`: a started command at its first execve; `filter`: right after its first filter. */
  readonly stoppedAt: DumpStop;
  /** `Name:` of /proc/PID/status (the comm). */
  readonly name: string;
  /** /proc/PID/cmdline, split at NUL (empty for a kernel thread). */
  readonly cmdline: readonly string[];
  /** `Seccomp:` (0 none, 1 strict, 2 filter), or null when the line is missing. */
  readonly seccompMode: number | null;
  /** `Seccomp_filters:` (Linux ≥ 5.9), or null. */
  readonly seccompFilters: number | null;
  readonly noNewPrivs: boolean | null;
  /** Oldest first, the order the filters were installed (and `evaluateStack` takes). */
  readonly filters: readonly DumpedFilter[];
}

/**
 * The codes of the errors {@link dumpPid} and {@link dumpCommand} throw, with
 * the exit status `syscage dump` gives each (docs/dump.md).
 */
export const DUMP_ERROR_CODES = {
  /** No such process (or it exited meanwhile, or is a zombie). */
  DUMP_NO_PROCESS: 2,
  /** The process has no seccomp filter (Seccomp: 0, strict mode, a kernel thread, a command that exited without one). */
  DUMP_NO_FILTER: 3,
  /** Not allowed: no CAP_SYS_ADMIN, a reader under seccomp, a process that cannot be traced. */
  DUMP_DENIED: 4,
} as const;

export type DumpErrorCode = keyof typeof DUMP_ERROR_CODES;

const PF_KTHREAD = 0x00200000;

function flagNames(flags: number | null): string[] {
  if (flags === null) return [];
  const out: string[] = [];
  let rest = flags;
  for (const [bit, name] of METADATA_FLAGS) {
    if ((rest & bit) !== 0) {
      out.push(name);
      rest &= ~bit;
    }
  }
  for (let b = 0; b < 32; b++) if ((rest & (1 << b)) !== 0) out.push(`0x${((1 << b) >>> 0).toString(16)}`);
  return out;
}

/** The errno names the helper's reports can carry. */
const ERRNO: Readonly<Record<number, string>> = { 1: "EPERM", 2: "ENOENT", 3: "ESRCH", 5: "EIO", 8: "ENOEXEC", 12: "ENOMEM", 13: "EACCES", 20: "ENOTDIR", 22: "EINVAL", 38: "ENOSYS" };
const errnoText = (n: number): string => `${ERRNO[n] ?? `errno ${n}`}`;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function statusField(status: string, key: string): string | undefined {
  const m = new RegExp(`^${key}:\\s*(.*)$`, "m").exec(status);
  return m === null ? undefined : m[1]!.trim();
}

/** What /proc/self/status says about this process's right to read filters, for the refusal's message. */
function readerSituation(): string {
  const status = readText("/proc/self/status") ?? "";
  const mode = statusField(status, "Seccomp");
  const capEff = statusField(status, "CapEff");
  const parts: string[] = [];
  if (mode !== undefined && mode !== "0") parts.push(`this process is itself under seccomp (Seccomp: ${mode}), and the kernel answers only an unfiltered tracer; run syscage dump outside the sandbox`);
  if (capEff !== undefined && (BigInt(`0x${capEff}`) & (1n << 21n)) === 0n) parts.push("this process lacks CAP_SYS_ADMIN (run it as root, or give it the capability)");
  return parts.length > 0 ? parts.join("; ") : "the kernel refused it";
}

/** "pid 42 (sleep)". */
function who(pid: number, name: string | undefined): string {
  return name !== undefined && name !== "" ? `pid ${pid} (${name})` : `pid ${pid}`;
}

/**
 * What /proc says of `pid` before trying to read it: refuses a missing
 * process, a kernel thread, a zombie and a process without filters.
 */
function checkProc(pid: number): void {
  const stat = readText(`/proc/${pid}/stat`);
  const status = readText(`/proc/${pid}/status`);
  if (stat === undefined || status === undefined) {
    throw new SyscageError("DUMP_NO_PROCESS", `pid ${pid}: no such process (nothing in /proc/${pid}); check the pid, it may have exited`);
  }
  const name = statusField(status, "Name");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const flags = Number(fields[6]);
  if (Number.isFinite(flags) && (flags & PF_KTHREAD) !== 0) {
    throw new SyscageError("DUMP_NO_FILTER", `${who(pid, name)} is a kernel thread: kernel threads have no seccomp filters (and cannot be traced)`);
  }
  if (state === "Z" || state === "X") {
    throw new SyscageError("DUMP_NO_PROCESS", `${who(pid, name)} has exited (a zombie waiting for its parent): it has no filters any more`);
  }
  const mode = statusField(status, "Seccomp");
  if (mode === "0") throw new SyscageError("DUMP_NO_FILTER", `${who(pid, name)} has no seccomp filter (Seccomp: 0 in /proc/${pid}/status)`);
  if (mode === "1") throw new SyscageError("DUMP_NO_FILTER", `${who(pid, name)} is in seccomp strict mode (Seccomp: 1): it has no filter program to read`);
}

interface HelperReport {
  pid?: number;
  stoppedAt?: DumpStop;
  status: Map<string, string>;
  cmdline: string[];
  filters: DumpedFilter[];
  end?: number;
  error?: { step: string; args: string[] };
}

/** Parse the helper's report (native/dump.c). */
export function parseDumpReport(text: string): HelperReport {
  const lines = text.split("\n").filter((l) => l !== "");
  if (lines[0] !== "syscage-exec-dump 1") {
    throw new SyscageError("HELPER_MISSING", `the native helper does not speak the dump protocol (first line ${JSON.stringify(lines[0] ?? "")}); rebuild it with \`npm run build:native\``);
  }
  const r: HelperReport = { status: new Map(), cmdline: [], filters: [] };
  const bad = (l: string): SyscageError => new SyscageError("HELPER_PROTOCOL", `the native helper's dump report has an unexpected line ${JSON.stringify(l.slice(0, 80))}; rebuild it with \`npm run build:native\``);
  for (const l of lines.slice(1)) {
    const w = l.split(" ");
    switch (w[0]) {
      case "pid":
        r.pid = Number(w[1]);
        break;
      case "stopped":
        if (w[1] !== "attach" && w[1] !== "exec" && w[1] !== "filter") throw bad(l);
        r.stoppedAt = w[1];
        break;
      case "status":
        r.status.set(w[1] ?? "", Buffer.from(w[2] ?? "", "hex").toString("utf8"));
        break;
      case "cmdline": {
        const s = Buffer.from(w[1] ?? "", "hex").toString("utf8");
        r.cmdline = s === "" ? [] : s.replace(/\0$/, "").split("\0");
        break;
      }
      case "filter": {
        const m = /^filter (\d+) (\d+) (\d+|\?) ([0-9a-f]*)$/.exec(l);
        if (m === null) throw bad(l);
        const index = Number(m[1]);
        if (index !== r.filters.length) throw bad(l);
        const bytes = new Uint8Array(Buffer.from(m[4]!, "hex"));
        if (bytes.length !== Number(m[2]) * 8) throw bad(l);
        const flags = m[3] === "?" ? null : Number(m[3]);
        r.filters.push({ index, bytes, insns: decodeProgram(bytes, `filter ${index}`, hostEndian()), flags, flagNames: flagNames(flags) });
        break;
      }
      case "end":
        r.end = Number(w[1]);
        break;
      case "error":
        r.error = { step: w[1] ?? "", args: w.slice(2) };
        break;
      default:
        throw bad(l);
    }
  }
  return r;
}

function toDump(r: HelperReport): FilterDump {
  if (r.pid === undefined || r.stoppedAt === undefined || r.end !== r.filters.length) {
    throw new SyscageError("HELPER_PROTOCOL", "the native helper's dump report is incomplete; rebuild it with `npm run build:native`");
  }
  const num = (k: string): number | null => {
    const v = r.status.get(k);
    return v === undefined || !/^\d+$/.test(v) ? null : Number(v);
  };
  const nnp = num("NoNewPrivs");
  return {
    pid: r.pid,
    stoppedAt: r.stoppedAt,
    name: r.status.get("Name") ?? "",
    cmdline: r.cmdline,
    seccompMode: num("Seccomp"),
    seccompFilters: num("Seccomp_filters"),
    noNewPrivs: nnp === null ? null : nnp === 1,
    filters: r.filters,
  };
}

function runHelper(args: readonly string[], helperPath: string | undefined, passFds?: readonly number[]): HelperReport {
  const helper = requireHelper(helperPath);
  // A started command gets our stdin and the descriptors named for it (bwrap --seccomp 3 3<filter.bpf).
  const stdio: (number | "ignore" | "pipe" | "inherit")[] = [passFds !== undefined ? "inherit" : "ignore", "pipe", "inherit"];
  for (const fd of passFds ?? []) {
    if (!Number.isInteger(fd) || fd <= 2 || fd > 1023) throw new SyscageError("BAD_USAGE", `--pass-fd ${fd}: give a descriptor number from 3 to 1023 (0-2 are passed anyway)`);
    try {
      fstatSync(fd);
    } catch {
      throw new SyscageError("BAD_USAGE", `--pass-fd ${fd}: descriptor ${fd} is not open in syscage; open it for the command (e.g. ${fd}<file)`);
    }
    while (stdio.length < fd) stdio.push("ignore");
    stdio[fd] = fd;
  }
  const p = spawnSync(helper, args, { encoding: "utf8", stdio, maxBuffer: 64 << 20 });
  if (p.error !== undefined) throw new SyscageError("HELPER_MISSING", `cannot start the native helper ${helper}: ${p.error.message}`);
  if (p.status !== 0 && p.status !== 2) {
    throw new SyscageError("HELPER_PROTOCOL", `the native helper ended with ${p.status ?? p.signal} while reading filters`);
  }
  return parseDumpReport(p.stdout);
}

/** The refusal for an "error STEP ERRNO" of the helper about `pid`. */
function helperError(pid: number | undefined, name: string | undefined, e: { step: string; args: string[] }): SyscageError {
  const errno = Number(e.args[0]);
  const target = pid !== undefined ? who(pid, name) : "the command";
  if (e.step === "not-filter-mode") return new SyscageError("DUMP_NO_FILTER", `${target} has no seccomp filter (the kernel says it is not in filter mode)`);
  if (e.step === "seize" && errno === 3) return new SyscageError("DUMP_NO_PROCESS", `${target}: no such process (it exited before it could be read)`);
  if (e.step === "seize" && errno === 1 && pid !== undefined) {
    const status = readText(`/proc/${pid}/status`) ?? "";
    const tracer = statusField(status, "TracerPid");
    if (tracer !== undefined && tracer !== "0") return new SyscageError("DUMP_DENIED", `${target} is already traced by pid ${tracer}; a process has one tracer at a time, so detach that one (a debugger, strace) first`);
    const uid = statusField(status, "Uid")?.split(/\s+/)[0];
    return new SyscageError(
      "DUMP_DENIED",
      `not permitted to trace ${target}${uid !== undefined ? ` (uid ${uid})` : ""}: reading its filters needs CAP_SYS_PTRACE over it (or the same user, where kernel.yama.ptrace_scope allows) and CAP_SYS_ADMIN; run syscage dump as root`,
    );
  }
  if (e.step === "get-filter" && (errno === 13 || errno === 1)) {
    return new SyscageError("DUMP_DENIED", `reading the seccomp filters of ${target} needs CAP_SYS_ADMIN and a reader that is not under seccomp itself (PTRACE_SECCOMP_GET_FILTER: ${errnoText(errno)}): ${readerSituation()}`);
  }
  if (e.step === "get-filter" && errno === 5) return new SyscageError("DUMP_FAILED", `the kernel gave a different length for a filter of ${target} on the second read; try again`);
  return new SyscageError("DUMP_FAILED", `reading the filters of ${target} failed at ${e.step}: ${errnoText(errno)}`);
}

/** Parse a pid as the user wrote it (`4242`, from `pid:4242` or `syscage dump 4242`). */
export function parsePid(text: string, what: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text) || Number(text) > 0x3fffffff) {
    throw new SyscageError("BAD_USAGE", `${what}: "${text}" is not a process id; give a positive number such as 4242`);
  }
  return Number(text);
}

/**
 * The filter stack of the running process `pid`, oldest first. It is stopped
 * for the read (PTRACE_SEIZE + PTRACE_INTERRUPT) and then runs on.
 * @throws SyscageError DUMP_NO_PROCESS, DUMP_NO_FILTER, DUMP_DENIED, DUMP_FAILED, HELPER_MISSING
 */
export function dumpPid(pid: number, opts: { helper?: string } = {}): FilterDump {
  checkProc(pid);
  const r = runHelper(["--dump", String(pid)], opts.helper);
  if (r.error !== undefined) throw helperError(pid, r.status.get("Name") ?? statusField(readText(`/proc/${pid}/status`) ?? "", "Name"), r.error);
  return toDump(r);
}

/**
 * Start `command`, stop it at its first execve (or, with `untilFilter`,
 * follow it and its children until one of them has a filter), read that
 * process's stack, and kill the command. It gets this process's stdin and
 * stderr, and the descriptors of `passFds` (`bwrap --seccomp 3` with
 * `3<file`: Node makes every descriptor it inherits close-on-exec, so only
 * the named ones reach the command); its standard output goes to standard
 * error.
 * @throws SyscageError DUMP_NO_FILTER (nothing installed by then, or it exited first), DUMP_COMMAND (cannot run it), DUMP_DENIED, …
 */
export function dumpCommand(command: readonly string[], opts: { untilFilter?: boolean; passFds?: readonly number[]; helper?: string } = {}): FilterDump {
  if (command.length === 0) throw new SyscageError("BAD_USAGE", "dump --: give the command to start, e.g. syscage dump --until-filter --pass-fd 3 -- bwrap --seccomp 3 … 3<filter.bpf");
  const r = runHelper(["--dump-exec", ...(opts.untilFilter === true ? ["--until-filter"] : []), "--", ...command], opts.helper, opts.passFds ?? []);
  const shown = command.join(" ");
  if (r.error !== undefined) {
    const e = r.error;
    if (e.step === "exec") {
      const errno = Number(e.args[0]);
      throw new SyscageError("DUMP_COMMAND", `cannot run ${command[0]}: ${errno === 2 ? "not found (check the name and PATH)" : errno === 13 ? "permission denied" : errnoText(errno)}`);
    }
    if (e.step === "exited") {
      const how = e.args[0] === "signal" ? `was killed by signal ${e.args[1]}` : `exited with status ${e.args[1]}`;
      throw new SyscageError(
        "DUMP_NO_FILTER",
        opts.untilFilter === true ? `${shown}: ${how} without installing a seccomp filter` : `${shown}: ${how} before its first execve returned`,
      );
    }
    if (e.step === "not-filter-mode") {
      throw new SyscageError("DUMP_NO_FILTER", `${shown} has no seccomp filter at its first execve${opts.untilFilter === true ? "" : "; add --until-filter to follow it until it installs one"}`);
    }
    throw helperError(r.pid, r.status.get("Name"), e);
  }
  return toDump(r);
}
