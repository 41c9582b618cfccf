/**
 * Every file a command reads, given badly (#19, item 1): missing, a
 * directory, empty, unreadable (run as an unprivileged user), a FIFO with
 * garbage in it. Each is one line naming the file, a documented exit status,
 * never an internal error. docs/bad-input.md is this table, generated here:
 * `SYSCAGE_WRITE_DOCS=1 node --import tsx --test test/bad-input.test.ts`
 * rewrites it, and the test fails when it no longer says what the commands do.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CLI_NODE_ARGS, ROOT } from "./helpers/cli.js";
import { NOBODY, checkoutReadableBy } from "./helpers/run-probe.js";

/** How each command takes one file; F is replaced by the path. */
const COMMANDS: readonly { name: string; args: readonly string[] }[] = [
  { name: "compile --policy", args: ["compile", "--policy", "F"] },
  { name: "compile --profile", args: ["compile", "--profile", "F"] },
  { name: "compile --settings", args: ["compile", "--settings", "F"] },
  { name: "compile --unit", args: ["compile", "--unit", "F"] },
  { name: "run --policy", args: ["run", "--policy", "F", "--", "true"] },
  { name: "run --add-filter", args: ["run", "--add-filter", "F", "--", "true"] },
  { name: "explain --policy", args: ["explain", "mkdir", "--policy", "F"] },
  { name: "stats --profile", args: ["stats", "--profile", "F"] },
  { name: "convert --policy", args: ["convert", "--policy", "F", "--to", "oci"] },
  { name: "report --policy", args: ["report", "--policy", "F", "-o", "/dev/null"] },
  { name: "diff", args: ["diff", "F", "nspawn"] },
  { name: "check", args: ["check", "F", "--within", "nspawn"] },
  { name: "audit", args: ["audit", "F"] },
  { name: "disasm", args: ["disasm", "F"] },
  { name: "verify", args: ["verify", "F"] },
  { name: "prove", args: ["prove", "F"] },
  { name: "emulate", args: ["emulate", "F", "--arch", "x86_64", "--syscall", "getpid"] },
  { name: "asm", args: ["asm", "F", "-o", "/dev/null"] },
];

/** Commands for which an empty file is a valid input. */
const ACCEPTS_EMPTY = ["compile --settings", "compile --unit"];

const KINDS = ["missing", "directory", "empty", "unreadable", "FIFO with garbage"] as const;
type Kind = (typeof KINDS)[number];

interface Cell {
  readonly status: number | null;
  readonly line: string;
}

function runOne(args: readonly string[], asNobody: boolean): Promise<Cell> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [...CLI_NODE_ARGS, ...args], {
      cwd: ROOT,
      env: { ...process.env, SYSCAGE_NO_CACHE: "1" },
      stdio: ["ignore", "ignore", "pipe"],
      ...(asNobody ? { uid: NOBODY, gid: NOBODY } : {}),
    });
    let err = "";
    c.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    const timer = setTimeout(() => c.kill("SIGKILL"), 60_000);
    c.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, line: err });
    });
  });
}

test("every command that reads a file: missing, directory, empty, unreadable, FIFO — one line naming the file, never an internal error; docs/bad-input.md is this table", async (t) => {
  if (process.getuid?.() !== 0 || !checkoutReadableBy(NOBODY)) {
    t.skip("needs root, and a checkout the unprivileged user can read (for the unreadable case)");
    process.stderr.write("\n*** SKIPPED: the bad-input table needs root and a checkout nobody can read ***\n");
    return;
  }
  const d = mkdtempSync(join(tmpdir(), "syscage-bad-input-"));
  chmodSync(d, 0o755);
  const paths: Record<Kind, string> = {
    missing: join(d, "missing.json"),
    directory: join(d, "dir.json"),
    empty: join(d, "empty.json"),
    unreadable: join(d, "secret.json"),
    "FIFO with garbage": join(d, "fifo.json"),
  };
  mkdirSync(paths.directory);
  writeFileSync(paths.empty, "");
  writeFileSync(paths.unreadable, "{}\n", { mode: 0o600 });
  chownSync(paths.unreadable, 0, 0);
  spawnSync("mkfifo", [paths["FIFO with garbage"]]);
  chmodSync(paths["FIFO with garbage"], 0o666);
  const rows: string[] = [];
  const problems: string[] = [];
  for (const cmd of COMMANDS) {
    const cells: string[] = [];
    for (const kind of KINDS) {
      const path = paths[kind];
      const args = cmd.args.map((a) => (a === "F" ? path : a));
      let writer: ReturnType<typeof spawn> | undefined;
      if (kind === "FIFO with garbage") writer = spawn("sh", ["-c", `printf 'garbage, not a file of any kind' > ${path}`], { stdio: "ignore" });
      const r = await runOne(args, kind === "unreadable");
      writer?.kill("SIGKILL");
      const all = r.line.split("\n").filter((l) => l !== "");
      const warned = all.filter((l) => l.startsWith("syscage: warning: "));
      // An empty .nspawn or unit file is valid (systemd reads it as setting nothing): accepted, with a warning naming it.
      const accepted = r.status === 0 && kind === "empty" && ACCEPTS_EMPTY.includes(cmd.name) && warned.length === 1;
      const lines = accepted ? warned : all.filter((l) => !l.startsWith("syscage: warning: "));
      const where = `${cmd.name} / ${kind}`;
      if ((r.status === 0 && !accepted) || r.status === null) problems.push(`${where}: exit ${r.status} (${r.line.trim()})`);
      if (r.status === 70 || /internal error/.test(r.line)) problems.push(`${where}: an internal error: ${r.line.trim()}`);
      if (lines.length !== 1) problems.push(`${where}: ${lines.length} lines: ${r.line.trim()}`);
      if (!(lines[0] ?? "").startsWith("syscage: ") || !(lines[0] ?? "").includes(path)) problems.push(`${where}: the message does not name the file: ${lines[0]}`);
      const said = (lines[0] ?? "").replace("syscage: ", "").replaceAll(path, "FILE").replace(/^side A: /, "").replace(/^the command was not run: /, "");
      cells.push(`${r.status}: ${said.replace(/\|/g, "\\|")}`);
    }
    rows.push(`| \`syscage ${cmd.args.join(" ").replace(/ F( |$)/, " FILE$1")}\` | ${cells.join(" | ")} |`);
  }
  // The README's exit-status table says the same.
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  // Each row of the table: the commands it names, and the first status of its "bad input" column.
  const table = readme
    .split("\n")
    .filter((l) => /^\| (`|every other)/.test(l))
    .map((l) => {
      const cells = l.split("|").slice(1, -1);
      return { names: [...cells[0]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!), other: cells[0]!.includes("every other"), trouble: Number(/\d+/.exec(cells[cells.length - 1]!)?.[0]) };
    });
  const troubleOf = (name: string): number => {
    const word = name.split(" ")[0]!;
    return (table.find((r) => r.names.includes(word)) ?? table.find((r) => r.other)!).trouble;
  };
  for (const cmd of COMMANDS) {
    const documented = troubleOf(cmd.name);
    const seen = rows.find((r) => r.startsWith(`| \`syscage ${cmd.args[0]} `) || r.startsWith(`| \`syscage ${cmd.args[0]}\``));
    const statuses = [...(seen ?? "").matchAll(/\| (\d+): /g)].map((m) => Number(m[1])).filter((n) => n !== 0);
    for (const st of statuses) if (st !== documented) problems.push(`${cmd.name}: exits ${st} on bad input, the README's table says ${documented}`);
  }
  assert.deepEqual(problems, []);
  const doc = [
    "# Bad input: what each command says",
    "",
    "Generated by `test/bad-input.test.ts` (`SYSCAGE_WRITE_DOCS=1 node --import tsx --test test/bad-input.test.ts`); the test fails when this table no longer matches what the commands do. Each cell: exit status, then the one line on stderr (FILE stands for the path). `unreadable` is a root-owned 0600 file read by an unprivileged user; the FIFO gets a line of garbage from a writer.",
    "",
    `| command | ${KINDS.join(" | ")} |`,
    `|---|${KINDS.map(() => "---").join("|")}|`,
    ...rows,
    "",
  ].join("\n");
  const file = join(ROOT, "docs", "bad-input.md");
  if (process.env.SYSCAGE_WRITE_DOCS === "1") writeFileSync(file, doc);
  assert.equal(readFileSync(file, "utf8"), doc, "docs/bad-input.md is out of date: rerun with SYSCAGE_WRITE_DOCS=1");
});
