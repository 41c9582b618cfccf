/**
 * `syscage groups [@group…] [--expand] [--arch LIST] [--json]`: systemd's
 * syscall groups, printed as `systemd-analyze syscall-filter` prints them
 * (header line, `    # help`, one `    member` line each, in source order,
 * nested groups not expanded; a blank line between groups). With no group
 * named, all 30 are printed, then the "Ungrouped System Calls" section.
 * `--expand` resolves nested groups and shows each syscall's number on every
 * ABI of `--arch` (default: this host's local ABIs).
 */
import type { Command } from "commander";
import { parsePolicyArch } from "../policy-options.js";
import { ABI_NAMES, localAbis, type AbiName } from "../../abi/arch.js";
import { syscallNumber } from "../../abi/tables.js";
import { SYSTEMD_DATA_VERSION, expandItem, parseGroup, syscallGroups, ungroupedSyscalls, type SyscallGroup } from "../../policy/groups.js";
import { formatTable, printJson } from "../output.js";

interface GroupsOptions {
  json?: boolean;
  expand?: boolean;
  arch?: string;
}

/** The header of the ungrouped section, as systemd-analyze writes it. */
export const UNGROUPED_HEADER = "# Ungrouped System Calls (known but not included in any of the groups except @known):";

/** `--arch a,b` (every spelling parseAbi accepts); `host` = this host's local ABIs, `all` = every ABI. */
/** `--arch LIST`: the policy options' syntax, plus `all` for every ABI. */
function parseArchList(text: string): AbiName[] {
  return text.trim().toLowerCase() === "all" ? [...ABI_NAMES] : parsePolicyArch(text);
}

/** One expanded syscall: its number on each ABI (null where it does not exist). */
interface ExpandedMember {
  readonly name: string;
  readonly nr: Record<string, number | null>;
}

function expandGroup(g: SyscallGroup, abis: readonly AbiName[]): ExpandedMember[] {
  return expandItem(g.name).map((name) => {
    const nr: Record<string, number | null> = {};
    for (const a of abis) nr[a] = syscallNumber(a, name) ?? null;
    return { name, nr };
  });
}

function textGroup(g: SyscallGroup, abis: readonly AbiName[] | undefined): string {
  const lines = [g.name, `    # ${g.help}`];
  if (abis === undefined) {
    for (const m of g.members) lines.push(`    ${m}`);
    return lines.join("\n") + "\n";
  }
  const members = expandGroup(g, abis);
  const counts = abis.map((a) => `${a}: ${members.filter((m) => m.nr[a] !== null).length}`).join(", ");
  lines.push(`    # ${members.length} syscalls expanded; present on ${counts}`);
  const rows = [["# syscall", ...abis], ...members.map((m) => [m.name, ...abis.map((a) => (m.nr[a] === null ? "-" : String(m.nr[a])))])];
  for (const l of formatTable(rows).split("\n")) lines.push(`    ${l}`.trimEnd());
  return lines.join("\n") + "\n";
}

function run(names: readonly string[], opts: GroupsOptions): void {
  const groups = names.length === 0 ? syscallGroups() : names.map((n, i) => parseGroup(n, `argument ${i + 1}`));
  const expand = opts.expand === true || opts.arch !== undefined;
  const abis = expand ? (opts.arch !== undefined ? parseArchList(opts.arch) : [...localAbis()]) : undefined;
  const all = names.length === 0;
  if (opts.json === true) {
    printJson({
      systemdVersion: SYSTEMD_DATA_VERSION,
      ...(abis !== undefined ? { abis } : {}),
      groups: groups.map((g) => ({
        name: g.name,
        help: g.help,
        members: g.members,
        ...(abis !== undefined ? { expanded: expandGroup(g, abis) } : {}),
      })),
      ...(all ? { ungrouped: ungroupedSyscalls() } : {}),
    });
    return;
  }
  let out = groups.map((g) => textGroup(g, abis)).join("\n");
  if (all) out += `\n${UNGROUPED_HEADER}\n` + ungroupedSyscalls().map((n) => `#   ${n}\n`).join("");
  process.stdout.write(out);
}

/** Registers `syscage groups` on `program`. */
export function register(program: Command): void {
  program
    .command("groups")
    .summary("list systemd's syscall groups (@default, @file-system, …)")
    .description(
      `Print systemd's syscall groups (systemd ${SYSTEMD_DATA_VERSION} data) as\n` +
        "`systemd-analyze syscall-filter` does: the name, `# help`, then the members in\n" +
        "systemd's order, nested @groups shown as references. With no group named, all 30\n" +
        "are printed, then the syscalls known to systemd (@known) that no other group has.\n" +
        "--expand resolves nested groups and shows each syscall's number (as seen in\n" +
        "seccomp_data.nr) on each ABI, '-' where the ABI lacks it.",
    )
    .argument("[group...]", "group names with their @, e.g. @clock @system-service")
    .option("--expand", "expand nested groups; list every syscall with its number per ABI")
    .option("-a, --arch <list>", "comma-separated ABIs for --expand (any spelling; host, all); implies --expand (default: this host's local ABIs)")
    .option("--json", "print {systemdVersion, abis?, groups: [{name, help, members, expanded?: [{name, nr: {ABI: number|null}}]}], ungrouped?}")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  syscage groups                          # every group, like systemd-analyze syscall-filter\n" +
        "  syscage groups @clock @reboot\n" +
        "  syscage groups --expand @privileged     # nested groups resolved, numbers per ABI\n" +
        "  syscage groups --arch aarch64,arm @default\n" +
        "  syscage groups --json @known\n",
    )
    .action((names: string[], opts: GroupsOptions) => run(names, opts));
}
