/**
 * `syscage dump PID [-o DIR] [--json] [--arch A]` and
 * `syscage dump [--until-filter] [-o DIR] [--json] -- COMMAND [ARGS…]`:
 * the seccomp filter stack of a running process (or of a command started
 * for it), oldest first, read with PTRACE_SECCOMP_GET_FILTER through the
 * native helper (src/run/dump.ts). Without -o, a disassembly per filter as
 * `syscage disasm` prints it; with -o, one raw program per filter (0.bpf,
 * 1.bpf, …) and manifest.json (docs/dump.md).
 *
 * Exit status: 0 dumped; 1 bad usage or another error; 2 no such process;
 * 3 no filter (Seccomp: 0, strict mode, a kernel thread, a command that did
 * not install one); 4 not permitted (CAP_SYS_ADMIN, a reader under seccomp,
 * a process that cannot be traced).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { hostAbiIfKnown, parseAbi, type AbiName } from "../../abi/arch.js";
import { hostEndian } from "../../bpf/codec.js";
import { disassemble } from "../../bpf/disasm.js";
import { SyscageError } from "../../errors.js";
import { DUMP_ERROR_CODES, dumpCommand, dumpPid, parsePid, type FilterDump } from "../../run/dump.js";
import { printJson } from "../output.js";

interface DumpOpts {
  output?: string;
  json?: boolean;
  arch?: string;
  untilFilter?: boolean;
  passFd?: string[];
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The version of manifest.json and of `--json` (docs/dump.md). */
export const DUMP_MANIFEST_VERSION = 1;

const MODES: Readonly<Record<number, string>> = { 0: "disabled", 1: "strict", 2: "filter" };

/** The manifest (and `--json` document) of a dump; `files` are the names written with -o. */
export function dumpManifest(d: FilterDump, files?: readonly string[], withPrograms = false): unknown {
  return {
    version: DUMP_MANIFEST_VERSION,
    pid: d.pid,
    name: d.name,
    cmdline: d.cmdline,
    stoppedAt: d.stoppedAt,
    seccomp: { mode: d.seccompMode, modeName: d.seccompMode !== null ? (MODES[d.seccompMode] ?? "unknown") : null, filters: d.seccompFilters },
    noNewPrivs: d.noNewPrivs,
    byteOrder: hostEndian(),
    order: "oldest first (index 0 was installed first)",
    filters: d.filters.map((f, i) => ({
      index: f.index,
      ...(files !== undefined ? { file: files[i] } : {}),
      instructions: f.insns.length,
      bytes: f.bytes.length,
      sha256: createHash("sha256").update(f.bytes).digest("hex"),
      flags: f.flags,
      flagNames: f.flagNames,
      ...(withPrograms ? { program: Buffer.from(f.bytes).toString("hex") } : {}),
    })),
  };
}

/** The dump as text: a header, then each filter's disassembly. */
export function formatDump(d: FilterDump, arch: AbiName | undefined): string {
  const n = d.filters.length;
  const cmd = d.cmdline.length > 0 ? d.cmdline.join(" ") : `[${d.name}]`;
  const at = d.stoppedAt === "attach" ? "" : d.stoppedAt === "exec" ? ", stopped at its first execve" : ", stopped after its first filter was installed";
  const out = [
    `; pid ${d.pid} (${d.name}): ${cmd}${at}`,
    `; Seccomp: ${d.seccompMode ?? "?"}${d.seccompMode !== null ? ` (${MODES[d.seccompMode] ?? "unknown"})` : ""}, ${n} filter${n === 1 ? "" : "s"} (oldest first), no_new_privs ${d.noNewPrivs === null ? "?" : d.noNewPrivs ? 1 : 0}`,
  ];
  for (const f of d.filters) {
    const flags = f.flags === null ? "unknown (no PTRACE_SECCOMP_GET_METADATA)" : f.flagNames.length > 0 ? f.flagNames.join("|") : "none";
    out.push("", `; filter ${f.index} (${f.index === 0 ? "oldest" : f.index === n - 1 ? "newest" : `${f.index + 1} of ${n}`}): ${f.insns.length} instructions, flags ${flags}`);
    out.push(disassemble(f.insns, arch !== undefined ? { arch } : {}).trimEnd());
  }
  return out.join("\n") + "\n";
}

/** Write 0.bpf, 1.bpf, … and manifest.json into `dir` (created; it must be empty). */
function writeDump(dir: string, d: FilterDump): string[] {
  mkdirSync(dir, { recursive: true });
  const present = readdirSync(dir);
  if (present.length > 0) {
    throw new SyscageError("BAD_USAGE", `-o ${dir}: the directory is not empty (${present.slice(0, 3).join(", ")}${present.length > 3 ? ", …" : ""}); give a new or empty directory so no earlier dump's files mix with this one`);
  }
  const files = d.filters.map((f) => `${f.index}.bpf`);
  d.filters.forEach((f, i) => writeFileSync(join(dir, files[i]!), f.bytes));
  writeFileSync(join(dir, "manifest.json"), JSON.stringify(dumpManifest(d, files), null, 2) + "\n");
  return files;
}

function runDump(operands: string[], opts: DumpOpts, sawDashDash: boolean): void {
  const arch = opts.arch !== undefined ? parseAbi(opts.arch) : hostAbiIfKnown();
  let d: FilterDump;
  if (sawDashDash) {
    const passFds = (opts.passFd ?? []).map((v) => {
      if (!/^\d+$/.test(v.trim())) throw new SyscageError("BAD_USAGE", `--pass-fd: "${v}" is not a descriptor number; write e.g. --pass-fd 3`);
      return Number(v.trim());
    });
    d = dumpCommand(operands, { untilFilter: opts.untilFilter === true, passFds });
  } else {
    if (operands.length !== 1) {
      throw new SyscageError(
        "BAD_USAGE",
        operands.length === 0
          ? "dump: give a PID (syscage dump 4242) or a command after -- (syscage dump -- COMMAND)"
          : `dump: one PID, got ${operands.length} operands (${operands.join(" ")}); to start a command, put it after --: syscage dump -- ${operands.join(" ")}`,
      );
    }
    if (opts.untilFilter === true) throw new SyscageError("BAD_USAGE", "--until-filter applies to a command started after --, not to a running PID");
    if (opts.passFd !== undefined) throw new SyscageError("BAD_USAGE", "--pass-fd applies to a command started after --, not to a running PID");
    d = dumpPid(parsePid(operands[0]!, "dump PID"));
  }
  if (opts.output !== undefined) {
    const files = writeDump(opts.output, d);
    if (opts.json === true) printJson(dumpManifest(d, files));
    else process.stdout.write(`wrote ${files.length} filter${files.length === 1 ? "" : "s"} of pid ${d.pid} (${d.name}) to ${opts.output}: ${[...files, "manifest.json"].join(", ")}\n`);
    return;
  }
  if (opts.json === true) printJson(dumpManifest(d, undefined, true));
  else process.stdout.write(formatDump(d, arch));
}

/** Register `dump`. */
export function register(program: Command): void {
  program
    .command("dump")
    .description("read the seccomp filter stack of a running process (or of a command started for it), oldest first: disassembly, raw programs, or JSON")
    .argument("[pid-or-command...]", "a PID, or after -- the command to start")
    .option("-o, --output <dir>", "write each filter as DIR/0.bpf, 1.bpf, … (oldest first, raw, this machine's byte order) and DIR/manifest.json")
    .option("--json", "print the manifest as JSON (without -o, each filter's raw bytes as hex in filters[].program)")
    .option("--arch <abi>", "the ABI to name syscalls with where a filter does not check the arch (default: this host's)")
    .option("--until-filter", "with -- COMMAND: follow the command and its children until one of them has a filter, instead of stopping at its first execve")
    .option("--pass-fd <n>", "with -- COMMAND: pass descriptor N on to it (repeatable; e.g. bwrap --seccomp 3 with 3<filter.bpf)", collect)
    .addHelpText(
      "after",
      `
The filters are read with ptrace(PTRACE_SECCOMP_GET_FILTER): the process is
stopped for the moment of the read and runs on. The kernel answers only a
reader with CAP_SYS_ADMIN that is not itself under seccomp (run syscage dump
as root, outside any sandbox). The flags come from PTRACE_SECCOMP_GET_METADATA
(the kernel keeps only LOG).

With -- COMMAND, the command is started traced and stopped at the return of
its first execve (or, with --until-filter, right after the first seccomp(2) /
prctl(PR_SET_SECCOMP) of it or any of its children), dumped, and killed. It
gets syscage's stdin and stderr, and the descriptors named by --pass-fd; its
standard output goes to standard error.

The dump is a source for other commands as pid:N:
  syscage prove pid:N --policy policy.json    syscage diff pid:N profile.json
  syscage explain openat pid:N                syscage stats pid:N

Exit status: 0 dumped; 1 bad usage or another error; 2 no such process;
3 no filter (Seccomp: 0, strict mode, a kernel thread, a command that exited
without one); 4 not permitted (CAP_SYS_ADMIN, a reader under seccomp, a
process already traced or of another user).

Examples:
  syscage dump 4242
  syscage dump 4242 -o stack/ && syscage prove stack/0.bpf --stack stack/1.bpf
  syscage dump --until-filter --pass-fd 3 -- bwrap --ro-bind / / --seccomp 3 -- true 3<filter.bpf`,
    )
    .action((operands: string[], opts: DumpOpts, self: Command) => {
      // commander drops the "--"; the program's raw arguments still show whether it was given (a command follows).
      const raw: unknown = (self.parent as unknown as { rawArgs?: unknown } | null)?.rawArgs;
      const sawDashDash = Array.isArray(raw) ? raw.includes("--") : !(operands.length === 1 && /^\d+$/.test(operands[0]!));
      try {
        runDump(operands, opts, sawDashDash);
      } catch (e) {
        if (e instanceof SyscageError && e.code in DUMP_ERROR_CODES) {
          process.stderr.write(`syscage: ${e.message}\n`);
          process.exitCode = DUMP_ERROR_CODES[e.code as keyof typeof DUMP_ERROR_CODES];
          return;
        }
        throw e;
      }
    });
}
