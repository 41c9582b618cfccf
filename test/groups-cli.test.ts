/**
 * `syscage groups`, run as a user runs it (a child process), and compared
 * with the real `systemd-analyze syscall-filter` where one is installed.
 * Debian 12's systemd is v252 while syscage carries v260 data, so the
 * comparison is of format and structure, byte for byte for the groups whose
 * content is the same in both releases; groups that changed between the two
 * releases are listed below as data-version differences.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test, type TestContext } from "node:test";
import { syscallNumber } from "../src/abi/tables.js";
import { expandItem, getGroup, syscallGroups, ungroupedSyscalls } from "../src/policy/groups.js";
import { assertOneLineError, cli as syscage } from "./helpers/cli.js";
import { REQUIRE_ORACLES } from "./helpers/oracles.js";

/** A printed group: its exact text block and its parsed parts. */
interface Block {
  readonly name: string;
  readonly help: string;
  readonly members: string[];
  readonly text: string;
}

/**
 * Parse `systemd-analyze syscall-filter` text: groups separated by blank
 * lines, then `#` sections. Every line must fit the format, or this fails.
 */
function parseListing(text: string): { groups: Block[]; sections: Map<string, string[]> } {
  const groups: Block[] = [];
  const sections = new Map<string, string[]>();
  const chunks = text.split("\n\n").filter((c) => c.trim() !== "");
  for (const chunk of chunks) {
    const lines = chunk.replace(/\n$/, "").split("\n");
    if (lines[0]!.startsWith("# ")) {
      const body = lines.slice(1).map((l) => {
        assert.match(l, /^#   \S+$/, `section line ${JSON.stringify(l)}`);
        return l.slice(4);
      });
      sections.set(lines[0]!, body);
      continue;
    }
    assert.match(lines[0]!, /^@[a-z-]+$/, `group header ${JSON.stringify(lines[0])}`);
    assert.match(lines[1] ?? "", /^ {4}# \S/, `help line of ${lines[0]}`);
    const members = lines.slice(2).map((l) => {
      assert.match(l, /^ {4}@?[a-z0-9_-]+$/, `member line ${JSON.stringify(l)} in ${lines[0]}`);
      return l.slice(4);
    });
    groups.push({ name: lines[0]!, help: lines[1]!.slice(6), members, text: lines.join("\n") });
  }
  return { groups, sections };
}

const UNGROUPED = "# Ungrouped System Calls (known but not included in any of the groups except @known):";

/**
 * Groups whose content differs between systemd v252 (Debian 12) and v260,
 * with what changed (research notes §1.5 and systemd's NEWS).
 */
const CHANGED_SINCE_V252: Readonly<Record<string, string>> = {
  "@default": "gained @sandbox (v257), mseal (v257), lsm_get_self_attr and lsm_list_modules (v260)",
  "@basic-io": "gained llseek",
  "@file-system": "gained file_getattr/file_setattr, *xattrat, listmount/statmount, open_tree, fstatat, newfstat",
  "@mount": "open_tree moved to @file-system; gained open_tree_attr",
  "@known": "the kernel syscall list grew (cachestat, listmount, listns, mseal, …)",
};

function systemdAnalyze(t: TestContext): string | null {
  const r = spawnSync("systemd-analyze", ["syscall-filter", "--no-pager"], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) {
    const why = `systemd-analyze syscall-filter unavailable (${r.error?.message ?? `exit ${r.status}`}; apt-get install systemd)`;
    if (REQUIRE_ORACLES) throw new Error(`oracle systemd-analyze is required (SYSCAGE_REQUIRE_ORACLES=1) but missing: ${why}`);
    process.stderr.write(`\n*** SKIPPED: ${why} ***\n`);
    t.skip(why);
    return null;
  }
  return r.stdout;
}

describe("syscage groups", () => {
  test("no arguments: all 30 groups in systemd's order, then the ungrouped section", () => {
    const r = syscage("groups");
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, "");
    const { groups, sections } = parseListing(r.out);
    assert.deepEqual(groups.map((g) => g.name), syscallGroups().map((g) => g.name));
    for (const g of groups) {
      const want = getGroup(g.name)!;
      assert.equal(g.help, want.help);
      assert.deepEqual(g.members, [...want.members], `${g.name}: members in source order, @refs not expanded`);
    }
    assert.ok(r.out.startsWith("@default\n    # System calls that are always permitted\n    @sandbox\n    arch_prctl\n"));
    assert.ok(r.out.includes(`\n    writev\n\n${UNGROUPED}\n#   arc_gettls\n`), "blank line, then the section header");
    assert.deepEqual([...sections.keys()], [UNGROUPED]);
    assert.deepEqual(sections.get(UNGROUPED), ungroupedSyscalls());
    assert.equal(sections.get(UNGROUPED)!.length, 81);
    assert.ok(r.out.endsWith("#   utrap_install\n"));
  });

  test("named groups: each printed once per argument, a blank line between them", () => {
    const r = syscage("groups", "@clock", "@reboot");
    assert.deepEqual(r, {
      code: 0,
      err: "",
      out:
        "@clock\n    # Change the system time\n    adjtimex\n    clock_adjtime\n    clock_adjtime64\n    clock_settime\n    clock_settime64\n    settimeofday\n" +
        "\n@reboot\n    # Reboot and reboot preparation/kexec\n    kexec_file_load\n    kexec_load\n    reboot\n",
    });
  });

  test("--expand: nested groups resolved, numbers per ABI, '-' where absent", () => {
    const r = syscage("groups", "--expand", "--arch", "x86_64,x86", "@privileged");
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trimEnd().split("\n");
    assert.equal(lines[0], "@privileged");
    const names = expandItem("@privileged");
    const count = (abi: "x86_64" | "x86"): number => names.filter((n) => syscallNumber(abi, n) !== undefined).length;
    assert.equal(lines[2], `    # 53 syscalls expanded; present on x86_64: ${count("x86_64")}, x86: ${count("x86")}`);
    assert.ok(count("x86_64") > 30 && count("x86") > 30);
    assert.match(lines[3]!, /^ {4}# syscall\s+x86_64\s+x86$/);
    const rows = new Map(lines.slice(4).map((l) => l.trim().split(/\s+/)).map((c) => [c[0]!, c.slice(1)]));
    assert.deepEqual([...rows.keys()], expandItem("@privileged"));
    assert.deepEqual(rows.get("settimeofday"), ["164", "79"], "reached through @clock");
    assert.deepEqual(rows.get("chown32"), ["-", "212"]);
    for (const [name, cells] of rows) {
      assert.equal(cells[0], String(syscallNumber("x86_64", name) ?? "-"), name);
      assert.equal(cells[1], String(syscallNumber("x86", name) ?? "-"), name);
    }
  });

  test("--json with --arch: groups, members and per-ABI numbers (null where absent)", () => {
    const r = syscage("groups", "--json", "--arch", "x32", "@swap", "@sandbox");
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), {
      systemdVersion: "v260",
      abis: ["x32"],
      groups: [
        {
          name: "@swap",
          help: "Enable/disable swap devices",
          members: ["swapoff", "swapon"],
          expanded: [
            { name: "swapoff", nr: { x32: 0x40000000 + 168 } },
            { name: "swapon", nr: { x32: 0x40000000 + 167 } },
          ],
        },
        {
          name: "@sandbox",
          help: "Sandbox functionality",
          members: ["landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self", "seccomp"],
          expanded: [
            { name: "landlock_add_rule", nr: { x32: 0x40000000 + 445 } },
            { name: "landlock_create_ruleset", nr: { x32: 0x40000000 + 444 } },
            { name: "landlock_restrict_self", nr: { x32: 0x40000000 + 446 } },
            { name: "seccomp", nr: { x32: 0x40000000 + 317 } },
          ],
        },
      ],
    });
  });

  test("--json without arguments: all groups and the ungrouped names", () => {
    const r = syscage("groups", "--json");
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { systemdVersion: string; groups: { name: string; members: string[] }[]; ungrouped: string[] };
    assert.equal(j.groups.length, 30);
    assert.deepEqual(j.groups[29]!.members.length, 538);
    assert.deepEqual(j.ungrouped, ungroupedSyscalls());
    assert.ok(!("abis" in j));
  });

  test("errors: one line, exit 1, suggestions", () => {
    assertOneLineError(syscage("groups", "clock"), 'unknown syscall group "clock"', "start with @", 'Did you mean "@clock"?');
    assertOneLineError(syscage("groups", "@clock", "@clok"), "argument 2", 'Did you mean "@clock"?');
    assertOneLineError(syscage("groups", "@Clock"), 'unknown syscall group "@Clock"');
    assertOneLineError(syscage("groups", "--arch", "x86_46", "@clock"), 'unknown architecture "x86_46"', "x86_64");
    assertOneLineError(syscage("groups", "--arch", "x86_64,", "@clock"), "empty name");
  });
});

describe("syscage groups vs systemd-analyze syscall-filter (systemd v252 on Debian 12)", () => {
  test("same format; identical text for every group unchanged since v252", (t) => {
    const real = systemdAnalyze(t);
    if (real === null) return;
    const theirs = parseListing(real);
    const ours = parseListing(syscage("groups").out);
    const byName = new Map(ours.groups.map((g) => [g.name, g]));
    // Same relative order; v260 only adds groups (@sandbox, v257).
    const common = theirs.groups.map((g) => g.name).filter((n) => byName.has(n));
    assert.deepEqual(common, theirs.groups.map((g) => g.name), "every v252 group still exists");
    assert.deepEqual(ours.groups.map((g) => g.name).filter((n) => common.includes(n)), common, "same order");
    assert.deepEqual(ours.groups.map((g) => g.name).filter((n) => !common.includes(n)), ["@sandbox"]);

    const differing: string[] = [];
    for (const g of theirs.groups) {
      const mine = byName.get(g.name)!;
      assert.equal(mine.help, g.help, `${g.name} help`);
      if (mine.text === g.text) continue;
      differing.push(g.name);
      assert.ok(g.name in CHANGED_SINCE_V252, `${g.name} differs from systemd-analyze but is not a known v252→v260 change:\n${mine.text}\n---\n${g.text}`);
    }
    assert.ok(theirs.groups.length - differing.length >= 20, `only ${theirs.groups.length - differing.length} groups are identical`);

    // Ungrouped: same header and format; a name ungrouped in v252 but not here was put in a changed group.
    const theirUngrouped = theirs.sections.get(UNGROUPED);
    assert.ok(theirUngrouped !== undefined, "systemd-analyze printed the ungrouped section");
    assert.deepEqual([...theirUngrouped].sort(), theirUngrouped, "sorted");
    const oursUngrouped = new Set(ungroupedSyscalls());
    for (const n of theirUngrouped) {
      if (oursUngrouped.has(n)) continue;
      // The groups that list n directly must include one that changed (or is new).
      const holders = syscallGroups().filter((g) => g.name !== "@known" && g.members.includes(n)).map((g) => g.name);
      assert.ok(holders.some((h) => differing.includes(h) || h === "@sandbox"), `${n}: grouped now (${holders.join(", ")}) but in no changed group`);
    }
  });
});
