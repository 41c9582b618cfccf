/**
 * The cached fast path of `syscage run`, tried by main.ts before anything
 * else is loaded: when the launch cache (run-cache.ts) holds a checked entry
 * for the policy options, spawn the native helper with it and wait for the
 * command exactly as the normal path does. It loads only Node built-ins and
 * small syscage modules (no commander, syscall tables, policy or compiler).
 * On a miss or any doubt it returns no status, and the normal path runs
 * (and stores the entry for the slot it is given).
 */
import { requireHelper } from "../run/helper.js";
import { spawnHelper } from "../run/spawn-helper.js";
import { cacheDebug, cacheDisabled, cacheSlot, parseRunArgv, readEntry, type LaunchCacheEntry, type LaunchCacheSlot, type RunArgv } from "./run-cache.js";
import { waitForCommand } from "./run-wait.js";

/** What the fast path did: ran the command (`status`), or not, with the slot the normal path should fill. */
export interface FastRunResult {
  readonly status?: number;
  readonly slot?: LaunchCacheSlot;
}

/** The entry to run with, or the result to give up with. */
function lookUp(argv: readonly string[]): { run: RunArgv; slot: LaunchCacheSlot; entry: LaunchCacheEntry; helper: string } | FastRunResult {
  const run = parseRunArgv(argv);
  if (typeof run === "string") {
    cacheDebug(`not used (${run})`);
    return {};
  }
  const slot = cacheSlot(run);
  if (typeof slot === "string") {
    cacheDebug(`not used (${slot})`);
    return {};
  }
  const entry = readEntry(slot);
  if (typeof entry === "string") {
    cacheDebug(`miss (${entry})`);
    return { slot };
  }
  try {
    return { run, slot, entry, helper: requireHelper() };
  } catch {
    cacheDebug("miss (no native helper)");
    return { slot };
  }
}

/** Run `argv` (`["run", …]`) from the launch cache when it can; see the module doc. */
export async function tryFastRun(argv: readonly string[]): Promise<FastRunResult> {
  if (argv[0] !== "run" || cacheDisabled()) return {};
  let found: ReturnType<typeof lookUp>;
  try {
    found = lookUp(argv);
  } catch (e) {
    cacheDebug(`not used (${e instanceof Error ? e.message : String(e)})`);
    return {};
  }
  if (!("entry" in found)) return found;
  const { run, slot, entry, helper } = found;
  cacheDebug(`hit ${slot.path}`);
  for (const w of entry.warnings) process.stderr.write(`syscage: warning: ${w}\n`);
  const child = spawnHelper(helper, entry.description, run.command, run.args, { stdio: "inherit" });
  return { status: await waitForCommand(child, run.command) };
}
