/**
 * systemd-nspawn's syscall filter as a Policy (systemd v260 data and
 * behaviour, src/nspawn/nspawn-seccomp.c; see docs/semantics.md and the
 * research notes §2).
 *
 * - The allow-list table is walked in order; a row gated by a capability is
 *   used only when that capability is retained. Then the user's allow-list
 *   items (`--system-call-filter=LIST`) follow. Every item is expanded with
 *   the user's deny list (`--system-call-filter=~LIST`) as a LITERAL-name
 *   exclusion at every level, so the deny list wins: `~@clock` removes
 *   `@clock` even from inside another group, but an explicitly allowed
 *   `settimeofday` stays allowed.
 * - Every allowed name → ALLOW. Every other name of `@known` (recursively
 *   expanded, `@obsolete` included) → ERRNO(EPERM). Everything else (syscalls
 *   newer than systemd's list) → ERRNO(ENOSYS), so libc falls back.
 * - nspawn's second filter, `socket(AF_NETLINK, *, NETLINK_AUDIT)` →
 *   ERRNO(EAFNOSUPPORT), becomes the FIRST rule: under syscage's semantics
 *   (most restrictive kind wins; same kind → first rule) it then beats both
 *   ALLOW and EPERM for `socket`, as the kernel's stacking of the two filters
 *   does (the newer filter's errno is kept on a tie).
 *
 * Where syscage is stricter than nspawn: unknown syscall or group names and a
 * `~` that is not the first character of a list are errors (nspawn ignores
 * them with a log message), and deny-list names are validated too.
 */
import { localAbis, type AbiName } from "../abi/arch.js";
import { CAPABILITY_NAMES, CAP_LAST_CAP, capabilityName, parseCapability } from "../abi/capabilities.js";
import { knownSyscallNames, syscallNumber } from "../abi/tables.js";
import { SyscageError, didYouMean , withContext } from "../errors.js";
import { NSPAWN_ALLOW_LIST, NSPAWN_DEFAULT_RETAINED_CAPABILITIES } from "./generated/systemd.js";
import { expandItem, getGroup, parseGroup, systemdSyscallNames, walkItem } from "./groups.js";
import { KILL_PROCESS, checkSyscallName, definePolicy, errno, type Policy, type RuleInput } from "./model.js";

/** systemd-nspawn's command-line options that shape its syscall filter. */
export interface NspawnOptions {
  /** --capability=LIST entries (names, "all"); repeatable. */
  readonly capability?: readonly string[];
  /** --drop-capability=LIST entries; drop wins. */
  readonly dropCapability?: readonly string[];
  /** --private-network: adds CAP_NET_ADMIN. */
  readonly privateNetwork?: boolean;
  /** --system-call-filter=LIST values, each a whole list (a leading "~" makes it a deny list). */
  readonly systemCallFilter?: readonly string[];
  /** The ABIs the program covers; default: the host's local ABIs (x86_64 → x86_64, x86, x32). */
  readonly abis?: readonly AbiName[];
}

/** The capabilities nspawn retains by default (v260 `arg_caps_retain`). */
export const NSPAWN_DEFAULT_CAPABILITIES: readonly string[] = Object.freeze([...NSPAWN_DEFAULT_RETAINED_CAPABILITIES]);

/** AF_NETLINK and NETLINK_AUDIT: the same numbers on every Linux ABI. */
const AF_NETLINK = 16n;
const NETLINK_AUDIT = 9n;

/** Origin of the audit rule. */
export const NSPAWN_AUDIT_ORIGIN = "nspawn audit rule: socket(AF_NETLINK, *, NETLINK_AUDIT)";

function withWhere(where: string, f: () => number): number {
  try {
    return f();
  } catch (e) {
    withContext(e, `${where}: `);
  }
}

/** The capability numbers of comma-separated lists (`all` = every capability). */
function capabilityList(entries: readonly string[], option: string): Set<number> {
  const out = new Set<number>();
  for (const entry of entries) {
    const where = `${option}=${entry}`;
    for (const raw of entry.split(",")) {
      const word = raw.trim();
      if (word === "") continue;
      if (word.toLowerCase() === "all") {
        for (let c = 0; c <= CAP_LAST_CAP; c++) out.add(c);
      } else if (word.toLowerCase() === "help") {
        throw new SyscageError("UNKNOWN_CAPABILITY", `${where}: "help" is not a capability; it asks the command line to list the names (${CAPABILITY_NAMES[0]} … ${CAPABILITY_NAMES[CAP_LAST_CAP]})`);
      } else {
        out.add(withWhere(where, () => parseCapability(word)));
      }
    }
  }
  return out;
}

/**
 * The capabilities the container retains: nspawn's defaults, plus
 * `--capability` entries (comma-separated lists, `all`), plus CAP_NET_ADMIN
 * with `--private-network`, minus `--drop-capability` entries (applied last,
 * so dropping wins).
 * @throws SyscageError UNKNOWN_CAPABILITY naming the option, with suggestions.
 */
export function nspawnCapabilities(opts: NspawnOptions): ReadonlySet<number> {
  const caps = new Set(NSPAWN_DEFAULT_CAPABILITIES.map((c) => parseCapability(c)));
  for (const c of capabilityList(opts.capability ?? [], "--capability")) caps.add(c);
  if (opts.privateNetwork === true) caps.add(parseCapability("CAP_NET_ADMIN"));
  for (const c of capabilityList(opts.dropCapability ?? [], "--drop-capability")) caps.delete(c);
  return caps;
}

/** Validate one syscall name of a filter list: known on some ABI, or named in systemd's groups. */
function checkFilterName(word: string, where: string): void {
  if (knownSyscallNames().has(word) || systemdSyscallNames().has(word)) return;
  const group = `@${word}`;
  if (getGroup(group) !== undefined) {
    throw new SyscageError(
      "UNKNOWN_SYSCALL",
      `${where}: unknown syscall "${word}"; group names start with @.${didYouMean([group])}`,
      [group],
    );
  }
  checkSyscallName(word, where);
}

/**
 * Parse one `--system-call-filter=` value as nspawn does: a leading `~`
 * makes the whole list a deny list; the rest is split on whitespace. Unlike
 * nspawn, every word is validated: a `~` anywhere else, an unknown @group or
 * an unknown syscall name is an error naming `where`. An empty value gives no
 * items.
 */
export function parseSystemCallFilterOption(value: string, where: string): { deny: boolean; items: string[] } {
  const deny = value.startsWith("~");
  const items = (deny ? value.slice(1) : value).split(/\s+/).filter((w) => w !== "");
  for (const word of items) {
    if (word.startsWith("~")) {
      const fix = deny
        ? `write "~${items.map((w) => w.replace(/^~+/, "")).join(" ")}"`
        : `give the denied names in their own list, e.g. --system-call-filter="~${word.replace(/^~+/, "")}"`;
      throw new SyscageError(
        "BAD_FILTER_LIST",
        `${where}: "${word}": "~" applies to the whole list and only as its first character; ${fix}`,
      );
    }
    if (word.startsWith("@")) parseGroup(word, where);
    else checkFilterName(word, where);
  }
  return { deny, items };
}

/** The nspawn filter in terms of syscall names, before it becomes rules. */
export interface NspawnFilterSets {
  /** The retained capabilities. */
  readonly capabilities: ReadonlySet<number>;
  /** User allow-list items, in order. */
  readonly allowItems: readonly string[];
  /** User deny-list items, in order. */
  readonly denyItems: readonly string[];
  /** Allowed syscall names, first-seen order → the origin of the first row or item that allowed it. */
  readonly allowed: ReadonlyMap<string, string>;
  /** Names of the expanded `@known` that are not allowed (→ EPERM), in `@known` order → origin. */
  readonly denied: ReadonlyMap<string, string>;
}

/**
 * nspawn's filter as name sets (systemd's algorithm, research notes §2.3).
 * Names come from systemd's data, so some exist on no ABI syscage knows
 * (alpha's `osf_*`); {@link nspawnPolicy} leaves those out.
 */
export function nspawnFilterSets(opts: NspawnOptions = {}): NspawnFilterSets {
  const capabilities = nspawnCapabilities(opts);
  const allowItems: string[] = [];
  const denyItems: string[] = [];
  for (const value of opts.systemCallFilter ?? []) {
    const parsed = parseSystemCallFilterOption(value, `--system-call-filter="${value}"`);
    (parsed.deny ? denyItems : allowItems).push(...parsed.items);
  }
  const exclude = new Set(denyItems);
  const allowed = new Map<string, string>();
  const removedBy = new Map<string, string>();
  const add = (item: string, origin: string): void =>
    walkItem(
      item,
      exclude,
      (name) => {
        if (!allowed.has(name)) allowed.set(name, origin);
      },
      (excluded) => {
        for (const n of expandItem(excluded)) if (!removedBy.has(n)) removedBy.set(n, excluded);
      },
    );
  for (const row of NSPAWN_ALLOW_LIST) {
    if (row.capability === null) {
      add(row.name, `nspawn allow list: ${row.name}`);
      continue;
    }
    const cap = parseCapability(row.capability);
    if (capabilities.has(cap)) add(row.name, `gated by ${capabilityName(cap) ?? row.capability}: ${row.name}`);
  }
  for (const item of allowItems) add(item, `--system-call-filter=${item}`);
  const denied = new Map<string, string>();
  for (const name of expandItem("@known", new Set(allowed.keys()))) {
    const by = removedBy.get(name);
    denied.set(name, by === undefined ? "not allowed, in @known" : `removed by --system-call-filter=~${by} (deny lists take precedence)`);
  }
  return { capabilities, allowItems, denyItems, allowed, denied };
}

/**
 * systemd-nspawn's syscall filter (v260) as one Policy over `opts.abis`
 * (default: the host's local ABIs), with an origin on every rule:
 *
 * 1. `socket(AF_NETLINK, *, NETLINK_AUDIT)` → ERRNO(EAFNOSUPPORT) (first, see the module doc);
 * 2. every allowed name → ALLOW ("nspawn allow list: @file-system",
 *    "gated by CAP_SYS_TIME: @clock", "--system-call-filter=settimeofday");
 * 3. every other name of `@known` → ERRNO(EPERM) ("not allowed, in @known", or
 *    "removed by --system-call-filter=~mkdir (deny lists take precedence)");
 * 4. default and unknown numbers → ERRNO(ENOSYS).
 *
 * Names from systemd's data that exist on none of the policy's ABIs get no
 * rule (libseccomp skips them the same way); a name the user wrote directly
 * keeps its rule, so compiling warns that it has no effect there.
 *
 * Bad arch: real nspawn installs one filter per local ABI, each passing
 * other arches' calls (BADARCH = ALLOW). A single syscage program covers all
 * local ABIs at once, so any other arch gets KILL_PROCESS: a process on this
 * host cannot make calls of any other arch anyway.
 *
 * @throws SyscageError for unknown capabilities, groups or syscall names and
 * misplaced `~`.
 */
export function nspawnPolicy(opts: NspawnOptions = {}): Policy {
  const sets = nspawnFilterSets(opts);
  const abis = opts.abis ?? localAbis();
  const onAbis = (name: string): boolean => abis.some((a) => syscallNumber(a, name) !== undefined);
  const literal = new Set(sets.allowItems.filter((i) => !i.startsWith("@")));
  const rules: RuleInput[] = [];
  if (onAbis("socket")) {
    rules.push({
      syscall: "socket",
      action: errno("EAFNOSUPPORT"),
      // socket() reads `int family` and `int protocol`: under the default
      // argumentWidth "kernel" these EQ conditions compare only the low 32
      // bits (src/abi/argtypes.ts). nspawn compares all 64 bits, and
      // socket(AF_NETLINK | 1 << 32, …, NETLINK_AUDIT) slips past it.
      conditions: [
        { arg: 0, op: "EQ", value: AF_NETLINK },
        { arg: 2, op: "EQ", value: NETLINK_AUDIT },
      ],
      origin: NSPAWN_AUDIT_ORIGIN,
    });
  }
  for (const [name, origin] of sets.allowed) {
    const keep = onAbis(name) || (literal.has(name) && origin === `--system-call-filter=${name}` && knownSyscallNames().has(name));
    if (keep) rules.push({ syscall: name, action: { kind: "ALLOW" }, origin });
  }
  for (const [name, origin] of sets.denied) {
    if (onAbis(name)) rules.push({ syscall: name, action: errno("EPERM"), origin });
  }
  const p = definePolicy({ rules, default: errno("ENOSYS"), unknown: errno("ENOSYS"), badArch: KILL_PROCESS, abis, origin: "nspawn" });
  return {
    ...p,
    default: { action: p.default.action, origin: "not in systemd's @known (newer syscall): ENOSYS so libc falls back" },
    unknown: { action: p.unknown.action, origin: "syscall number unknown to syscage's tables: ENOSYS so libc falls back" },
    badArch: { action: p.badArch.action, origin: "architecture not covered (this host cannot run it): KILL_PROCESS" },
  };
}
