/**
 * Locating the native helper of `syscage run` (native/syscage-exec.c), built
 * by `npm run build:native` into `native/build/syscage-exec` at the package
 * root.
 */
import { accessSync, constants } from "node:fs";
import { SyscageError } from "../errors.js";
import { defaultHelperPath, packageRoot } from "../host/probe.js";

export { defaultHelperPath, packageRoot };

/**
 * The path of an executable helper: `override` when given, else the built one.
 * @throws SyscageError HELPER_MISSING with how to build it.
 */
export function requireHelper(override?: string): string {
  const path = override ?? defaultHelperPath();
  try {
    accessSync(path, constants.X_OK);
  } catch {
    if (override !== undefined) {
      throw new SyscageError("HELPER_MISSING", `the native helper ${path} does not exist or is not executable`);
    }
    throw new SyscageError(
      "HELPER_MISSING",
      `the native helper is not built (${path} is missing): run \`npm run build:native\` in ${packageRoot()} (needs a C compiler, e.g. apt-get install gcc libc6-dev)`,
    );
  }
  return path;
}
