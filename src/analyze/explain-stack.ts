/**
 * Explain what a filter stack (raw programs, oldest first: a `.bpf` file, or
 * the stack of a running process) decides for one syscall, per ABI: each
 * filter's own answer and how many instructions it ran, and which filter's
 * answer the kernel keeps (`seccomp_run_filters`: the most restrictive action,
 * the newest filter's on a tie; `evaluateStack`).
 *
 * Library code: never prints.
 */
import { getAbi, type AbiName } from "../abi/arch.js";
import { syscallName, syscallNumber } from "../abi/tables.js";
import { formatArg } from "./explain.js";
import type { Insn } from "../bpf/insn.js";
import { evaluateStack, interpret } from "../bpf/interpret.js";
import { retText } from "./diff.js";

/** One filter's answer. */
export interface FilterAnswer {
  /** The filter's label (file name, "pid:42 filter 1 of 2"). */
  readonly filter: string;
  readonly ret: number;
  /** "ALLOW", "ERRNO(EPERM)", … (errno named on the ABI). */
  readonly action: string;
  /** Instructions executed. */
  readonly steps: number;
  /** This answer is the one the kernel keeps. */
  readonly decides: boolean;
}

/** The stack's decision on one ABI. */
export interface StackAbiExplanation {
  readonly abi: AbiName;
  /** The syscall's name on this ABI, when the tables have one. */
  readonly syscall?: string;
  /** seccomp_data.nr tried; undefined when the name does not exist on the ABI. */
  readonly nr?: number;
  readonly exists: boolean;
  readonly ret?: number;
  readonly action?: string;
  /** Index (oldest first) of the deciding filter, -1 when every filter allows. */
  readonly decidedBy?: number;
  readonly filters: readonly FilterAnswer[];
  /** One line: "openat → ERRNO(EPERM): filter 2 of 2 decides (…)". */
  readonly summary: string;
}

/** The result of {@link explainStack}. */
export interface StackExplanation {
  /** The syscall as asked (a name, or a number). */
  readonly call: string | number;
  readonly args: readonly bigint[];
  readonly abis: readonly StackAbiExplanation[];
}

/**
 * What the stack `programs` (labelled `labels`, oldest first) decides for
 * `call` (a name, resolved per ABI, or a number used as is) with `args`
 * (missing ones are 0), on each of `abis`.
 */
export function explainStack(
  programs: readonly (readonly Insn[])[],
  labels: readonly string[],
  abis: readonly AbiName[],
  call: string | number,
  args: readonly bigint[] = [],
): StackExplanation {
  const full = [...args];
  while (full.length < 6) full.push(0n);
  const shownArgs = args.length > 0 ? `(${args.map(formatArg).join(", ")})` : "";
  const out = abis.map((abi): StackAbiExplanation => {
    const info = getAbi(abi);
    const nr = typeof call === "number" ? call : syscallNumber(abi, call);
    const name = typeof call === "number" ? syscallName(abi, call >>> 0) : call;
    if (nr === undefined) {
      return { abi, syscall: name, exists: false, filters: [], summary: `${call}: no such syscall on ${abi}` };
    }
    const data = { nr, arch: info.auditArch, instructionPointer: 0n, args: full };
    const r = evaluateStack(programs, data, info.endian);
    const filters = programs.map((p, i): FilterAnswer => {
      const one = interpret(p, data, info.endian);
      return { filter: labels[i] ?? `filter ${i + 1}`, ret: one.ret >>> 0, action: retText(one.ret, abi), steps: one.steps, decides: i === r.decidedBy };
    });
    const what = `${name ?? `syscall ${nr}`}${shownArgs}`;
    const by = r.decidedBy < 0 ? (programs.length === 1 ? "the filter allows it" : "every filter allows it") : programs.length === 1 ? "the filter's answer" : `${filters[r.decidedBy]!.filter} decides (the most restrictive answer; the newest on a tie)`;
    const e: StackAbiExplanation = {
      abi,
      nr,
      exists: true,
      ret: r.ret >>> 0,
      action: retText(r.ret, abi),
      decidedBy: r.decidedBy,
      filters,
      summary: `${what} → ${retText(r.ret, abi)}: ${by}`,
      ...(name !== undefined ? { syscall: name } : {}),
    };
    return e;
  });
  return { call, args, abis: out };
}
