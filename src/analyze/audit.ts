/**
 * `syscage audit`: what is dangerous in a filter, with references, a score
 * and the fix. The catalogue of findings is data (audit-catalogue.ts); this
 * module computes them.
 *
 * Findings of basis "decisions" are computed only from what the filter
 * returns (audit-view.ts): the program a policy compiles to, a raw program,
 * or a live process's stack. So the audit of a raw program gives the same
 * findings as the audit of the policy it was compiled from. With a policy at
 * hand the audit adds what only the policy knows: the rules that decided
 * (origins), the lints of basis "rules", the waivers of its `audit.waive`
 * list, and the fix in the policy's own language.
 *
 * Library code: never prints.
 */
import { argType, syscallArgTypes } from "../abi/argtypes.js";
import { getAbi, LOCAL_ABIS, type AbiName } from "../abi/arch.js";
import { IO_URING_OPS } from "../abi/io-uring.js";
import { hasIpc, hasSocketcall, IPC_SUBCALLS, SOCKETCALL_SUBCALLS } from "../abi/multiplex.js";
import { syscallNumber, syscallTable } from "../abi/tables.js";
import { terminalIoctls } from "../abi/terminal.js";
import type { Insn } from "../bpf/insn.js";
import { formatAction } from "../bpf/actions.js";
import { compile } from "../compile/index.js";
import { SyscageError, didYouMean, suggest } from "../errors.js";
import { conditionWidth, decide } from "../policy/evaluate.js";
import { expandItem } from "../policy/groups.js";
import type { AuditWaiver, Policy } from "../policy/model.js";
import { HIDDEN_ARGUMENT_ROUTES } from "../policy/routes.js";
import { retText } from "./diff.js";
import {
  AUDIT_CATALOGUE,
  catalogueEntry,
  CLONE_NEWUSER,
  entryWeight,
  exposureLabel,
  exposureScore,
  RISKY_PERSONAS,
  SEVERITIES,
  STARTUP_PROBES,
  WITHOUT_CAPABILITY_FACTOR,
  type Basis,
  type CatalogueEntry,
  type Category,
  type Severity,
} from "./audit-catalogue.js";
import { argWord, decisionView, isPermissive, isX32Number, retAction, type DecisionView, type SyscallOutcome } from "./audit-view.js";

/** What kind of source the filter came from: chooses the language of the fix. */
export type AuditSourceKind = "nspawn" | "unit" | "policy" | "profile" | "program";

/** Options of {@link auditPolicy} and {@link auditPrograms}. */
export interface AuditOptions {
  /** The host kernel (major, minor) for the kernel-version notes and the routes that exist there; absent: every release. */
  readonly hostKernel?: readonly [number, number];
  /** The capabilities the process is known to hold (nspawn's retained set, a container's); absent: unknown. */
  readonly capabilities?: ReadonlySet<string>;
  /** The language of the fix (default "policy", syscage's JSON). */
  readonly kind?: AuditSourceKind;
}

/** One finding. */
export interface AuditFinding {
  readonly id: string;
  readonly title: string;
  readonly category: Category;
  readonly severity: Severity;
  /** The weight the score counts (the entry's, lowered when a needed capability is known not held; 0 when waived). */
  readonly weight: number;
  readonly basis: Basis;
  /** The ABIs it concerns (empty: the filter as a whole). */
  readonly abis: readonly AbiName[];
  /** The syscalls it concerns. */
  readonly syscalls: readonly string[];
  /** One line, specific to this filter. */
  readonly summary: string;
  /** Concrete calls and their values, one line each. */
  readonly details: readonly string[];
  readonly why: string;
  readonly references: readonly string[];
  /** The fix, in the source's language. */
  readonly fix: string;
  /** Dangerous calls: what they need and whether the process holds it (null: unknown or nothing needed). */
  readonly capability?: { readonly needs: string; readonly held: boolean | null };
  /** With a policy: the origins of the rules that decided the calls found. */
  readonly origins: readonly string[];
  /** Set when the policy waives the finding. */
  readonly waived?: { readonly reason: string; readonly waiver: number };
}

/** The result of an audit. */
export interface AuditResult {
  /** The ABIs the filter covers. */
  readonly abis: readonly AbiName[];
  /** Worst first (severity, then weight, then id); waived findings after the others. */
  readonly findings: readonly AuditFinding[];
  /** 0–10 from the weights of the findings not waived ({@link exposureScore}). */
  readonly score: number;
  /** systemd-analyze's word for the score. */
  readonly label: string;
  readonly hostKernel?: string;
  /** Things to tell the user (a waiver that matches nothing). */
  readonly warnings: readonly string[];
}

/** A call the finding is about, for origins and details. */
interface Example {
  readonly abi: AbiName;
  readonly syscall: string;
  readonly args: readonly bigint[];
  readonly ret: number;
}

/** A finding before it is merged over ABIs. */
interface Raw {
  readonly id: string;
  readonly abi?: AbiName;
  readonly syscalls: readonly string[];
  /**
   * Summary with `{abis}` for the ABI list; for a `union` finding also
   * `{list}` (its labels) and `{count}`.
   */
  readonly summary: string;
  /** Merged over ABIs by id alone (syscalls, labels and details joined), not only when identical. */
  readonly union?: boolean;
  /** What `{list}` shows (default: the syscalls). */
  readonly labels?: readonly string[];
  readonly details?: readonly string[];
  readonly examples?: readonly Example[];
  readonly origins?: readonly string[];
}

// ---- helpers over the view ------------------------------------------------------------------

const allowsSome = (o: SyscallOutcome | undefined): boolean => o !== undefined && o.rets.some(isPermissive);
const allowsAll = (o: SyscallOutcome | undefined): boolean => o !== undefined && o.rets.every(isPermissive);

function versionAtLeast(v: readonly [number, number] | undefined, text: string): boolean {
  if (v === undefined) return true;
  const [maj, min] = text.split(".").map(Number) as [number, number];
  return v[0] > maj || (v[0] === maj && v[1] >= min);
}

function hex(v: bigint): string {
  return v < 10n ? v.toString() : `0x${v.toString(16)}`;
}

/** The arguments of a path's first point, as u64 values. */
function pathArgs(abi: AbiName, box: readonly (readonly number[])[]): bigint[] {
  const endian = getAbi(abi).endian;
  const out: bigint[] = [];
  for (let i = 0; i < 6; i++) {
    const lo = BigInt(box[argWord(endian, i, false)]![0]!);
    const hi = BigInt(box[argWord(endian, i, true)]![0]!);
    out.push((hi << 32n) | lo);
  }
  return out;
}

function callText(name: string, args: readonly bigint[]): string {
  let n = args.length;
  while (n > 0 && args[n - 1] === 0n) n--;
  return `${name}(${args.slice(0, n).map(hex).join(", ")})`;
}

/** How an outcome reads: "ALLOW", "ERRNO(EPERM) or ALLOW by argument". */
function outcomeText(o: SyscallOutcome): string {
  return o.rets.map((r) => retText(r, o.abi)).join(" or ") + (o.rets.length > 1 ? " by argument" : "");
}

/** The first permissive path's call of an outcome. */
function permissiveExample(o: SyscallOutcome): Example | undefined {
  const p = o.paths.find((x) => isPermissive(x.ret));
  return p === undefined ? undefined : { abi: o.abi, syscall: o.name, args: pathArgs(o.abi, p.box), ret: p.ret };
}

function listText(items: readonly string[], max = 8): string {
  return items.length <= max ? items.join(", ") : `${items.slice(0, max).join(", ")} and ${items.length - max} more`;
}

// ---- the checks -------------------------------------------------------------------------------

interface Ctx {
  readonly view: DecisionView;
  readonly opts: AuditOptions;
  readonly out: Raw[];
}

function outcome(ctx: Ctx, abi: AbiName, name: string): SyscallOutcome | undefined {
  return ctx.view.outcomes.get(abi)?.get(name);
}

function routeChecks(ctx: Ctx): void {
  const k = ctx.opts.hostKernel;
  for (const abi of ctx.view.abis) {
    // io_uring
    if (versionAtLeast(k, "5.1") && allowsSome(outcome(ctx, abi, "io_uring_setup"))) {
      const calls: string[] = [];
      const how: string[] = [];
      for (const op of IO_URING_OPS) {
        if (!versionAtLeast(k, op.since)) continue;
        for (const s of op.syscalls) {
          const o = outcome(ctx, abi, s);
          if (o === undefined || allowsAll(o) || calls.includes(s)) continue;
          calls.push(s);
          how.push(`IORING_OP_${op.name} (Linux ${op.since}) performs ${s}, which gets ${outcomeText(o)}`);
        }
      }
      if (calls.length > 0) {
        ctx.out.push({ id: "route.io-uring", abi, syscalls: ["io_uring_setup", ...calls], union: true, labels: calls, summary: "io_uring_setup is allowed on {abis}, and ring opcodes perform calls the filter denies or restricts: {list}", details: how, examples: [{ abi, syscall: "io_uring_setup", args: [], ret: ctx.view.at(abi, syscallNumber(abi, "io_uring_setup")!) }] });
      }
    }
    // socketcall and ipc
    for (const [via, subs, has] of [["socketcall", SOCKETCALL_SUBCALLS, hasSocketcall], ["ipc", IPC_SUBCALLS, hasIpc]] as const) {
      if (!has(abi)) continue;
      const nr = syscallNumber(abi, via)!;
      const open: string[] = [];
      const details: string[] = [];
      const examples: Example[] = [];
      for (const [sub, num] of Object.entries(subs)) {
        const direct = outcome(ctx, abi, sub);
        if (direct === undefined || allowsAll(direct)) continue;
        const ret = ctx.view.at(abi, nr, [BigInt(num)]);
        if (!isPermissive(ret)) continue;
        open.push(sub);
        details.push(`${via}(${num}, …) → ${retText(ret, abi)}, while ${sub} gets ${outcomeText(direct)}`);
        examples.push({ abi, syscall: via, args: [BigInt(num)], ret });
      }
      if (open.length > 0) ctx.out.push({ id: `route.${via}`, abi, syscalls: [via, ...open], union: true, labels: open.map((o) => `${o} (${via}(${subs[o]}, …))`), summary: `${via} is open on {abis} for calls the direct syscalls restrict: {list}`, details, examples });
    }
    // clone3, openat2
    for (const route of HIDDEN_ARGUMENT_ROUTES) {
      if (!versionAtLeast(k, route.call === "clone3" ? "5.3" : "5.6")) continue;
      const c = outcome(ctx, abi, route.call);
      if (!allowsSome(c)) continue;
      for (const h of route.hides) {
        const o = outcome(ctx, abi, h);
        if (o === undefined || !allowsSome(o) || allowsAll(o)) continue;
        const ex = permissiveExample(c!)!;
        ctx.out.push({ id: `route.${route.call}`, abi, syscalls: [route.call, h], summary: `${route.call} gets ${outcomeText(c!)} on {abis} while ${h} is restricted by argument (${outcomeText(o)}); ${route.call} hides ${route.what}`, examples: [ex] });
        break;
      }
    }
  }
}

function abiChecks(ctx: Ctx): void {
  const { view } = ctx;
  const covered = new Set(view.abis);
  const badPermissive = isPermissive(view.badArchRet);
  let compatHole = false;
  for (const native of view.abis) {
    const local = LOCAL_ABIS[native];
    if (local[0] !== native || local.length < 2 || native === "x32") continue;
    for (const compat of local.slice(1)) {
      if (covered.has(compat)) {
        const allowed = syscallTable(compat).filter((e) => allowsSome(outcome(ctx, compat, e.name))).map((e) => e.name);
        if (allowed.length > 0) ctx.out.push({ id: "abi.compat-surface", abi: compat, syscalls: [], summary: `${allowed.length} calls are allowed on the compat ABI {abis} (of ${native})` });
        continue;
      }
      if (compat === "x32") {
        // x32 numbers arrive with AUDIT_ARCH_X86_64: look at what they get.
        const through: string[] = [];
        const details: string[] = [];
        const examples: Example[] = [];
        for (const e of syscallTable("x32")) {
          if (!isX32Number(e.nr)) continue;
          const ret = view.at("x32", e.nr);
          if (!isPermissive(ret)) continue;
          const twin = outcome(ctx, "x86_64", e.name);
          if (twin !== undefined && allowsAll(twin) && !badPermissive) continue;
          through.push(e.name);
          if (details.length < 8) details.push(`x32 ${e.name} (nr 0x${e.nr.toString(16)}) → ${retText(ret, "x32")}${twin !== undefined ? `, while x86_64 ${e.name} gets ${outcomeText(twin)}` : ""}`);
          examples.push({ abi: "x32", syscall: e.name, args: [], ret });
        }
        if (through.length === 0) continue;
        if (badPermissive) {
          compatHole = true;
          ctx.out.push({ id: "abi.compat-uncovered", abi: "x32", syscalls: [], summary: `{abis} is not covered and its calls get ${formatAction(view.badArchRet)} (the bad-arch action): ${through.length} calls run unfiltered`, details });
        } else {
          ctx.out.push({ id: "abi.x32-numbers", abi: "x32", syscalls: through, union: true, summary: "x32 numbers (bit 30) of {list} are allowed with AUDIT_ARCH_X86_64 although x32 is not covered", details });
        }
        continue;
      }
      if (badPermissive) {
        compatHole = true;
        ctx.out.push({ id: "abi.compat-uncovered", abi: compat, syscalls: [], summary: `{abis} (a compat ABI of ${native}) is not covered and its calls get ${formatAction(view.badArchRet)} (the bad-arch action): every call runs unfiltered` });
      }
    }
  }
  if (badPermissive && !compatHole) ctx.out.push({ id: "abi.bad-arch-permissive", syscalls: [], summary: `calls of ABIs the filter does not cover get ${formatAction(view.badArchRet)}` });
  for (const abi of view.abis) {
    const rets = view.unknownRets.get(abi) ?? [];
    const p = rets.filter(isPermissive);
    if (p.length > 0) ctx.out.push({ id: "abi.unknown-allowed", abi, syscalls: [], summary: `numbers no table of {abis} names get ${p.map((r) => retText(r, abi)).join(" or ")}` });
  }
}

function argumentChecks(ctx: Ctx): void {
  for (const abi of ctx.view.abis) {
    const a = getAbi(abi);
    for (const o of ctx.view.outcomes.get(abi)!.values()) {
      if (o.words.size === 0) continue;
      const types = syscallArgTypes(abi, o.name) ?? [];
      for (let i = 0; i < 6; i++) {
        const t = types[i];
        if (t === undefined) continue;
        const lo = argWord(a.endian, i, false);
        const hi = argWord(a.endian, i, true);
        if (t.type.includes("*") && (o.words.has(lo) || o.words.has(hi))) {
          ctx.out.push({ id: "args.pointer", abi, syscalls: [o.name], summary: `${o.name}'s decision on {abis} depends on arg${i} (${t.name}: ${t.type}), a pointer`, examples: [permissiveExample(o) ?? { abi, syscall: o.name, args: [], ret: o.rets[0]! }] });
          continue;
        }
        if (a.argBits !== 64 || t.bits > 32 || !o.words.has(hi)) continue;
        const hole = highBitsHole(ctx.view, o, i, hi);
        if (hole !== undefined) {
          ctx.out.push({
            id: "args.high-bits",
            abi,
            syscalls: [o.name],
            summary: `${o.name} on {abis} compares the high 32 bits of arg${i} (${t.name}: ${t.type}, ${t.bits} bits for the kernel)`,
            details: [`${callText(o.name, hole.strict.args)} → ${retText(hole.strict.ret, abi)}, but ${callText(o.name, hole.loose.args)} → ${retText(hole.loose.ret, abi)}, and the kernel sees the same ${t.name}`],
            examples: [hole.loose],
          });
        }
      }
    }
  }
}

/** Two calls that differ only in the high word of argument `i`, one permissive and one not; undefined when there is none. */
function highBitsHole(view: DecisionView, o: SyscallOutcome, i: number, hiWord: number): { strict: Example; loose: Example } | undefined {
  const all = view.wordValues[hiWord]!;
  for (const p of o.paths) {
    if (p.box[hiWord]!.length === all.length) continue;
    const args = pathArgs(o.abi, p.box);
    const low = args[i]! & 0xffffffffn;
    for (const h of all.slice(0, 16)) {
      if (p.box[hiWord]!.includes(h)) continue;
      const other = [...args];
      other[i] = (BigInt(h) << 32n) | low;
      const ret = view.at(o.abi, o.nr, other);
      if (ret === p.ret || isPermissive(ret) === isPermissive(p.ret)) continue;
      const a: Example = { abi: o.abi, syscall: o.name, args, ret: p.ret };
      const b: Example = { abi: o.abi, syscall: o.name, args: other, ret };
      return isPermissive(p.ret) ? { strict: b, loose: a } : { strict: a, loose: b };
    }
  }
  return undefined;
}

function dangerChecks(ctx: Ctx): void {
  const dangers = AUDIT_CATALOGUE.filter((e) => e.category === "danger");
  for (const abi of ctx.view.abis) {
    for (const entry of dangers) {
      const found: string[] = [];
      const labels: string[] = [];
      const details: string[] = [];
      const examples: Example[] = [];
      const point = (name: string, args: readonly bigint[], label: string): void => {
        const nr = syscallNumber(abi, name);
        if (nr === undefined) return;
        const ret = ctx.view.at(abi, nr, args);
        if (!isPermissive(ret)) return;
        if (!found.includes(name)) found.push(name);
        labels.push(label);
        details.push(`${label} → ${retText(ret, abi)}`);
        examples.push({ abi, syscall: name, args, ret });
      };
      switch (entry.id) {
        case "danger.namespaces": {
          point("unshare", [CLONE_NEWUSER], "unshare(CLONE_NEWUSER)");
          const flagsAt = (syscallArgTypes(abi, "clone") ?? []).findIndex((t) => t !== undefined && /flags/.test(t.name));
          if (flagsAt >= 0) {
            const args = [0n, 0n, 0n, 0n, 0n, 0n];
            args[flagsAt] = CLONE_NEWUSER | 17n;
            point("clone", args, "clone(CLONE_NEWUSER | SIGCHLD, …)");
          }
          const setns = outcome(ctx, abi, "setns");
          if (allowsSome(setns)) {
            found.push("setns");
            labels.push("setns");
            details.push(`setns → ${outcomeText(setns!)}`);
            examples.push(permissiveExample(setns!)!);
          }
          break;
        }
        case "danger.personality":
          for (const p of RISKY_PERSONAS) point("personality", [p.value], `personality(${p.name})`);
          break;
        case "danger.tiocsti": {
          const t = terminalIoctls(abi);
          point("ioctl", [0n, BigInt(t.TIOCSTI)], "ioctl(fd, TIOCSTI)");
          point("ioctl", [0n, BigInt(t.TIOCLINUX)], "ioctl(fd, TIOCLINUX)");
          break;
        }
        default:
          for (const name of entry.syscalls ?? []) {
            const o = outcome(ctx, abi, name);
            if (!allowsSome(o)) continue;
            found.push(name);
            labels.push(allowsAll(o) ? name : `${name} (by argument)`);
            details.push(`${name} → ${outcomeText(o!)}`);
            examples.push(permissiveExample(o!)!);
          }
      }
      if (found.length === 0) continue;
      ctx.out.push({ id: entry.id, abi, syscalls: found, union: true, labels, summary: `{list} allowed on {abis}: ${entry.gives ?? entry.title}`, details, examples });
    }
  }
}

function actionChecks(ctx: Ctx): void {
  const { view } = ctx;
  for (const abi of view.abis) {
    const outs = [...view.outcomes.get(abi)!.values()];
    for (const [id, action] of [["action.trace", "TRACE"], ["action.notify", "USER_NOTIF"]] as const) {
      const hit = outs.filter((o) => o.rets.some((r) => retAction(r) === action)).map((o) => o.name);
      if (hit.length > 0) ctx.out.push({ id, abi, syscalls: hit, union: true, summary: `${action} on {abis} for {list}` });
    }
    const killed = STARTUP_PROBES.filter((s) => {
      const o = outcome(ctx, abi, s);
      return o !== undefined && o.rets.some((r) => ["KILL_PROCESS", "KILL_THREAD", "TRAP"].includes(retAction(r)));
    });
    if (killed.length > 0) ctx.out.push({ id: "action.kill-startup-probe", abi, syscalls: killed, union: true, summary: "killed (or trapped) on {abis}, where libc and libuv expect ENOSYS: {list}" });
    // A deny list: the calls newer than systemd's @known, which no list written before them names, run.
    const known = knownNames();
    const newer = syscallTable(abi).filter((e) => !known.has(e.name)).map((e) => e.name);
    if (newer.length > 0 && newer.every((n) => allowsAll(outcome(ctx, abi, n)))) {
      const o = outcome(ctx, abi, newer[0]!)!;
      ctx.out.push({ id: "action.permissive-default", abi, syscalls: [], summary: `calls no rule names get ${outcomeText(o)} on {abis} (so do the ${newer.length} calls newer than systemd's @known: ${listText(newer, 4)})`, examples: [permissiveExample(o)!] });
    }
  }
}

let knownCache: ReadonlySet<string> | undefined;
function knownNames(): ReadonlySet<string> {
  return (knownCache ??= new Set(expandItem("@known")));
}

function kernelChecks(ctx: Ctx): void {
  const k = ctx.opts.hostKernel;
  if (k === undefined) return;
  const { view } = ctx;
  const anyRet = (pred: (r: number) => boolean): boolean => pred(view.badArchRet) || view.abis.some((abi) => [...view.outcomes.get(abi)!.values()].some((o) => o.rets.some(pred)));
  if (!versionAtLeast(k, "4.8")) {
    const ptraced = view.abis.filter((abi) => allowsSome(outcome(ctx, abi, "ptrace")));
    const traced = anyRet((r) => retAction(r) === "TRACE");
    if (ptraced.length > 0 || traced) {
      ctx.out.push({ id: "kernel.ptrace-before-4.8", syscalls: ptraced.length > 0 ? ["ptrace"] : [], summary: `Linux ${k.join(".")}: ${ptraced.length > 0 ? `ptrace is allowed (${ptraced.join(", ")})` : "the filter uses TRACE"}, and a tracer can change a call after the filter checked it` });
    }
  }
  if (!versionAtLeast(k, "4.14") && anyRet((r) => retAction(r) === "KILL_PROCESS")) {
    ctx.out.push({ id: "kernel.kill-process-before-4.14", syscalls: [], summary: `Linux ${k.join(".")}: KILL_PROCESS kills only the calling thread` });
  }
}

// ---- rule lints (basis "rules") ------------------------------------------------------------------

const ZERO_EXTENDED: Readonly<Record<8 | 16 | 32, bigint>> = { 8: 1n << 8n, 16: 1n << 16n, 32: 1n << 32n };
const SIGN_EXTENDED: Readonly<Record<8 | 16 | 32, bigint>> = { 8: (1n << 64n) - (1n << 8n), 16: (1n << 64n) - (1n << 16n), 32: (1n << 64n) - (1n << 32n) };

function ruleChecks(policy: Policy, abis: readonly AbiName[], out: Raw[]): void {
  for (const r of policy.rules) {
    for (const c of r.conditions) {
      if (c.op === "MASKED_EQ" && (c.value & ~(c.mask ?? 0n)) !== 0n) {
        out.push({ id: "args.masked-eq-outside-mask", syscalls: [r.syscall], summary: `${r.syscall}: arg${c.arg} & ${hex(c.mask ?? 0n)} == ${hex(c.value)} never holds (the value has bits outside the mask): the rule never applies`, origins: [r.origin] });
      }
      for (const abi of abis) {
        if (syscallNumber(abi, r.syscall) === undefined || (r.abis !== undefined && !r.abis.includes(abi))) continue;
        const w = conditionWidth(policy, abi, r.syscall, c.arg);
        if (w === 64 || c.value < ZERO_EXTENDED[w] || c.value >= SIGN_EXTENDED[w]) continue;
        const t = argType(abi, r.syscall, c.arg);
        out.push({ id: "args.truncated-constant", abi, syscalls: [r.syscall], summary: `${r.syscall}: arg${c.arg} ${c.op} ${hex(c.value)} is compared on its low ${w} bits on {abis}${t !== undefined ? ` (${t.name} is ${t.type})` : ""}, i.e. as ${hex(c.value & ((1n << BigInt(w)) - 1n))}`, origins: [r.origin] });
      }
    }
  }
}

// ---- putting it together ----------------------------------------------------------------------------

function fixText(entry: CatalogueEntry, kind: AuditSourceKind, syscalls: readonly string[], abis: readonly AbiName[]): string {
  const t = kind === "nspawn" ? entry.fix.nspawn : kind === "unit" ? entry.fix.unit : kind === "profile" ? entry.fix.profile : undefined;
  const names = entry.category === "danger" || entry.id === "action.kill-startup-probe" ? syscalls.filter((s) => s !== "ioctl") : syscalls;
  const fill = (s: string): string => s.replace(/\{names\}/g, names.join(" ")).replace(/\{json\}/g, JSON.stringify(names)).replace(/\{abis\}/g, abis.join(","));
  if (entry.id === "danger.tiocsti") {
    return kind === "policy" || kind === "program"
      ? '{"syscall": "ioctl", "action": "ERRNO(EPERM)", "args": [{"index": 1, "op": "EQ", "value": 21522}]} (TIOCSTI; the same for TIOCLINUX 21532), or run under syscage run, which guards the terminal'
      : "run the command under syscage run (it denies TIOCSTI and TIOCLINUX), or set dev.tty.legacy_tiocsti=0 (Linux 6.2)";
  }
  return fill(t ?? entry.fix.policy);
}

function capabilityOf(entry: CatalogueEntry, caps: ReadonlySet<string> | undefined): { needs: string; held: boolean | null } | undefined {
  if (entry.capability === undefined) return undefined;
  const cap = /^CAP_[A-Z_]+/.exec(entry.capability)?.[0];
  if (cap === undefined || caps === undefined) return { needs: entry.capability, held: null };
  return { needs: entry.capability, held: caps.has(cap) };
}

function merge(raws: readonly Raw[], policy: Policy | undefined, opts: AuditOptions): AuditFinding[] {
  const kind = opts.kind ?? "policy";
  const groups = new Map<string, { raw: Raw; abis: AbiName[]; syscalls: string[]; labels: string[]; examples: Example[]; details: string[]; origins: string[] }>();
  const add = (list: string[], items: readonly string[]): void => {
    for (const x of items) if (!list.includes(x)) list.push(x);
  };
  for (const r of raws) {
    const key = r.union === true ? r.id : `${r.id}\0${r.syscalls.join(",")}\0${r.summary}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { raw: r, abis: [], syscalls: [], labels: [], examples: [], details: [], origins: [] }));
    if (r.abi !== undefined && !g.abis.includes(r.abi)) g.abis.push(r.abi);
    add(g.syscalls, r.syscalls);
    add(g.labels, r.labels ?? r.syscalls);
    g.examples.push(...(r.examples ?? []));
    for (const d of r.details ?? []) if (!g.details.includes(d)) g.details.push(d);
    for (const o of r.origins ?? []) if (!g.origins.includes(o)) g.origins.push(o);
  }
  const out: AuditFinding[] = [];
  for (const g of groups.values()) {
    const entry = catalogueEntry(g.raw.id);
    if (entry === undefined) throw new Error(`audit: no catalogue entry ${g.raw.id}`);
    if (policy !== undefined) {
      for (const e of g.examples) {
        const d = decide(policy, { arch: getAbi(e.abi).auditArch, nr: syscallNumber(e.abi, e.syscall) ?? 0, args: e.args });
        if (!g.origins.includes(d.origin)) g.origins.push(d.origin);
      }
    }
    const capability = capabilityOf(entry, opts.capabilities);
    const weight = entryWeight(entry) * (capability?.held === false ? WITHOUT_CAPABILITY_FACTOR : 1);
    const abiText = g.abis.length > 0 ? g.abis.join(", ") : "every ABI";
    out.push({
      id: entry.id,
      title: entry.title,
      category: entry.category,
      severity: entry.severity,
      weight,
      basis: entry.basis,
      abis: g.abis,
      syscalls: g.syscalls,
      summary: g.raw.summary.replace(/\{abis\}/g, abiText).replace(/\{list\}/g, listText(g.labels)).replace(/\{count\}/g, String(g.labels.length)) + (capability !== undefined && capability.held !== null ? ` (needs ${/^CAP_[A-Z_]+/.exec(capability.needs)![0]}: ${capability.held ? "held" : "not held, so the filter is a second line"})` : ""),
      details: g.details,
      why: entry.why,
      references: entry.references,
      fix: fixText(entry, kind, g.syscalls, g.abis),
      ...(capability !== undefined ? { capability } : {}),
      origins: g.origins,
    });
  }
  return out;
}

function applyWaivers(findings: AuditFinding[], waivers: readonly AuditWaiver[], warnings: string[]): AuditFinding[] {
  const used = new Set<number>();
  waivers.forEach((w, i) => {
    if (catalogueEntry(w.id) === undefined) {
      throw new SyscageError("BAD_WAIVER", `audit.waive[${i}].id: unknown finding "${w.id}".${didYouMean(suggest(w.id, AUDIT_CATALOGUE.map((e) => e.id)))} Ids are listed in docs/audit.md (syscage audit --help)`);
    }
  });
  const out = findings.map((f) => {
    const i = waivers.findIndex((w) => w.id === f.id && (w.syscalls === undefined || f.syscalls.every((s) => w.syscalls!.includes(s))));
    if (i < 0) return f;
    used.add(i);
    return { ...f, weight: 0, waived: { reason: waivers[i]!.reason, waiver: i } };
  });
  waivers.forEach((w, i) => {
    if (!used.has(i)) warnings.push(`audit.waive[${i}] (${w.id}) matches no finding; remove it`);
  });
  return out;
}

function sortFindings(findings: AuditFinding[]): AuditFinding[] {
  const rank = (f: AuditFinding): number => SEVERITIES.indexOf(f.severity);
  const order = (f: AuditFinding): number => AUDIT_CATALOGUE.findIndex((e) => e.id === f.id);
  return findings.sort(
    (a, b) =>
      (a.waived !== undefined ? 1 : 0) - (b.waived !== undefined ? 1 : 0) ||
      rank(a) - rank(b) ||
      b.weight - a.weight ||
      order(a) - order(b) ||
      a.abis.join(",").localeCompare(b.abis.join(",")) ||
      a.syscalls.join(",").localeCompare(b.syscalls.join(",")),
  );
}

function finish(view: DecisionView, raws: Raw[], policy: Policy | undefined, opts: AuditOptions): AuditResult {
  const warnings: string[] = [];
  let findings = merge(raws, policy, opts);
  if (policy?.audit !== undefined) findings = applyWaivers(findings, policy.audit.waive, warnings);
  findings = sortFindings(findings);
  const score = exposureScore(findings.map((f) => f.weight));
  return {
    abis: view.abis,
    findings,
    score,
    label: exposureLabel(score),
    ...(opts.hostKernel !== undefined ? { hostKernel: opts.hostKernel.join(".") } : {}),
    warnings,
  };
}

function decisionFindings(view: DecisionView, opts: AuditOptions): Raw[] {
  const ctx: Ctx = { view, opts, out: [] };
  routeChecks(ctx);
  abiChecks(ctx);
  argumentChecks(ctx);
  dangerChecks(ctx);
  actionChecks(ctx);
  kernelChecks(ctx);
  return ctx.out;
}

/**
 * Audit raw programs (a stack, oldest first): the findings of basis
 * "decisions" (see the module doc).
 */
export function auditPrograms(programs: readonly (readonly Insn[])[], opts: AuditOptions = {}): AuditResult {
  const view = decisionView(programs);
  return finish(view, decisionFindings(view, { kind: "program", ...opts }), undefined, { kind: "program", ...opts });
}

/**
 * Audit a policy: the program it compiles to (the decision findings, as
 * {@link auditPrograms} gives them for that program), the lints of its rules,
 * the origins of the rules that decided, and its waivers.
 */
export function auditPolicy(policy: Policy, opts: AuditOptions = {}): AuditResult {
  const view = decisionView([compile(policy).insns]);
  const raws = decisionFindings(view, opts);
  ruleChecks(policy, policy.abis, raws);
  return finish(view, raws, policy, opts);
}

/** Parse `--host-kernel X.Y` (a release such as 6.1 or 5.15.0-91-generic). */
export function parseHostKernel(text: string, where = "--host-kernel"): [number, number] {
  const m = /^\s*(\d+)\.(\d+)(?:[.\-+~_].*)?\s*$/.exec(text);
  if (m === null) throw new SyscageError("BAD_USAGE", `${where}: "${text}" is not a kernel release; write MAJOR.MINOR, e.g. ${where} 6.1`);
  return [Number(m[1]), Number(m[2])];
}

export { AUDIT_CATALOGUE, exposureScore } from "./audit-catalogue.js";
