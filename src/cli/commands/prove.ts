/**
 * `syscage prove PROGRAM.bpf [policy options] [--stack MORE.bpf …] [--json]`:
 * check that a raw program (or a stack of programs, as the kernel runs
 * stacked filters) implements the policy, exhaustively over every region
 * that the program's and the policy's constants delimit
 * (src/analyze/prove.ts). Prints `equivalent` (exit 0) or the first
 * counterexample as a concrete `seccomp_data` with both decisions (exit 1).
 *
 * Stack order: PROGRAM.bpf is the oldest filter; each `--stack` file was
 * installed after the previous one (the order `seccomp(2)` calls were made,
 * as the dump of a running process lists them).
 *
 * Any program may be `pid:N`: the filter stack of the running process N
 * (read once, src/cli/pid-source.ts), its filters in their places.
 */
import { trouble, usageIsTrouble } from "../sources.js";
import type { Command } from "commander";
import { getAbi } from "../../abi/arch.js";
import { prove, type Counterexample, type ProveResult } from "../../analyze/prove.js";
import { formatAction } from "../../bpf/actions.js";
import { hostEndian, readProgramFileAnyOrder } from "../../bpf/codec.js";
import type { Insn } from "../../bpf/insn.js";
import { formatPolicyAction } from "../../policy/model.js";
import { SyscageError } from "../../errors.js";
import { printJson } from "../output.js";
import { isPidSource, loadPidStack } from "../pid-source.js";
import { addPolicyOptions, loadPolicy, type PolicyOptionValues } from "../policy-options.js";

interface ProveOpts extends PolicyOptionValues {
  stack?: string[];
  json?: boolean;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

const hex = (v: number | bigint): string => `0x${(typeof v === "bigint" ? v : v >>> 0).toString(16)}`;

/** The counterexample as lines of text. */
export function formatCounterexample(c: Counterexample, files: readonly string[]): string[] {
  const d = c.data;
  const nrName = c.syscall !== undefined ? `, ${c.syscall} on ${c.abi}` : c.abi !== undefined ? `, no ${c.abi} syscall` : "";
  const by =
    files.length === 1 ? files[0]! : c.program.decidedBy < 0 ? "every filter of the stack (all allow)" : `filter ${c.program.decidedBy + 1} of ${files.length}, ${files[c.program.decidedBy]}`;
  const why = c.policy.rule !== undefined ? `rule #${c.policy.rule + 1}, ${c.policy.origin}` : `${c.policy.reason}: ${c.policy.origin}`;
  return [
    "counterexample: the program and the policy differ on",
    `  seccomp_data.arch  ${c.archName} (${hex(d.arch)})`,
    `  seccomp_data.nr    ${d.nr} (${hex(d.nr)}${nrName})`,
    `  seccomp_data.args  [${d.args.map((a) => hex(a)).join(", ")}]`,
    `  instruction_pointer ${hex(d.instructionPointer)}`,
    `  program: ${formatAction(c.program.ret)} (${hex(c.program.ret)}) from ${by}`,
    `  policy:  ${formatPolicyAction(c.policy.action)} (${hex(c.policy.ret)}) — ${why}`,
  ];
}

function summary(r: ProveResult): string {
  const s = r.stats;
  return `${r.method}: ${s.paths} paths through ${s.programs} program(s) (${s.instructions} instructions), ${s.decisions} decisions compared over ${s.nrValues} syscall numbers × ${s.archValues} arch values${s.sampled > 0 ? `, ${s.sampled} sampled points` : ""}; ${s.ms.toFixed(0)} ms`;
}

/** Register `prove`. */
export function register(program: Command): void {
  const cmd = program
    .command("prove")
    .description("check that a raw BPF program (or a stack of them) implements a policy, exhaustively; prints \"equivalent\" (exit 0) or a counterexample (exit 1); trouble exits 2")
    .argument("<program.bpf>", "raw struct sock_filter array (the byte order compile writes for the ABIs, or the other if only that one is valid), the oldest filter of the stack; or pid:N, the filter stack of running process N")
    .option("--stack <file.bpf>", "a further filter installed after the previous ones (repeatable, oldest first; pid:N adds a process's stack)", collect)
    .option("--json", "print the result as JSON");
  addPolicyOptions(cmd);
  cmd.addHelpText(
    "after",
    `
pid:N reads the filter stack of the running process N (as syscage dump does;
needs CAP_SYS_ADMIN and an unfiltered syscage): what it really enforces.

Exit status: 0 equivalent, 1 a counterexample, 2 trouble (an unreadable or
invalid program, a bad policy option), as diff and check.

Examples:
  syscage prove filter.bpf --policy policy.json
  syscage prove pid:4242 --profile docker-default.json --arch x86_64`,
  );
  cmd.action((file: string, opts: ProveOpts) => {
    try {
      proveAction(file, opts);
    } catch (err) {
      trouble(err, "syscage.proveTrouble");
    }
  });
  // Usage errors are trouble too (exit 2), as in diff and check.
  usageIsTrouble(cmd);
}

function proveAction(file: string, opts: ProveOpts): void {
  {
    const loaded = loadPolicy(opts);
    const sources = [file, ...(opts.stack ?? [])];
    const endian = loaded.policy.abis.length > 0 ? getAbi(loaded.policy.abis[0]!).endian : hostEndian();
    const files: string[] = [];
    const programs: (readonly Insn[])[] = [];
    for (const f of sources) {
      if (isPidSource(f)) {
        // A live stack is in this machine's byte order, as the kernel holds it.
        const s = loadPidStack(f);
        files.push(...s.filterLabels);
        programs.push(...s.programs);
      } else {
        files.push(f);
        programs.push(readProgramFileAnyOrder(f, endian));
      }
    }
    if (programs.length === 0) throw new SyscageError("BAD_USAGE", "prove: no filter to prove (the stack is empty)");
    for (const w of loaded.warnings) process.stderr.write(`syscage: warning: ${w}\n`);
    const r = prove(programs, loaded.policy);
    if (opts.json === true) {
      printJson({
        equivalent: r.equivalent,
        method: r.method,
        notes: r.notes,
        policy: loaded.source,
        programs: files,
        sources,
        stats: r.stats,
        ...(r.counterexample !== undefined
          ? {
              counterexample: {
                ...r.counterexample,
                programAction: formatAction(r.counterexample.program.ret),
                policyAction: formatPolicyAction(r.counterexample.policy.action),
              },
            }
          : {}),
      });
    } else {
      const out: string[] = [];
      if (r.equivalent) out.push(`equivalent: ${files.join(" + ")} implements ${loaded.source}`);
      else out.push(...formatCounterexample(r.counterexample!, files));
      out.push(`  ${summary(r)}`);
      for (const n of r.notes) out.push(`  note: ${n}`);
      process.stdout.write(out.join("\n") + "\n");
    }
    if (!r.equivalent) process.exitCode = 1;
  }
}
