/**
 * systemd unit-file syscall settings as a Policy: `SystemCallFilter=`,
 * `SystemCallErrorNumber=`, `SystemCallArchitectures=` and `SystemCallLog=`
 * (systemd v260, src/core/load-fragment.c, src/shared/seccomp-util.c,
 * src/core/exec-invoke.c; research notes §3), and reading them from a unit
 * file's `[Service]` section.
 *
 * The accumulation follows systemd exactly (docs/systemd-unit.md):
 *
 * - an empty assignment resets the list, including its type;
 * - a `~` as the FIRST character of the whole value inverts every word of it;
 * - the first assignment after a reset decides the type: `~…` makes a deny
 *   list, anything else an allow list, which immediately includes `@default`;
 * - each word `NAME[:ERRNO|:kill]` (a syscall or `@group`, expanded
 *   recursively) then adds or removes entries (the table of §3.2): in an allow
 *   list `foo` adds, `~foo` removes, `~foo:EACCES` adds foo with its own errno;
 *   in a deny list `~foo[:errno]` adds, `foo` removes; the last errno wins.
 *
 * Where syscage is stricter: systemd ignores bad words with a log message;
 * syscage reports them as errors naming `file:line` (unknown syscall or
 * group, bad `:errno`, an errno on an allowed entry, a `~` inside a list,
 * unknown architecture, `SystemCallErrorNumber=0`).
 */
import { localAbis, parseAbi, type AbiName } from "../abi/arch.js";
import { ERRNO_MAX, errnoNumber, errnoSpellings } from "../abi/errno.js";
import { abisWithSyscall, knownSyscallNames, syscallNumber } from "../abi/tables.js";
import { SyscageError, didYouMean, editDistance, suggest, type ErrorCode , withContext } from "../errors.js";
import { getGroup, expandItem, parseGroup, systemdSyscallNames } from "./groups.js";
import { parseIni } from "./ini.js";
import { DIRECTIVE_KEYS, UnitDirectives, type DirectiveFilter } from "./unit-directives.js";
import {
  ACTION_RANK,
  ALLOW,
  KILL_PROCESS,
  KILL_THREAD,
  LOG,
  checkSyscallName,
  errno,
  type Action,
  type OriginAction,
  type Policy,
  type Rule,
} from "./model.js";

// ---- NAME[:ERRNO] ---------------------------------------------------------------

/**
 * What an entry of a `SystemCallFilter=` list does with its syscall
 * (systemd's `errno_num`): `default` (-1) takes the list's own action,
 * `errno` returns that errno (0 = fake success), `kill` kills the process.
 */
export type EntryAction =
  | { readonly kind: "default" }
  | { readonly kind: "errno"; readonly errno: number | string }
  | { readonly kind: "kill" };

/** A parsed `NAME[:ERRNO]` word. */
export interface SyscallAndErrno {
  /** A syscall or `@group` name (not validated here, as in systemd). */
  readonly name: string;
  readonly action: EntryAction;
}

/**
 * The error code for what systemd's parse_syscall_and_errno() rejects with
 * -EINVAL (malformed) and with -ERANGE (a number outside 0..4095).
 */
export const SYSCALL_ERRNO_INVALID = "SYSCALL_ERRNO_INVALID";
/** See {@link SYSCALL_ERRNO_INVALID}. */
export const SYSCALL_ERRNO_RANGE = "SYSCALL_ERRNO_RANGE";

/** systemd's error class for an error of {@link parseSyscallAndErrno} / {@link parseSystemdErrno}. */
export function systemdErrorClass(err: unknown): "EINVAL" | "ERANGE" | undefined {
  if (!(err instanceof SyscageError)) return undefined;
  if (err.code === SYSCALL_ERRNO_INVALID) return "EINVAL";
  if (err.code === SYSCALL_ERRNO_RANGE) return "ERANGE";
  return undefined;
}

const ERRNO_TABLE_ABIS: readonly AbiName[] = ["x86_64", "mips", "parisc", "ppc"];

function errnoKnown(name: string): boolean {
  return ERRNO_TABLE_ABIS.some((abi) => errnoNumber(abi, name) !== undefined);
}

/**
 * systemd's parse_errno(): an errno name (upper case, as systemd's table has
 * them: `EACCES`) or a decimal number 0..4095. Kept as written (a name stays a
 * name and is resolved per ABI at compile time).
 * @throws SyscageError {@link SYSCALL_ERRNO_INVALID} (systemd: -EINVAL) or
 *   {@link SYSCALL_ERRNO_RANGE} (systemd: -ERANGE, e.g. 4096 or -3).
 */
export function parseSystemdErrno(text: string): number | string {
  if (/^-?[0-9]+$/.test(text)) {
    const n = Number(text);
    if (n < 0 || n > ERRNO_MAX) {
      throw new SyscageError(SYSCALL_ERRNO_RANGE, `errno ${text} is out of range; the kernel passes errno values 0..${ERRNO_MAX}`);
    }
    return n === 0 ? 0 : n; // -0 → 0
  }
  if (/^[A-Z][A-Z0-9]*$/.test(text) && errnoKnown(text)) return text;
  let hint = "";
  if (text === "") hint = " (nothing after the colon)";
  else if (/^[a-z][a-z0-9]*$/i.test(text) && errnoKnown(text)) hint = ` (errno names are upper case: ${text.toUpperCase()})`;
  else {
    const s = /^[A-Za-z]/.test(text) ? suggest(text.toUpperCase(), errnoSpellings("x86_64")) : [];
    hint = didYouMean(s);
  }
  throw new SyscageError(
    SYSCALL_ERRNO_INVALID,
    `"${text}" is not an errno${hint === "" ? "; write" : `.${hint} Write`} an errno name such as EPERM or EACCES or a decimal number 0..${ERRNO_MAX}`,
  );
}

/**
 * systemd's parse_syscall_and_errno(): split `word` at the first `:`; the
 * part after it is `kill` or an errno ({@link parseSystemdErrno}); without a
 * `:` the action is `default` (systemd's -1). The name must not be empty;
 * it is not validated here.
 *
 * systemd's test vectors hold: `uname:EILSEQ`, `@sync:4095`, `hoge:0`,
 * `hoge:kill` are accepted, `mount` gives `default`; `""`, `":255"`,
 * `hoge:12.3`, `hoge:255:EILSEQ`, `hoge:-EINVAL`, `hoge:` are
 * {@link SYSCALL_ERRNO_INVALID}; `hoge:4096`, `hoge:-3` are
 * {@link SYSCALL_ERRNO_RANGE}.
 */
export function parseSyscallAndErrno(word: string): SyscallAndErrno {
  const colon = word.indexOf(":");
  let action: EntryAction = { kind: "default" };
  if (colon >= 0) {
    const rest = word.slice(colon + 1);
    if (rest === "kill") action = { kind: "kill" };
    else {
      try {
        action = { kind: "errno", errno: parseSystemdErrno(rest) };
      } catch (e) {
        withContext(e, `"${word}": `, `, or "kill"`);
      }
    }
  }
  const name = colon >= 0 ? word.slice(0, colon) : word;
  if (name === "") {
    throw new SyscageError(SYSCALL_ERRNO_INVALID, `"${word}": no syscall name; write NAME or NAME:ERRNO, e.g. mkdir:EACCES`);
  }
  return { name, action };
}

function entryActionText(a: EntryAction): string {
  return a.kind === "default" ? "" : a.kind === "kill" ? ":kill" : `:${a.errno}`;
}

// ---- SystemCallErrorNumber= ---------------------------------------------------------

/** The value of `SystemCallErrorNumber=`: kill (the default) or an errno 1..4095. */
export type NegativeAction = { readonly kind: "kill" } | { readonly kind: "errno"; readonly errno: number | string };

/**
 * Parse `SystemCallErrorNumber=` (§3.3): empty or `kill` → kill (the
 * default); otherwise an errno name or 1..4095. `0` is rejected as systemd
 * does. There is no `log` value (use SystemCallLog=).
 * @throws SyscageError BAD_ERRNO naming `where`.
 */
export function parseSystemCallErrorNumber(value: string, where: string): NegativeAction {
  const v = value.trim();
  if (v === "" || v === "kill") return { kind: "kill" };
  let e: number | string;
  try {
    e = parseSystemdErrno(v);
  } catch (err) {
    if (err instanceof SyscageError) {
      // `where` of -p already says "SystemCallErrorNumber=VALUE"; a unit file's says FILE:LINE.
      const key = where.includes(`SystemCallErrorNumber=${v}`) ? "" : `SystemCallErrorNumber=${v}: `;
      throw new SyscageError("BAD_ERRNO", `${where}: ${key}${err.message}, or "kill" (the default)`, err.suggestions);
    }
    throw err;
  }
  if (e === 0) {
    throw new SyscageError(
      "BAD_ERRNO",
      `${where}: SystemCallErrorNumber=0 is not allowed (systemd rejects it: denied calls would seem to succeed); use an errno 1..${ERRNO_MAX} such as EPERM, or per syscall SystemCallFilter=~NAME:0`,
    );
  }
  return { kind: "errno", errno: e };
}

// ---- SystemCallFilter= / SystemCallLog= lists --------------------------------------

/** The two settings that share the list syntax. */
export type ListKey = "SystemCallFilter" | "SystemCallLog";

/** One syscall's entry in a list: its action and the assignment that set it. */
export interface ListEntry {
  readonly action: EntryAction;
  readonly origin: string;
  /** The user named this syscall directly (not through a @group). */
  readonly literal: boolean;
}

/**
 * A `SystemCallFilter=` or `SystemCallLog=` list being built assignment by
 * assignment, with systemd's semantics (see the module doc). `mode` is
 * undefined until the first non-empty assignment (or after a reset);
 * `"allow"` is systemd's ALLOW_LIST flag (for SystemCallLog=: "log only the
 * listed calls"), `"deny"` the inverted list.
 */
export class SyscallList {
  /** Which setting this list is. */
  readonly key: ListKey;
  /** Allow list or deny list; undefined when no list is set. */
  mode: "allow" | "deny" | undefined = undefined;
  /** Where the assignment that fixed the mode is. */
  modeWhere = "";
  /** Syscall name → entry, in first-insertion order. */
  readonly entries = new Map<string, ListEntry>();
  /** Notes for the user (names that exist on no ABI syscage knows, …). */
  readonly warnings: string[] = [];

  constructor(key: ListKey) {
    this.key = key;
  }

  /**
   * Apply one assignment `KEY=value` found at `where`.
   * @throws SyscageError naming `where` for a bad word.
   */
  assign(value: string, where: string): void {
    const v = value.trim();
    if (v === "") {
      this.mode = undefined;
      this.modeWhere = "";
      this.entries.clear();
      return;
    }
    const invert = v.startsWith("~");
    const body = invert ? v.slice(1) : v;
    if (this.mode === undefined) {
      this.mode = invert ? "deny" : "allow";
      this.modeWhere = where;
      if (this.mode === "allow" && this.key === "SystemCallFilter") {
        const origin = `SystemCallFilter= allow list includes @default (${where})`;
        for (const name of expandItem("@default")) this.put(name, { kind: "default" }, origin, false);
      }
    }
    const words = body.split(/\s+/).filter((w) => w !== "");
    for (const word of words) this.word(word, invert, where);
  }

  private fail(where: string, word: string, why: string, suggestions: readonly string[] = [], code: ErrorCode = "BAD_SYSCALL_FILTER"): never {
    throw new SyscageError(code, `${where}: ${this.key}= "${word}": ${why}`, suggestions);
  }

  private word(word: string, invert: boolean, where: string): void {
    if (word.startsWith("~")) {
      this.fail(
        where,
        word,
        `"~" inverts a whole assignment and only as its first character (systemd would look up a syscall literally named "${word}" and ignore it); put the inverted names in their own assignment: ${this.key}=~${word.replace(/^~+/, "")}`,
      );
    }
    let parsed: SyscallAndErrno;
    if (this.key === "SystemCallLog") {
      if (word.includes(":")) {
        this.fail(where, word, `SystemCallLog= takes syscall and @group names only, no ":errno"; write ${word.slice(0, word.indexOf(":"))}`);
      }
      parsed = { name: word, action: { kind: "default" } };
    } else {
      try {
        parsed = parseSyscallAndErrno(word);
      } catch (e) {
        withContext(e, `${where}: ${this.key}= `);
      }
      if (!invert && parsed.action.kind !== "default") {
        this.fail(
          where,
          word,
          `an error number or "kill" can only be given on a ~ (denied) entry. systemd ignores it here ("Allow-listed system calls cannot take error number"), so the call would not get it. ` +
            (this.mode === "allow"
              ? `To make ${parsed.name} fail with it in this allow list, write a separate assignment: SystemCallFilter=~${parsed.name}${entryActionText(parsed.action)}`
              : `In this deny list, write it inverted: SystemCallFilter=~${parsed.name}${entryActionText(parsed.action)}`),
        );
      }
    }
    const allowList = this.mode === "allow";
    // systemd's seccomp_parse_syscall_filter(): put when !INVERT == ALLOW_LIST,
    // or INVERT && ALLOW_LIST && errno >= 0 (kill counts); remove otherwise.
    const put = !invert === allowList || (invert && allowList && parsed.action.kind !== "default");
    const origin = `${this.key}=${invert ? "~" : ""}${word} (${where})`;
    const names = this.resolve(parsed.name, where, word);
    const literal = !parsed.name.startsWith("@");
    for (const name of names) {
      if (put) this.put(name, parsed.action, origin, literal);
      else this.entries.delete(name);
    }
  }

  private put(name: string, action: EntryAction, origin: string, literal: boolean): void {
    this.entries.set(name, { action, origin, literal });
  }

  /** The syscall names a word stands for (groups expanded, names unknown to syscage's tables left out). */
  private resolve(name: string, where: string, word: string): string[] {
    const known = knownSyscallNames();
    if (name.startsWith("@")) {
      try {
        parseGroup(name, `${where}: ${this.key}=`);
      } catch (e) {
        withContext(e, "");
      }
      return expandItem(name).filter((n) => known.has(n));
    }
    if (known.has(name)) return [name];
    if (systemdSyscallNames().has(name)) {
      this.warnings.push(`${where}: ${this.key}= "${word}": ${name} exists on no ABI syscage knows (Linux 7.3 tables); it has no effect`);
      return [];
    }
    if (getGroup(`@${name}`) !== undefined) {
      this.fail(where, word, `unknown syscall "${name}"; group names start with @.${didYouMean([`@${name}`])}`, [`@${name}`], "UNKNOWN_SYSCALL");
    }
    try {
      checkSyscallName(name, `${where}: ${this.key}=`);
    } catch (e) {
      withContext(e, "", " (a name that exists only on other ABIs is fine)");
    }
    return [name];
  }
}

// ---- SystemCallArchitectures= -------------------------------------------------------

/** The accumulated `SystemCallArchitectures=` set: ABIs, or "native". */
export class ArchitectureSet {
  /** Listed ABIs ("native" for the word native), with the assignment that listed them. */
  readonly items = new Map<AbiName | "native", string>();

  /**
   * Apply one assignment: whitespace-separated names (`native`, systemd's
   * `x86-64`, `arm64`, `mips-le`, … or any spelling parseAbi accepts); an
   * empty value resets.
   * @throws SyscageError UNKNOWN_ARCH naming `where`, with suggestions.
   */
  assign(value: string, where: string): void {
    const v = value.trim();
    if (v === "") {
      this.items.clear();
      return;
    }
    for (const word of v.split(/\s+/)) {
      if (word === "native") {
        this.items.set("native", where);
        continue;
      }
      try {
        this.items.set(parseAbi(word), where);
      } catch (e) {
        withContext(e, `${where}: SystemCallArchitectures= `, ` (or "native")`);
      }
    }
  }
}

/**
 * The ABIs that remain after `SystemCallArchitectures=` (§3.7): the native
 * ABI (`local[0]`) always; another local ABI only when listed; on an x32
 * host, x86_64 also when x32 is listed (the x32 vDSO makes x86-64 calls).
 * `blocked` are the local ABIs removed.
 */
export function restrictArchitectures(local: readonly AbiName[], archs: ArchitectureSet): { kept: AbiName[]; blocked: AbiName[] } {
  const native = local[0]!;
  if (archs.items.size === 0) return { kept: [...local], blocked: [] };
  const kept: AbiName[] = [];
  const blocked: AbiName[] = [];
  for (const a of local) {
    const keep = a === native || archs.items.has(a) || (a === "x86_64" && native === "x32" && archs.items.has("x32"));
    (keep ? kept : blocked).push(a);
  }
  return { kept, blocked };
}

// ---- the policy -----------------------------------------------------------------

/** One property assignment: `KEY=VALUE` and where it was written (`unit.service:7`, `-p …`). */
export interface UnitProperty {
  readonly key: string;
  readonly value: string;
  readonly where: string;
}

/** The SystemCall* properties {@link unitPolicy} understands. */
export const UNIT_SYSCALL_PROPERTIES: readonly string[] = Object.freeze([
  "SystemCallFilter",
  "SystemCallErrorNumber",
  "SystemCallArchitectures",
  "SystemCallLog",
]);

/** Every property {@link unitPolicy} understands: the SystemCall* ones and the directives that install filters of their own (unit-directives.ts). */
export const UNIT_PROPERTIES: readonly string[] = Object.freeze([...UNIT_SYSCALL_PROPERTIES, ...DIRECTIVE_KEYS]);

/** Options of {@link unitPolicy}. */
export interface UnitPolicyOptions {
  /**
   * The local ABIs of the machine the unit runs on, native first (systemd's
   * `seccomp_local_archs`); default: this host's ({@link localAbis}).
   */
  readonly abis?: readonly AbiName[];
}

/** A unit policy with the notes gathered while building it. */
export interface UnitPolicyResult {
  readonly policy: Policy;
  readonly warnings: readonly string[];
  /** The SystemCall* properties' policy alone, without the directives' filters. */
  readonly systemCallPolicy: Policy;
  /** The directives as unit lines that give the same filters ({@link UnitDirectives.lines}); empty without any. */
  readonly directiveLines: readonly string[];
}

/** One stacked filter as name → action, plus what the names without a rule get. */
interface FilterView {
  readonly rules: Map<string, OriginAction>;
  readonly default: OriginAction;
  readonly unknown: OriginAction;
}

function entryToAction(a: EntryAction, listAction: Action): Action {
  switch (a.kind) {
    case "default":
      return listAction;
    case "kill":
      return KILL_PROCESS;
    case "errno":
      return errno(a.errno);
  }
}

function isEnosys(a: Action, native: AbiName): boolean {
  if (a.kind !== "ERRNO") return false;
  return a.errno === "ENOSYS" || a.errno === errnoNumber(native, "ENOSYS");
}

/**
 * The result of two stacked seccomp filters for the same call: the kernel
 * keeps the lowest action value (KILL_PROCESS < … < ERRNO < … < LOG < ALLOW);
 * on a tie the newer filter's result is kept. `newer` is SystemCallFilter=
 * (loaded last), `older` SystemCallLog=. Between equal ranks we keep the side
 * with an explicit rule for the origin (the action is the same).
 */
function stack(newer: OriginAction & { explicit: boolean }, older: OriginAction & { explicit: boolean }): OriginAction {
  const rn = ACTION_RANK[newer.action.kind];
  const ro = ACTION_RANK[older.action.kind];
  const pick = rn < ro || (rn === ro && (newer.explicit || !older.explicit)) ? newer : older;
  // On a tie the newer filter's action (its data) is the one the kernel keeps.
  return { action: rn <= ro ? newer.action : older.action, origin: pick.origin };
}

/**
 * Build the Policy a unit's syscall properties give, exactly as systemd
 * applies them (research notes §3.4, §3.5, §3.7; docs/systemd-unit.md):
 *
 * - **Allow list** (`SystemCallFilter=` without `~` first): listed syscalls →
 *   ALLOW, or their own `~name:errno` / `~name:kill`; every literal entry of
 *   systemd's `@known` list that is not listed and exists on the native ABI →
 *   the negative action (`SystemCallErrorNumber=`: KILL_PROCESS by default, or
 *   ERRNO(n)); everything else → ERRNO(ENOSYS), as systemd ≥ v255 overrides
 *   the filter default so libc falls back. Following systemd exactly, that
 *   loop does NOT expand `@obsolete` (its names not listed elsewhere in
 *   `@known` get ENOSYS) and skips names not native to the build ABI (so
 *   e.g. x86-only names like `mmap2` get ENOSYS on x86 under an x86_64 host).
 *   With `SystemCallErrorNumber=ENOSYS` there is no override.
 * - **Deny list**: default ALLOW (unknown numbers too); listed syscalls → the
 *   negative action or their own errno / kill.
 * - **SystemCallLog=**: a separate filter in systemd (listed → LOG, default
 *   ALLOW; with `~`: default LOG, listed ALLOW), stacked under the
 *   SystemCallFilter= one. Stacking keeps the lowest action value, so the
 *   single program gives each call the filter's action unless that is ALLOW,
 *   and then the log filter's (LOG or ALLOW): ERRNO/KILL beat LOG, LOG beats
 *   ALLOW.
 * - **SystemCallArchitectures=** keeps the native ABI and the listed local
 *   ABIs; calls of the others get KILL_THREAD (libseccomp's SCMP_ACT_KILL,
 *   systemd's bad-arch action for that filter). Without it, every local ABI
 *   is covered and any other arch gets KILL_PROCESS (a host cannot make such
 *   calls; systemd's own filters would pass them).
 *
 * Origins name the assignment: `SystemCallFilter=~mkdir:EACCES (unit.service:7)`.
 *
 * @throws SyscageError for an unknown property, and for every mistake
 * systemd would log and ignore (see the module doc).
 */
export function buildUnitPolicy(props: readonly UnitProperty[], opts: UnitPolicyOptions = {}): UnitPolicyResult {
  const local = opts.abis ?? localAbis();
  if (local.length === 0) throw new SyscageError("NO_ABIS", "unit policy: no ABIs to cover");
  const native = local[0]!;
  const filter = new SyscallList("SystemCallFilter");
  const log = new SyscallList("SystemCallLog");
  const archs = new ArchitectureSet();
  let negative: { value: NegativeAction; where: string; text: string } | undefined;
  const warnings: string[] = [];
  const directives = new UnitDirectives();

  for (const p of props) {
    switch (p.key) {
      case "SystemCallFilter":
        filter.assign(p.value, p.where);
        break;
      case "SystemCallLog":
        log.assign(p.value, p.where);
        break;
      case "SystemCallArchitectures":
        archs.assign(p.value, p.where);
        break;
      case "SystemCallErrorNumber": {
        const value = parseSystemCallErrorNumber(p.value, p.where);
        negative = p.value.trim() === "" ? undefined : { value, where: p.where, text: p.value.trim() };
        break;
      }
      default: {
        if (UnitDirectives.isDirective(p.key)) {
          directives.assign(p);
          break;
        }
        const s = suggest(p.key, UNIT_PROPERTIES);
        throw new SyscageError(
          "UNKNOWN_PROPERTY",
          `${p.where}: unknown property ${p.key}=.${didYouMean(s)} syscage reads ${UNIT_PROPERTIES.map((k) => `${k}=`).join(", ")}`,
          s,
        );
      }
    }
  }
  warnings.push(...filter.warnings, ...log.warnings, ...directives.warnings);

  // Architectures.
  const { kept, blocked } = restrictArchitectures(local, archs);
  for (const [a, where] of archs.items) {
    if (a !== "native" && !local.includes(a)) {
      warnings.push(`${where}: SystemCallArchitectures= ${a} is not one of the local ABIs (${local.join(", ")}); it has no effect`);
    }
  }
  const onKept = (name: string): boolean => abisWithSyscall(name).some((a) => kept.includes(a));

  // SystemCallFilter=.
  const negAction: Action = negative === undefined || negative.value.kind === "kill" ? KILL_PROCESS : errno(negative.value.errno);
  const negText =
    negative === undefined ? "KILL_PROCESS (SystemCallErrorNumber= not set)" : `SystemCallErrorNumber=${negative.text} (${negative.where})`;
  const f: FilterView = buildFilterView(filter, negAction, negText, native, onKept, warnings);

  // SystemCallLog=.
  const l: FilterView = buildLogView(log, onKept);

  // Stack the two filters into one program.
  const names = new Set<string>([...f.rules.keys(), ...l.rules.keys()]);
  const rules: Rule[] = [];
  for (const name of names) {
    const fr = f.rules.get(name);
    const lr = l.rules.get(name);
    const r = stack(
      { ...(fr ?? f.default), explicit: fr !== undefined },
      { ...(lr ?? l.default), explicit: lr !== undefined },
    );
    rules.push({ syscall: name, action: r.action, conditions: [], origin: r.origin });
  }
  const dflt = stack({ ...f.default, explicit: false }, { ...l.default, explicit: false });
  const unknown = stack({ ...f.unknown, explicit: false }, { ...l.unknown, explicit: false });

  const archWhere = [...new Set(archs.items.values())].join(", ");
  const badArch: OriginAction =
    blocked.length > 0
      ? {
          action: KILL_THREAD,
          origin: `SystemCallArchitectures= (${archWhere}) blocks ${blocked.join(", ")}: KILL_THREAD (libseccomp's SCMP_ACT_KILL)`,
        }
      : { action: KILL_PROCESS, origin: "architecture not covered (this host cannot run it): KILL_PROCESS" };

  const systemCallPolicy: Policy = { rules: [...rules], default: dflt, unknown, badArch, abis: kept, flags: [] };
  // The directives' filters (loaded before SystemCallFilter=, which is the newest).
  const routeRules = stackDirectives(rules, dflt, directives.filters(kept));

  return {
    policy: { rules, default: dflt, unknown, badArch, abis: kept, flags: [], ...(routeRules.length > 0 ? { routeRules } : {}) },
    warnings,
    systemCallPolicy,
    directiveLines: directives.lines(),
  };
}

/**
 * Add the directives' filters (oldest first, each default ALLOW) to the
 * rules of the SystemCallFilter=/SystemCallLog= stack, so that the one
 * policy decides every call as the kernel decides the stacked filters: the
 * lowest action value wins, and on a tie the newest filter's, which is
 * SystemCallFilter='s. A directive's rule can only change a call whose
 * SystemCall* decision is less restrictive than the rule's action (ALLOW,
 * LOG); where that decision is as restrictive or more (its errno, KILL), the
 * stack keeps it, so the rule is left out. The rules that stay follow the
 * SystemCall* ones, newest filter first, and the policy's own semantics (most
 * restrictive kind wins, the first of a kind) give exactly the stack's
 * answer. Returns the route rules (newest first), left out the same way.
 */
function stackDirectives(rules: Rule[], dflt: OriginAction, filters: readonly DirectiveFilter[]): Rule[] {
  if (filters.length === 0) return [];
  const base = new Map<string, Action>();
  for (const r of rules) if (r.conditions.length === 0 && !base.has(r.syscall)) base.set(r.syscall, r.action);
  const matters = (r: Rule): boolean => ACTION_RANK[(base.get(r.syscall) ?? dflt.action).kind] > ACTION_RANK[r.action.kind];
  const newestFirst = [...filters].reverse();
  for (const f of newestFirst) rules.push(...f.rules.filter(matters));
  return newestFirst.flatMap((f) => f.routeRules.filter(matters));
}

function buildFilterView(
  list: SyscallList,
  negative: Action,
  negText: string,
  native: AbiName,
  onKept: (name: string) => boolean,
  warnings: string[],
): FilterView {
  const rules = new Map<string, OriginAction>();
  if (list.mode === undefined) {
    const none: OriginAction = { action: ALLOW, origin: "no SystemCallFilter=: allowed" };
    return { rules, default: none, unknown: none };
  }
  const keep = (name: string, e: { literal: boolean }): boolean => e.literal || onKept(name);
  if (list.mode === "deny") {
    for (const [name, e] of list.entries) {
      if (keep(name, e)) rules.set(name, { action: entryToAction(e.action, negative), origin: e.origin });
    }
    const allowed: OriginAction = { action: ALLOW, origin: `not in the SystemCallFilter= deny list (${list.modeWhere}): allowed` };
    return { rules, default: allowed, unknown: allowed };
  }
  const override = !isEnosys(negative, native);
  for (const [name, e] of list.entries) {
    if (!keep(name, e)) continue;
    const action = entryToAction(e.action, ALLOW);
    if (override && action.kind === "ERRNO" && isEnosys(action, native)) {
      warnings.push(
        `${e.origin}: ERRNO(ENOSYS) equals the default systemd gives this allow-list filter; libseccomp refuses such a rule, so systemd would probably fail to load the filter`,
      );
    }
    rules.set(name, { action, origin: e.origin });
  }
  if (!override) {
    const d: OriginAction = { action: negative, origin: `not allowed by SystemCallFilter= (${list.modeWhere}): ${negText}` };
    return { rules, default: d, unknown: d };
  }
  const known = knownSyscallNames();
  for (const name of getGroup("@known")?.members ?? []) {
    if (name.startsWith("@")) continue; // the @known loop does not expand @obsolete
    if (rules.has(name) || list.entries.has(name) || !known.has(name)) continue;
    if (syscallNumber(native, name) === undefined) continue; // not native: libseccomp's negative pseudo-number, skipped
    if (!onKept(name)) continue;
    rules.set(name, {
      action: negative,
      origin: `not allowed by SystemCallFilter= (${list.modeWhere}), in systemd's @known: ${negText}`,
    });
  }
  const enosys: OriginAction = {
    action: errno("ENOSYS"),
    origin: `not allowed by SystemCallFilter= (${list.modeWhere}) and not a native entry of systemd's @known list: ENOSYS so libc falls back (systemd ≥ v255)`,
  };
  return {
    rules,
    default: enosys,
    unknown: { action: errno("ENOSYS"), origin: "syscall number unknown to syscage's tables: ENOSYS so libc falls back (systemd ≥ v255)" },
  };
}

function buildLogView(list: SyscallList, onKept: (name: string) => boolean): FilterView {
  const rules = new Map<string, OriginAction>();
  if (list.mode === undefined) {
    const none: OriginAction = { action: ALLOW, origin: "no SystemCallLog=: not logged" };
    return { rules, default: none, unknown: none };
  }
  const listed = list.mode === "allow" ? LOG : ALLOW;
  for (const [name, e] of list.entries) {
    if (e.literal || onKept(name)) rules.set(name, { action: listed, origin: e.origin });
  }
  const d: OriginAction =
    list.mode === "allow"
      ? { action: ALLOW, origin: `not in SystemCallLog= (${list.modeWhere}): not logged` }
      : { action: LOG, origin: `SystemCallLog=~… (${list.modeWhere}) logs every call not listed` };
  return { rules, default: d, unknown: d };
}

/** {@link buildUnitPolicy} without the warnings. */
export function unitPolicy(props: readonly UnitProperty[], opts: UnitPolicyOptions = {}): Policy {
  return buildUnitPolicy(props, opts).policy;
}

// ---- unit files ------------------------------------------------------------------

/**
 * `[Service]` sandboxing keys that are not seccomp filters (mount
 * namespaces, capabilities, BPF programs…): syscage does not model them, and
 * says so, because the real service is more confined than the policy.
 */
export const UNMODELLED_SANDBOX_KEYS: readonly string[] = Object.freeze([
  "ProtectSystem",
  "ProtectHome",
  "PrivateTmp",
  "PrivateNetwork",
  "PrivateUsers",
  "PrivateIPC",
  "PrivateMounts",
  "ProtectProc",
  "ProcSubset",
  "ProtectControlGroups",
  "ReadOnlyPaths",
  "ReadWritePaths",
  "InaccessiblePaths",
  "ExecPaths",
  "NoExecPaths",
  "TemporaryFileSystem",
  "BindPaths",
  "BindReadOnlyPaths",
  "CapabilityBoundingSet",
  "AmbientCapabilities",
  "RestrictFileSystems",
  "SocketBindAllow",
  "SocketBindDeny",
  "IPAddressAllow",
  "IPAddressDeny",
  "RestrictNetworkInterfaces",
  "DevicePolicy",
  "DeviceAllow",
]);

/** The syscall properties of a unit file, and notes about what was left out. */
export interface UnitFileSettings {
  readonly properties: readonly UnitProperty[];
  readonly warnings: readonly string[];
}

/**
 * Read the syscall properties from unit-file text: `SystemCallFilter=`,
 * `SystemCallErrorNumber=`, `SystemCallArchitectures=`, `SystemCallLog=` of
 * the `[Service]` section, in file order. Other sections ([Unit], [Install],
 * …) and the other [Service] keys (ExecStart=, User=, …) are skipped quietly,
 * except the keys that install seccomp filters syscage does not model
 * ({@link UNMODELLED_SECCOMP_KEYS}), which get a warning naming them. A
 * syscall property in another section gets a warning too (systemd reads it
 * only there).
 * @throws SyscageError INI_SYNTAX with `source:line`.
 */
export function parseUnitFile(text: string, source: string): UnitFileSettings {
  const ini = parseIni(text, source);
  const properties: UnitProperty[] = [];
  const warnings: string[] = [];
  const unmodelled: string[] = [];
  for (const a of ini.assignments) {
    const ours = UNIT_PROPERTIES.includes(a.key);
    if (a.section !== "Service") {
      if (ours) warnings.push(`${a.where}: ${a.key}= in [${a.section}] is ignored; syscage reads it from [Service] only`);
      continue;
    }
    if (ours) properties.push({ key: a.key, value: a.value, where: a.where });
    else if (UNMODELLED_SANDBOX_KEYS.includes(a.key)) {
      unmodelled.push(`${a.key}= (${a.where})`);
    } else if (looksLikeSeccompKey(a.key)) {
      // systemd ignores an unknown key with a warning in the journal, and the service runs unfiltered.
      const near = suggest(a.key, [...UNIT_PROPERTIES, ...UNMODELLED_SANDBOX_KEYS]);
      throw new SyscageError(
        "UNKNOWN_PROPERTY",
        `${a.where}: unknown key ${a.key}= in [Service].${didYouMean(near)} systemd would ignore it and run the service without that filter; syscage reads ${UNIT_PROPERTIES.map((k) => `${k}=`).join(", ")}`,
        near,
      );
    }
  }
  if (unmodelled.length > 0) {
    warnings.push(
      `${source}: ${unmodelled.join(", ")} confine the service by other means than seccomp (namespaces, mounts, capabilities, BPF); syscage's policy is the seccomp part only, and syscage run --unit does not apply them (for files and ports, use run's Landlock options: --allow-read, --allow-write, --allow-connect, --allow-bind…)`,
    );
  }
  if (!ini.sections.some((s) => s.name === "Service")) {
    warnings.push(`${source}: no [Service] section; the unit sets no syscall filter`);
  } else if (!properties.some((p) => p.key === "SystemCallFilter")) {
    const others = [...new Set(properties.filter((p) => DIRECTIVE_KEYS.includes(p.key)).map((p) => `${p.key}=`))];
    warnings.push(`${source}: the unit sets no SystemCallFilter=: like systemd, syscage's policy for it allows every syscall${others.length > 0 ? ` that ${others.join(", ")} do not restrict` : ""}`);
  }
  return { properties, warnings };
}

/**
 * A [Service] key that is none of ours but close to a seccomp directive: it
 * starts with "SystemCall", or is within two edits of one (case aside), as
 * a typo such as `SystemCallFiltr=` or `RestrictAdressFamilies=` is.
 */
function looksLikeSeccompKey(key: string): boolean {
  const k = key.toLowerCase();
  if (k.startsWith("systemcall")) return true;
  return [...UNIT_PROPERTIES, ...UNMODELLED_SANDBOX_KEYS].some((known) => editDistance(k, known.toLowerCase()) <= 2);
}

/** Re-exported for callers that read `.nspawn` files next to unit files. */
export { parseNspawnSettings, mergeNspawnOptions, type NspawnSettings } from "./nspawn-settings.js";
