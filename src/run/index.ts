/**
 * Running commands under a seccomp policy: {@link spawn} and {@link run},
 * the launch plan they apply, and the native helper's location.
 */
export * from "./launch.js";
export * from "./helper.js";
export { spawn, run, type SpawnOptions, type RunOptions, type RunResult } from "./spawn.js";
