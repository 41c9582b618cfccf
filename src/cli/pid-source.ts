/**
 * `pid:N` as a program source (prove, diff, explain, stats): the filter
 * stack of the running process N, read once per command through the native
 * helper (src/run/dump.ts) and used as one stack, oldest filter first, with
 * the kernel's stacking rule (`evaluateStack`).
 */
import type { Insn } from "../bpf/insn.js";
import { dumpPid, parsePid, type FilterDump } from "../run/dump.js";

/** A live process's filter stack, as the commands use it. */
export interface PidStack {
  readonly pid: number;
  /** "pid:4242 (sleep, 2 filters)". */
  readonly label: string;
  /** One label per filter: "pid:4242 filter 1 of 2 (oldest)". */
  readonly filterLabels: readonly string[];
  readonly programs: readonly (readonly Insn[])[];
  readonly dump: FilterDump;
}

/** True for a `pid:…` source (whether or not the number is valid). */
export function isPidSource(text: string): boolean {
  return text.startsWith("pid:");
}

const read = new Map<number, PidStack>();

/**
 * The stack of `pid:N`, read the first time a command asks for it (so a
 * stack given twice is the same stack).
 * @throws SyscageError BAD_USAGE for a bad number, and dumpPid's errors
 */
export function loadPidStack(text: string): PidStack {
  const pid = parsePid(text.slice("pid:".length), `source ${text}`);
  const known = read.get(pid);
  if (known !== undefined) return known;
  const dump = dumpPid(pid);
  const n = dump.filters.length;
  const stack: PidStack = {
    pid,
    label: `pid:${pid} (${dump.name}, ${n} filter${n === 1 ? "" : "s"})`,
    filterLabels: dump.filters.map((_, i) => `pid:${pid} filter ${i + 1} of ${n}${n > 1 && i === 0 ? " (oldest)" : n > 1 && i === n - 1 ? " (newest)" : ""}`),
    programs: dump.filters.map((f) => f.insns),
    dump,
  };
  read.set(pid, stack);
  return stack;
}
