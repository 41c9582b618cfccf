/**
 * The INI syntax of systemd's configuration files (unit files, `.nspawn`
 * files), as `systemd.syntax(7)` describes it:
 *
 * - `[Section]` headers; every assignment belongs to the section above it;
 * - `Key=Value` assignments, whitespace around the key and the value removed;
 *   a key may be assigned several times (each assignment is kept, in order);
 * - lines starting with `#` or `;` (after leading whitespace) are comments,
 *   empty lines are ignored;
 * - a line ending in `\` continues on the next line: the backslash becomes a
 *   space and the next line is appended; comment lines inside a continuation
 *   are skipped.
 *
 * systemd logs syntax errors and goes on; syscage reports them as errors
 * naming `file:line` and the fix. No quoting or specifier expansion happens
 * here: values are raw text, as the syscall options read them.
 */
import { SyscageError } from "../errors.js";

/** One `Key=Value` assignment of an INI file. */
export interface IniAssignment {
  /** The section name without brackets ("Service", "Exec"). */
  readonly section: string;
  readonly key: string;
  /** The value with surrounding whitespace removed ("" for `Key=`). */
  readonly value: string;
  /** 1-based line where the assignment starts. */
  readonly line: number;
  /** `SOURCE:LINE`, for messages and origins. */
  readonly where: string;
}

/** A parsed INI file: its assignments in file order, and every section header seen. */
export interface IniFile {
  readonly source: string;
  readonly assignments: readonly IniAssignment[];
  /** Section names in order of first appearance, with the line of that header. */
  readonly sections: readonly { readonly name: string; readonly line: number }[];
}

function isComment(trimmed: string): boolean {
  return trimmed.startsWith("#") || trimmed.startsWith(";");
}

/**
 * Parse INI text (see the module doc). `source` names the text in messages
 * (usually the file name).
 * @throws SyscageError INI_SYNTAX with `source:line` for a malformed section
 *   header, a line without `=`, an empty key, or an assignment before the
 *   first section.
 */
export function parseIni(text: string, source: string): IniFile {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const lines = body.split(/\r?\n/);
  const assignments: IniAssignment[] = [];
  const sections: { name: string; line: number }[] = [];
  let section: string | undefined;
  let pending: { text: string; line: number } | undefined;

  const fail = (line: number, why: string): never => {
    throw new SyscageError("INI_SYNTAX", `${source}:${line}: ${why}`);
  };

  const logical = (content: string, line: number): void => {
    const t = content.trim();
    if (t === "" || isComment(t)) return;
    if (t.startsWith("[")) {
      if (!t.endsWith("]") || t.length < 3) {
        fail(line, `malformed section header "${t}"; write it as [Name], e.g. [Service]`);
      }
      const name = t.slice(1, -1).trim();
      if (name === "" || /[[\]]/.test(name)) fail(line, `malformed section header "${t}"; write it as [Name], e.g. [Service]`);
      section = name;
      if (!sections.some((s) => s.name === name)) sections.push({ name, line });
      return;
    }
    const eq = t.indexOf("=");
    if (eq < 0) fail(line, `"${t}" is not an assignment; write Key=Value (or start the line with # for a comment)`);
    const key = t.slice(0, eq).trim();
    const value = t.slice(eq + 1).trim();
    if (key === "") fail(line, `assignment "${t}" has no key; write Key=Value`);
    if (section === undefined) fail(line, `assignment ${key}= comes before any section; put it under a header such as [Service] or [Exec]`);
    assignments.push({ section: section!, key, value, line, where: `${source}:${line}` });
  };

  lines.forEach((raw, i) => {
    const line = i + 1;
    const trimmedEnd = raw.replace(/\s+$/, "");
    if (pending !== undefined && isComment(trimmedEnd.trim())) return;
    if (trimmedEnd.endsWith("\\")) {
      const part = trimmedEnd.slice(0, -1) + " ";
      pending = pending === undefined ? { text: part, line } : { text: pending.text + part, line: pending.line };
      return;
    }
    if (pending !== undefined) {
      const joined = pending.text + trimmedEnd;
      const start = pending.line;
      pending = undefined;
      logical(joined, start);
      return;
    }
    logical(trimmedEnd, line);
  });
  if (pending !== undefined) logical(pending.text, pending.line);
  return { source, assignments, sections };
}
