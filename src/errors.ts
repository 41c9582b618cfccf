/**
 * The one error type that syscage's library code throws. It carries a stable
 * machine-readable `code` and a message written for the user: what was wrong,
 * where, and how to fix it. The CLI prints `message` on one line, never a stack.
 */
/**
 * Every code a SyscageError carries, in one place: a program can rely on
 * them. The run module's LaunchError adds LAUNCH_FAILED, COMMAND_NOT_FOUND
 * and COMMAND_NOT_EXECUTABLE.
 */
export const ERROR_CODES = [
  "AUDIT_UNSUPPORTED",
  "BAD_ACTION",
  "BAD_ARG_INDEX",
  "BAD_BOOLEAN",
  "BAD_CONDITION",
  "BAD_ERRNO",
  "BAD_FLAGS",
  "BAD_INPUT",
  "BAD_KERNEL",
  "BAD_MERGE",
  "BAD_OPERATOR",
  "BAD_OPTIONS",
  "BAD_POLICY",
  "BAD_RULE",
  "BAD_USAGE",
  "BAD_VALUE",
  "BAD_WAIVER",
  "BPF_ASM",
  "BPF_EMPTY",
  "BPF_INVALID",
  "BPF_RUNTIME",
  "EXPORT_DIFFERS",
  "EXPORT_UNSUPPORTED",
  "GROUP_CYCLE",
  "HELPER_MISSING",
  "INI_SYNTAX",
  "INPUT_FILE",
  "MERGE_UNSUPPORTED",
  "NO_ABIS",
  "NO_PROGRAM",
  "PROFILE_SCHEMA",
  "RECORD_FAILED",
  "SCHEMA_MISSING",
  "STACK_TOO_LARGE",
  "UNKNOWN_ARCH",
  "UNKNOWN_CAPABILITY",
  "UNKNOWN_FIELD",
  "UNKNOWN_OPTION",
  "UNKNOWN_SYSCALL",
  "UNSUPPORTED_HOST",
  "LAUNCH_FAILED",
  "COMMAND_NOT_FOUND",
  "COMMAND_NOT_EXECUTABLE",
  "FOREIGN_ARCH",
  "SYSCALL_ERRNO_INVALID",
  "UNKNOWN_ERRNO",
  "UNKNOWN_SYSCALL_NUMBER",
  "BAD_SYSCALL_NUMBER",
  "MERGE_UNPROVEN",
  "BPF_TRUNCATED",
  "PROGRAM_TOO_LARGE",
  "UNKNOWN_GROUP",
  "BAD_FILTER_LIST",
  "SYSCALL_ERRNO_RANGE",
  "UNKNOWN_PROPERTY",
  "BAD_SYSCALL_FILTER",
  "POLICY_DUPLICATE_FIELD",
  "POLICY_SCHEMA",
  "POLICY_SYNTAX",
  "POLICY_UNKNOWN_FIELD",
  "PROFILE_DUPLICATE_FIELD",
  "PROFILE_SYNTAX",
  "PROFILE_UNKNOWN_FIELD",
  "BPF_VERIFY",
  "DUMP_COMMAND",
  "DUMP_DENIED",
  "DUMP_FAILED",
  "DUMP_NO_FILTER",
  "DUMP_NO_PROCESS",
  "HELPER_PROTOCOL",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class SyscageError extends Error {
  /** Stable identifier, e.g. "UNKNOWN_ARCH", "BPF_INVALID" (one of ERROR_CODES). */
  readonly code: ErrorCode;
  /** Close matches for an unknown name, when there are any. */
  readonly suggestions: readonly string[];

  constructor(code: ErrorCode, message: string, suggestions: readonly string[] = []) {
    super(message);
    this.name = "SyscageError";
    this.code = code;
    this.suggestions = suggestions;
  }
}

/**
 * Rethrow `err` with context: a SyscageError gets `prefix` before its
 * message and `suffix` after it (both as written: "FILE:3: "), keeping its
 * code and suggestions; anything else is rethrown as it is. The one place
 * error context is added.
 */
export function withContext(err: unknown, prefix: string, suffix = ""): never {
  if (err instanceof SyscageError) throw new SyscageError(err.code, `${prefix}${err.message}${suffix}`, err.suggestions);
  throw err;
}

/** Levenshtein distance, used to suggest close names for a typo. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/**
 * Up to `limit` candidates close to `name`: prefix/substring matches first,
 * then by edit distance (at most a third of the name's length, minimum 2).
 */
export function suggest(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const wanted = name.toLowerCase();
  const maxDistance = Math.max(2, Math.floor(wanted.length / 3));
  const scored: { c: string; score: number }[] = [];
  for (const c of candidates) {
    const lc = c.toLowerCase();
    let score: number;
    if (lc === wanted) score = 0;
    else if (wanted.length >= 3 && (lc.startsWith(wanted) || wanted.startsWith(lc))) score = 0.5;
    else {
      const d = editDistance(wanted, lc);
      if (d > maxDistance) continue;
      score = d;
    }
    scored.push({ c, score });
  }
  scored.sort((x, y) => x.score - y.score || x.c.length - y.c.length || (x.c < y.c ? -1 : 1));
  return scored.slice(0, limit).map((s) => s.c);
}

/** "Did you mean …?" text for a message, or "" when there is nothing close. */
export function didYouMean(suggestions: readonly string[]): string {
  if (suggestions.length === 0) return "";
  return ` Did you mean ${suggestions.map((s) => `"${s}"`).join(", ")}?`;
}
