/**
 * The HTML report: one self-contained file (inline CSS and JS, no external
 * requests) with a matrix of syscalls × ABIs coloured by outcome, systemd's
 * groups as filters, a search box, an explanation for every cell, and — with
 * a second policy — a diff view.
 *
 * The data is computed here from `decide()` (the reference semantics) and
 * embedded as JSON in a `<script type="application/json">`; a small vanilla
 * script renders it with DOM APIs only (`textContent`, never `innerHTML`), so
 * syscall names and rule origins are data and cannot inject markup. The JSON
 * is escaped so that no `<`, `>` or `&` appears in it literally.
 *
 * Library code: it builds strings and never prints or writes files.
 */
import { getAbi, type AbiName } from "../abi/arch.js";
import { errnoName, errnoNumber } from "../abi/errno.js";
import { TABLES_KERNEL_VERSION, syscallNumber, syscallTable } from "../abi/tables.js";
import { ACTION_RANK, formatPolicyAction, type Action, type Condition, type Policy } from "../policy/model.js";
import { actionRet, decide, rulesFor, type Decision } from "../policy/evaluate.js";
import { SYSTEMD_DATA_VERSION, expandItem, syscallGroups } from "../policy/groups.js";
import { UNKNOWN_NUMBERS, diffPolicies, type SyscallDifference } from "./diff.js";
import { argumentSamples, explain, formatArg, type AbiExplanation, type ExplainContext, type WinReason } from "./explain.js";
import { withRoutes } from "../policy/routes.js";
import type { AuditResult } from "./audit.js";
import { decodeAction } from "../bpf/actions.js";
import { BPF_ABS, BPF_LD, BPF_W, type Insn } from "../bpf/insn.js";
import { interpret, type SeccompData } from "../bpf/interpret.js";
import { explainStack } from "./explain-stack.js";
import { retText, type DiffSide } from "./diff.js";

/** One policy of a report, with a label for the page ("nspawn default (x86_64, x86, x32)"). */
export interface PolicyReportSide {
  readonly policy: Policy;
  /** Where the policy came from, shown in the header and the explanations. */
  readonly source: string;
  /** What {@link explain} needs to tell the policy's history (nspawn options, a profile's entries). */
  readonly context?: ExplainContext;
}

/**
 * A filter stack instead of a policy (a raw program, or the stack of a
 * running process, `pid:N`): the decisions are the filters' own, run as the
 * kernel runs them; there are no rules, so no rule origins.
 */
export interface StackReportSide {
  /** The programs, oldest first, and a label for each ("pid:42 filter 1 of 2 (oldest)"). */
  readonly stack: { readonly programs: readonly (readonly Insn[])[]; readonly labels: readonly string[] };
  /** The ABIs to show the stack on. */
  readonly abis: readonly AbiName[];
  /** The stack's label ("pid:42 (sleep, 2 filters)"), shown in the header. */
  readonly source: string;
  /** The source as the command line gives it ("pid:42", "filter.bpf"), for the hints in the explanations. */
  readonly ref?: string;
}

/** One side of a report: a policy or a filter stack. */
export type ReportSide = PolicyReportSide | StackReportSide;

function isStackSide(s: ReportSide): s is StackReportSide {
  return "stack" in s;
}

function sideAbis(s: ReportSide): readonly AbiName[] {
  return isStackSide(s) ? s.abis : s.policy.abis;
}

function diffSide(s: ReportSide): DiffSide {
  return isStackSide(s) ? { kind: "stack", programs: s.stack.programs, abis: s.abis, label: s.source } : { kind: "policy", policy: s.policy, label: s.source };
}

/** What the page says under a stack side's name. */
export const STACK_NOTE =
  "A filter stack, not a policy: each cell is what the filters return, run as the kernel runs them (the most restrictive answer wins; the newest on a tie). There are no rules here, so no rule origins or group history; for those, report the policy the filters were made from.";

/** What {@link reportData} needs. */
export interface ReportInput {
  /** The policy the matrix shows. */
  readonly policy: ReportSide;
  /** A second policy: the report then has a diff view (A = `policy`, B = `against`). */
  readonly against?: ReportSide;
  /** The page title (default: "syscage report: SOURCE"). */
  readonly title?: string;
  /** The ABIs of the matrix (default: the policy's ABIs, then those only `against` covers). */
  readonly abis?: readonly AbiName[];
  /** The audit of `policy` (src/analyze/audit.ts): the page gets an Audit section; a string says why there is none. */
  readonly audit?: AuditResult | string;
}

/**
 * How a cell is coloured. `enosys` covers ERRNO(ENOSYS) and numbers unknown
 * to the tables; `special` is TRAP, TRACE, LOG and NOTIFY; `args` means the
 * outcome depends on the arguments.
 */
export type OutcomeClass = "allow" | "eperm" | "enosys" | "errno" | "kill" | "special" | "args";

/** Every outcome class, in legend order. */
export const OUTCOME_CLASSES: readonly OutcomeClass[] = ["allow", "eperm", "enosys", "errno", "kill", "special", "args"];

/** The kind of one line of an explanation (how the page styles it). */
export type ExplanationKind =
  /** The decision itself. */
  | "decision"
  /** The rule (or default) that decided. */
  | "decides"
  /** A rule whose conditions hold but that a more restrictive (or earlier) rule outranks. */
  | "outranked"
  /** A rule whose conditions do not hold for the shown call (all-zero arguments). */
  | "inactive"
  /** One outcome of an argument-dependent syscall, with an example. */
  | "outcome"
  /** Anything else worth saying. */
  | "note";

/** One line of an explanation. */
export interface ExplanationLine {
  readonly kind: ExplanationKind;
  readonly text: string;
}

/** One (syscall, ABI) cell for one policy. */
export interface ReportCell {
  readonly cls: OutcomeClass;
  /** The letter(s) printed in the cell (A, P, N, E, K, T, R, L, U; "A/E" for argument-dependent). */
  readonly label: string;
  /** The decision for all-zero arguments ("ERRNO(EPERM)"); for argument-dependent cells, every outcome joined by " / ". */
  readonly action: string;
  /** Comparable signature: the filter return values (sorted) the cell can produce. */
  readonly key: string;
  readonly explanation: readonly ExplanationLine[];
}

/** One row of the matrix: a syscall, or the row for numbers unknown to the tables. */
export interface ReportRow {
  readonly name: string;
  /** True for the "(unknown numbers)" row. */
  readonly unknownRow: boolean;
  /** seccomp_data.nr per ABI of the matrix, null where the ABI lacks the syscall. */
  readonly nrs: readonly (number | null)[];
  /** Per side (A, then B), per ABI: the cell, null where the ABI lacks the syscall. */
  readonly cells: readonly (readonly (ReportCell | null)[])[];
  /** With two policies, per ABI: how the sides differ (as `syscage diff` reports it), null where they agree. */
  readonly differences?: readonly (string | null)[];
}

/** A systemd group as a filter of the matrix. */
export interface ReportGroup {
  readonly name: string;
  readonly help: string;
  /** Names of the rows in the group. */
  readonly syscalls: readonly string[];
}

/** Everything the page shows, before it is made compact for embedding. */
export interface ReportData {
  readonly title: string;
  readonly sources: readonly string[];
  /** Per source, notes the page shows under it (a filter stack's: {@link STACK_NOTE}). */
  readonly notes: readonly (readonly string[])[];
  readonly abis: readonly AbiName[];
  readonly rows: readonly ReportRow[];
  readonly groups: readonly ReportGroup[];
  readonly tables: string;
  readonly systemd: string;
  /** See {@link ReportInput.audit}. */
  readonly audit?: AuditResult | string;
}


// ---- outcome classes ---------------------------------------------------------

function errnoOf(ret: number): number {
  return ret & 0xffff;
}

/** The colour class and letter of a single (argument-independent) action on an ABI. */
export function classifyAction(action: Action, abi: AbiName): { cls: OutcomeClass; label: string } {
  switch (action.kind) {
    case "ALLOW":
      return { cls: "allow", label: "A" };
    case "KILL_PROCESS":
    case "KILL_THREAD":
      return { cls: "kill", label: "K" };
    case "TRAP":
      return { cls: "special", label: "T" };
    case "TRACE":
      return { cls: "special", label: "R" };
    case "LOG":
      return { cls: "special", label: "L" };
    case "NOTIFY":
      return { cls: "special", label: "U" };
    case "ERRNO": {
      const n = errnoOf(actionRet(action, abi));
      if (n === errnoNumber(abi, "EPERM")) return { cls: "eperm", label: "P" };
      if (n === errnoNumber(abi, "ENOSYS")) return { cls: "enosys", label: "N" };
      return { cls: "errno", label: "E" };
    }
  }
}

/** "ERRNO(EAFNOSUPPORT)" with the number on the ABI: "ERRNO(EAFNOSUPPORT = 97)". */
function describeAction(action: Action, abi: AbiName): string {
  if (action.kind !== "ERRNO") return formatPolicyAction(action);
  const n = errnoOf(actionRet(action, abi));
  const name = typeof action.errno === "string" ? action.errno : errnoName(abi, n);
  return name === undefined ? `ERRNO(${n})` : `ERRNO(${name})`;
}

function hex(ret: number): string {
  return `0x${(ret >>> 0).toString(16).padStart(8, "0")}`;
}

// ---- conditions ----------------------------------------------------------------

function num(v: bigint): string {
  return v < 10n ? v.toString() : `0x${v.toString(16)}`;
}

const OP_TEXT: Readonly<Record<Exclude<Condition["op"], "MASKED_EQ">, string>> = {
  EQ: "==",
  NE: "!=",
  LT: "<",
  LE: "<=",
  GT: ">",
  GE: ">=",
};

/** "arg0 == 16", "arg2 & 0xffffffff == 9" (unsigned comparisons). */
export function formatCondition(c: Condition): string {
  if (c.op === "MASKED_EQ") return `arg${c.arg} & ${num(c.mask ?? 0n)} == ${num(c.value)}`;
  return `arg${c.arg} ${OP_TEXT[c.op]} ${num(c.value)}`;
}

function formatConditions(cs: readonly Condition[]): string {
  return cs.map(formatCondition).join(" and ");
}


// ---- cells ----------------------------------------------------------------------

const PRECEDENCE = "KILL_PROCESS > KILL_THREAD > TRAP > ERRNO > NOTIFY > TRACE > LOG > ALLOW";

function call(abi: AbiName, nr: number, args: readonly bigint[]): { arch: number; nr: number; args: readonly bigint[] } {
  return { arch: getAbi(abi).auditArch, nr, args };
}

/** Why a decision was taken, as one line. */
function decidedBy(d: Decision, policy: Policy): string {
  switch (d.reason) {
    case "rule": {
      const r = policy.rules[d.rule!]!;
      const when = r.conditions.length === 0 ? "" : ` [when ${formatConditions(r.conditions)}]`;
      return `${describeAction(r.action, d.abi!)}${when} — ${r.origin}`;
    }
    case "default":
      return `no rule matches: the default action — ${d.origin}`;
    case "unknown":
      return `number unknown to the tables: the unknown action — ${d.origin}`;
    case "badArch":
      return `architecture not covered: the bad-arch action — ${d.origin}`;
  }
}

/**
 * The cell of `name` on `abi` under `policy`, with its explanation from
 * {@link explain} (the decision, the chain of rules in policy order with
 * their origins, and the story of nspawn and profile policies given in
 * `context`). For argument-dependent syscalls, every outcome found at the
 * partition points of the conditions' constants, each with an example
 * argument vector and its own explanation. `name` is {@link UNKNOWN_ROW}
 * for a number the tables do not name.
 */
export function reportCell(given: Policy, abi: AbiName, name: string, nr: number, context: ExplainContext = {}): ReportCell {
  const policy = withRoutes(given);
  const lines: ExplanationLine[] = [];
  const zeroArgs = [0n, 0n, 0n, 0n, 0n, 0n];
  const zero = decide(policy, call(abi, nr, zeroArgs));

  if (zero.reason === "badArch") {
    const c = classifyAction(zero.action, abi);
    lines.push({ kind: "decision", text: `${describeAction(zero.action, abi)} — filter returns ${hex(zero.ret)}` });
    lines.push({ kind: "decides", text: decidedBy(zero, policy) });
    lines.push({ kind: "note", text: `The policy does not cover ${abi} (it covers ${policy.abis.join(", ")}): every call of this ABI gets the bad-arch action.` });
    return { ...c, action: describeAction(zero.action, abi), key: hex(zero.ret), explanation: lines };
  }

  // Every outcome over argument space (tried at the partition points of the constants).
  const rules = name === UNKNOWN_ROW ? [] : rulesFor(policy, abi, name).map((a) => a.rule);
  const conditional = rules.filter((r) => r.conditions.length > 0);
  const outcomes = new Map<number, { d: Decision; args: bigint[] }>();
  outcomes.set(zero.ret, { d: zero, args: zeroArgs });
  if (conditional.length > 0) {
    for (const args of argumentSamples(conditional)) {
      const d = decide(policy, call(abi, nr, args));
      if (!outcomes.has(d.ret)) outcomes.set(d.ret, { d, args });
    }
  }
  const argDependent = outcomes.size > 1;
  const ordered = [...outcomes.values()].sort((a, b) => ACTION_RANK[b.d.action.kind] - ACTION_RANK[a.d.action.kind] || a.d.ret - b.d.ret);
  const key = ordered.map((o) => hex(o.d.ret)).sort().join(",");
  const query = (args: readonly bigint[]): AbiExplanation =>
    explain(policy, { syscall: name === UNKNOWN_ROW ? nr : name, abi, args: trimArgs(args) }, context).abis[0]!;

  const ex = query(zeroArgs);
  if (argDependent) {
    lines.push({ kind: "decision", text: `${name} depends on its arguments: ${ordered.map((o) => describeAction(o.d.action, abi)).join(" or ")}` });
    for (const o of ordered) {
      const e = o.args === zeroArgs ? ex : query(o.args);
      lines.push({ kind: "outcome", text: `${e.summary} — returns ${hex(o.d.ret)}` });
    }
    const used = new Set<number>();
    for (const r of conditional) for (const c of r.conditions) used.add(c.arg);
    lines.push({ kind: "note", text: `Outcomes found by trying ${[...used].sort().map((i) => `arg${i}`).join(", ")} at the constants of the conditions and their neighbours. The rules below are checked with all-zero arguments.` });
  } else {
    lines.push({ kind: "decision", text: `${ex.summary} — filter returns ${hex(zero.ret)}` });
  }

  if (zero.reason === "unknown") {
    lines.push({ kind: "decides", text: `the unknown action — ${zero.origin}` });
  } else if (ex.chain.length === 0) {
    lines.push({ kind: "decides", text: `no rule names ${name}: the default action — ${zero.origin}` });
  } else {
    lines.push({ kind: "note", text: `Rules for ${name}, in policy order:` });
    for (const step of ex.chain) {
      const conds = step.conditions.length === 0 ? "" : ` [when ${step.conditions.map((c) => c.text.replace(/ \(arg\d = [^)]*\)$/, "")).join(" and ")}]`;
      const gates = step.gates !== undefined && step.gates.length > 0 ? ` (${step.gates.join(", ")})` : "";
      const text = `${step.action}${conds} — ${step.origin}${gates}`;
      if (step.won) lines.push({ kind: "decides", text: ex.won !== undefined && ex.won !== "only match" ? `${text}; ${WIN_TEXT[ex.won]}` : text });
      else if (step.matched) lines.push({ kind: "outranked", text });
      else lines.push({ kind: "inactive", text: `${text}; fails: ${step.failed ?? "a condition"}` });
    }
    if (zero.reason === "default") lines.push({ kind: "decides", text: `no rule matches: the default action — ${zero.origin}` });
    if (ex.chain.length > 1) {
      lines.push({ kind: "note", text: `When several rules match, the most restrictive wins (${PRECEDENCE}); between rules of the same kind, the first.` });
    }
  }
  for (const n of ex.notes) lines.push({ kind: "note", text: n });

  const label = argDependent ? ordered.map((o) => classifyAction(o.d.action, abi).label).join("/") : classifyAction(zero.action, abi).label;
  return {
    cls: argDependent ? "args" : classifyAction(zero.action, abi).cls,
    label,
    action: ordered.map((o) => describeAction(o.d.action, abi)).join(" / "),
    key,
    explanation: lines,
  };
}

/** The policy action a filter return value stands for (an unknown action is KILL_PROCESS, as the kernel takes it). */
function retAction(ret: number): Action {
  const d = decodeAction(ret);
  if (d.unknown === true) return { kind: "KILL_PROCESS" };
  switch (d.action) {
    case "ERRNO":
      return { kind: "ERRNO", errno: d.data };
    case "TRAP":
    case "TRACE":
      return { kind: d.action, data: d.data };
    case "USER_NOTIF":
      return { kind: "NOTIFY" };
    default:
      return { kind: d.action };
  }
}

const LD_ABS_W = BPF_LD | BPF_W | BPF_ABS;
const U64_MAX = (1n << 64n) - 1n;
/** At most this many argument vectors are tried per cell of a stack that reads arguments. */
const MAX_STACK_VECTORS = 512;

/**
 * The argument values worth trying, per argument index, from the path the
 * programs take for one call: every constant a jump compares with while A
 * holds (something computed from) an argument word — as that word (low or
 * high half, by the ABI's byte order) and its neighbours.
 */
function argCandidatesOnPath(programs: readonly (readonly Insn[])[], data: SeccompData, endian: "little" | "big"): Map<number, Set<bigint>> {
  const out = new Map<number, Set<bigint>>();
  for (const p of programs) {
    let word: { arg: number; high: boolean } | undefined;
    for (const step of interpret(p, data, endian, { trace: true }).trace ?? []) {
      const { code, k } = step.insn;
      const cls = code & 0x07;
      if (code === LD_ABS_W && k >= 16 && k < 64) {
        const second = (k - 16) % 8 === 4; // the word at +4: the high half on little-endian ABIs
        word = { arg: (k - 16) >> 3, high: endian === "little" ? second : !second };
        const set = out.get(word.arg) ?? new Set<bigint>();
        out.set(word.arg, set);
      } else if (cls === 0x00 || code === 0x87) {
        word = undefined; // another load into A (ld, txa)
      } else if (cls === 0x05 && (code & 0x08) === 0 && (code & 0xf0) !== 0 && word !== undefined) {
        const set = out.get(word.arg)!;
        for (const w of [BigInt(k >>> 0), BigInt((k + 1) >>> 0), BigInt((k - 1) >>> 0)]) set.add(word.high ? w << 32n : w);
      }
    }
  }
  return out;
}
/**
 * The cell of `name` on `abi` under a filter stack: what the stack returns
 * for all-zero arguments, each filter's answer, and — when the filters read
 * arguments on that path — the other outcomes found by trying each argument
 * read at the constants the programs compare with (as the low word, the high
 * word, and their neighbours), with an example each.
 */
export function stackReportCell(programs: readonly (readonly Insn[])[], labels: readonly string[], abi: AbiName, name: string, nr: number, ref = "SOURCE"): ReportCell {
  const info = getAbi(abi);
  const zeroArgs = [0n, 0n, 0n, 0n, 0n, 0n];
  const query = (args: readonly bigint[]) => explainStack(programs, labels, [abi], nr, trimArgs(args)).abis[0]!;
  const zero = query(zeroArgs);
  const outcomes = new Map<number, bigint[]>([[zero.ret!, zeroArgs]]);
  const dataOf = (args: readonly bigint[]): SeccompData => ({ nr, arch: info.auditArch, instructionPointer: 0n, args });
  // Vary each argument the filters read at the constants they compare it with; a vector on which they read further (socket's domain, then its protocol) is varied again.
  const readAll = new Set<number>();
  const seen = new Set<string>();
  const bases: { args: bigint[]; cands: Map<number, Set<bigint>> }[] = [];
  const visit = (args: bigint[]): void => {
    const cands = argCandidatesOnPath(programs, dataOf(args), info.endian);
    const fresh = new Map<number, Set<bigint>>();
    for (const [i, vs] of cands) {
      readAll.add(i);
      for (const v of [...vs, U64_MAX]) {
        const key = `${i}:${v}`;
        if (v === args[i] || seen.has(key)) continue;
        seen.add(key);
        fresh.set(i, (fresh.get(i) ?? new Set<bigint>()).add(v));
      }
    }
    if (fresh.size > 0) bases.push({ args, cands: fresh });
  };
  visit(zeroArgs);
  let tried = 0;
  for (let b = 0; b < bases.length && tried < MAX_STACK_VECTORS; b++) {
    const base = bases[b]!;
    for (const [i, vs] of base.cands) {
      for (const v of vs) {
        if (++tried > MAX_STACK_VECTORS) break;
        const args = base.args.map((x, j) => (j === i ? v : x));
        const r = query(args);
        if (!outcomes.has(r.ret!)) outcomes.set(r.ret!, args);
        visit(args);
      }
    }
  }
  // As reportCell orders them: the least restrictive first.
  const ordered = [...outcomes].sort(([a], [b]) => ACTION_RANK[retAction(b).kind] - ACTION_RANK[retAction(a).kind] || a - b);
  const argDependent = ordered.length > 1;
  const lines: ExplanationLine[] = [];
  const shown = name === UNKNOWN_ROW ? `syscall ${nr}` : name;
  if (argDependent) {
    lines.push({ kind: "decision", text: `${shown} depends on its arguments: ${ordered.map(([ret]) => retText(ret, abi)).join(" or ")}` });
    for (const [ret, args] of ordered) lines.push({ kind: "outcome", text: `${(args === zeroArgs ? zero : query(args)).summary} — returns ${hex(ret)}` });
  } else {
    lines.push({ kind: "decision", text: `${zero.summary} — the stack returns ${hex(zero.ret!)}` });
  }
  if (programs.length > 1 || argDependent) {
    lines.push({ kind: "note", text: "Each filter's answer, with all-zero arguments:" });
    for (const f of zero.filters) lines.push({ kind: f.decides ? "decides" : "outranked", text: `${f.filter}: ${f.action} after ${f.steps} instruction${f.steps === 1 ? "" : "s"}${f.decides ? " — kept" : ""}` });
  }
  if (readAll.size > 0) {
    lines.push({
      kind: "note",
      text: `The filters read ${[...readAll].sort((a, b) => a - b).map((i) => `arg${i}`).join(", ")} for this call; other outcomes were looked for by trying ${readAll.size === 1 ? "it" : "each"} at the constants the filters compare with. syscage explain ${name === UNKNOWN_ROW ? nr : name} ${ref} --arch ${abi} --args … answers for given arguments.`,
    });
  }
  lines.push({ kind: "note", text: "A filter stack has no rules, so no rule origins: this is what the filters return." });
  const first = retAction(ordered[0]![0]);
  const key = ordered.map(([ret]) => hex(ret)).sort().join(",");
  return {
    cls: argDependent ? "args" : classifyAction(first, abi).cls,
    label: argDependent ? ordered.map(([ret]) => classifyAction(retAction(ret), abi).label).join("/") : classifyAction(first, abi).label,
    action: ordered.map(([ret]) => retText(ret, abi)).join(" / "),
    key,
    explanation: lines,
  };
}

const WIN_TEXT: Readonly<Record<Exclude<WinReason, "only match">, string>> = {
  "most restrictive": "wins as the most restrictive matching rule",
  "first of its kind": "wins as the first matching rule of the most restrictive kind",
};

/** Arguments without trailing zeros (so explanations read "socket(16, 0, 9)"). */
function trimArgs(args: readonly bigint[]): bigint[] {
  let n = args.length;
  while (n > 0 && args[n - 1] === 0n) n--;
  return args.slice(0, n);
}

/**
 * A number no table of `abi` names (for the "(unknown numbers)" row): one
 * past the highest number of the table.
 */
function unknownNumber(abi: AbiName): number {
  const t = syscallTable(abi);
  return (t.length === 0 ? getAbi(abi).nrOffset : t[t.length - 1]!.nr) + 1;
}

// ---- the whole report -------------------------------------------------------------

/** The name of the row for numbers the tables do not know (as `syscage diff` names it). */
export const UNKNOWN_ROW: string = UNKNOWN_NUMBERS;

/** How `syscage diff` reports one difference, as one line for the page. */
function differenceText(d: SyscallDifference): string {
  const args = d.args.some((v) => v !== 0n) ? ` with ${d.args.map((v, i) => (v === 0n ? "" : `arg${i} = ${formatArg(v)}`)).filter((x) => x !== "").join(", ")}` : "";
  const more = d.tried > 1 ? ` (${d.differing} of ${d.tried} argument vectors tried differ)` : "";
  return `differs${args}: A ${d.a.action} — ${d.a.origin}; B ${d.b.action} — ${d.b.origin}${more}`;
}

/** Compute everything the report shows. */
export function reportData(input: ReportInput): ReportData {
  const sides = input.against === undefined ? [input.policy] : [input.policy, input.against];
  const abis: AbiName[] = [...(input.abis ?? [...new Set(sides.flatMap((s) => sideAbis(s)))])];
  const names = new Set<string>();
  for (const abi of abis) for (const e of syscallTable(abi)) names.add(e.name);
  const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  sorted.push(UNKNOWN_ROW);
  const unknownNrs = abis.map(unknownNumber);

  // The diff view marks exactly what `syscage diff` reports.
  const differences = new Map<string, string>();
  if (input.against !== undefined) {
    const diff = diffPolicies(diffSide(input.policy), diffSide(input.against));
    for (const ad of diff.abis) for (const d of ad.differences) differences.set(`${ad.abi} ${d.name}`, differenceText(d));
  }

  const rows: ReportRow[] = sorted.map((name) => {
    const unknownRow = name === UNKNOWN_ROW;
    const nrs = abis.map((abi, j) => (unknownRow ? unknownNrs[j]! : (syscallNumber(abi, name) ?? null)));
    const cells = sides.map((s) =>
      abis.map((abi, j) => {
        const nr = nrs[j];
        if (nr === null || nr === undefined) return null;
        const c = isStackSide(s) ? stackReportCell(s.stack.programs, s.stack.labels, abi, name, nr, s.ref) : reportCell(s.policy, abi, name, nr, s.context);
        if (!unknownRow) return c;
        const note: ExplanationLine = {
          kind: "note",
          text: `Any number the ABI's table (Linux ${TABLES_KERNEL_VERSION}) does not name, such as ${nr}, gets this: syscalls newer than the tables, gaps, and -1.`,
        };
        return { ...c, explanation: [...c.explanation, note] };
      }),
    );
    return {
      name,
      unknownRow,
      nrs,
      cells,
      ...(input.against !== undefined ? { differences: abis.map((abi) => differences.get(`${abi} ${name}`) ?? null) } : {}),
    };
  });
  const present = new Set(sorted);
  const groups: ReportGroup[] = syscallGroups().map((g) => ({
    name: g.name,
    help: g.help,
    syscalls: expandItem(g.name).filter((n) => present.has(n)),
  }));
  return {
    title: input.title ?? (input.against === undefined ? `syscage report: ${input.policy.source}` : `syscage report: ${input.policy.source} against ${input.against.source}`),
    sources: sides.map((s) => s.source),
    notes: sides.map((s) => (isStackSide(s) ? [STACK_NOTE] : [])),
    abis,
    rows,
    groups,
    tables: TABLES_KERNEL_VERSION,
    systemd: SYSTEMD_DATA_VERSION,
    ...(input.audit !== undefined ? { audit: input.audit } : {}),
  };
}

// ---- embedding ---------------------------------------------------------------------

const KIND_CODES: Readonly<Record<ExplanationKind, number>> = { decision: 0, decides: 1, outranked: 2, inactive: 3, outcome: 4, note: 5 };

/**
 * The compact JSON the page embeds: strings are interned (`s`), a cell is
 * `[class, label, action, key, [[kind, line]…]]` with string indices, rows
 * are `[name, unknown?, nrs, cellsPerSide, differencePerAbi (-1: none)]`.
 */
export function compactReportData(data: ReportData): unknown {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const s = (text: string): number => {
    let i = index.get(text);
    if (i === undefined) {
      i = strings.length;
      strings.push(text);
      index.set(text, i);
    }
    return i;
  };
  const cell = (c: ReportCell | null): unknown =>
    c === null ? 0 : [OUTCOME_CLASSES.indexOf(c.cls), s(c.label), s(c.action), s(c.key), c.explanation.map((l) => [KIND_CODES[l.kind], s(l.text)])];
  const rows = data.rows.map((r) => [r.name, r.unknownRow ? 1 : 0, r.nrs, r.cells.map((side) => side.map(cell)), (r.differences ?? []).map((d) => (d === null ? -1 : s(d)))]);
  return {
    format: "syscage-report/1",
    title: data.title,
    sources: data.sources,
    notes: data.notes,
    abis: data.abis,
    offsets: data.abis.map((a) => getAbi(a).nrOffset),
    tables: data.tables,
    systemd: data.systemd,
    groups: data.groups.map((g) => [g.name, g.help, g.syscalls]),
    rows,
    s: strings,
  };
}

/**
 * JSON safe inside `<script type="application/json">`: `<`, `>`, `&` and the
 * JavaScript line separators are written as `\u` escapes, so no data can
 * close the element or start markup.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Escape text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The whole report as one self-contained HTML document. */
export function renderReport(data: ReportData): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="syscage">
<title>${escapeHtml(data.title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<noscript><p>This report renders its matrix with JavaScript; the data is in the JSON block of this file.</p></noscript>
${data.audit !== undefined ? auditLink(data.audit) : ""}<script type="application/json" id="syscage-data">${jsonForScript(compactReportData(data))}</script>
<script>${REPORT_JS}</script>
${data.audit !== undefined ? auditSection(data.audit) : ""}</body>
</html>
`;
}

/** The line above the page's header that leads to the Audit section. */
function auditLink(audit: AuditResult | string): string {
  if (typeof audit === "string") return `<p class="audit-link"><a href="#audit">Audit: not available</a></p>\n`;
  const counted = audit.findings.filter((f) => f.waived === undefined && f.severity !== "info").length;
  return `<p class="audit-link"><a href="#audit">Audit: exposure ${audit.score.toFixed(1)} ${escapeHtml(audit.label)}, ${counted} finding${counted === 1 ? "" : "s"} ↓</a></p>\n`;
}

/** The Audit section: the table of `syscage audit`, worst first, and the score (static HTML: it needs no script). */
function auditSection(audit: AuditResult | string): string {
  if (typeof audit === "string") return `<section id="audit"><h2>Audit</h2><p>${escapeHtml(audit)}</p></section>\n`;
  const rows = audit.findings
    .map((f) => {
      const sev = f.waived !== undefined ? "waived" : f.severity;
      const more = [
        ...f.details.map((d) => `<li>${escapeHtml(d)}</li>`),
        `<li>why: ${escapeHtml(f.why)}</li>`,
        ...(f.origins.length > 0 ? [`<li>decided by: ${escapeHtml(f.origins.join("; "))}</li>`] : []),
        `<li>fix: <code>${escapeHtml(f.fix)}</code></li>`,
        ...(f.waived !== undefined ? [`<li>waived: ${escapeHtml(f.waived.reason)}</li>`] : []),
        `<li>see: ${escapeHtml(f.references.join("; "))}</li>`,
      ].join("");
      return `<tr class="sev-${sev}"><td>${sev}</td><td>${f.weight.toFixed(1)}</td><td><code>${escapeHtml(f.id)}</code></td><td><details><summary>${escapeHtml(f.summary)}</summary><ul>${more}</ul></details></td></tr>`;
    })
    .join("\n");
  return `<section id="audit"><h2>Audit</h2>
<p>What <code>syscage audit</code> finds in this filter (docs/audit.md): ABIs ${escapeHtml(audit.abis.join(", "))}.</p>
${audit.findings.length === 0 ? "<p>No findings.</p>" : `<table class="audit"><thead><tr><th>severity</th><th>weight</th><th>id</th><th>finding</th></tr></thead><tbody>\n${rows}\n</tbody></table>`}
<p class="score">→ Overall exposure level: <b>${audit.score.toFixed(1)} ${escapeHtml(audit.label)}</b></p>
</section>
`;
}

/** {@link reportData} then {@link renderReport}. */
export function buildReport(input: ReportInput): string {
  return renderReport(reportData(input));
}

// ---- the page's CSS and JS -------------------------------------------------------------

const REPORT_CSS = `
.audit-link { margin: 0; padding: 4px 20px; font-size: 12px; background: #fdf3e1; border-bottom: 1px solid var(--line); }
#audit { padding: 12px 20px 40px; border-top: 2px solid #888; }
#audit h2 { font-size: 16px; margin: 0 0 6px; }
table.audit { border-collapse: collapse; font-size: 12px; }
table.audit th, table.audit td { text-align: left; vertical-align: top; padding: 3px 8px; border-bottom: 1px solid #e2e2e2; }
table.audit tr.sev-critical td:first-child, table.audit tr.sev-high td:first-child { color: #7a1212; font-weight: 600; }
table.audit tr.sev-waived td { color: var(--mute); }
table.audit ul { margin: 4px 0; padding-left: 18px; }
:root { --allow:#bfe6b5; --eperm:#f2a59d; --enosys:#d6d6d6; --errno:#f6cf8f; --kill:#7a1212; --special:#b8c4f2; --args:#f5e66e; --line:#c8c8c8; --ink:#1b1b1b; --mute:#5b5b5b; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: #fff; }
header { padding: 12px 20px 8px; border-bottom: 1px solid var(--line); }
.side-note { font-style: italic; max-width: 60em; }
h1 { font-size: 18px; margin: 0 0 4px; }
.meta { color: var(--mute); font-size: 12px; }
.meta b { color: var(--ink); font-weight: 600; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 14px; margin: 8px 0 0; padding: 0; list-style: none; font-size: 12px; }
.legend li { display: flex; align-items: center; gap: 5px; }
.legend .cell { min-width: 34px; height: 18px; white-space: nowrap; }
.controls { position: sticky; top: 0; z-index: 3; background: #f7f7f7; border-bottom: 1px solid var(--line); padding: 8px 20px; display: flex; flex-direction: column; gap: 6px; }
.controls .line { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
#search { font: inherit; padding: 4px 8px; width: 240px; border: 1px solid #999; border-radius: 4px; }
.views button, .groups button { font: inherit; font-size: 12px; padding: 1px 7px; border: 1px solid #aaa; border-radius: 12px; background: #fff; cursor: pointer; }
.views button[aria-pressed="true"], .groups button[aria-pressed="true"] { background: #1d4f91; border-color: #1d4f91; color: #fff; }
.groups { display: flex; flex-wrap: wrap; gap: 3px; }
.groups button { font-size: 11px; }
.count { color: var(--mute); font-size: 12px; }
main { display: flex; align-items: flex-start; gap: 20px; padding: 12px 20px 40px; }
.matrix-wrap { flex: 0 1 auto; min-width: 0; }
table.matrix { border-collapse: separate; border-spacing: 0; font-size: 12px; }
.matrix th, .matrix td { border-bottom: 1px solid #e2e2e2; padding: 0; }
.matrix thead th { position: sticky; top: var(--controls-h, 0px); background: #fff; z-index: 2; padding: 4px 4px; border-bottom: 2px solid #888; font-weight: 600; text-align: center; white-space: nowrap; }
.matrix th.name { text-align: left; padding: 1px 10px 1px 2px; font-weight: 500; font-family: ui-monospace, "DejaVu Sans Mono", monospace; white-space: nowrap; }
.matrix thead th.name { font-family: inherit; }
.matrix th small.offset { font-weight: 400; color: var(--mute); font-size: 10px; }
.matrix td { white-space: nowrap; }
.matrix span.nr { display: inline-block; min-width: 28px; color: var(--mute); font-size: 10px; text-align: right; }
main.compact .matrix span.nr { display: none; }
main.compact .matrix th small.offset, main.compact .matrix th br { display: none; }
main.compact .matrix thead th { font-size: 10px; padding: 4px 1px; }
main.compact .cell { min-width: 34px; margin: 1px; }
main.wide aside { position: fixed; right: 12px; bottom: 12px; top: auto; width: 460px; max-width: calc(100vw - 24px); max-height: 50vh; z-index: 5; box-shadow: 0 4px 18px rgba(0,0,0,.3); }
main.wide aside.idle { display: none; }
aside .close { display: none; float: right; font: inherit; border: 1px solid #aaa; background: #fff; border-radius: 4px; cursor: pointer; }
main.wide aside .close { display: inline-block; }
.cell { display: inline-flex; align-items: center; justify-content: center; min-width: 52px; height: 20px; margin: 1px 2px; border: 1px solid rgba(0,0,0,.25); border-radius: 3px; font: 600 11px/1 ui-monospace, "DejaVu Sans Mono", monospace; cursor: pointer; user-select: none; padding: 0 3px; }
.cell:focus-visible, .cell.selected { outline: 3px solid #1d4f91; outline-offset: 1px; }
.c-allow { background: var(--allow); }
.c-eperm { background: var(--eperm); }
.c-enosys { background: var(--enosys); }
.c-errno { background: var(--errno); }
.c-kill { background: var(--kill); color: #fff; }
.c-special { background: var(--special); }
.c-args { background: repeating-linear-gradient(135deg, var(--args) 0 5px, #fff7c2 5px 8px); }
.c-absent { background: #fff; border-style: dashed; color: #999; cursor: default; }
.cell.diff { border: 2px solid #000; }
.cell.same { opacity: .5; }
.cell .arrow { padding: 0 2px; font-weight: 400; }
aside { flex: 1 1 420px; max-width: 760px; position: sticky; top: calc(var(--controls-h, 0px) + 12px); max-height: calc(100vh - var(--controls-h, 0px) - 24px); overflow-y: auto; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; background: #fcfcfc; }
aside h2 { font-size: 15px; margin: 0 0 6px; font-family: ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
aside h3 { font-size: 13px; margin: 10px 0 4px; }
aside .hint { color: var(--mute); }
aside ul { margin: 0; padding-left: 0; list-style: none; }
aside li { margin: 3px 0; padding: 3px 6px; border-left: 4px solid #ddd; word-wrap: break-word; }
aside li.k-decision { border-left-color: #1d4f91; font-weight: 600; }
aside li.k-decides { border-left-color: #2e7d32; background: #eef7ee; }
aside li.k-decides::before { content: "decides: "; font-weight: 600; }
aside li.k-outranked { border-left-color: #b26a00; }
aside li.k-outranked::before { content: "matches, outranked: "; color: #b26a00; }
aside li.k-inactive { border-left-color: #bbb; color: var(--mute); }
aside li.k-inactive::before { content: "conditions do not hold: "; }
aside li.k-outcome { border-left-color: #b59f00; }
aside li.k-note { border-left-color: transparent; color: var(--mute); }
aside p.difference { border: 2px solid #000; border-radius: 4px; padding: 4px 6px; background: #fff8e0; font-weight: 600; }
.side-tag { display: inline-block; font-size: 11px; padding: 0 6px; border-radius: 8px; background: #1d4f91; color: #fff; margin-right: 4px; }
.print-only { display: none; }
@media (max-width: 1000px) { main { flex-direction: column; } aside { position: static; flex-basis: auto; width: 100%; max-height: none; } }
@media print {
  @page { size: A4; margin: 12mm; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 10px; }
  .controls, aside, .no-print { display: none !important; }
  .print-only { display: block; }
  header { padding: 0 0 6px; }
  main { display: block; padding: 0; }
  .matrix-wrap { overflow: visible; }
  table.matrix { width: auto; font-size: 9px; }
  .matrix th.name { padding: 0 8px 0 0; }
  .matrix thead { display: table-header-group; }
  .matrix thead th { position: static; }
  .matrix tr { break-inside: avoid; page-break-inside: avoid; }
  .cell { height: 12px; min-width: 40px; margin: 0 2px; font-size: 8px; cursor: default; }
  .cell.selected { outline: none; }
  .cell.same { opacity: 1; }
}
`;

/*
 * The page script. Plain ES2017 in a string: it reads the JSON block and
 * builds the DOM with createElement/textContent only.
 */
const REPORT_JS = String.raw`
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("syscage-data").textContent);
  var S = D.s;
  var CLASSES = ["allow", "eperm", "enosys", "errno", "kill", "special", "args"];
  var KINDS = ["decision", "decides", "outranked", "inactive", "outcome", "note"];
  var LEGEND = [
    ["allow", "A", "ALLOW"],
    ["eperm", "P", "ERRNO(EPERM)"],
    ["enosys", "N", "ERRNO(ENOSYS) / unknown to the tables"],
    ["errno", "E", "other errno"],
    ["kill", "K", "KILL_PROCESS / KILL_THREAD"],
    ["special", "T R L U", "TRAP, TRACE, LOG, NOTIFY"],
    ["args", "A/E", "depends on the arguments (every outcome)"],
    ["absent", "\u00b7", "the ABI has no such syscall"]
  ];
  var two = D.sources.length > 1;
  var state = { q: "", group: "", view: two ? "diff" : "a", onlyDiff: false, sel: null };
  var rows = D.rows.map(function (r) {
    return { name: r[0], unknown: r[1] === 1, nrs: r[2], sides: r[3], diffs: r[4], tr: null };
  });

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function cellOf(row, side, j) {
    var c = row.sides[side][j];
    if (!c) return null;
    return { cls: CLASSES[c[0]], label: S[c[1]], action: S[c[2]], key: S[c[3]], lines: c[4] };
  }
  function differs(row, j) {
    return two && row.diffs[j] >= 0;
  }
  function rowDiffers(row) {
    for (var j = 0; j < D.abis.length; j++) if (differs(row, j)) return true;
    return false;
  }

  // ---- header
  var header = el("header");
  header.appendChild(el("h1", null, D.title));
  var meta = el("div", "meta");
  D.sources.forEach(function (src, i) {
    var p = el("div");
    p.appendChild(el("b", null, two ? (i === 0 ? "A: " : "B: ") : D.notes && D.notes[i] && D.notes[i].length > 0 ? "Filters: " : "Policy: "));
    p.appendChild(document.createTextNode(src));
    meta.appendChild(p);
    ((D.notes && D.notes[i]) || []).forEach(function (n) {
      meta.appendChild(el("div", "side-note", n));
    });
  });
  meta.appendChild(el("div", null, "ABIs: " + D.abis.join(", ") + " \u00b7 syscall tables: Linux " + D.tables + " \u00b7 groups: systemd " + D.systemd + " \u00b7 " + rows.length + " rows: " + (rows.length - 1) + " syscalls and one for numbers the tables do not name"));
  header.appendChild(meta);
  var legend = el("ul", "legend");
  LEGEND.forEach(function (l) {
    var li = el("li");
    li.appendChild(el("span", "cell c-" + l[0], l[1]));
    li.appendChild(el("span", null, l[2]));
    legend.appendChild(li);
  });
  if (two) {
    var li = el("li");
    li.appendChild(el("span", "cell diff c-eperm", "P\u2192A"));
    li.appendChild(el("span", null, "diff view: A\u2192B, differing cells outlined"));
    legend.appendChild(li);
  }
  header.appendChild(legend);
  document.body.appendChild(header);

  // ---- controls
  var controls = el("div", "controls");
  var line1 = el("div", "line");
  var search = el("input");
  search.id = "search";
  search.type = "search";
  search.placeholder = "search: mkdir, ^open, 83";
  search.setAttribute("aria-label", "search syscalls");
  line1.appendChild(search);
  var views = el("div", "views line");
  var viewButtons = {};
  function addView(id, label) {
    var b = el("button", null, label);
    b.type = "button";
    b.dataset.view = id;
    b.addEventListener("click", function () { state.view = id; render(); });
    viewButtons[id] = b;
    views.appendChild(b);
  }
  if (two) {
    addView("diff", "diff A\u2192B");
    addView("a", "A only");
    addView("b", "B only");
    var only = el("label");
    var cb = el("input");
    cb.type = "checkbox";
    cb.id = "only-diff";
    cb.addEventListener("change", function () { state.onlyDiff = cb.checked; render(); });
    only.appendChild(cb);
    only.appendChild(document.createTextNode(" only differing syscalls"));
    views.appendChild(only);
  }
  line1.appendChild(views);
  var count = el("span", "count");
  count.id = "count";
  line1.appendChild(count);
  controls.appendChild(line1);
  var groupsBox = el("div", "groups");
  groupsBox.setAttribute("role", "toolbar");
  groupsBox.setAttribute("aria-label", "systemd groups");
  var groupSets = {};
  var groupButtons = {};
  function addGroup(name, help, members) {
    var b = el("button", null, name + (members ? " (" + members.length + ")" : ""));
    b.type = "button";
    b.title = help;
    b.dataset.group = name;
    b.addEventListener("click", function () { state.group = state.group === name ? "" : name; render(); });
    groupButtons[name] = b;
    groupsBox.appendChild(b);
  }
  addGroup("", "every syscall", null);
  groupButtons[""].textContent = "all";
  D.groups.forEach(function (g) {
    var set = {};
    g[2].forEach(function (n) { set[n] = true; });
    groupSets[g[0]] = set;
    addGroup(g[0], g[1], g[2]);
  });
  controls.appendChild(groupsBox);
  document.body.appendChild(controls);

  // ---- matrix and explanation panel
  var main = el("main");
  var wrap = el("div", "matrix-wrap");
  var table = el("table", "matrix");
  var thead = el("thead");
  var htr = el("tr");
  htr.appendChild(el("th", "name", "syscall"));
  D.abis.forEach(function (a, j) {
    var th = el("th", null, a);
    if (D.offsets[j]) {
      th.appendChild(el("br"));
      th.appendChild(el("small", "offset", "nr + " + (D.offsets[j] >= 0x10000 ? "0x" + D.offsets[j].toString(16) : D.offsets[j])));
      th.title = "numbers shown without the ABI's offset; seccomp_data.nr = number + " + D.offsets[j];
    }
    htr.appendChild(th);
  });
  thead.appendChild(htr);
  table.appendChild(thead);
  var tbody = el("tbody");
  rows.forEach(function (row, i) {
    var tr = el("tr");
    tr.dataset.syscall = row.name;
    tr.appendChild(el("th", "name", row.name));
    D.abis.forEach(function (abi, j) {
      var nr = row.nrs[j];
      var td = el("td");
      td.appendChild(el("span", "nr", nr === null || row.unknown ? "" : String(nr - D.offsets[j])));
      var span = el("span", "cell");
      span.dataset.syscall = row.name;
      span.dataset.abi = abi;
      span.dataset.row = String(i);
      span.dataset.col = String(j);
      td.appendChild(span);
      tr.appendChild(td);
    });
    row.tr = tr;
    tbody.appendChild(tr);
  });
  table.appendChild(tbody);
  wrap.appendChild(table);
  main.appendChild(wrap);
  var panel = el("aside");
  panel.id = "explanation";
  panel.setAttribute("aria-live", "polite");
  main.appendChild(panel);
  document.body.appendChild(main);

  function paintCell(span, row, j) {
    var a = cellOf(row, 0, j), b = two ? cellOf(row, 1, j) : null;
    var shown = state.view === "b" ? b : a;
    span.className = "cell";
    span.textContent = "";
    span.removeAttribute("tabindex");
    if (state.view === "diff") {
      var d = differs(row, j);
      if (!a && !b) { span.className = "cell c-absent"; span.textContent = "\u00b7"; return; }
      span.tabIndex = 0;
      if (d) {
        span.className = "cell diff c-" + (a ? a.cls : "absent");
        span.style.background = "linear-gradient(90deg, var(--" + (a ? a.cls : "line") + ") 0 50%, var(--" + (b ? b.cls : "line") + ") 50% 100%)";
        span.appendChild(document.createTextNode(a ? a.label : "\u00b7"));
        span.appendChild(el("span", "arrow", "\u2192"));
        span.appendChild(document.createTextNode(b ? b.label : "\u00b7"));
        if ((a && a.cls === "kill") || (b && b.cls === "kill")) span.style.color = "#000";
      } else {
        span.style.background = "";
        span.style.color = "";
        span.className = "cell same c-" + a.cls;
        span.textContent = a.label;
      }
      span.title = row.name + " on " + D.abis[j] + ": A " + (a ? a.action : "absent") + ", B " + (b ? b.action : "absent");
      return;
    }
    span.style.background = "";
    span.style.color = "";
    if (!shown) { span.className = "cell c-absent"; span.textContent = "\u00b7"; span.title = D.abis[j] + " has no " + row.name; return; }
    span.tabIndex = 0;
    span.className = "cell c-" + shown.cls + (differs(row, j) ? " diff" : "");
    span.textContent = shown.label;
    span.title = row.name + " on " + D.abis[j] + ": " + shown.action;
  }

  function matches(row) {
    if (state.group && !(groupSets[state.group] && groupSets[state.group][row.name])) return false;
    if (state.onlyDiff && !rowDiffers(row)) return false;
    var q = state.q.trim().toLowerCase();
    if (!q) return true;
    if (/^\d+$/.test(q)) return row.nrs.some(function (n) { return n !== null && String(n) === q; }) || row.name.indexOf(q) >= 0;
    if (q.charAt(0) === "^") return row.name.indexOf(q.slice(1)) === 0;
    return row.name.toLowerCase().indexOf(q) >= 0;
  }

  function fit() {
    main.classList.remove("compact", "wide");
    var room = window.innerWidth - 500;
    if (table.offsetWidth > room) main.classList.add("compact");
    if (table.offsetWidth > room) main.classList.add("wide");
  }

  function closeButton() {
    var b = el("button", "close", "\u00d7");
    b.type = "button";
    b.title = "close";
    b.addEventListener("click", function () {
      var prev = table.querySelector(".cell.selected");
      if (prev) prev.classList.remove("selected");
      state.sel = null;
      intro();
    });
    return b;
  }

  function render() {
    var shown = 0;
    rows.forEach(function (row) {
      var ok = matches(row);
      row.tr.hidden = !ok;
      if (!ok) return;
      shown++;
      var spans = row.tr.querySelectorAll("span.cell");
      for (var j = 0; j < spans.length; j++) paintCell(spans[j], row, j);
    });
    count.textContent = shown + " of " + rows.length + " rows" + (state.group ? " in " + state.group : "");
    Object.keys(groupButtons).forEach(function (k) { groupButtons[k].setAttribute("aria-pressed", String(k === state.group)); });
    Object.keys(viewButtons).forEach(function (k) { viewButtons[k].setAttribute("aria-pressed", String(k === state.view)); });
    document.documentElement.style.setProperty("--controls-h", controls.offsetHeight + "px");
    if (state.sel) explain(state.sel.row, state.sel.col); else intro();
  }

  function intro() {
    panel.textContent = "";
    panel.className = "idle";
    panel.appendChild(el("h2", null, "Explanation"));
    panel.appendChild(el("p", "hint", "Click a cell to see its decision and the rules that produced it, with their origins."));
    var counts = {};
    rows.forEach(function (row) {
      for (var j = 0; j < D.abis.length; j++) {
        var c = cellOf(row, state.view === "b" ? 1 : 0, j);
        if (c) counts[c.cls] = (counts[c.cls] || 0) + 1;
      }
    });
    var ul = el("ul");
    LEGEND.forEach(function (l) { if (counts[l[0]]) ul.appendChild(el("li", "k-note", l[2] + ": " + counts[l[0]] + " cells")); });
    if (two) {
      var n = 0;
      rows.forEach(function (row) { for (var j = 0; j < D.abis.length; j++) if (differs(row, j)) n++; });
      ul.appendChild(el("li", "k-decision", n + " cells differ between A and B"));
    }
    panel.appendChild(ul);
  }

  function sideBlock(row, side, j, tag) {
    var frag = document.createDocumentFragment();
    var c = cellOf(row, side, j);
    var h = el("h3");
    if (tag) h.appendChild(el("span", "side-tag", tag));
    h.appendChild(document.createTextNode(D.sources[side]));
    frag.appendChild(h);
    var ul = el("ul");
    if (!c) {
      ul.appendChild(el("li", "k-note", D.abis[j] + " has no syscall " + row.name + "."));
    } else {
      c.lines.forEach(function (l) { ul.appendChild(el("li", "k-" + KINDS[l[0]], S[l[1]])); });
    }
    frag.appendChild(ul);
    return frag;
  }

  function explain(i, j) {
    var row = rows[i];
    panel.textContent = "";
    panel.className = "";
    panel.appendChild(closeButton());
    var nr = row.nrs[j];
    var a = cellOf(row, 0, j);
    var head = row.name + " on " + D.abis[j] + (nr === null || row.unknown ? "" : " (nr " + nr + ")");
    if (a && !two) head += " \u2192 " + a.action;
    panel.appendChild(el("h2", null, head));
    if (two) {
      var b = cellOf(row, 1, j);
      var p = el("p", differs(row, j) ? "difference" : "hint", differs(row, j)
        ? S[row.diffs[j]]
        : "the same in A and B: " + (a ? a.action : "absent"));
      p.id = "difference";
      panel.appendChild(p);
      panel.appendChild(sideBlock(row, 0, j, "A"));
      panel.appendChild(sideBlock(row, 1, j, "B"));
    } else {
      panel.appendChild(sideBlock(row, 0, j, null));
    }
  }

  function select(span) {
    if (!span || !span.dataset.row || span.classList.contains("c-absent")) return;
    var prev = table.querySelector(".cell.selected");
    if (prev) prev.classList.remove("selected");
    span.classList.add("selected");
    state.sel = { row: Number(span.dataset.row), col: Number(span.dataset.col) };
    explain(state.sel.row, state.sel.col);
  }
  table.addEventListener("click", function (ev) {
    var t = ev.target;
    while (t && t !== table && !(t.classList && t.classList.contains("cell"))) t = t.parentNode;
    if (t && t !== table) select(t);
  });
  table.addEventListener("keydown", function (ev) {
    if ((ev.key === "Enter" || ev.key === " ") && ev.target.classList && ev.target.classList.contains("cell")) { ev.preventDefault(); select(ev.target); }
  });
  search.addEventListener("input", function () { state.q = search.value; render(); });
  window.addEventListener("resize", function () { fit(); document.documentElement.style.setProperty("--controls-h", controls.offsetHeight + "px"); });
  render();
  fit();
  document.body.dataset.ready = "1";
})();
`;
