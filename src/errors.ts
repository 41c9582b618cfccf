/**
 * The one error type that syscage's library code throws. It carries a stable
 * machine-readable `code` and a message written for the user: what was wrong,
 * where, and how to fix it. The CLI prints `message` on one line, never a stack.
 */
export class SyscageError extends Error {
  /** Stable identifier, e.g. "UNKNOWN_ARCH", "BPF_TRUNCATED". */
  readonly code: string;
  /** Close matches for an unknown name, when there are any. */
  readonly suggestions: readonly string[];

  constructor(code: string, message: string, suggestions: readonly string[] = []) {
    super(message);
    this.name = "SyscageError";
    this.code = code;
    this.suggestions = suggestions;
  }
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
