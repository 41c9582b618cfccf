/**
 * Policy → per-ABI decision table → search tree → classic-BPF Program.
 * (Being written; the API below is fixed.)
 */
import type { AbiName } from "../abi/arch.js";
import type { Insn } from "../bpf/insn.js";
import { SyscageError } from "../errors.js";
import type { FilterFlag, Policy } from "../policy/model.js";

export interface CompileOptions {
  /** Override the policy's ABIs. */
  readonly abis?: readonly AbiName[];
}

/** Why an instruction is there: a note and the policy rules (indexes) it serves. */
export interface SourceEntry {
  readonly index: number;
  readonly note: string;
  readonly rules: readonly number[];
}

export interface CompiledProgram {
  readonly insns: readonly Insn[];
  readonly abis: readonly AbiName[];
  readonly flags: readonly FilterFlag[];
  /** One entry per instruction. */
  readonly sourceMap: readonly SourceEntry[];
  readonly warnings: readonly string[];
}

export function compile(_policy: Policy, _opts?: CompileOptions): CompiledProgram {
  throw new SyscageError("NOT_IMPLEMENTED", "compiler not written yet");
}
