/**
 * The decisions a filter makes, as `audit` reads them: from a program (or a
 * stack of programs, a live process's), never from a policy's rules. A
 * policy is audited through the program syscage compiles from it (which
 * `prove` shows equivalent), so the audit of a raw program and the audit of
 * the policy it was compiled from see the same decisions and give the same
 * decision findings (src/analyze/audit.ts).
 *
 * What the view holds, exactly (prove's symbolic walk over the programs,
 * src/analyze/prove.ts): the ABIs the program covers (an ABI is covered when
 * some call on it gets something other than the bad-arch value), per covered
 * ABI and syscall the set of values the filter returns over every argument
 * vector, and the argument words that decide between them; the values of
 * numbers no table names; and any single call, by running the programs.
 *
 * Library code: never prints.
 */
import { ABI_NAMES, ABIS, getAbi, LOCAL_ABIS, X32_SYSCALL_BIT, type AbiName } from "../abi/arch.js";
import { syscallName, syscallTable } from "../abi/tables.js";
import { decodeAction, type ActionName } from "../bpf/actions.js";
import type { Insn } from "../bpf/insn.js";
import { evaluateStack } from "../bpf/interpret.js";
import { verify } from "../bpf/verify.js";
import { SyscageError } from "../errors.js";
import { abiForCall } from "../policy/evaluate.js";
import { partitionBox, SECCOMP_WORDS, stackValue, symbolicWalk } from "./prove.js";

/** What one syscall gets on one ABI, over every argument vector. */
export interface SyscallOutcome {
  readonly abi: AbiName;
  readonly name: string;
  readonly nr: number;
  /** Distinct values the filter returns, in first-seen order. */
  readonly rets: readonly number[];
  /**
   * Argument words (seccomp_data word indexes 4..15) that some path of the
   * program tests for this syscall, when the value depends on the arguments
   * (empty when `rets` has one value).
   */
  readonly words: ReadonlySet<number>;
  /** Every path of the walk that reaches this syscall: the values each word can take on it, and what it returns. */
  readonly paths: readonly { readonly box: readonly (readonly number[])[]; readonly ret: number }[];
}

/** The decisions of a filter (see the module doc). */
export interface DecisionView {
  /** The ABIs the program covers, in ABI_NAMES order with x86_64 before x32. */
  readonly abis: readonly AbiName[];
  /** The value for an arch no covered ABI uses. */
  readonly badArchRet: number;
  /** Each covered ABI's syscalls, by name. */
  readonly outcomes: ReadonlyMap<AbiName, ReadonlyMap<string, SyscallOutcome>>;
  /** The values numbers no table of the ABI names get (every such number, by the walk). */
  readonly unknownRets: ReadonlyMap<AbiName, readonly number[]>;
  /** Every argument word's values before any test (the partition's representatives). */
  readonly wordValues: readonly (readonly number[])[];
  /** Run the programs on one call (arch of `abi`, or a raw arch value). */
  at(abi: AbiName | number, nr: number, args?: readonly bigint[]): number;
}

/** The action name of a filter value. */
export function retAction(ret: number): ActionName {
  return decodeAction(ret).action;
}

/** ALLOW or LOG: the call runs. */
export function isPermissive(ret: number): boolean {
  const a = retAction(ret);
  return a === "ALLOW" || a === "LOG";
}

/** Each ABI's byte order by its AUDIT_ARCH value. */
const ENDIAN_OF_ARCH: ReadonlyMap<number, "little" | "big"> = new Map([...ABIS.values()].map((a) => [a.auditArch >>> 0, a.endian]));

/** An arch value no ABI uses. */
const BOGUS_ARCH = 0;

/** The word index of the low (`hi` false) or high 32 bits of argument `arg` on an ABI of this byte order. */
export function argWord(endian: "little" | "big", arg: number, hi: boolean): number {
  const base = 4 + 2 * arg;
  return (endian === "little") === hi ? base + 1 : base;
}

/**
 * The decisions of `programs` (a stack, oldest first, as the kernel runs
 * it; one program is the usual case). Each must pass the kernel's checks.
 */
export function decisionView(programs: readonly (readonly Insn[])[]): DecisionView {
  if (programs.length === 0) throw new SyscageError("NO_PROGRAM", "audit: no program to audit");
  programs.forEach((p, i) => {
    const f = verify(p);
    if (f.length > 0) throw new SyscageError("BPF_INVALID", `program ${programs.length > 1 ? `${i + 1} ` : ""}would not load: instruction ${f[0]!.index}: ${f[0]!.rule}: ${f[0]!.message}`);
  });
  const run = (arch: number, nr: number, args: readonly bigint[] = []): number => {
    const endian = ENDIAN_OF_ARCH.get(arch >>> 0) ?? "little";
    return evaluateStack(programs, { nr: nr | 0, arch: arch >>> 0, instructionPointer: 0n, args }, endian).ret >>> 0;
  };
  const badArchRet = run(BOGUS_ARCH, 0);
  // Coverage, cheaply: an ABI is a candidate when some number of its table, arguments zero, gets another value.
  // The walk below then decides exactly; a candidate whose every call gets the bad-arch value is dropped.
  const candidates = ABI_NAMES.filter((abi) => {
    const arch = getAbi(abi).auditArch;
    return syscallTable(abi).some((e) => run(arch, e.nr) !== badArchRet);
  });
  const box0 = partitionBox(programs, candidates, {}, () => undefined);
  const archOf = new Map(candidates.map((a) => [getAbi(a).auditArch, a]));
  type Acc = { rets: number[]; words: Set<number>; paths: { box: readonly (readonly number[])[]; ret: number }[] };
  const acc = new Map<AbiName, Map<string, Acc>>();
  const unknown = new Map<AbiName, number[]>();
  const seenRet = (list: number[], r: number): void => {
    if (!list.includes(r)) list.push(r);
  };
  symbolicWalk(
    programs,
    box0,
    (box, rets) => {
      const ret = stackValue(rets).ret >>> 0;
      const tested: number[] = [];
      for (let w = 4; w < SECCOMP_WORDS.count; w++) if (box[w]!.length < box0[w]!.length) tested.push(w);
      for (const arch of box[SECCOMP_WORDS.arch]!) {
        if (!archOf.has(arch >>> 0)) continue;
        for (const nr of box[SECCOMP_WORDS.nr]!) {
          const abi = abiForCall({ abis: candidates }, arch, nr | 0);
          if (abi === undefined) continue;
          const name = syscallName(abi, nr >>> 0);
          if (name === undefined) {
            const list = unknown.get(abi) ?? [];
            seenRet(list, ret);
            unknown.set(abi, list);
            continue;
          }
          let byName = acc.get(abi);
          if (byName === undefined) acc.set(abi, (byName = new Map()));
          let a = byName.get(name);
          if (a === undefined) byName.set(name, (a = { rets: [], words: new Set(), paths: [] }));
          seenRet(a.rets, ret);
          for (const w of tested) a.words.add(w);
          a.paths.push({ box, ret });
        }
      }
    },
    (_box, why) => {
      throw new SyscageError("AUDIT_UNSUPPORTED", `audit: the program computes on seccomp_data (${why}); audit reads programs that only compare words with constants, as every known seccomp compiler emits`);
    },
  );
  const covered = candidates
    .filter((abi) => {
      const m = acc.get(abi);
      if (m === undefined || ![...m.values()].some((o) => o.rets.some((r) => r !== badArchRet))) return false;
      // x32 shares x86_64's arch value: a program that never tests bit 30 gives every x32 number the one value
      // its x86_64 compare chain falls through to. That is x32 numbers reaching the x86_64 rules, not coverage.
      if (abi === "x32") {
        const one = uniformRet(m);
        const native = acc.get("x86_64");
        if (one !== undefined && native !== undefined && uniformRet(native) === undefined) return false;
      }
      return true;
    })
    .sort((a, b) => nativeRank(a) - nativeRank(b) || ABI_NAMES.indexOf(a) - ABI_NAMES.indexOf(b));
  const outcomes = new Map<AbiName, Map<string, SyscallOutcome>>();
  for (const abi of covered) {
    const m = new Map<string, SyscallOutcome>();
    for (const e of syscallTable(abi)) {
      const a = acc.get(abi)?.get(e.name);
      if (a === undefined) continue;
      m.set(e.name, { abi, name: e.name, nr: e.nr, rets: a.rets, words: a.rets.length > 1 ? a.words : new Set(), paths: a.paths });
    }
    outcomes.set(abi, m);
  }
  return {
    abis: covered,
    badArchRet,
    outcomes,
    unknownRets: new Map(covered.map((a) => [a, unknown.get(a) ?? []])),
    wordValues: box0,
    at: (abi, nr, args = []) => run(typeof abi === "number" ? abi : getAbi(abi).auditArch, nr, args),
  };
}

/** The one value every syscall of `m` gets whatever its arguments, or undefined when they differ. */
function uniformRet(m: ReadonlyMap<string, { readonly rets: readonly number[] }>): number | undefined {
  let one: number | undefined;
  for (const o of m.values()) {
    for (const r of o.rets) {
      if (one === undefined) one = r;
      else if (r !== one) return undefined;
    }
  }
  return one;
}

/** 0 for an ABI that is a host's native one with compat ABIs (x86_64, aarch64, …), 1 for the others: natives are listed first. */
function nativeRank(abi: AbiName): number {
  const local = LOCAL_ABIS[abi];
  return local[0] === abi && local.length > 1 && abi !== "x32" ? 0 : 1;
}

/** Is `nr` an x32 number (bit 30 set, not -1)? */
export function isX32Number(nr: number): boolean {
  const u = nr >>> 0;
  return u >= X32_SYSCALL_BIT && u !== 0xffffffff;
}
