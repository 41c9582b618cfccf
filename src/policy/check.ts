/**
 * A Policy object checked at the door of every consumer (withRoutes, so the
 * compiler, decide, explain, diff, prove and the exports): one built by hand,
 * or changed after definePolicy, gets the same errors as the JSON format
 * gives, never a TypeError and never a program that returns a value the
 * policy does not name (an ERRNO of 0x7ffa0000 would be an ALLOW).
 */
import { ABIS, type AbiName } from "../abi/arch.js";
import { ERRNO_MAX } from "../abi/errno.js";
import { knownSyscallNames } from "../abi/tables.js";
import { SyscageError, didYouMean, suggest } from "../errors.js";
import { ARGUMENT_WIDTH_MODES, FILTER_FLAGS, OPERATORS, ROUTES_MODES, checkErrno, type Action, type Condition, type Policy } from "./model.js";

const U64_MAX = (1n << 64n) - 1n;
const KINDS = ["ALLOW", "ERRNO", "KILL_PROCESS", "KILL_THREAD", "TRAP", "TRACE", "LOG", "NOTIFY"];

function bad(where: string, what: string): never {
  throw new SyscageError("BAD_POLICY", `policy ${where}: ${what}`);
}

function checkAction(a: unknown, where: string): void {
  if (a === null || typeof a !== "object") bad(where, "is not an action object such as { kind: \"ERRNO\", errno: 1 }");
  const o = a as Partial<Action> & Record<string, unknown>;
  if (typeof o.kind !== "string" || !KINDS.includes(o.kind)) {
    bad(`${where}.kind`, `${JSON.stringify(o.kind)} is not an action kind.${typeof o.kind === "string" ? didYouMean(suggest(o.kind, KINDS)) : ""} Kinds: ${KINDS.join(", ")}`);
  }
  if (o.kind === "ERRNO") {
    const e = o.errno;
    if (typeof e === "number") {
      if (!Number.isInteger(e) || e < 0 || e > ERRNO_MAX) bad(`${where}.errno`, `${e} is out of range 0..${ERRNO_MAX} (the kernel caps an errno at MAX_ERRNO, ${ERRNO_MAX}; a larger value would turn into another action or errno)`);
    } else if (typeof e === "string") {
      try {
        checkErrno(e, `policy ${where}.errno`);
      } catch (err) {
        throw new SyscageError("BAD_POLICY", err instanceof Error ? err.message : String(err));
      }
    } else bad(`${where}.errno`, "is neither a number nor an errno name");
  }
  if (o.kind === "TRAP" || o.kind === "TRACE") {
    const d = o.data;
    if (typeof d !== "number" || !Number.isInteger(d) || d < 0 || d > 0xffff) bad(`${where}.data`, `${String(d)} is out of range 0..65535`);
  }
}

const checked = new WeakSet<object>();

/** Throws SyscageError BAD_POLICY naming the field when `p` is not a well-formed Policy. */
export function assertPolicy(p: unknown): asserts p is Policy {
  if (p !== null && typeof p === "object" && checked.has(p)) return;
  if (p === null || typeof p !== "object") bad("", "is not an object");
  const q = p as Partial<Policy>;
  if (!Array.isArray(q.abis) || q.abis.length === 0) bad("abis", "must list at least one ABI");
  q.abis.forEach((a, i) => {
    if (typeof a !== "string" || !ABIS.has(a as AbiName)) bad(`abis[${i}]`, `${JSON.stringify(a)} is not an ABI.${typeof a === "string" ? didYouMean(suggest(a, [...ABIS.keys()])) : ""}`);
  });
  for (const k of ["default", "unknown", "badArch"] as const) {
    const oa = q[k];
    if (oa === null || typeof oa !== "object") bad(k, "must be { action, origin }");
    checkAction(oa.action, `${k}.action`);
  }
  if (!Array.isArray(q.flags)) bad("flags", "must be an array (possibly empty)");
  q.flags.forEach((f, i) => {
    if (!(f in FILTER_FLAGS)) bad(`flags[${i}]`, `${JSON.stringify(f)} is not a filter flag (${Object.keys(FILTER_FLAGS).join(", ")})`);
  });
  if (q.argumentWidth !== undefined && !ARGUMENT_WIDTH_MODES.includes(q.argumentWidth)) bad("argumentWidth", `${JSON.stringify(q.argumentWidth)} is not one of ${ARGUMENT_WIDTH_MODES.join(", ")}`);
  if (q.routes !== undefined && !ROUTES_MODES.includes(q.routes)) bad("routes", `${JSON.stringify(q.routes)} is not one of ${ROUTES_MODES.join(", ")}`);
  if (q.network !== undefined && typeof q.network !== "boolean") bad("network", "must be true or false");
  if (q.audit !== undefined && (q.audit === null || typeof q.audit !== "object" || !Array.isArray(q.audit.waive))) bad("audit", "must be { waive: [{ id, reason }] }");
  if (!Array.isArray(q.rules)) bad("rules", "must be an array");
  const names = knownSyscallNames();
  q.rules.forEach((r, i) => {
    const at = `rules[${i}]`;
    if (r === null || typeof r !== "object") bad(at, "is not a rule object");
    if (typeof r.syscall !== "string" || !names.has(r.syscall)) bad(`${at}.syscall`, `${JSON.stringify(r.syscall)} is not a syscall on any ABI.${typeof r.syscall === "string" ? didYouMean(suggest(r.syscall, names)) : ""}`);
    checkAction(r.action, `${at}.action`);
    if (typeof r.origin !== "string") bad(`${at}.origin`, "must be a string");
    if (!Array.isArray(r.conditions)) bad(`${at}.conditions`, "must be an array (possibly empty)");
    if (r.abis !== undefined) {
      if (!Array.isArray(r.abis) || r.abis.length === 0) bad(`${at}.abis`, "must be a non-empty array of ABI names, or absent for every ABI");
      (r.abis as readonly unknown[]).forEach((a: unknown, j: number) => {
        if (typeof a !== "string" || !ABIS.has(a as AbiName)) bad(`${at}.abis[${j}]`, `${JSON.stringify(a)} is not an ABI.${typeof a === "string" ? didYouMean(suggest(a, [...ABIS.keys()])) : ""}`);
      });
    }
    (r.conditions as readonly Condition[]).forEach((c: Condition, j: number) => {
      const cw = `${at}.conditions[${j}]`;
      if (c === null || typeof c !== "object") bad(cw, "is not a condition object");
      if (!Number.isInteger(c.arg) || c.arg < 0 || c.arg > 5) bad(`${cw}.arg`, `${String(c.arg)} is not an argument index 0..5`);
      if (!OPERATORS.includes(c.op)) bad(`${cw}.op`, `${JSON.stringify(c.op)} is not an operator.${typeof c.op === "string" ? didYouMean(suggest(c.op, OPERATORS)) : ""} Operators: ${OPERATORS.join(", ")}`);
      if (typeof c.value !== "bigint" || c.value < 0n || c.value > U64_MAX) bad(`${cw}.value`, "must be a BigInt 0..2^64-1");
      if (c.op === "MASKED_EQ") {
        if (typeof c.mask !== "bigint" || c.mask < 0n || c.mask > U64_MAX) bad(`${cw}.mask`, "MASKED_EQ needs a BigInt mask 0..2^64-1");
      } else if (c.mask !== undefined) bad(`${cw}.mask`, `only MASKED_EQ takes a mask (operator is ${c.op})`);
    });
  });
  checked.add(p);
}
