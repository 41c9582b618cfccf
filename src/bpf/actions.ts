/**
 * Seccomp filter return values (`SECCOMP_RET_*`, include/uapi/linux/seccomp.h):
 * the upper 16 bits select the action, the lower 16 bits carry data. This module
 * decodes and prints them the way the kernel treats them and orders them as the
 * kernel does when several filters are stacked.
 */

/** Kill the whole process (Linux ≥ 4.14). Lowest precedence value: always wins. */
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
/** Kill the calling thread (the historical SECCOMP_RET_KILL). */
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
/** Send SIGSYS; data goes to si_errno. */
export const SECCOMP_RET_TRAP = 0x00030000;
/** Fail the syscall with errno = data (capped at MAX_ERRNO). */
export const SECCOMP_RET_ERRNO = 0x00050000;
/** Notify a user-space supervisor (Linux ≥ 5.0). */
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
/** Notify a ptrace tracer; data is the event message. */
export const SECCOMP_RET_TRACE = 0x7ff00000;
/** Allow after logging (Linux ≥ 4.14). */
export const SECCOMP_RET_LOG = 0x7ffc0000;
/** Allow. */
export const SECCOMP_RET_ALLOW = 0x7fff0000;

/** Mask of the full action part (the kernel's SECCOMP_RET_ACTION_FULL). */
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
/** Mask of the data part (SECCOMP_RET_DATA). */
export const SECCOMP_RET_DATA = 0x0000ffff;
/** The kernel caps SECCOMP_RET_ERRNO data at MAX_ERRNO. */
export const MAX_ERRNO = 4095;

/** Names of the actions the kernel knows. */
export type ActionName = "KILL_PROCESS" | "KILL_THREAD" | "TRAP" | "ERRNO" | "USER_NOTIF" | "TRACE" | "LOG" | "ALLOW";

/** A filter's return value as the kernel acts on it. */
export interface DecodedAction {
  /** The action taken. An unknown action value is treated as KILL_PROCESS. */
  action: ActionName;
  /**
   * The data the action uses: the low 16 bits, except ERRNO, whose data the
   * kernel caps at MAX_ERRNO (4095). 0 for actions that ignore data.
   */
  data: number;
  /** The 32-bit value returned by the filter, unchanged. */
  raw: number;
  /** Set when the action bits match no known action (the kernel kills the process). */
  unknown?: true;
}

/** Action value (upper 16 bits) of each action name. */
export const ACTION_VALUES: Readonly<Record<ActionName, number>> = {
  KILL_PROCESS: SECCOMP_RET_KILL_PROCESS,
  KILL_THREAD: SECCOMP_RET_KILL_THREAD,
  TRAP: SECCOMP_RET_TRAP,
  ERRNO: SECCOMP_RET_ERRNO,
  USER_NOTIF: SECCOMP_RET_USER_NOTIF,
  TRACE: SECCOMP_RET_TRACE,
  LOG: SECCOMP_RET_LOG,
  ALLOW: SECCOMP_RET_ALLOW,
};

const BY_VALUE = new Map<number, ActionName>(
  (Object.entries(ACTION_VALUES) as [ActionName, number][]).map(([n, v]) => [v >>> 0, n]),
);

/** Actions whose data the kernel passes on (and that {@link formatAction} prints). */
const USES_DATA: ReadonlySet<ActionName> = new Set<ActionName>(["ERRNO", "TRAP", "TRACE"]);

/**
 * Decode a filter return value as `__seccomp_filter` (kernel/seccomp.c) does:
 * the action is `ret & SECCOMP_RET_ACTION_FULL`; an unknown action falls into
 * the kill-process default (flagged `unknown`, `raw` kept); ERRNO data is
 * capped at MAX_ERRNO.
 */
export function decodeAction(ret: number): DecodedAction {
  const raw = ret >>> 0;
  const actionBits = (raw & SECCOMP_RET_ACTION_FULL) >>> 0;
  let data = raw & SECCOMP_RET_DATA;
  const name = BY_VALUE.get(actionBits);
  if (name === undefined) return { action: "KILL_PROCESS", data, raw, unknown: true };
  if (name === "ERRNO" && data > MAX_ERRNO) data = MAX_ERRNO;
  return { action: name, data, raw };
}

/**
 * Readable action: `ALLOW`, `ERRNO(1)`, `TRAP(5)`, `TRACE(7)`, `KILL_PROCESS`,
 * `KILL_THREAD`, `LOG`, `USER_NOTIF`. Accepts a return value or a decoded one;
 * an unknown action prints as `KILL_PROCESS (unknown action 0x…)`.
 */
export function formatAction(ret: number | DecodedAction): string {
  const d = typeof ret === "number" ? decodeAction(ret) : ret;
  if (d.unknown === true) return `KILL_PROCESS (unknown action 0x${d.raw.toString(16).padStart(8, "0")})`;
  return USES_DATA.has(d.action) ? `${d.action}(${d.data})` : d.action;
}

/** Build a return value from an action and its data (low 16 bits). */
export function actionValue(action: ActionName, data = 0): number {
  return (ACTION_VALUES[action] | (data & SECCOMP_RET_DATA)) >>> 0;
}

/**
 * The kernel's stacking order key: `(s32)(ret & SECCOMP_RET_ACTION_FULL)`.
 * Lower is more restrictive and wins; KILL_PROCESS (negative) is lowest.
 */
export function actionPrecedence(ret: number): number {
  return ret & SECCOMP_RET_ACTION_FULL; // `&` yields a signed 32-bit result
}

/**
 * True when `a` would replace `b` in `seccomp_run_filters`: its action is
 * strictly lower in precedence (data is ignored).
 */
export function isMoreRestrictive(a: number, b: number): boolean {
  return actionPrecedence(a) < actionPrecedence(b);
}

/**
 * Parse an action spelling: `ALLOW`, `ERRNO(1)`, `KILL`, `KILL_PROCESS`,
 * `TRAP(5)`, … (case-insensitive, optional `SECCOMP_RET_` prefix). Returns the
 * 32-bit value, or undefined when the text is not an action.
 */
export function parseAction(text: string): number | undefined {
  const m = /^(?:SECCOMP_RET_)?([A-Z_]+)(?:\((0x[0-9a-f]+|\d+)\))?$/i.exec(text.trim());
  if (m === null) return undefined;
  let name = m[1]!.toUpperCase();
  if (name === "KILL") name = "KILL_THREAD";
  if (!(name in ACTION_VALUES)) return undefined;
  const data = m[2] === undefined ? 0 : Number(m[2]);
  if (!Number.isSafeInteger(data) || data > SECCOMP_RET_DATA) return undefined;
  return actionValue(name as ActionName, data);
}
