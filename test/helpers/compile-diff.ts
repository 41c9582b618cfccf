/**
 * Shared machinery of the compiler tests (compile-*.test.ts): argument values
 * around a policy's constants, a seeded PRNG, Policy → libseccomp spec
 * conversion, the random policies of the libseccomp differential, and a small
 * test-side translation of Docker/Podman profiles (moby's include/exclude
 * rules, runc's rule splitting) — not the real importer (issue #5).
 */
import fc from "fast-check";
import { mulberry32 } from "../../src/rng.js";
import { ABI_NAMES, getAbi, syscallName, syscallTable, syscallNumber, knownSyscallNames, errnoNumber, type AbiName } from "../../src/abi/index.js";
import { interpret, type Insn, type SeccompData } from "../../src/bpf/index.js";
import { conditionWidth } from "../../src/policy/evaluate.js";
import { sameAction, type Action, type Condition, type Policy, type PolicyInput, type RuleInput, type ConditionInput } from "../../src/policy/model.js";
import type { LsAction, LsArch, LsCond, LsRule, LsSpec } from "./libseccomp.js";

export const U64_MAX = (1n << 64n) - 1n;
const HI = 0xffffffff00000000n;
const LO = 0xffffffffn;

// ---- PRNG ----------------------------------------------------------------------

/** mulberry32: small, seeded, reproducible. */
export const rng = mulberry32;

function randU64(r: () => number): bigint {
  return (BigInt(Math.floor(r() * 4294967296)) << 32n) | BigInt(Math.floor(r() * 4294967296));
}

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

// ---- argument values -------------------------------------------------------------

/** Values at which a comparison with `c` can flip, including high-word-only differences. */
export function conditionValues(c: { value: bigint; mask?: bigint | undefined }): bigint[] {
  const v = c.value;
  const raw = [
    0n, 1n, v, v - 1n, v + 1n,
    0x7fffffffn, 0x80000000n, LO, 1n << 32n, (1n << 32n) + 1n, 1n << 63n, U64_MAX,
    v ^ (1n << 32n), v ^ (1n << 63n), v ^ HI, v & LO, (v & LO) | (1n << 32n), v | HI,
    (v & HI) | ((v + 1n) & LO), (v & HI) | ((v - 1n) & LO), ((v & HI) + (1n << 32n)) | (v & LO), ((v & HI) - (1n << 32n)) | (v & LO),
  ];
  if (c.mask !== undefined) {
    const m = c.mask;
    const low = m & -m;
    raw.push(m, v | (~m & U64_MAX), v & m, (v & m) ^ low, (v & m) | (~m & U64_MAX), (v & m) ^ (m & HI), (v & m) ^ (m & LO));
  }
  return [...new Set(raw.map((x) => x & U64_MAX))];
}

/**
 * Argument vectors that exercise every rule of one syscall: for each rule the
 * cross product of its conditions' values (sampled when large), and random
 * combinations of all arguments' values, so that overlapping rules meet.
 */
export function argVectors(conds: readonly (readonly Condition[])[], seed: number, perRule = 200, mixed = 120): bigint[][] {
  const r = rng(seed);
  const byArg: bigint[][] = [[], [], [], [], [], []];
  for (const cs of conds) for (const c of cs) byArg[c.arg]!.push(...conditionValues(c));
  for (let i = 0; i < 6; i++) byArg[i] = [...new Set(byArg[i]!.length === 0 ? [0n] : byArg[i]!)];
  const out: bigint[][] = [[0n, 0n, 0n, 0n, 0n, 0n]];
  for (const cs of conds) {
    const args = [...new Set(cs.map((c) => c.arg))];
    const lists = args.map((a) => byArg[a]!);
    const total = lists.reduce((n, l) => n * l.length, 1);
    if (total <= perRule) {
      let vecs: bigint[][] = [[0n, 0n, 0n, 0n, 0n, 0n]];
      args.forEach((a, j) => {
        const next: bigint[][] = [];
        for (const v of vecs) for (const x of lists[j]!) next.push(v.map((y, i) => (i === a ? x : y)));
        vecs = next;
      });
      out.push(...vecs);
    } else {
      for (let k = 0; k < perRule; k++) {
        const v = [0n, 0n, 0n, 0n, 0n, 0n];
        args.forEach((a, j) => (v[a] = pick(r, lists[j]!)));
        out.push(v);
      }
    }
  }
  if (conds.some((cs) => cs.length > 0)) {
    for (let k = 0; k < mixed; k++) out.push(byArg.map((l) => (r() < 0.1 ? randU64(r) : pick(r, l))));
  }
  return out;
}

/**
 * Numbers to probe on an ABI: from its offset through its table and a little
 * beyond, every number — except inside gaps wider than 256 (ARM's private
 * calls at 0x0f0000), where only the edges and the middle are taken.
 */
export function tableRange(abi: AbiName, beyond = 8): number[] {
  const base = getAbi(abi).nrOffset;
  const nrs = syscallTable(abi).map((e) => e.nr);
  const out = new Set<number>();
  let prev = base - 1;
  for (const nr of [...nrs, nrs[nrs.length - 1]! + beyond + 1]) {
    if (nr - prev <= 256) for (let x = prev + 1; x < nr; x++) out.add(x);
    else for (const x of [prev + 1, prev + 2, prev + 3, (prev + nr) >> 1, nr - 3, nr - 2, nr - 1]) out.add(x);
    out.add(nr);
    prev = nr;
  }
  return [...out].filter((x) => x >= base).sort((a, b) => a - b);
}

export const hex = (n: number | bigint): string => (typeof n === "bigint" ? "0x" + n.toString(16) : "0x" + (n >>> 0).toString(16));

/** JSON with bigints as hex strings, for failure messages. */
export function show(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => (typeof v === "bigint" ? hex(v) : v));
}

// ---- Policy ↔ libseccomp -----------------------------------------------------------

/** libseccomp's spelling of an action (errno names resolved on x86_64), or undefined if libseccomp cannot express it. */
export function lsAction(a: Action): LsAction | undefined {
  switch (a.kind) {
    case "ALLOW":
    case "KILL_THREAD":
    case "KILL_PROCESS":
    case "LOG":
    case "NOTIFY":
      return a.kind;
    case "TRAP":
      return a.data === 0 ? "TRAP" : undefined;
    case "TRACE":
      return { TRACE: a.data };
    case "ERRNO": {
      const n = typeof a.errno === "number" ? a.errno : errnoNumber("x86_64", a.errno);
      return n === undefined || n > 4094 ? undefined : { ERRNO: n };
    }
  }
}

function lsCond(c: Condition): LsCond {
  return c.op === "MASKED_EQ" ? { arg: c.arg, op: c.op, value: c.value, mask: c.mask ?? 0n } : { arg: c.arg, op: c.op, value: c.value };
}

/** The libseccomp spec for a policy over x86_64/x86/x32 (badArch: libseccomp's default KILL_THREAD). */
export function policyToSpec(p: Policy, optimize: 1 | 2 = 1): LsSpec {
  const act = (a: Action): LsAction => {
    const l = lsAction(a);
    if (l === undefined) throw new Error(`libseccomp cannot express ${show(a)}`);
    return l;
  };
  return {
    default: act(p.default.action),
    badarch: act(p.badArch.action),
    arches: p.abis as LsArch[],
    optimize,
    rules: p.rules.map((r): LsRule => (r.conditions.length === 0 ? { syscall: r.syscall, action: act(r.action) } : { syscall: r.syscall, action: act(r.action), args: r.conditions.map(lsCond) })),
  };
}

/** Canonical key of a rule's conditions (order-insensitive); `bits` 32 truncates constants as libseccomp does on 32-bit arches. */
export function conditionsKey(cs: readonly (ConditionInput | Condition)[], bits: 32 | 64): string {
  const m = bits === 32 ? LO : U64_MAX;
  return cs
    .map((c) => `${c.arg}:${String(c.op)}:${(BigInt(c.value) & m).toString(16)}:${c.mask === undefined ? "" : (BigInt(c.mask) & m).toString(16)}`)
    .sort()
    .join("&");
}

/**
 * Make a rule list acceptable to libseccomp 2.5.4: drop rules whose action
 * equals the default (libseccomp: EACCES; runc skips them too) and rules whose
 * non-empty condition set repeats an earlier rule of the same syscall
 * (libseccomp: EEXIST when the actions differ; a no-op otherwise). Repeated
 * unconditional rules stay: libseccomp accepts them, the first silently wins. Constants are compared
 * truncated to 32 bits when a 32-bit arch is present, as libseccomp does.
 */
export function libseccompCompatible(rules: readonly RuleInput[], def: Action, arches: readonly LsArch[]): { rules: RuleInput[]; droppedDefault: number; droppedDuplicate: number } {
  const bits: 32 | 64 = arches.some((a) => a !== "x86_64") ? 32 : 64;
  const seen = new Set<string>();
  const out: RuleInput[] = [];
  let droppedDefault = 0;
  let droppedDuplicate = 0;
  for (const r of rules) {
    if (typeof r.action !== "string" && lsEq(r.action, def)) {
      droppedDefault++;
      continue;
    }
    const key = `${String(r.syscall)}|${conditionsKey(r.conditions ?? [], bits)}`;
    // Repeated unconditional rules are accepted (the first silently wins in libseccomp): keep them.
    if (seen.has(key) && (r.conditions ?? []).length > 0) {
      droppedDuplicate++;
      continue;
    }
    seen.add(key);
    out.push(r);
  }
  return { rules: out, droppedDefault, droppedDuplicate };
}

function lsEq(a: Action, b: Action): boolean {
  return sameAction(a, b) || JSON.stringify(lsAction(a)) === JSON.stringify(lsAction(b));
}

// ---- random differential policies ---------------------------------------------------

export const X86_TRIO: readonly LsArch[] = ["x86_64", "x86", "x32"];

/** Actions libseccomp 2.5.4 can express: all kinds, TRAP data 0, ERRNO 0..4094 (numbers and names). */
export const lsActionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.constant<Action>({ kind: "ALLOW" }),
  fc.constant<Action>({ kind: "KILL_THREAD" }),
  fc.constant<Action>({ kind: "KILL_PROCESS" }),
  fc.constant<Action>({ kind: "TRAP", data: 0 }),
  fc.constant<Action>({ kind: "LOG" }),
  fc.constant<Action>({ kind: "NOTIFY" }),
  fc.integer({ min: 0, max: 4094 }).map((n): Action => ({ kind: "ERRNO", errno: n })),
  fc.constantFrom("EPERM", "EACCES", "ENOSYS", "EAFNOSUPPORT").map((n): Action => ({ kind: "ERRNO", errno: n })),
  fc.integer({ min: 0, max: 0xffff }).map((n): Action => ({ kind: "TRACE", data: n })),
);

/** u64 constants: small, 32-bit edges, high-word values, random. */
export const valueArb: fc.Arbitrary<bigint> = fc.oneof(
  fc.bigInt({ min: 0n, max: 16n }),
  fc.bigInt({ min: 0n, max: U64_MAX }),
  fc.bigInt({ min: 0n, max: LO }),
  fc.tuple(fc.bigInt({ min: 1n, max: LO }), fc.bigInt({ min: 0n, max: 16n })).map(([h, l]) => (h << 32n) | l),
  fc.constantFrom(0x7fffffffn, 0x80000000n, LO, 1n << 32n, (1n << 32n) + 5n, 1n << 63n, U64_MAX, U64_MAX - 1n),
);

/**
 * A condition on `arg`, all seven operators. With `fitOnly`, MASKED_EQ values
 * lie inside the mask: libseccomp compares `(arg & mask) == (value & mask)`,
 * our policies `(arg & mask) == value` (never true when value has bits outside
 * the mask) — a documented difference, tested on its own.
 */
export function conditionArb(arg: number, fitOnly = false): fc.Arbitrary<ConditionInput> {
  return fc.oneof(
    fc.record({ arg: fc.constant(arg), op: fc.constantFrom("EQ", "NE", "LT", "LE", "GT", "GE"), value: valueArb }),
    fc.tuple(valueArb, valueArb, fc.boolean()).map(([mask, v, fit]): ConditionInput => ({ arg, op: "MASKED_EQ", mask, value: fit || fitOnly ? v & mask : v })),
  );
}

/**
 * Names to use with libseccomp on `arches`: known to our tables, resolved by
 * libseccomp to the same number on every arch (or absent on both), and not
 * multiplexed through socketcall/ipc on x86.
 */
export function agreeingNames(resolved: Record<string, Record<string, number | null>>, names: readonly string[], arches: readonly LsArch[]): string[] {
  return names.filter((n) => arches.every((a) => (syscallNumber(a, n) ?? null) === (resolved[a]?.[n] ?? null)) && arches.some((a) => syscallNumber(a, n) !== undefined));
}

/** A random policy for the differential: several rules per syscall, conditions on distinct args (libseccomp allows one per arg). */
export function diffPolicyArb(pool: readonly string[], arches: fc.Arbitrary<LsArch[]>): fc.Arbitrary<PolicyInput> {
  const ruleArb = (names: readonly string[]): fc.Arbitrary<RuleInput> =>
    fc
      .record({
        syscall: fc.constantFrom(...names),
        action: lsActionArb,
        args: fc.uniqueArray(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
      })
      .chain(({ syscall, action, args }) =>
        (args.length === 0 ? fc.constant<ConditionInput[]>([]) : fc.tuple(...args.map((a) => conditionArb(a, true)))).map((conditions): RuleInput => ({ syscall, action, conditions })),
      );
  return fc
    .record({
      def: lsActionArb,
      abis: arches,
      names: fc.uniqueArray(fc.constantFrom(...pool), { minLength: 1, maxLength: 30, size: "max" }),
    })
    .chain(({ def, abis, names }) =>
      fc.array(ruleArb(names), { minLength: 1, maxLength: Math.min(45, names.length * 2), size: "max" }).map((rules): PolicyInput => ({
        default: def,
        unknown: def,
        badArch: { kind: "KILL_THREAD" },
        abis,
        rules: libseccompCompatible(rules, def, abis).rules,
      })),
    );
}

// ---- Docker / Podman profiles (test-side translation) ---------------------------------

interface ProfileArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}
interface Filter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}
interface ProfileEntry {
  names: string[];
  action: string;
  errnoRet?: number;
  errno?: string;
  args?: ProfileArg[] | null;
  includes?: Filter;
  excludes?: Filter;
}
export interface Profile {
  defaultAction: string;
  defaultErrnoRet?: number;
  defaultErrno?: string;
  syscalls: ProfileEntry[];
}

/** Docker's default capability set (moby oci/caps/defaults.go). */
export const DOCKER_DEFAULT_CAPS: readonly string[] = [
  "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID",
  "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
];

function kernelGE(have: string, want: string): boolean {
  const a = have.split(".").map(Number);
  const b = want.split(".").map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

function profileAction(action: string, errnoRet: number | undefined, errnoName: string | undefined): Action {
  switch (action) {
    case "SCMP_ACT_ALLOW":
      return { kind: "ALLOW" };
    case "SCMP_ACT_ERRNO":
      return { kind: "ERRNO", errno: errnoRet ?? (errnoName !== undefined ? errnoNumber("x86_64", errnoName) ?? 1 : 1) };
    case "SCMP_ACT_KILL":
    case "SCMP_ACT_KILL_THREAD":
      return { kind: "KILL_THREAD" };
    case "SCMP_ACT_KILL_PROCESS":
      return { kind: "KILL_PROCESS" };
    case "SCMP_ACT_TRAP":
      return { kind: "TRAP", data: 0 };
    case "SCMP_ACT_TRACE":
      return { kind: "TRACE", data: errnoRet ?? 0 };
    case "SCMP_ACT_LOG":
      return { kind: "LOG" };
    case "SCMP_ACT_NOTIFY":
      return { kind: "NOTIFY" };
    default:
      throw new Error(`unknown profile action ${action}`);
  }
}

export interface ProfileTranslation {
  input: PolicyInput;
  /** Entries that apply on the host (amd64, kernel, caps). */
  appliedEntries: number;
  /** Entries with several conditions on one argument, split into one rule per condition as runc does. */
  splitEntries: number;
  /** Names skipped on both sides: unknown to our tables, or to libseccomp on every arch. */
  skippedNames: string[];
  droppedDefault: number;
  droppedDuplicate: number;
}

/**
 * Translate a Docker/Podman profile as moby + runc would for an amd64 host
 * (GOARCH "amd64"), `kernel`, `caps`; `lsKnows(name)` says whether
 * libseccomp 2.5.4 knows the name on some arch.
 */
export function translateProfile(profile: Profile, lsKnows: (name: string) => boolean, kernel = "6.18", caps: readonly string[] = DOCKER_DEFAULT_CAPS): ProfileTranslation {
  const arch = "amd64";
  const def = profileAction(profile.defaultAction, profile.defaultErrnoRet, profile.defaultErrno);
  const rules: RuleInput[] = [];
  const skipped = new Set<string>();
  let applied = 0;
  let split = 0;
  profile.syscalls.forEach((e, i) => {
    const ex = e.excludes ?? {};
    const inc = e.includes ?? {};
    if ((ex.arches ?? []).includes(arch)) return;
    if ((ex.caps ?? []).some((c) => caps.includes(c))) return;
    if (ex.minKernel !== undefined && ex.minKernel !== "" && kernelGE(kernel, ex.minKernel)) return;
    if ((inc.arches ?? []).length > 0 && !inc.arches!.includes(arch)) return;
    if (!(inc.caps ?? []).every((c) => caps.includes(c))) return;
    if (inc.minKernel !== undefined && inc.minKernel !== "" && !kernelGE(kernel, inc.minKernel)) return;
    applied++;
    const action = profileAction(e.action, e.errnoRet, e.errno);
    const conds: ConditionInput[] = (e.args ?? []).map((a) => {
      const op = a.op.replace(/^SCMP_CMP_/, "");
      return op === "MASKED_EQ" ? { arg: a.index, op, mask: BigInt(a.value), value: BigInt(a.valueTwo ?? 0) } : { arg: a.index, op, value: BigInt(a.value) };
    });
    const perArg = new Map<number, number>();
    for (const c of conds) perArg.set(c.arg ?? -1, (perArg.get(c.arg ?? -1) ?? 0) + 1);
    const groups = [...perArg.values()].some((n) => n > 1) ? conds.map((c) => [c]) : [conds];
    if (groups.length > 1) split++;
    for (const name of e.names) {
      if (!knownSyscallNames().has(name) || !lsKnows(name)) {
        skipped.add(name);
        continue;
      }
      for (const g of groups) rules.push({ syscall: name, action, conditions: g, origin: `profile entry #${i + 1}` });
    }
  });
  const compat = libseccompCompatible(rules, def, X86_TRIO);
  return {
    input: { default: def, unknown: def, badArch: { kind: "KILL_THREAD" }, abis: [...X86_TRIO], rules: compat.rules, origin: "profile" },
    appliedEntries: applied,
    splitEntries: split,
    skippedNames: [...skipped].sort(),
    droppedDefault: compat.droppedDefault,
    droppedDuplicate: compat.droppedDuplicate,
  };
}

// ---- libseccomp's reading of a policy -------------------------------------------------

/** libseccomp's reading of a policy: every register bit compared (argumentWidth "u64"). */
export function wideOf(p: Policy): Policy {
  return { ...p, argumentWidth: "u64" };
}

/** The policy as libseccomp reads it on x32: constants (and masks) cut to their low 32 bits; cut the call's arguments too. */
export function truncated(p: Policy): Policy {
  return {
    ...p,
    rules: p.rules.map((r) => ({
      ...r,
      conditions: r.conditions.map((c) => (c.mask === undefined ? { ...c, value: c.value & LO } : { ...c, value: c.value & LO, mask: c.mask & LO })),
    })),
  };
}

/**
 * The class "narrow-high-bits" of issue #9: does the call have a narrow
 * argument (declared type narrower than the register, under p's
 * argumentWidth) that a rule of its syscall tests, whose register value or
 * the condition's constant has bits set above the type's width (within the
 * register)? Only on such calls may the kernel-width reading and
 * libseccomp's all-bits reading differ.
 */
export function narrowHighBits(p: Policy, abi: AbiName, nr: number, args: readonly bigint[]): boolean {
  const name = syscallName(abi, nr >>> 0);
  if (name === undefined) return false;
  const reg = getAbi(abi).argBits;
  const regMask = (1n << BigInt(reg)) - 1n;
  for (const r of p.rules) {
    if (r.syscall !== name) continue;
    for (const c of r.conditions) {
      const w = conditionWidth(p, abi, name, c.arg);
      if (w >= reg) continue;
      if (((args[c.arg] ?? 0n) & regMask) >> BigInt(w) !== 0n || (c.value & regMask) >> BigInt(w) !== 0n) return true;
    }
  }
  return false;
}

/**
 * The first instruction on the path `data` takes through `insns` that
 * {@link suspectJumps} flagged (`flaws`), with what is wrong there; undefined
 * when the path is clean.
 */
export function flawOnPath(insns: readonly Insn[], flaws: ReadonlyMap<number, string>, data: SeccompData, endian: "little" | "big"): { pc: number; why: string } | undefined {
  if (flaws.size === 0) return undefined;
  const bad = (interpret(insns, data, endian, { trace: true }).trace ?? []).find((st) => flaws.has(st.pc));
  return bad === undefined ? undefined : { pc: bad.pc, why: flaws.get(bad.pc)! };
}

// ---- flaws in libseccomp's programs ---------------------------------------------------

/**
 * Conditional jumps in a program that compare an accumulator whose content is
 * not well defined: A holds different words on different paths into the jump
 * (libseccomp 2.5.4 joins argument chains without reloading A), or A still
 * holds `arch` where a syscall number is compared (libseccomp 2.5.4 omits the
 * `ld [0]` of an x86_64/x32 section in some multi-arch filters). A correct
 * compiler never emits either. The missing `ld [0]` is also caught when the
 * number happens to equal an AUDIT_ARCH value (aarch64's epoll_pwait is 22,
 * AUDIT_ARCH_S390 is 0x16): on the true branch of `jeq #ARCH` the arch is
 * known, so any further test of A there other than the same `jeq` is one.
 * Returns pc → what is wrong.
 */
export function suspectJumps(insns: readonly Insn[]): Map<number, string> {
  const archValues = new Set(ABI_NAMES.map((a) => getAbi(a).auditArch));
  const inState: (Set<string> | undefined)[] = new Array(insns.length);
  inState[0] = new Set(["init"]);
  const out = new Map<number, string>();
  const flow = (to: number, s: ReadonlySet<string>): void => {
    if (to >= insns.length) return;
    const cur = inState[to] ?? new Set<string>();
    for (const x of s) cur.add(x);
    inState[to] = cur;
  };
  insns.forEach((ins, pc) => {
    const s = inState[pc];
    if (s === undefined) return; // unreachable
    const cls = ins.code & 0x07;
    if (cls === 0x06) return; // ret
    if (cls === 0x05) {
      if (ins.code === 0x05) return flow(pc + 1 + (ins.k >>> 0), s);
      const k = ins.k >>> 0;
      const only = s.size === 1 ? [...s][0]! : undefined;
      const known = only?.startsWith("ld[4]=") === true ? Number(only.slice(6)) : undefined;
      if (s.size > 1) out.set(pc, `A differs by path: ${[...s].join(" | ")}`);
      else if (only === "ld[4]" && (ins.code & 0x08) === 0 && !archValues.has(k)) out.set(pc, `A holds arch but is compared with ${hex(ins.k)}`);
      else if (known !== undefined && !(ins.code === 0x15 && k === known)) out.set(pc, `A holds arch, already checked to be ${hex(known)}, but is compared with ${hex(ins.k)} (no \`ld [0]\` after the arch check)`);
      // The true branch of `jeq #ARCH` knows the arch: a correct program loads the syscall number next.
      flow(pc + 1 + ins.jt, only === "ld[4]" && ins.code === 0x15 && archValues.has(k) ? new Set([`ld[4]=${k}`]) : s);
      flow(pc + 1 + ins.jf, s);
      return;
    }
    let next: Set<string>;
    if (ins.code === 0x20) next = new Set([`ld[${ins.k >>> 0}]`]);
    else if (cls === 0x04) next = new Set([...s].map((x) => `(${x} op${ins.code.toString(16)} ${hex(ins.k)})`));
    else if (cls === 0x00 || cls === 0x07) next = new Set([`other@${pc}`]);
    else next = new Set(s); // ldx, st, stx leave A alone
    flow(pc + 1, next);
  });
  return out;
}

/**
 * Minimal policies on which libseccomp 2.5.4 emits a wrong program (found by
 * the differential; confirmed in the kernel by compile-kernel.test.ts). Each
 * names a call whose rule libseccomp's program loses (fail-open to ALLOW).
 */
export const LIBSECCOMP_FLAW_CASES: readonly {
  name: string;
  input: PolicyInput;
  optimize: 1 | 2;
  call: { abi: "x86_64" | "x86"; syscall: string; args: readonly bigint[] };
}[] = [
  {
    name: "no `ld [0]` in the x86_64/x32 section (linear mode, x86_64+x86+x32, an argument rule and an x86-only syscall)",
    input: {
      abis: ["x86_64", "x86", "x32"],
      default: "ALLOW",
      unknown: "ALLOW",
      badArch: "KILL_THREAD",
      rules: [
        { syscall: "dup", action: "ERRNO(38)", conditions: [{ arg: 1, op: "GE", value: 5 }] },
        { syscall: "getgid32", action: "KILL_PROCESS" },
      ],
    },
    optimize: 1,
    call: { abi: "x86_64", syscall: "dup", args: [U64_MAX, 9n, 0n, 0n, 0n, 0n] },
  },
  {
    name: "stale accumulator where two argument chains of one syscall join",
    input: {
      abis: ["x86_64", "x86"],
      default: "ALLOW",
      unknown: "ALLOW",
      badArch: "KILL_THREAD",
      rules: [
        { syscall: "close", action: "ERRNO(77)", conditions: [{ arg: 0, op: "GE", value: 0x80000000 }] },
        { syscall: "close", action: "KILL_PROCESS", conditions: [{ arg: 0, op: "LE", value: 0xc844f170 }, { arg: 1, op: "MASKED_EQ", mask: 0x501c0c9d, value: 9 }] },
      ],
    },
    optimize: 1,
    call: { abi: "x86", syscall: "close", args: [0x80000000n, 0n, 0n, 0n, 0n, 0n] },
  },
];
