/**
 * The seccomp filters systemd installs for a unit besides `SystemCallFilter=`
 * (docs/systemd-unit.md, "The other filters"): `RestrictAddressFamilies=`,
 * `RestrictNamespaces=`, `MemoryDenyWriteExecute=`, `LockPersonality=`,
 * `RestrictRealtime=`, `RestrictSUIDSGID=`, `ProtectClock=`,
 * `ProtectKernelModules=`, `ProtectKernelLogs=`, `ProtectHostname=`, the
 * seccomp parts of `PrivateDevices=` and `ProtectKernelTunables=`, and
 * `NoNewPrivileges=` / `Personality=` as far as they shape those filters.
 *
 * Each directive is parsed with systemd's rules (src/core/load-fragment.c)
 * and becomes one filter, default ALLOW, of rules with their origin
 * ("RestrictNamespaces=~user (app.service:4)"), in the order systemd's
 * exec-invoke.c loads them. systemd-unit.ts stacks them with the
 * `SystemCallFilter=` filter as the kernel does.
 *
 * Where systemd leaves a way around a filter (an ABI it skips, an argument
 * behind a pointer), the filter also carries *route rules*: they apply while
 * routes are closed (the default) and go with `--routes=open`, which keeps
 * systemd's filters exactly.
 *
 * Facts from systemd's src/shared/seccomp-util.c, src/core/exec-invoke.c,
 * src/core/load-fragment.c and systemd.exec(5); none of its code.
 */
import { getAbi, type AbiName } from "../abi/arch.js";
import {
  ADDRESS_FAMILIES,
  ALL_NAMESPACE_FLAGS,
  NAMESPACE_FLAGS,
  PER_LINUX,
  PER_LINUX32,
  PROT_EXEC,
  PROT_WRITE,
  SCHED,
  SHM_EXEC,
  S_ISGID,
  S_ISUID,
  addressFamilyName,
  oCreat,
} from "../abi/constants.js";
import { hasIpc, hasSocketcall, IPC_SUBCALLS, SOCKETCALL_SUBCALLS, SUBCALL_ARG_MASK } from "../abi/multiplex.js";
import { knownSyscallNames, syscallNumber } from "../abi/tables.js";
import { SyscageError, didYouMean, suggest } from "../errors.js";
import { expandItem } from "./groups.js";
import { parseSystemdBoolean } from "./nspawn-settings.js";
import { errno, type Action, type ArgIndex, type Condition, type Rule } from "./model.js";

/** One assignment `KEY=VALUE` and where it was written. */
export interface DirectiveAssignment {
  readonly key: string;
  readonly value: string;
  readonly where: string;
}

/** The directives this module reads, in the order systemd loads their filters (oldest first). */
export const DIRECTIVE_KEYS: readonly string[] = Object.freeze([
  "RestrictAddressFamilies",
  "MemoryDenyWriteExecute",
  "RestrictRealtime",
  "RestrictSUIDSGID",
  "RestrictNamespaces",
  "ProtectKernelTunables",
  "ProtectKernelModules",
  "ProtectKernelLogs",
  "ProtectClock",
  "PrivateDevices",
  "LockPersonality",
  "ProtectHostname",
  "Personality",
  "NoNewPrivileges",
]);

/** One stacked filter: default ALLOW, its rules, and the route rules that close what it leaves open. */
export interface DirectiveFilter {
  /** "RestrictNamespaces" … */
  readonly key: string;
  readonly rules: readonly Rule[];
  /** Apply only while routes are closed (Policy.routeRules). */
  readonly routeRules: readonly Rule[];
}

const EPERM: Action = errno("EPERM");
const EAFNOSUPPORT: Action = errno("EAFNOSUPPORT");
const ENOSYS: Action = errno("ENOSYS");

// ---- values ---------------------------------------------------------------------

/** systemd's parse_boolean, with the directive named in the error. */
function booleanOf(value: string, key: string, where: string): boolean {
  return parseSystemdBoolean(value, `${where}: ${key}=`);
}

function familyNumber(word: string, key: string, where: string): number {
  const n = ADDRESS_FAMILIES[word];
  if (n !== undefined && word !== "AF_UNSPEC") return n;
  const s = suggest(word, Object.keys(ADDRESS_FAMILIES).filter((k) => k !== "AF_UNSPEC"));
  throw new SyscageError(
    "BAD_VALUE",
    `${where}: ${key}= names an unknown address family "${word}".${didYouMean(s)} Write AF_ names such as AF_UNIX AF_INET AF_INET6 AF_NETLINK (systemd logs the word and ignores it)`,
    s,
  );
}

/** RestrictAddressFamilies=, accumulated as load-fragment.c's config_parse_address_families does. */
class AddressFamilies {
  /** undefined: no list (reset); allow or deny list with its families. */
  families: Set<number> | undefined;
  allowList = false;
  readonly wheres: string[] = [];
  readonly words: string[] = [];

  assign(value: string, where: string): void {
    const v = value.trim();
    if (v === "") {
      this.families = undefined;
      this.allowList = false;
      this.wheres.length = 0;
      this.words.length = 0;
      return;
    }
    this.wheres.push(where);
    this.words.push(v);
    if (v === "none") {
      // Forbid every family: an empty allow list.
      this.families = undefined;
      this.allowList = true;
      return;
    }
    const invert = v.startsWith("~");
    const list = invert ? v.slice(1) : v;
    if (this.families === undefined) {
      this.families = new Set();
      this.allowList = !invert;
    }
    for (const word of list.split(/\s+/).filter((w) => w !== "")) {
      if (word.startsWith("~")) throw new SyscageError("BAD_VALUE", `${where}: RestrictAddressFamilies= has "~" inside the list (${word}); only the first character of the value inverts it. Write ~ once, before the first family`);
      const af = familyNumber(word, "RestrictAddressFamilies", where);
      if (!invert === this.allowList) this.families.add(af);
      else this.families.delete(af);
    }
  }

  /** Does the unit restrict families at all (exec-invoke.c's check)? */
  get active(): boolean {
    return this.allowList || (this.families !== undefined && this.families.size > 0);
  }
}

/** RestrictNamespaces=: the namespace flags a unit may still use (systemd keeps the retained set). */
class Namespaces {
  /** undefined: never set (systemd's NAMESPACE_FLAGS_INITIAL). */
  retain: bigint | undefined;
  readonly wheres: string[] = [];
  readonly words: string[] = [];

  assign(value: string, where: string): void {
    const v = value.trim();
    if (v === "") {
      this.retain = undefined;
      this.wheres.length = 0;
      this.words.length = 0;
      return;
    }
    this.wheres.push(where);
    this.words.push(v);
    const b = ["1", "yes", "y", "true", "t", "on", "0", "no", "n", "false", "f", "off"].includes(v.toLowerCase());
    if (b) {
      // A boolean replaces what came before: yes retains none, no retains all.
      this.retain = booleanOf(v, "RestrictNamespaces", where) ? 0n : ALL_NAMESPACE_FLAGS;
      return;
    }
    const invert = v.startsWith("~");
    let flags = 0n;
    for (const word of (invert ? v.slice(1) : v).split(/\s+/).filter((w) => w !== "")) {
      const ns = NAMESPACE_FLAGS.find((n) => n.name === word);
      if (ns === undefined) {
        const s = suggest(word, NAMESPACE_FLAGS.map((n) => n.name));
        throw new SyscageError(
          "BAD_VALUE",
          `${where}: RestrictNamespaces= names an unknown namespace type "${word}".${didYouMean(s)} Types: ${NAMESPACE_FLAGS.map((n) => n.name).join(" ")}, or yes / no (systemd ignores the whole line)`,
          s,
        );
      }
      flags |= ns.flag;
    }
    if (this.retain === undefined) this.retain = invert ? ALL_NAMESPACE_FLAGS & ~flags : flags;
    else this.retain = invert ? this.retain & ~flags : this.retain | flags;
  }

  get active(): boolean {
    return this.retain !== undefined && (this.retain & ALL_NAMESPACE_FLAGS) !== ALL_NAMESPACE_FLAGS;
  }
}

/** Personality=: the systemd architecture names that map to PER_LINUX or PER_LINUX32 on the native ABI. */
function personalityValue(value: string, native: AbiName, where: string): bigint {
  const v = value.trim();
  const own = getAbi(native).systemdName;
  const secondary: Partial<Record<AbiName, string>> = { x86_64: "x86", aarch64: "arm", ppc64: "ppc", ppc64le: "ppc-le", s390x: "s390", mips64: "mips", mipsel64: "mips-le", parisc64: "parisc" };
  if (v === own) return PER_LINUX;
  if (secondary[native] !== undefined && v === secondary[native]) return PER_LINUX32;
  const known = [own, ...(secondary[native] !== undefined ? [secondary[native]!] : [])];
  throw new SyscageError("BAD_VALUE", `${where}: Personality=${v} is not a personality of ${native}; write ${known.join(" or ")} (systemd ignores the line)`, suggest(v, known));
}

// ---- the directives of one unit -------------------------------------------------

/** Every directive assignment of a unit, accumulated in file order. */
export class UnitDirectives {
  readonly families = new AddressFamilies();
  readonly namespaces = new Namespaces();
  readonly booleans = new Map<string, { value: boolean; where: string }>();
  personality: { value: string; where: string } | undefined;
  readonly warnings: string[] = [];

  static isDirective(key: string): boolean {
    return DIRECTIVE_KEYS.includes(key);
  }

  assign(a: DirectiveAssignment): void {
    switch (a.key) {
      case "RestrictAddressFamilies":
        this.families.assign(a.value, a.where);
        return;
      case "RestrictNamespaces":
        this.namespaces.assign(a.value, a.where);
        return;
      case "Personality":
        this.personality = a.value.trim() === "" ? undefined : { value: a.value.trim(), where: a.where };
        return;
      case "ProtectHostname": {
        // systemd ≥ v257 also takes "private": the hostname may change inside the unit's own UTS namespace, so no filter.
        const v = a.value.trim();
        if (v.toLowerCase() === "private") {
          this.booleans.set(a.key, { value: false, where: a.where });
          this.warnings.push(`${a.where}: ProtectHostname=private gives the unit its own UTS namespace, where it may set the hostname: no seccomp filter (systemd v252 does not know "private" and ignores the line)`);
          return;
        }
        this.booleans.set(a.key, { value: v === "" ? false : booleanOf(v, a.key, a.where), where: a.where });
        return;
      }
      default: {
        if (!DIRECTIVE_KEYS.includes(a.key)) throw new SyscageError("UNKNOWN_PROPERTY", `${a.where}: ${a.key}= is not a directive syscage reads`);
        // An empty assignment sets the default (off).
        const v = a.value.trim();
        this.booleans.set(a.key, { value: v === "" ? false : booleanOf(v, a.key, a.where), where: a.where });
      }
    }
  }

  private on(key: string): { where: string } | undefined {
    const b = this.booleans.get(key);
    return b !== undefined && b.value ? b : undefined;
  }

  /**
   * The directives as unit lines that give the same filters (the state
   * after every assignment, in DIRECTIVE_KEYS order): what `convert --to
   * systemd` writes after the SystemCallFilter= lines.
   */
  lines(): string[] {
    const out: string[] = [];
    if (this.families.active) {
      const names = [...(this.families.families ?? [])].sort((x, y) => x - y).map(addressFamilyName);
      out.push(`RestrictAddressFamilies=${this.families.allowList ? (names.length === 0 ? "none" : names.join(" ")) : `~${names.join(" ")}`}`);
    }
    for (const key of DIRECTIVE_KEYS) {
      if (key === "RestrictAddressFamilies" || key === "Personality") continue;
      if (key === "RestrictNamespaces") {
        if (!this.namespaces.active) continue;
        const kept = NAMESPACE_FLAGS.filter((n) => (this.namespaces.retain! & n.flag) !== 0n).map((n) => n.name);
        out.push(`RestrictNamespaces=${kept.length === 0 ? "yes" : kept.join(" ")}`);
        continue;
      }
      if (this.on(key) === undefined) continue;
      if (key === "LockPersonality" && this.personality !== undefined) out.push(`Personality=${this.personality.value}`);
      out.push(`${key}=yes`);
    }
    return out;
  }

  /** Does any directive install a filter? */
  get any(): boolean {
    return this.families.active || this.namespaces.active || DIRECTIVE_KEYS.some((k) => k !== "NoNewPrivileges" && this.on(k) !== undefined);
  }

  /**
   * The filters, oldest first, for the unit's ABIs (`abis`: the ABIs the
   * program covers, native first). Rules are limited (Rule.abis) where
   * systemd's filter differs by ABI.
   */
  filters(abis: readonly AbiName[]): DirectiveFilter[] {
    const out: DirectiveFilter[] = [];
    const native = abis[0]!;
    const b = new FilterBuilder(abis);
    if (this.families.active) out.push(b.addressFamilies(this.families));
    const mdwe = this.on("MemoryDenyWriteExecute");
    if (mdwe !== undefined) out.push(b.memoryDenyWriteExecute(`MemoryDenyWriteExecute=yes (${mdwe.where})`));
    const rt = this.on("RestrictRealtime");
    if (rt !== undefined) out.push(b.restrictRealtime(`RestrictRealtime=yes (${rt.where})`));
    const sx = this.on("RestrictSUIDSGID");
    if (sx !== undefined) out.push(b.restrictSuidSgid(`RestrictSUIDSGID=yes (${sx.where})`));
    if (this.namespaces.active) out.push(b.namespaces(this.namespaces));
    const tun = this.on("ProtectKernelTunables");
    if (tun !== undefined) out.push(b.plain("ProtectKernelTunables", ["_sysctl"], `ProtectKernelTunables=yes (${tun.where}): _sysctl`));
    const mod = this.on("ProtectKernelModules");
    if (mod !== undefined) out.push(b.plain("ProtectKernelModules", expandItem("@module"), `ProtectKernelModules=yes (${mod.where}): @module`));
    const logs = this.on("ProtectKernelLogs");
    if (logs !== undefined) out.push(b.plain("ProtectKernelLogs", ["syslog"], `ProtectKernelLogs=yes (${logs.where}): syslog`));
    const clock = this.on("ProtectClock");
    if (clock !== undefined) out.push(b.plain("ProtectClock", expandItem("@clock"), `ProtectClock=yes (${clock.where}): @clock`));
    const dev = this.on("PrivateDevices");
    if (dev !== undefined) out.push(b.plain("PrivateDevices", expandItem("@raw-io"), `PrivateDevices=yes (${dev.where}): @raw-io`));
    const lock = this.on("LockPersonality");
    if (lock !== undefined) {
      const p = this.personality;
      const value = p === undefined ? PER_LINUX : personalityValue(p.value, native, p.where);
      const what = p === undefined ? "PER_LINUX, the personality systemd runs with" : `Personality=${p.value} (${p.where})`;
      out.push(b.lockPersonality(`LockPersonality=yes (${lock.where})`, value, what));
    }
    const host = this.on("ProtectHostname");
    if (host !== undefined) out.push(b.plain("ProtectHostname", ["sethostname", "setdomainname"], `ProtectHostname=yes (${host.where})`));
    return out.filter((f) => f.rules.length > 0 || f.routeRules.length > 0);
  }
}

// ---- the rules ------------------------------------------------------------------

/** ABIs whose socket() systemd's RestrictAddressFamilies= filters (those without socketcall, or where systemd knows direct socket() is used). */
const FAMILY_FILTERED: ReadonlySet<AbiName> = new Set<AbiName>(["x86_64", "x32", "arm", "aarch64", "loongarch64", "mips64", "mipsel64", "mips64n32", "mipsel64n32", "riscv64"]);

/** MemoryDenyWriteExecute='s per-ABI choice: the mmap variant it tests, the one it blocks outright, and whether shmat is a syscall of its own. */
function mdweShape(abi: AbiName): { filter: string; block?: string; shmat: boolean } | undefined {
  switch (abi) {
    case "x86":
    case "s390":
      return { filter: "mmap2", block: "mmap", shmat: false };
    case "ppc":
    case "ppc64":
    case "ppc64le":
    case "s390x":
      return { filter: "mmap", shmat: false };
    case "arm":
      return { filter: "mmap2", shmat: true };
    case "x86_64":
    case "x32":
    case "aarch64":
    case "loongarch64":
    case "riscv64":
      return { filter: "mmap", shmat: true };
    default:
      return undefined;
  }
}

const masked = (arg: ArgIndex, bits: bigint): Condition => ({ arg, op: "MASKED_EQ", mask: bits, value: bits });
const eq = (arg: ArgIndex, value: bigint): Condition => ({ arg, op: "EQ", value });

class FilterBuilder {
  private readonly known = knownSyscallNames();
  constructor(private readonly abis: readonly AbiName[]) {}

  /** A rule for `syscall` on `on` (of the covered ABIs); none when no covered ABI has it. */
  private rule(syscall: string, action: Action, conditions: readonly Condition[], origin: string, on: readonly AbiName[] = this.abis): Rule[] {
    if (!this.known.has(syscall)) return [];
    const where = on.filter((a) => this.abis.includes(a) && syscallNumber(a, syscall) !== undefined);
    if (where.length === 0) return [];
    const all = this.abis.filter((a) => syscallNumber(a, syscall) !== undefined);
    const limited = where.length < all.length;
    return [{ syscall, action, conditions, origin, ...(limited ? { abis: where } : {}) }];
  }

  plain(key: string, names: readonly string[], origin: string): DirectiveFilter {
    return { key, rules: [...new Set(names)].flatMap((n) => this.rule(n, EPERM, [], `${origin}: EPERM`)), routeRules: [] };
  }

  addressFamilies(f: AddressFamilies): DirectiveFilter {
    const origin = `RestrictAddressFamilies=${f.words.join(" + ")} (${f.wheres.join(", ")})`;
    const on = this.abis.filter((a) => FAMILY_FILTERED.has(a));
    const skipped = this.abis.filter((a) => !FAMILY_FILTERED.has(a) && syscallNumber(a, "socket") !== undefined);
    const conds: { c: readonly Condition[]; why: string }[] = [];
    const families = [...(f.families ?? [])].sort((x, y) => x - y);
    if (f.allowList) {
      if (families.length === 0) conds.push({ c: [], why: "no family allowed" });
      else {
        const first = families[0]!;
        const last = families[families.length - 1]!;
        conds.push({ c: [{ arg: 0, op: "LT", value: BigInt(first) }], why: `families below ${addressFamilyName(first)}` });
        conds.push({ c: [{ arg: 0, op: "GT", value: BigInt(last) }], why: `families above ${addressFamilyName(last)}` });
        for (let af = first + 1; af < last; af++) if (!families.includes(af)) conds.push({ c: [eq(0, BigInt(af))], why: addressFamilyName(af) });
      }
    } else {
      for (const af of families) conds.push({ c: [eq(0, BigInt(af))], why: addressFamilyName(af) });
    }
    const rules = conds.flatMap((x) => this.rule("socket", EAFNOSUPPORT, x.c, `${origin}: socket() of ${x.why}: EAFNOSUPPORT`, on));
    // Route rules: the ABIs systemd skips get the same socket() rules, and socketcall(SYS_SOCKET), whose family is behind a pointer, EAFNOSUPPORT.
    const routeRules: Rule[] = [];
    if (skipped.length > 0) {
      const why = `closed route: systemd's RestrictAddressFamilies= leaves ${skipped.join(", ")} unfiltered (${origin})`;
      routeRules.push(...conds.flatMap((x) => this.rule("socket", EAFNOSUPPORT, x.c, `${why}; socket() of ${x.why}: EAFNOSUPPORT`, skipped)));
      const viaSocketcall = skipped.filter(hasSocketcall);
      if (viaSocketcall.length > 0 && conds.length > 0) {
        routeRules.push(
          ...this.rule(
            "socketcall",
            EAFNOSUPPORT,
            [{ arg: 0, op: "MASKED_EQ", mask: BigInt(SUBCALL_ARG_MASK.socketcall), value: BigInt(SOCKETCALL_SUBCALLS.socket!) }],
            `${why}; socketcall(SYS_SOCKET) hides the family behind a pointer: every family gets EAFNOSUPPORT (--routes=open keeps systemd's filter)`,
            viaSocketcall,
          ),
        );
      }
    }
    return { key: "RestrictAddressFamilies", rules, routeRules };
  }

  memoryDenyWriteExecute(origin: string): DirectiveFilter {
    const rules: Rule[] = [];
    const routeRules: Rule[] = [];
    const byShape = new Map<string, AbiName[]>();
    for (const abi of this.abis) {
      const s = mdweShape(abi);
      if (s === undefined) continue;
      const key = JSON.stringify(s);
      byShape.set(key, [...(byShape.get(key) ?? []), abi]);
    }
    const wx = PROT_WRITE | PROT_EXEC;
    // In systemd's order per ABI: the mmap variant, the blocked one, mprotect, pkey_mprotect, shmat.
    for (const [key, on] of byShape) {
      const s = JSON.parse(key) as { filter: string; block?: string; shmat: boolean };
      rules.push(...this.rule(s.filter, EPERM, [masked(2, wx)], `${origin}: ${s.filter}() with PROT_WRITE|PROT_EXEC: EPERM`, on));
      if (s.block !== undefined) rules.push(...this.rule(s.block, EPERM, [], `${origin}: ${s.block}() (its arguments are behind a pointer here): EPERM`, on));
    }
    const covered = [...byShape.values()].flat();
    rules.push(...this.rule("mprotect", EPERM, [masked(2, PROT_EXEC)], `${origin}: mprotect() with PROT_EXEC: EPERM`, covered));
    rules.push(...this.rule("pkey_mprotect", EPERM, [masked(2, PROT_EXEC)], `${origin}: pkey_mprotect() with PROT_EXEC: EPERM`, covered));
    const shmatOn = covered.filter((a) => mdweShape(a)!.shmat);
    rules.push(...this.rule("shmat", EPERM, [masked(2, SHM_EXEC)], `${origin}: shmat() with SHM_EXEC: EPERM`, shmatOn));
    // Route: where shmat goes through ipc(), systemd leaves it; ipc(SHMAT, id, shmflg, …) carries shmflg in arg2.
    const viaIpc = covered.filter((a) => !mdweShape(a)!.shmat && hasIpc(a));
    if (viaIpc.length > 0) {
      routeRules.push(
        ...this.rule(
          "ipc",
          EPERM,
          [{ arg: 0, op: "MASKED_EQ", mask: BigInt(SUBCALL_ARG_MASK.ipc), value: BigInt(IPC_SUBCALLS.shmat!) }, masked(2, SHM_EXEC)],
          `closed route: ${origin} leaves ipc(SHMAT) on ${viaIpc.join(", ")}; ipc(SHMAT, …, SHM_EXEC): EPERM (--routes=open keeps systemd's filter)`,
          viaIpc,
        ),
      );
    }
    const skipped = this.abis.filter((a) => mdweShape(a) === undefined);
    if (skipped.length > 0) {
      routeRules.push(...["mmap", "mmap2"].flatMap((n) => this.rule(n, EPERM, [masked(2, wx)], `closed route: systemd's ${origin} skips ${skipped.join(", ")}; ${n}() with PROT_WRITE|PROT_EXEC: EPERM`, skipped)));
      routeRules.push(...this.rule("mprotect", EPERM, [masked(2, PROT_EXEC)], `closed route: systemd's ${origin} skips ${skipped.join(", ")}; mprotect() with PROT_EXEC: EPERM`, skipped));
    }
    return { key: "MemoryDenyWriteExecute", rules, routeRules };
  }

  restrictRealtime(origin: string): DirectiveFilter {
    const allowed: readonly number[] = [SCHED.OTHER, SCHED.BATCH, SCHED.IDLE];
    const max = Math.max(...allowed);
    const rules: Rule[] = [];
    for (let p = 0; p < max; p++) {
      if (allowed.includes(p)) continue;
      const name = Object.entries(SCHED).find(([, v]) => v === p)![0];
      rules.push(...this.rule("sched_setscheduler", EPERM, [eq(1, BigInt(p))], `${origin}: sched_setscheduler() with SCHED_${name}: EPERM`));
    }
    rules.push(...this.rule("sched_setscheduler", EPERM, [{ arg: 1, op: "GT", value: BigInt(max) }], `${origin}: sched_setscheduler() with a policy above SCHED_IDLE (SCHED_DEADLINE, SCHED_RESET_ON_FORK): EPERM`));
    // Route: sched_setattr() takes the policy in struct sched_attr, which no filter reads.
    const routeRules = this.rule("sched_setattr", EPERM, [], `closed route: ${origin} filters sched_setscheduler() only, and sched_setattr() sets SCHED_FIFO/SCHED_RR/SCHED_DEADLINE from a struct no filter reads: EPERM (--routes=open keeps systemd's filter)`);
    return { key: "RestrictRealtime", rules, routeRules };
  }

  restrictSuidSgid(origin: string): DirectiveFilter {
    const rules: Rule[] = [];
    for (const [bit, label] of [[S_ISUID, "S_ISUID"], [S_ISGID, "S_ISGID"]] as const) {
      const o = (call: string): string => `${origin}: ${call}() with ${label}: EPERM`;
      for (const [call, arg] of [["chmod", 1], ["fchmod", 1], ["fchmodat", 2], ["fchmodat2", 2], ["mkdir", 1], ["mkdirat", 2], ["mknod", 1], ["mknodat", 2]] as const) {
        rules.push(...this.rule(call, EPERM, [masked(arg, bit)], o(call)));
      }
      // O_CREAT differs by architecture: one rule per value.
      const byCreat = new Map<bigint, AbiName[]>();
      for (const a of this.abis) byCreat.set(oCreat(a), [...(byCreat.get(oCreat(a)) ?? []), a]);
      for (const [creat, on] of byCreat) {
        rules.push(...this.rule("open", EPERM, [masked(1, creat), masked(2, bit)], `${origin}: open() with O_CREAT and ${label}: EPERM`, on));
        rules.push(...this.rule("openat", EPERM, [masked(2, creat), masked(3, bit)], `${origin}: openat() with O_CREAT and ${label}: EPERM`, on));
      }
      rules.push(...this.rule("creat", EPERM, [masked(1, bit)], o("creat")));
    }
    // openat2() takes its flags and mode in struct open_how, which no filter reads: systemd returns ENOSYS, so libc falls back to openat().
    rules.push(...this.rule("openat2", ENOSYS, [], `${origin}: openat2() hides its mode in struct open_how: ENOSYS, so libc falls back to openat()`));
    return { key: "RestrictSUIDSGID", rules, routeRules: [] };
  }

  namespaces(n: Namespaces): DirectiveFilter {
    const origin = `RestrictNamespaces=${n.words.join(" + ")} (${n.wheres.join(", ")})`;
    const retain = n.retain!;
    const rules: Rule[] = [];
    rules.push(...this.rule("clone3", ENOSYS, [], `${origin}: clone3() hides its flags in struct clone_args: ENOSYS, so libc falls back to clone()`));
    if ((retain & ALL_NAMESPACE_FLAGS) === 0n) rules.push(...this.rule("setns", EPERM, [], `${origin}: no namespace allowed: setns() EPERM`));
    else rules.push(...this.rule("setns", EPERM, [eq(1, 0n)], `${origin}: setns() with nstype 0 (any type): EPERM`));
    const s390 = this.abis.filter((a) => a === "s390" || a === "s390x");
    const others = this.abis.filter((a) => a !== "s390" && a !== "s390x");
    for (const ns of NAMESPACE_FLAGS) {
      if ((retain & ns.flag) !== 0n) continue;
      const o = (call: string): string => `${origin}: ${call}() with CLONE_NEW${ns.name === "mnt" ? "NS" : ns.name.toUpperCase()}: EPERM`;
      rules.push(...this.rule("unshare", EPERM, [masked(0, ns.flag)], o("unshare")));
      // On s390 clone's first two arguments are swapped.
      rules.push(...this.rule("clone", EPERM, [masked(0, ns.flag)], o("clone"), others));
      rules.push(...this.rule("clone", EPERM, [masked(1, ns.flag)], o("clone"), s390));
      if ((retain & ALL_NAMESPACE_FLAGS) !== 0n) rules.push(...this.rule("setns", EPERM, [masked(1, ns.flag)], o("setns")));
    }
    return { key: "RestrictNamespaces", rules, routeRules: [] };
  }

  lockPersonality(origin: string, value: bigint, what: string): DirectiveFilter {
    return {
      key: "LockPersonality",
      rules: this.rule("personality", EPERM, [{ arg: 0, op: "NE", value }], `${origin}: personality() other than ${value === PER_LINUX32 ? "PER_LINUX32" : "PER_LINUX"} (${what}): EPERM`),
      routeRules: [],
    };
  }
}
