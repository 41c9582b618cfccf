/**
 * Policy → systemd unit lines: `SystemCallFilter=`, `SystemCallErrorNumber=`,
 * `SystemCallArchitectures=`, when the policy can be said that way
 * (docs/profiles.md, "systemd").
 *
 * systemd's vocabulary, as syscage's unit reader (policy/systemd-unit.ts)
 * applies it:
 *
 * - an allow list (`SystemCallFilter=NAMES`, with `@default` added by
 *   systemd): listed names are allowed, every other name of `@known` gets the
 *   negative action (`SystemCallErrorNumber=`, KILL_PROCESS without it), the
 *   rest ENOSYS; a later `SystemCallFilter=~name:ERRNO` (or `~name:kill`)
 *   gives one name its own action, `~name` takes a name out again;
 * - a deny list (`SystemCallFilter=~NAMES`): listed names get the negative
 *   action or their own `name:ERRNO` / `name:kill`, everything else (unknown
 *   numbers too) is allowed; a later `SystemCallFilter=NAMES` takes names out.
 *
 * The writer chooses the negative action that gives the fewest words, writes
 * a `@group` wherever that saves words (a group covered whole, or nearly, with
 * its exceptions written after it), and then reads its own lines back and
 * writes an explicit entry for every name that would still come out
 * otherwise, so the lines decide every syscall name as the policy does.
 * Argument conditions and the actions systemd has no word for are refused,
 * or with `approximate` replaced by a stricter decision (never a weaker one),
 * each with a warning.
 */
import { getAbi, type AbiName } from "../abi/arch.js";
import { syscallNumber, syscallTable } from "../abi/tables.js";
import { actionRet } from "../policy/evaluate.js";
import { expandItem, syscallGroups } from "../policy/groups.js";
import { ACTION_RANK, formatPolicyAction, KILL_PROCESS, limitsAbis, type Action, type Policy, type Rule } from "../policy/model.js";
import { buildUnitPolicy, type UnitProperty } from "../policy/systemd-unit.js";
import { cannot, ruleLabel } from "./unsupported.js";

/** Options of {@link policyToSystemd}. */
export interface SystemdExportOptions {
  /**
   * Say what systemd cannot say by something stricter, with a warning each:
   * a syscall with argument rules gets the strictest action any of its calls
   * can get (the call denied), and an action systemd has no word for
   * (KILL_THREAD, TRAP, TRACE, NOTIFY, LOG) becomes KILL_PROCESS.
   */
  readonly approximate?: boolean;
}

const ENOSYS: Action = { kind: "ERRNO", errno: "ENOSYS" };

/** The stricter of two actions as a policy combines matching rules: lower rank wins, the first on a tie. */
function stricter(a: Action, b: Action): Action {
  return ACTION_RANK[b.kind] < ACTION_RANK[a.kind] ? b : a;
}

/** Can systemd say `a` as a deny action (`:ERRNO`, `:kill`, `SystemCallErrorNumber=`)? */
function sayable(a: Action): boolean {
  return a.kind === "KILL_PROCESS" || a.kind === "ERRNO";
}

/** `EPERM`, `1` or `kill`: a deny action as systemd writes it after `name:`. */
function word(a: Action): string {
  if (a.kind === "KILL_PROCESS") return "kill";
  if (a.kind === "ERRNO") return String(a.errno);
  throw new Error(`not a systemd action: ${formatPolicyAction(a)}`);
}

/**
 * Each syscall name the policy has rules for → its action. Rules with
 * conditions are refused, or with `approximate` folded into the strictest
 * outcome of the syscall (a warning per rule).
 */
function actionsByName(p: Policy, approximate: boolean, warnings: string[]): Map<string, Action> {
  const byName = new Map<string, { rules: { rule: Rule; index: number }[] }>();
  p.rules.forEach((rule, index) => {
    const e = byName.get(rule.syscall) ?? { rules: [] };
    e.rules.push({ rule, index });
    byName.set(rule.syscall, e);
  });
  const out = new Map<string, Action>();
  for (const [name, { rules }] of byName) {
    // A rule limited to some of the ABIs (Rule.abis) covers part of the calls, as a condition does.
    const partial = (r: Rule): boolean => r.conditions.length > 0 || limitsAbis(r, p);
    const plain = rules.filter((r) => !partial(r.rule));
    // What a call of `name` gets when no conditional rule matches.
    const base = plain.length > 0 ? plain.map((r) => r.rule.action).reduce(stricter) : p.default.action;
    const conditional = rules.filter((r) => partial(r.rule));
    if (conditional.length === 0) {
      out.set(name, base);
      continue;
    }
    if (!approximate) {
      const r = conditional[0]!;
      cannot("systemd", ruleLabel(r.rule, r.index), `SystemCallFilter= cannot test syscall arguments${r.rule.abis !== undefined ? " or limit a rule to some ABIs" : ""}; --approximate gives the whole syscall the strictest action its calls can get (never weaker than the policy)`);
    }
    // Every call of `name` gets `base` or the strictest of some matching rules: the strictest of them all bounds every call.
    const strictest = conditional.map((r) => r.rule.action).reduce(stricter, base);
    for (const r of conditional) {
      const then =
        formatPolicyAction(strictest) === formatPolicyAction(base)
          ? `dropped; every ${name} call gets ${formatPolicyAction(strictest)}, as calls the rule does not match already do`
          : `every ${name} call gets ${formatPolicyAction(strictest)}, also where the policy gives ${formatPolicyAction(base)}`;
      warnings.push(`--approximate: ${ruleLabel(r.rule, r.index)}: SystemCallFilter= cannot test arguments; ${then}`);
    }
    out.set(name, strictest);
  }
  return out;
}

/** An action systemd can say, or with `approximate` KILL_PROCESS (stricter than any), with a warning. */
function sayableOrKill(a: Action, what: string, approximate: boolean, warnings: string[]): Action {
  if (sayable(a) || a.kind === "ALLOW") return a;
  if (!approximate) {
    cannot("systemd", what, `${formatPolicyAction(a)}: systemd's filters deny only with an errno (SystemCallErrorNumber=, name:ERRNO) or by killing the process; --approximate writes KILL_PROCESS (stricter)`);
  }
  warnings.push(`--approximate: ${what}: systemd has no ${a.kind}; written as KILL_PROCESS (kill), which is stricter`);
  return KILL_PROCESS;
}

interface Plan {
  readonly lines: string[];
  readonly words: number;
  /** An explicit ENOSYS entry where systemd overrides its allow-list default: libseccomp would refuse the filter. */
  readonly enosysEntry: boolean;
}

/** Each group with its members expanded, computed once. */
let groupMembers: { name: string; members: string[] }[] | undefined;
function groups(): { name: string; members: string[] }[] {
  groupMembers ??= syscallGroups().map((g) => ({ name: g.name, members: expandItem(g.name) }));
  return groupMembers;
}

/**
 * Choose groups for the names of `target` (greedy, while a group saves
 * words): a group costs one word and one per member it would wrongly cover
 * (`fixCost`: 1 for a name that needs taking out again, 0 for one written
 * explicitly anyway); `covered` starts as what is covered without writing
 * anything (an allow list's `@default`).
 */
function chooseGroups(
  target: ReadonlySet<string>,
  universe: ReadonlySet<string>,
  fixCost: (name: string) => number,
  covered: Set<string>,
  wrong: Set<string>,
  skip: readonly string[],
): string[] {
  const chosen: string[] = [];
  const candidates = groups().filter((g) => !skip.includes(g.name));
  for (;;) {
    let best: { name: string; members: string[]; gain: number } | undefined;
    for (const g of candidates) {
      if (chosen.includes(g.name)) continue;
      let gain = -1;
      for (const m of g.members) {
        if (!universe.has(m)) continue;
        if (target.has(m)) gain += covered.has(m) ? 0 : 1;
        else if (!wrong.has(m)) gain -= fixCost(m);
      }
      if (gain > 0 && (best === undefined || gain > best.gain)) best = { ...g, gain };
    }
    if (best === undefined) return chosen;
    chosen.push(best.name);
    for (const m of best.members) {
      if (!universe.has(m)) continue;
      if (target.has(m)) covered.add(m);
      else wrong.add(m);
    }
  }
}

/** Do two actions decide alike on every ABI of `abis` where `name` exists? */
function alike(a: Action, b: Action, name: string, abis: readonly AbiName[]): boolean {
  const where = abis.filter((abi) => syscallNumber(abi, name) !== undefined);
  return where.every((abi) => actionRet(a, abi) === actionRet(b, abi));
}

/**
 * systemd unit lines for `p` (already with its routes, see exportPolicy).
 * @throws SyscageError EXPORT_UNSUPPORTED naming what systemd cannot say.
 */
export function policyToSystemd(p: Policy, opts: SystemdExportOptions = {}): { text: string; warnings: string[] } {
  const approximate = opts.approximate === true;
  const warnings: string[] = [];
  const abi0 = p.abis[0]!;
  const ret = (a: Action): number => actionRet(a, abi0);
  const archLine = `SystemCallArchitectures=${p.abis.map((a) => getAbi(a).systemdName).join(" ")}`;
  const named = actionsByName(p, approximate, warnings);
  const def = sayableOrKill(p.default.action, `default action ${formatPolicyAction(p.default.action)}`, approximate, warnings);
  // Every syscall name of the policy's ABIs, with the action the policy gives it (its rules', or the default).
  const policyAction = new Map<string, Action>();
  for (const abi of p.abis) for (const e of syscallTable(abi)) policyAction.set(e.name, def);
  for (const [name, a] of named) {
    if (policyAction.has(name)) policyAction.set(name, sayableOrKill(a, `syscall ${name}`, approximate, warnings));
  }
  const denyList = def.kind === "ALLOW";
  const unknown = p.unknown.action;
  if (denyList) {
    if (unknown.kind !== "ALLOW") cannot("systemd", `unknown action ${formatPolicyAction(unknown)}`, "a deny-list SystemCallFilter=~ allows syscalls systemd does not know");
  } else if (ret(unknown) !== ret(ENOSYS)) {
    if (!approximate || ACTION_RANK[unknown.kind] < ACTION_RANK.ERRNO) {
      cannot("systemd", `unknown action ${formatPolicyAction(unknown)}`, `systemd's allow-list filters return ENOSYS for syscalls they do not know${approximate ? "" : "; --approximate accepts that where ENOSYS is stricter"}`);
    }
    warnings.push(`--approximate: unknown action ${formatPolicyAction(unknown)}: systemd returns ENOSYS for syscall numbers it does not know, which is stricter`);
  }
  // The negative action: each action the policy denies with is a candidate; the fewest words win.
  const candidates: Action[] = [];
  for (const a of [def, ...policyAction.values()]) {
    if (a.kind === "ALLOW") continue;
    if (a.kind === "ERRNO" && ret(a) === ret({ kind: "ERRNO", errno: 0 })) continue; // SystemCallErrorNumber=0 is refused
    if (!candidates.some((c) => ret(c) === ret(a))) candidates.push(a);
  }
  if (candidates.length === 0) candidates.push(KILL_PROCESS);
  let best: Plan | undefined;
  for (const negative of candidates) {
    const plan = planLines(p, policyAction, negative, denyList);
    if (best === undefined || (best.enosysEntry && !plan.enosysEntry) || (best.enosysEntry === plan.enosysEntry && plan.words < best.words)) best = plan;
  }
  if (best!.enosysEntry) {
    cannot("systemd", "the ERRNO(ENOSYS) rules", "an allow list with another SystemCallErrorNumber= gets ENOSYS only for syscalls systemd does not know, and libseccomp refuses an explicit name:ENOSYS there");
  }
  return { text: [...best!.lines, archLine].join("\n") + "\n", warnings };
}

/** The lines for one choice of negative action (see the module doc). */
function planLines(p: Policy, want: ReadonlyMap<string, Action>, negative: Action, denyList: boolean): Plan {
  const universe = new Set(want.keys());
  const same = (a: Action, name: string): boolean => alike(a, negative, name, p.abis);
  // Names written with their own action whatever the groups.
  const explicit = new Map<string, Action>();
  const target = new Set<string>();
  const enosysAt = (a: Action): boolean => p.abis.every((abi) => actionRet(a, abi) === actionRet(ENOSYS, abi));
  for (const [name, a] of want) {
    if (denyList ? a.kind !== "ALLOW" && same(a, name) : a.kind === "ALLOW") target.add(name);
    // In an allow list a name systemd does not list itself gets ENOSYS: the read-back below finds those that need an entry.
    else if (a.kind !== "ALLOW" && !same(a, name) && (denyList || !enosysAt(a))) explicit.set(name, a);
  }
  const covered = new Set<string>();
  const wrong = new Set<string>();
  if (!denyList) {
    // systemd adds @default to every allow list.
    for (const m of expandItem("@default")) {
      if (!universe.has(m)) continue;
      if (target.has(m)) covered.add(m);
      else wrong.add(m);
    }
  }
  const chosen = chooseGroups(target, universe, (m) => (explicit.has(m) ? 0 : 1), covered, wrong, denyList ? [] : ["@default"]);
  const listed = [...chosen, ...[...target].filter((n) => !covered.has(n))];
  // Names a group (or @default) covers wrongly: taken out again, unless they get their own action anyway.
  const takeOut = new Set<string>();
  for (const m of wrong) if (!explicit.has(m)) takeOut.add(m);
  const build = (): string[] => {
    const own = [...explicit].map(([n, a]) => `${n}:${word(a)}`);
    const out = [...takeOut].filter((n) => !explicit.has(n));
    const lines: string[] = [];
    if (denyList) {
      lines.push(`SystemCallFilter=~${[...listed, ...own].join(" ")}`);
      if (out.length > 0) lines.push(`SystemCallFilter=${out.join(" ")}`);
    } else {
      lines.push(`SystemCallFilter=${listed.length > 0 ? listed.join(" ") : "@default"}`);
      if (own.length + out.length > 0) lines.push(`SystemCallFilter=~${[...out, ...own].join(" ")}`);
    }
    if (negative.kind === "ERRNO") lines.push(`SystemCallErrorNumber=${word(negative)}`);
    return lines;
  };
  // Read the lines back and write an entry for every name they would still decide otherwise.
  const back = readUnit(build(), p.abis);
  const backByName = new Map(back.rules.map((r) => [r.syscall, r.action] as const));
  for (const [name, a] of want) {
    if (alike(a, backByName.get(name) ?? back.default.action, name, p.abis)) continue;
    if (a.kind !== "ALLOW") explicit.set(name, a);
    else if (denyList) takeOut.add(name);
    else listed.push(name);
  }
  const lines = build();
  const enosysEntry = !denyList && !enosysAt(negative) && [...explicit.values()].some(enosysAt);
  const words = lines.reduce((n, l) => n + l.split(" ").length, 0);
  return { lines, words, enosysEntry };
}

function readUnit(lines: readonly string[], abis: readonly AbiName[]): Policy {
  const props: UnitProperty[] = lines.map((l, i) => {
    const at = l.indexOf("=");
    return { key: l.slice(0, at), value: l.slice(at + 1), where: `export line ${i + 1}` };
  });
  return buildUnitPolicy(props, { abis }).policy;
}
