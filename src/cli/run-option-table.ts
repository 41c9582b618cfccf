/**
 * The options `run` adds to the policy options (policy-option-table.ts), as
 * data: how each takes its value, and whether the value names a file (keyed
 * by its content) or a path (relative paths make the working directory part
 * of the key). run.ts registers them; the launch cache keys on them
 * (run-cache.ts, and the same list in native/cached-run.c; a test compares
 * them). No imports: the cached fast path loads this.
 */
export interface RunOptionSpec {
  /** The long option without its dashes. */
  readonly name: string;
  /** A repeatable or single value, or a flag. */
  readonly kind: "value" | "list" | "flag";
  /** "file": a file the plan reads; "path": a path the helper opens; "text": anything else. */
  readonly value: "file" | "path" | "text";
}

export const RUN_OPTIONS = [
  { name: "add-filter", kind: "list", value: "file" },
  { name: "allow-read", kind: "list", value: "path" },
  { name: "allow-write", kind: "list", value: "path" },
  { name: "allow-exec", kind: "list", value: "path" },
  { name: "allow-system", kind: "flag", value: "text" },
  { name: "allow-tmp", kind: "flag", value: "text" },
  { name: "allow-connect", kind: "list", value: "text" },
  { name: "allow-bind", kind: "list", value: "text" },
  { name: "scope", kind: "list", value: "text" },
  { name: "landlock", kind: "value", value: "text" },
  { name: "limit", kind: "list", value: "text" },
  { name: "timeout", kind: "value", value: "text" },
  { name: "kill-after", kind: "value", value: "text" },
  { name: "nice", kind: "value", value: "text" },
  { name: "keep-fd", kind: "list", value: "text" },
  { name: "clear-env", kind: "flag", value: "text" },
  { name: "env", kind: "list", value: "text" },
  { name: "cwd", kind: "value", value: "path" },
  { name: "preset", kind: "value", value: "text" },
] as const satisfies readonly RunOptionSpec[];
