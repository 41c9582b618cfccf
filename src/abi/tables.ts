/**
 * Syscall name ↔ number lookups for every ABI, over the tables generated from
 * the kernel's `syscall*.tbl` files (`generated/syscalls.ts`). Numbers here
 * are always as seen in `seccomp_data.nr`: the ABI's offset (x32 bit 30,
 * MIPS 4000/5000/6000) is included.
 */
import { SyscageError, didYouMean, suggest } from "../errors.js";
import { ABI_NAMES, getAbi, type AbiName } from "./arch.js";
import { GENERATED_KERNEL_VERSION, SYSCALL_NUMBERS, SYSCALL_SINCE } from "./generated/syscalls.js";

/** One syscall of one ABI. */
export interface SyscallEntry {
  /** Kernel name, e.g. "openat". */
  readonly name: string;
  /** Number as seen in `seccomp_data.nr`, the ABI's offset included. */
  readonly nr: number;
  /** First kernel version with this syscall, when known (e.g. "7.3"). */
  readonly since?: string;
}

/** Kernel version the tables come from (e.g. "7.3-rc7"). */
export const TABLES_KERNEL_VERSION: string = GENERATED_KERNEL_VERSION;

/** A range of consecutive syscall numbers that all exist on an ABI. */
export interface SyscallRun {
  readonly lo: number;
  readonly hi: number;
}

interface AbiIndex {
  readonly entries: readonly SyscallEntry[];
  readonly byName: ReadonlyMap<string, number>;
  readonly byNr: ReadonlyMap<number, string>;
  /** Index in `entries` of each name. */
  readonly position: ReadonlyMap<string, number>;
  readonly runs: readonly SyscallRun[];
}

const indexes = new Map<AbiName, AbiIndex>();

function index(abi: AbiName): AbiIndex {
  let ix = indexes.get(abi);
  if (ix === undefined) {
    const offset = getAbi(abi).nrOffset;
    const since = SYSCALL_SINCE.byAbi[abi];
    const entries: SyscallEntry[] = Object.entries(SYSCALL_NUMBERS[abi]).map(([name, n]) => {
      const s = since?.[name] ?? SYSCALL_SINCE.common[name];
      return s === undefined ? { name, nr: n + offset } : { name, nr: n + offset, since: s };
    });
    entries.sort((a, b) => a.nr - b.nr || (a.name < b.name ? -1 : 1));
    const runs: SyscallRun[] = [];
    for (let i = 0, start = 0; i < entries.length; i++) {
      const nr = entries[i]!.nr;
      const next = entries[i + 1]?.nr;
      if (next === nr) throw new Error(`syscall tables: ${abi} has two syscalls numbered ${nr}`);
      if (next === nr + 1) continue;
      runs.push(Object.freeze({ lo: entries[start]!.nr, hi: nr }));
      start = i + 1;
    }
    ix = {
      entries: Object.freeze(entries.map((e) => Object.freeze(e))),
      byName: new Map(entries.map((e) => [e.name, e.nr])),
      byNr: new Map(entries.map((e) => [e.nr, e.name])),
      position: new Map(entries.map((e, i) => [e.name, i])),
      runs: Object.freeze(runs),
    };
    indexes.set(abi, ix);
  }
  return ix;
}

/** Every syscall of `abi`, sorted by number. */
export function syscallTable(abi: AbiName): readonly SyscallEntry[] {
  return index(abi).entries;
}

/** The index in {@link syscallTable}(abi) of each syscall name of `abi`. */
export function syscallPositions(abi: AbiName): ReadonlyMap<string, number> {
  return index(abi).position;
}

/** The numbers of `abi`'s syscalls as maximal runs of consecutive numbers, ascending (numbers are unique). */
export function syscallRuns(abi: AbiName): readonly SyscallRun[] {
  return index(abi).runs;
}

/** The number (as seen in `seccomp_data.nr`) of `name` on `abi`, or undefined. */
export function syscallNumber(abi: AbiName, name: string): number | undefined {
  return index(abi).byName.get(name);
}

/** The name of syscall number `nr` (as seen in `seccomp_data.nr`) on `abi`, or undefined. */
export function syscallName(abi: AbiName, nr: number): string | undefined {
  return index(abi).byNr.get(nr);
}

let allNames: ReadonlySet<string> | undefined;

/** Every syscall name known on at least one ABI. */
export function knownSyscallNames(): ReadonlySet<string> {
  if (allNames === undefined) {
    const s = new Set<string>();
    // From the generated tables directly: building every ABI's index is much slower.
    for (const abi of ABI_NAMES) for (const name of Object.keys(SYSCALL_NUMBERS[abi])) s.add(name);
    allNames = s;
  }
  return allNames;
}

/** The ABIs on which `name` exists, in canonical order. */
export function abisWithSyscall(name: string): AbiName[] {
  // From the generated tables directly: building every ABI's index costs more than a cold command's budget.
  return ABI_NAMES.filter((abi) => Object.hasOwn(SYSCALL_NUMBERS[abi], name));
}

/**
 * The number of `name` on `abi` (as seen in `seccomp_data.nr`). Throws a
 * SyscageError UNKNOWN_SYSCALL with close names as suggestions; when the
 * name exists on other ABIs the message says which.
 */
export function resolveSyscall(abi: AbiName, name: string): number {
  const nr = syscallNumber(abi, name);
  if (nr !== undefined) return nr;
  const elsewhere = abisWithSyscall(name);
  if (elsewhere.length > 0) {
    const near = suggest(name, index(abi).byName.keys()).filter((s) => s !== name);
    const missing = ABI_NAMES.filter((a) => a !== abi && !elsewhere.includes(a));
    const where =
      missing.length < elsewhere.length
        ? `does not exist on ${abi} (it exists on every ABI except ${[abi, ...missing].join(", ")})`
        : `exists on ${elsewhere.join(", ")} but not on ${abi}`;
    throw new SyscageError("UNKNOWN_SYSCALL", `syscall "${name}" ${where}.${didYouMean(near)}`, near);
  }
  let near = suggest(name, index(abi).byName.keys());
  if (near.length === 0) near = suggest(name, knownSyscallNames());
  throw new SyscageError(
    "UNKNOWN_SYSCALL",
    `unknown syscall "${name}" on ${abi} (tables from Linux ${TABLES_KERNEL_VERSION}).${didYouMean(near)}`,
    near,
  );
}

/**
 * The name of syscall number `nr` on `abi`. Throws a SyscageError
 * UNKNOWN_SYSCALL_NUMBER when the ABI has no such number, with a hint when
 * the number lacks the ABI's offset (x32's 0x40000000, MIPS's 4000/5000/6000).
 */
export function resolveSyscallName(abi: AbiName, nr: number): string {
  const name = syscallName(abi, nr);
  if (name !== undefined) return name;
  const offset = getAbi(abi).nrOffset;
  const shifted = offset !== 0 && nr < offset ? syscallName(abi, nr + offset) : undefined;
  const hint =
    shifted !== undefined
      ? ` ${abi} numbers include the offset ${fmtOffset(offset)}: ${fmtNr(nr + offset)} is "${shifted}".`
      : "";
  const suggestions = shifted !== undefined ? [shifted] : [];
  throw new SyscageError(
    "UNKNOWN_SYSCALL_NUMBER",
    `no syscall number ${fmtNr(nr)} on ${abi} (tables from Linux ${TABLES_KERNEL_VERSION}).${hint}`,
    suggestions,
  );
}

function fmtOffset(offset: number): string {
  return offset >= 0x10000 ? `0x${offset.toString(16)}` : String(offset);
}

function fmtNr(nr: number): string {
  return nr >= 0x10000 ? `${nr} (0x${nr.toString(16)})` : String(nr);
}

/**
 * Parses a syscall number written in decimal ("257") or hex ("0x101"), as
 * seen in `seccomp_data.nr` (0 … 0xffffffff). Throws a SyscageError
 * BAD_SYSCALL_NUMBER on anything else.
 */
export function parseSyscallNumber(text: string): number {
  const t = text.trim();
  if (/^(?:0[xX][0-9a-fA-F]+|[0-9]+)$/.test(t)) {
    const n = Number(t);
    if (Number.isSafeInteger(n) && n <= 0xffffffff) return n;
    throw new SyscageError(
      "BAD_SYSCALL_NUMBER",
      `syscall number "${text}" is out of range; seccomp_data.nr is 32 bits (0 to 0xffffffff).`,
    );
  }
  throw new SyscageError(
    "BAD_SYSCALL_NUMBER",
    `"${text}" is not a syscall number; write it in decimal (257) or hex (0x101).`,
  );
}
