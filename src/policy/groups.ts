/**
 * systemd's named syscall groups (`@default`, `@file-system`, … `@known`) and
 * their expansion, as systemd defines them (data: `generated/systemd.ts`,
 * from systemd v260's `syscall_filter_sets[]`).
 *
 * A group's members are syscall names and references to other groups
 * (`@sandbox` inside `@default`); references expand recursively wherever a
 * group is used. Group names are case-sensitive and include the `@`.
 */
import { SyscageError, didYouMean, suggest } from "../errors.js";
import { SYSCALL_SETS, SYSTEMD_DATA_VERSION as DATA_VERSION } from "./generated/systemd.js";

/** One systemd syscall group. */
export interface SyscallGroup {
  /** With the `@`, e.g. "@clock". */
  readonly name: string;
  /** systemd's one-line description. */
  readonly help: string;
  /** Syscall names and `@group` references, in systemd's source order. */
  readonly members: readonly string[];
}

/** The systemd release the group data comes from ("v260"). */
export const SYSTEMD_DATA_VERSION: string = DATA_VERSION;

const GROUPS: readonly SyscallGroup[] = Object.freeze(
  SYSCALL_SETS.map((s) => Object.freeze({ name: s.name, help: s.help, members: Object.freeze([...s.members]) })),
);
const BY_NAME: ReadonlyMap<string, SyscallGroup> = new Map(GROUPS.map((g) => [g.name, g]));

/** Every group in systemd's order: `@default` first, `@known` last, the rest alphabetical. */
export function syscallGroups(): readonly SyscallGroup[] {
  return GROUPS;
}

/** The group named exactly `name` (with its `@`), or undefined. */
export function getGroup(name: string): SyscallGroup | undefined {
  return BY_NAME.get(name);
}

/**
 * Like {@link getGroup}, but an unknown name is a SyscageError UNKNOWN_GROUP
 * naming `where`, with close group names as suggestions (`clock` → `@clock`).
 */
export function parseGroup(name: string, where: string): SyscallGroup {
  const g = getGroup(name);
  if (g !== undefined) return g;
  const names = GROUPS.map((x) => x.name);
  const bare = name.startsWith("@") ? name : `@${name}`;
  const s = BY_NAME.has(bare) ? [bare] : suggest(bare, names);
  const hint = name.startsWith("@") ? "" : " Group names start with @.";
  throw new SyscageError(
    "UNKNOWN_GROUP",
    `${where}: unknown syscall group "${name}".${hint}${didYouMean(s)} List them with: syscage groups`,
    s,
  );
}

/**
 * Walk `item` as systemd's `seccomp_add_syscall_filter_item()` does: an item
 * whose literal name is in `exclude` is skipped (`onExcluded`), a group's
 * members are walked in order, a syscall name is reported (`onSyscall`).
 * `path` is the chain of groups that led to the item, outermost first.
 * @throws SyscageError UNKNOWN_GROUP for an unknown `@name`, GROUP_CYCLE for a cycle.
 */
export function walkItem(
  item: string,
  exclude: ReadonlySet<string>,
  onSyscall: (name: string, path: readonly string[]) => void,
  onExcluded: (item: string, path: readonly string[]) => void = () => {},
  path: readonly string[] = [],
): void {
  if (exclude.has(item)) {
    onExcluded(item, path);
    return;
  }
  if (!item.startsWith("@")) {
    onSyscall(item, path);
    return;
  }
  const where = path.length === 0 ? "syscall group expansion" : `member of ${path[path.length - 1]}`;
  const g = parseGroup(item, where);
  if (path.includes(item)) {
    throw new SyscageError("GROUP_CYCLE", `syscall group ${item} contains itself (${[...path, item].join(" → ")}); the group data is broken`);
  }
  const inner = [...path, item];
  for (const m of g.members) walkItem(m, exclude, onSyscall, onExcluded, inner);
}

/**
 * systemd's recursive expansion with LITERAL-name exclusion at every level
 * (seccomp_add_syscall_filter_item): an item whose literal name is in
 * `exclude` is skipped, whether a group or a syscall, at any depth; so
 * excluding `@clock` removes it from inside `@privileged`, while
 * `settimeofday` listed elsewhere stays. Returns syscall names (deduplicated,
 * first-seen order). A plain syscall name expands to itself (not validated).
 * @throws SyscageError UNKNOWN_GROUP for an unknown group.
 */
export function expandItem(item: string, exclude: ReadonlySet<string> = new Set()): string[] {
  const seen = new Set<string>();
  walkItem(item, exclude, (name) => seen.add(name));
  return [...seen];
}

let systemdNames: ReadonlySet<string> | undefined;

/** Every syscall name that appears in some systemd group (some exist on no ABI syscage knows). */
export function systemdSyscallNames(): ReadonlySet<string> {
  if (systemdNames === undefined) {
    const s = new Set<string>();
    for (const g of syscallGroups()) for (const m of g.members) if (!m.startsWith("@")) s.add(m);
    systemdNames = s;
  }
  return systemdNames;
}

let ungrouped: readonly string[] | undefined;

/**
 * Syscalls in `@known` that no other group contains, sorted (byte order):
 * what `systemd-analyze syscall-filter` lists as "Ungrouped System Calls".
 */
export function ungroupedSyscalls(): string[] {
  if (ungrouped === undefined) {
    const grouped = new Set<string>();
    for (const g of GROUPS) if (g.name !== "@known") for (const n of expandItem(g.name)) grouped.add(n);
    ungrouped = expandItem("@known")
      .filter((n) => !grouped.has(n))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
  return [...ungrouped];
}
