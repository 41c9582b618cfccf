/**
 * Policy → per-ABI decision table → search tree → classic-BPF Program.
 *
 * The program checks `arch` first; each AUDIT_ARCH value the policy covers
 * gets a balanced binary search over ranges of `nr` that share a decision
 * (x86_64 and x32 share one, split at bit 30); any other arch gets the
 * bad-arch action. Argument words are loaded only inside the decisions that
 * test them, so every unconditionally allowed syscall stays cacheable by the
 * kernel (Linux ≥ 5.11).
 */
import { argType, type ArgWidth } from "../abi/argtypes.js";
import { getAbi, type AbiName } from "../abi/arch.js";
import { syscallNumber } from "../abi/tables.js";
import { BPF_MAXINSNS, type Insn } from "../bpf/insn.js";
import { assertValid } from "../bpf/verify.js";
import { SyscageError } from "../errors.js";
import { actionRet, conditionWidth } from "../policy/evaluate.js";
import { formatPolicyAction, type FilterFlag, type Policy } from "../policy/model.js";
import { Dag, type Node } from "./dag.js";
import { ARCH_OFFSET, dispatchNode, layout } from "./emit.js";
import { buildSections, type ArchSection } from "./table.js";
import { withRoutes } from "../policy/routes.js";

export type { ArchSection, Segment, SyscallDecision } from "./table.js";

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
  /** The decision table the program was built from, one section per AUDIT_ARCH value. */
  readonly sections: readonly ArchSection[];
}

/** 2^w: the u64 constants below it are w-bit values zero-extended. */
const ZERO_EXTENDED: Readonly<Record<Exclude<ArgWidth, 64>, bigint>> = { 8: 1n << 8n, 16: 1n << 16n, 32: 1n << 32n };
/** 2^64 - 2^w: the u64 constants from it on are w-bit values sign-extended. */
const SIGN_EXTENDED: Readonly<Record<Exclude<ArgWidth, 64>, bigint>> = { 8: (1n << 64n) - (1n << 8n), 16: (1n << 64n) - (1n << 16n), 32: (1n << 64n) - (1n << 32n) };

function hasSyscall(abi: AbiName, name: string): boolean {
  return syscallNumber(abi, name) !== undefined;
}

/** Things in a policy that are legal but probably not what its author meant. */
function policyWarnings(policy: Policy, abis: readonly AbiName[]): string[] {
  const out: string[] = [];
  policy.rules.forEach((r) => {
    const on = r.abis === undefined ? abis : abis.filter((a) => r.abis!.includes(a));
    if (r.abis !== undefined && on.length === 0) {
      out.push(`${r.origin}: the rule is limited to ${r.abis.join(", ")}, none of which the program covers (${abis.join(", ")}); the rule has no effect`);
    } else if (!on.some((a) => hasSyscall(a, r.syscall))) {
      out.push(`${r.origin}: syscall "${r.syscall}" does not exist on ${on.join(", ")}; the rule has no effect`);
    }
    for (const c of r.conditions) {
      if (c.op === "MASKED_EQ" && (c.value & ~(c.mask ?? 0n)) !== 0n) {
        out.push(`${r.origin}: MASKED_EQ value 0x${c.value.toString(16)} has bits outside mask 0x${(c.mask ?? 0n).toString(16)}; the condition never holds`);
      }
      // A constant the compared width cannot hold (neither zero- nor sign-extended) is truncated.
      let byWidth: Map<number, string[]> | undefined;
      for (const a of on) {
        if (!hasSyscall(a, r.syscall)) continue;
        const w = conditionWidth(policy, a, r.syscall, c.arg);
        if (w === 64 || c.value < ZERO_EXTENDED[w] || c.value >= SIGN_EXTENDED[w]) continue;
        const t = policy.argumentWidth === "u64" ? undefined : argType(a, r.syscall, c.arg);
        const label = t === undefined ? a : `${a} (${t.name} is ${t.type})`;
        byWidth ??= new Map();
        byWidth.set(w, [...(byWidth.get(w) ?? []), label]);
      }
      for (const [w, where] of byWidth ?? []) {
        out.push(`${r.origin}: arg${c.arg} constant 0x${c.value.toString(16)} does not fit in ${w} bits; on ${where.join(", ")} only its low ${w} bits are compared`);
      }
    }
  });
  return out;
}

/**
 * Compile a policy into one program covering all its ABIs. The result always
 * passes the kernel's checks; a program over 4096 instructions is an error.
 */
export function compile(given: Policy, opts: CompileOptions = {}): CompiledProgram {
  const policy = withRoutes(given);
  const abis = [...new Set(opts.abis ?? policy.abis)];
  if (abis.length === 0) throw new SyscageError("NO_ABIS", "no ABI to compile for; name at least one with --arch");
  const dag = new Dag();
  const badArch = dag.ret(actionRet(policy.badArch.action, abis[0]!), { note: `${formatPolicyAction(policy.badArch.action)}: ${policy.badArch.origin}`, rules: [] });
  const sections = buildSections(dag, policy, abis, badArch);
  let root: Node = badArch;
  for (let i = sections.length - 1; i >= 0; i--) {
    const s = sections[i]!;
    const names = s.abis.join("+");
    const dispatch = dispatchNode(dag, s.segments, { note: `dispatch ${names}: syscall number`, rules: [] });
    root = dag.test(ARCH_OFFSET, null, "jeq", s.auditArch, dispatch, root, { note: `arch gate: ${names} (${getAbi(s.abis[0]!).auditArchName})`, rules: [] });
  }
  const { insns, origins } = layout(root, dag.size);
  if (insns.length > BPF_MAXINSNS) {
    throw new SyscageError(
      "PROGRAM_TOO_LARGE",
      `the compiled program has ${insns.length} instructions; the kernel accepts at most ${BPF_MAXINSNS}. Cover fewer ABIs (--arch), or merge argument rules`,
    );
  }
  assertValid(insns, "compiled program");
  return {
    insns,
    abis,
    flags: policy.flags,
    sourceMap: origins.map((o, index) => ({ index, note: o.note, rules: o.rules })),
    warnings: policyWarnings(policy, abis),
    sections,
  };
}

/** The flags word for seccomp(SECCOMP_SET_MODE_FILTER, flags, …). */
export { FILTER_FLAGS } from "../policy/model.js";
