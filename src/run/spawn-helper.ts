/**
 * Spawning the native helper with a launch description: the last step of
 * {@link spawn} (src/run/spawn.ts), kept free of the policy and compiler
 * modules so that the CLI's cached fast path (src/cli/fast-run.ts) shares it.
 */
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions as NodeSpawnOptions, type StdioOptions } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { parseStatusReport } from "./launch-status.js";

export type StdioEntry = Exclude<StdioOptions, string>[number];

/** `stdio` as an array of at least three entries; a missing one is a pipe. */
export function stdioArray(stdio: StdioOptions): StdioEntry[] {
  if (typeof stdio === "string") return [stdio, stdio, stdio];
  const out = [...stdio];
  while (out.length < 3) out.push("pipe");
  return out;
}

/**
 * Spawn `helper` to apply `description` (see encodeLaunch) and exec `command`
 * with `args`. `options` are Node's spawn options for the helper (its `stdio`
 * default is "pipe"); the config and status pipes are added after the given
 * stdio. When the helper reports that the command was not run, the child
 * emits `error` with a LaunchError.
 */
export function spawnHelper(helper: string, description: Uint8Array, command: string, args: readonly string[], options: NodeSpawnOptions): ChildProcess {
  const stdio = stdioArray(options.stdio ?? "pipe");
  const configFd = stdio.length;
  const statusFd = stdio.length + 1;
  stdio.push("pipe", "pipe");
  const child = nodeSpawn(helper, [String(configFd), String(statusFd), "--", command, ...args], { ...options, stdio });

  const config = child.stdio[configFd] as Writable | null;
  const status = child.stdio[statusFd] as Readable | null;
  if (config === null || status === null) {
    // Only when spawning the helper itself failed; Node emits `error` for that.
    return child;
  }
  // The helper may exit before reading everything (e.g. a bad fd); its status report says why.
  config.on("error", () => undefined);
  config.end(description);
  let report = "";
  status.setEncoding("utf8");
  status.on("data", (chunk: string) => {
    report += chunk;
  });
  status.on("error", () => undefined);
  status.on("end", () => {
    const err = parseStatusReport(report);
    if (err !== undefined) child.emit("error", err);
  });
  return child;
}
