/**
 * Overhead of `syscage record`: wall time of a syscall-heavy command run
 * plainly, under recording (seccomp user notification + CONTINUE), and under
 * `strace -f -c` (ptrace), each repeated; medians.
 *
 *   npx tsx bench/record.ts      (Linux, root or not; needs the native helper; strace optional)
 */
import { spawnSync } from "node:child_process";
import { record } from "../src/record/record.js";

/** One measured way of running the command. */
export interface RecordTiming {
  readonly mode: "plain" | "syscage record" | "strace -f -c";
  /** Median wall time in ms, or undefined when unavailable. */
  readonly medianMs?: number;
  readonly runsMs: readonly number[];
  /** Why there is no number (e.g. strace missing). */
  readonly missing?: string;
}

/** The results, and the command measured. */
export interface RecordBench {
  readonly command: readonly string[];
  readonly runs: number;
  readonly timings: readonly RecordTiming[];
  /** Notifications answered per recorded run (= syscalls the command made). */
  readonly notifications: number;
}

/** The default workload: 200 `ls /` from one shell (fork, exec, file syscalls). */
export const DEFAULT_COMMAND: readonly string[] = ["sh", "-c", "for i in $(seq 200); do ls / >/dev/null; done"];

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function timeSync(cmd: readonly string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd[0]!, cmd.slice(1), { stdio: ["ignore", "ignore", "ignore"] });
  if (r.status !== 0) throw new Error(`${cmd.join(" ")} exited ${r.status}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}

/** Measure `command` `runs` times each way (interleaved), after one warm-up of each. */
export async function measureRecord(command: readonly string[] = DEFAULT_COMMAND, runs = 7): Promise<RecordBench> {
  const hasStrace = spawnSync("strace", ["-V"], { stdio: "ignore" }).status === 0;
  const plain: number[] = [];
  const rec: number[] = [];
  const strace: number[] = [];
  let notifications = 0;
  for (let i = 0; i <= runs; i++) {
    const p = timeSync(command);
    const t = process.hrtime.bigint();
    const r = await record(command[0]!, command.slice(1), { stdio: ["ignore", "ignore", "ignore"] });
    const recMs = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.code !== 0) throw new Error(`recorded ${command.join(" ")} exited ${r.code}`);
    notifications = r.notifications;
    const s = hasStrace ? timeSync(["strace", "-f", "-c", "-o", "/dev/null", ...command]) : 0;
    if (i === 0) continue; // warm-up
    plain.push(p);
    rec.push(recMs);
    if (hasStrace) strace.push(s);
  }
  return {
    command,
    runs,
    notifications,
    timings: [
      { mode: "plain", medianMs: median(plain), runsMs: plain },
      { mode: "syscage record", medianMs: median(rec), runsMs: rec },
      hasStrace ? { mode: "strace -f -c", medianMs: median(strace), runsMs: strace } : { mode: "strace -f -c", runsMs: [], missing: "strace not installed (apt-get install strace)" },
    ],
  };
}

/** A Markdown table of the results. */
export function formatRecordBench(b: RecordBench): string {
  const base = b.timings[0]!.medianMs!;
  const rows = b.timings.map((t) =>
    t.medianMs === undefined ? `| ${t.mode} | n/a (${t.missing}) | |` : `| ${t.mode} | ${t.medianMs.toFixed(1)} ms | ${(t.medianMs / base).toFixed(2)}× |`,
  );
  return [
    `Command: \`${b.command.map((x) => (/[\s$;'"]/.test(x) ? `'${x.replaceAll("'", "'\\''")}'` : x)).join(" ")}\` — ${b.notifications} syscalls per run; median of ${b.runs} runs each (interleaved, after a warm-up).`,
    "",
    "| mode | wall time (median) | vs plain |",
    "|---|---|---|",
    ...rows,
    "",
  ].join("\n");
}

const invokedDirectly = process.argv[1] !== undefined && /bench[/\\]record\.ts$/.test(process.argv[1]);
if (invokedDirectly) {
  measureRecord().then(
    (b) => process.stdout.write(formatRecordBench(b)),
    (e: unknown) => {
      process.stderr.write(`bench/record: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
