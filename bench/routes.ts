/**
 * What the closed routes (src/policy/routes.ts) and run's terminal guard
 * (src/run/terminal.ts) cost: the same policy compiled with routes open (the
 * rules as written, as the comparison with libseccomp uses them) and closed
 * (syscage's default), and the program `syscage run` loads for it.
 */
import { compile } from "../src/compile/index.js";
import type { Policy } from "../src/policy/model.js";
import { withRoutes } from "../src/policy/routes.js";
import { planLaunch } from "../src/run/launch.js";
import { staticMetrics } from "./measure.js";
import { ABIS } from "./policies.js";

export interface RoutesInput {
  readonly name: string;
  /** The policy as the benchmark builds it (any routes mode). */
  readonly policy: Policy;
}

const f1 = (n: number): string => n.toFixed(1);

/** The "Closed routes" section of bench/RESULTS.md. */
export function routesSection(inputs: readonly RoutesInput[]): string[] {
  const out = [
    "## Closed routes and the terminal guard: their cost (issue #13)",
    "",
    "Each policy compiled with `routes: \"open\"` (the rules as written), `\"closed\"` (syscage's default: io_uring closed where the rules deny or restrict a call an opcode performs, clone3/openat2 ENOSYS where clone/openat are restricted), and as `syscage run` loads it (closed routes plus the TIOCSTI/TIOCLINUX rules). Executed instructions: our interpreter, zero arguments, every number of the x86_64, x86 and x32 tables.",
    "",
    "| policy | closing rules | insns open / closed / run | exec avg (all) open / closed / run | exec avg x86_64 open / closed / run | cached x86_64 open / closed / run |",
    "|---|---|---:|---:|---:|---:|",
  ];
  for (const { name, policy } of inputs) {
    const open: Policy = { ...policy, routes: "open" };
    const closed: Policy = { ...policy, routes: "closed" };
    const added = withRoutes(closed).rules.slice(policy.rules.length).map((r) => r.syscall);
    const runPlan = planLaunch({ policy: closed, capabilities: "keep" });
    const m = [compile(open).insns, compile(closed).insns, runPlan.compiled.insns].map((insns, i) => staticMetrics(insns, ABIS, i === 0 ? open : i === 1 ? withRoutes(closed) : runPlan.policy));
    const cell = (get: (x: (typeof m)[number]) => string): string => m.map(get).join(" / ");
    out.push(
      `| ${name} | ${added.length === 0 ? "none" : [...new Set(added)].join(", ")} | ${cell((x) => String(x.insns))} | ${cell((x) => f1(x.avgAll))} | ${cell((x) => f1(x.perAbi.x86_64!.avg))} | ${cell((x) => String(x.cachedX8664))} |`,
    );
  }
  out.push("");
  return out;
}
