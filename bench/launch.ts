/**
 * Launcher benchmark (issue #6): wall time of `syscage run -- /bin/true`
 * against bwrap with the same program and against systemd-nspawn with the
 * same options, and nanoseconds per syscall under our program, nspawn's real
 * stack, libseccomp's tree and no filter (bench/syscall-cost.c).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { getAbi, syscallNumber } from "../src/abi/index.js";
import { interpret, type Insn } from "../src/bpf/index.js";
import { stackCached, stat } from "./measure.js";
import { REPO_ROOT } from "./policies.js";

const RUNS = 15; // per launcher (hyperfine --runs, or the own loop's rounds)
const WARMUP = 2;
export const COST_ITERATIONS = 200_000;
export const COST_ROUNDS = 5;

export interface LaunchRow {
  readonly label: string;
  readonly command: string;
  /** ms */
  readonly median?: number;
  readonly min?: number;
  readonly missing?: string;
}

export interface LaunchBench {
  /** "hyperfine 1.15.0" or "own loop". */
  readonly tool: string;
  /** How the syscage CLI was run, and why. */
  readonly cli: string;
  readonly rows: readonly LaunchRow[];
}

function newestMtime(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** The syscage CLI command line: the built one in dist/ when present, else tsx on the sources. */
function syscageCli(): { argv: string; note: string; built: boolean } {
  const built = join(REPO_ROOT, "dist", "cli", "main.js");
  if (existsSync(built)) {
    const stale = newestMtime(join(REPO_ROOT, "src")) > newestMtime(join(REPO_ROOT, "dist"));
    return {
      argv: `node ${built}`,
      built: true,
      note: `the built CLI, \`node dist/cli/main.js\`${stale ? " (**older than src/: run `npm run build`**)" : " (up to date with src/)"}`,
    };
  }
  return { argv: `npx tsx ${join(REPO_ROOT, "src", "cli", "main.ts")}`, built: false, note: "`npx tsx src/cli/main.ts` (no dist/: `npm run build` was not run; tsx adds its own start-up)" };
}

/** Does `cmd` (a shell line) exit 0? Otherwise the first line of its stderr. */
export function tryShell(cmd: string): string | undefined {
  const r = spawnSync("sh", ["-c", cmd], { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"], timeout: 30_000 });
  return r.status === 0 ? undefined : `exit ${r.status ?? r.signal}: ${r.stderr.trim().split("\n")[0] ?? ""}`;
}

function hasTool(name: string, args: string[]): string | undefined {
  const r = spawnSync(name, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  return r.status === 0 ? r.stdout.trim().split("\n")[0] : undefined;
}

export const COLD_LABEL = "syscage run, cold (no launch cache: plan and compile)";
export const NODE_WARM_LABEL = "syscage run in Node, warm (launch cache hit read by Node)";
export const WARM_LABEL = "syscage run, warm (launch cache hit read by bin/syscage's native front door)";
const BIN = join(REPO_ROOT, "bin", "syscage");

/** Wall time of each launcher running /bin/true; `program` is syscage's nspawn-default program (raw file). */
export function measureLaunch(program: string, tmp: string): LaunchBench {
  const cli = syscageCli();
  const wanted: { label: string; command: string; needs?: string }[] = [
    { label: "node -e 0 (Node start-up alone)", command: "node -e 0" },
    ...(cli.built ? [{ label: "import syscage (module loading alone)", command: `node --input-type=module -e 'await import("${join(REPO_ROOT, "dist", "index.js")}")'` }] : []),
    { label: "syscage compile (the CLI without the launch)", command: `${cli.argv} compile --format raw -o /dev/null` },
    // Cold: the normal path (policy, compile) with the launch cache off; warm: a launch-cache hit
    // (the cache directory is primed by the trial run below), read by Node or by the native front
    // door of bin/syscage (the installed command). Warm is the number issue #6 compares.
    ...(cli.built
      ? [
          { label: COLD_LABEL, command: `SYSCAGE_NO_CACHE=1 ${BIN} run -- /bin/true` },
          { label: NODE_WARM_LABEL, command: `XDG_CACHE_HOME=${join(tmp, "cache")} ${cli.argv} run -- /bin/true` },
          { label: WARM_LABEL, command: `XDG_CACHE_HOME=${join(tmp, "cache")} ${BIN} run -- /bin/true` },
        ]
      : [
          { label: COLD_LABEL, command: `SYSCAGE_NO_CACHE=1 ${cli.argv} run -- /bin/true` },
          { label: NODE_WARM_LABEL, command: `XDG_CACHE_HOME=${join(tmp, "cache")} ${cli.argv} run -- /bin/true` },
        ]),
    { label: "bwrap --seccomp (same program)", command: `bwrap --ro-bind / / --dev /dev --proc /proc --seccomp 9 /bin/true 9< ${program}`, needs: "bwrap" },
    { label: "systemd-nspawn (same options)", command: "systemd-nspawn -q --register=no --keep-unit --volatile=yes -D / --pipe /bin/true", needs: "systemd-nspawn" },
  ];
  const rows: LaunchRow[] = [];
  const ok: { label: string; command: string }[] = [];
  for (const w of wanted) {
    const bad = tryShell(w.command);
    if (bad === undefined) ok.push(w);
    else rows.push({ label: w.label, command: w.command, missing: `n/a: ${w.needs !== undefined && hasTool(w.needs, ["--version"]) === undefined ? `${w.needs} not installed` : bad}` });
  }
  const { tool, timed } = timeCommands(ok.map((w) => w.command), tmp);
  for (const w of ok) rows.push({ label: w.label, command: w.command, ...timed.get(w.command)! });
  rows.sort((a, b) => wanted.findIndex((w) => w.label === a.label) - wanted.findIndex((w) => w.label === b.label));
  return { tool, cli: cli.note, rows };
}

/**
 * Wall time of each shell command, side by side: hyperfine when installed,
 * else an own loop of interleaved rounds. Returns the tool's description and
 * median/min ms per command.
 */
export function timeCommands(commands: readonly string[], tmp: string): { tool: string; timed: Map<string, { median: number; min: number }> } {
  const hyperfine = hasTool("hyperfine", ["--version"]);
  let timed: Map<string, { median: number; min: number }>;
  if (hyperfine !== undefined) {
    const out = join(tmp, "hyperfine.json");
    execFileSync("hyperfine", ["--warmup", String(WARMUP), "--runs", String(RUNS), "--style", "none", "--export-json", out, ...commands], {
      stdio: ["ignore", "ignore", "pipe"], // hyperfine's warnings (sub-5-ms commands, outliers) are not needed here
    });
    const json = JSON.parse(readFileSync(out, "utf8")) as { results: { command: string; median: number; min: number }[] };
    timed = new Map(json.results.map((r) => [r.command, { median: r.median * 1e3, min: r.min * 1e3 }]));
  } else {
    // Own loop: interleaved rounds, the shell's own start-up included (it is the same for all).
    const times = new Map<string, number[]>(commands.map((c) => [c, []]));
    for (let round = -WARMUP; round < RUNS; round++) {
      for (const c of commands) {
        const t = process.hrtime.bigint();
        spawnSync("sh", ["-c", c], { stdio: "ignore" });
        if (round >= 0) times.get(c)!.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }
    timed = new Map([...times].map(([c, t]) => [c, stat(t)]));
  }
  return { tool: hyperfine ?? "own loop (hyperfine not installed: `apt-get install hyperfine`)", timed };
}

/** The launcher table of bench/RESULTS.md, with the issue #6 target line (warm `syscage run` against bwrap). */
export function formatLaunch(l: LaunchBench): string[] {
  const bwrap = l.rows.find((r) => r.label.startsWith("bwrap"));
  const warm = l.rows.find((r) => r.label === WARM_LABEL);
  const cold = l.rows.find((r) => r.label === COLD_LABEL);
  const vs = (r: LaunchRow | undefined): number | undefined => (r?.median !== undefined && bwrap?.median !== undefined ? r.median - bwrap.median : undefined);
  const ms = (d: number): string => `${d >= 0 ? "+" : ""}${d.toFixed(1)} ms`;
  const out = [
    `Wall time of running \`/bin/true\`, side by side in one ${l.tool.startsWith("hyperfine") ? `\`${l.tool}\` run (2 warm-ups, 15 runs each, through \`sh -c\`, whose start-up hyperfine subtracts)` : l.tool}. syscage is ${l.cli}, and \`bin/syscage\`, the installed command (what \`npx syscage\` runs), with the nspawn default (capabilities, no_new_privs, load, exec); cold runs with \`SYSCAGE_NO_CACHE=1\` (build, compile and verify the policy every time), warm hits the launch cache (docs/run.md): read in Node, the cached description goes to the helper without loading the policy modules or the compiler; read by bin/syscage's native front door (native/cached-run.c), Node does not start at all. bwrap gets syscage's nspawn-default program on \`--seccomp FD\`; systemd-nspawn runs with the options the conformance test uses (a volatile container of the host's /, its own five filters).`,
    "",
    "| launcher | command | median ms | min ms | vs bwrap (median) |",
    "|---|---|---:|---:|---:|",
    ...l.rows.map((r) =>
      r.median === undefined
        ? `| ${r.label} | \`${r.command}\` | ${r.missing ?? "n/a"} | | |`
        : `| ${r.label} | \`${r.command.replaceAll(REPO_ROOT + "/", "").replace(/\/tmp\/syscage-bench-[^/ ]+\//g, "$TMP/")}\` | ${r.median.toFixed(1)} | ${r.min!.toFixed(1)} | ${vs(r) !== undefined ? ms(vs(r)!) : "n/a"} |`,
    ),
    "",
  ];
  const d = vs(warm);
  const c = vs(cold);
  out.push(
    `Target \`syscage run\` ≤ bwrap + 60 ms (warm, the launch cache hit): ${d === undefined ? "n/a" : `${ms(d)} — ${d <= 60 ? "met" : "**missed**"}`}; cold (first run with these options, or the cache off): ${c === undefined ? "n/a" : ms(c)}. The first rows split the Node path's time: Node's own start-up (already about bwrap + 60 ms on this machine, which is why the warm path does not start Node), loading syscage's modules, and the CLI compiling the nspawn default without launching anything; the launch itself (helper, capabilities, seccomp, exec) is the small rest.`,
    "",
  );
  return out;
}

// ---- ns per syscall ---------------------------------------------------------------

/** The probes of bench/syscall-cost.c, in its order, with the call each one makes. */
export const PROBES = [
  { key: "getppid", label: "getppid() — allowed, cacheable", abi: "x86_64", name: "getppid", args: [] as bigint[] },
  { key: "swapoff", label: "swapoff(NULL) — denied (EPERM)", abi: "x86_64", name: "swapoff", args: [0n] },
  { key: "socket-arg", label: "socket(AF_NETLINK, 15, 0) — argument-checked, allowed", abi: "x86_64", name: "socket", args: [16n, 15n, 0n] },
  { key: "socket-audit", label: "socket(AF_NETLINK, 15, NETLINK_AUDIT) — argument-checked, denied", abi: "x86_64", name: "socket", args: [16n, 15n, 9n] },
  { key: "i386-getpid", label: "getpid() via int $0x80 (i386) — allowed, cacheable", abi: "x86", name: "getpid", args: [] as bigint[] },
] as const;

export interface CostConfig {
  readonly label: string;
  /** Raw programs, oldest first; empty = no filter. */
  readonly files: readonly string[];
  readonly stack: readonly (readonly Insn[])[];
}

export interface CostCell {
  /** ns per call (min over the rounds), or undefined with `error`. */
  readonly ns?: number;
  /** The raw return value (-errno). */
  readonly ret?: number;
  /** Instructions the stack executes for this call (our interpreter), and whether the kernel caches it. */
  readonly steps: number;
  readonly cached: boolean;
  readonly error?: string;
}

/** ns per probe under each config, side by side in one helper run. */
export function measureSyscallCost(helper: string, configs: readonly CostConfig[]): CostCell[][] {
  const args = [String(COST_ITERATIONS), String(COST_ROUNDS), ...configs.map((c) => (c.files.length === 0 ? "-" : c.files.join(",")))];
  const out = execFileSync(helper, args, { encoding: "utf8" });
  const measured = new Map<string, { ns: number; ret: number } | string>();
  for (const line of out.trimEnd().split("\n")) {
    const [c, probe, a, b] = line.split(" ");
    if (probe === "error") for (const p of PROBES) measured.set(`${c} ${p.key}`, `${a} ${b}`);
    else measured.set(`${c} ${probe}`, { ns: Number(a), ret: Number(b) });
  }
  return configs.map((cfg, ci) =>
    PROBES.map((p) => {
      const abi = getAbi(p.abi);
      const nr = syscallNumber(p.abi, p.name)!;
      const call = { nr, arch: abi.auditArch, instructionPointer: 0n, args: [...p.args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6) };
      const steps = cfg.stack.reduce((s, prog) => s + interpret(prog, call, abi.endian).steps, 0);
      const cached = cfg.stack.length > 0 && stackCached(cfg.stack, p.abi, nr);
      const m = measured.get(`${ci} ${p.key}`);
      if (m === undefined || typeof m === "string") return { steps, cached, error: m ?? "no output" };
      return { ns: m.ns, ret: m.ret, steps, cached };
    }),
  );
}
