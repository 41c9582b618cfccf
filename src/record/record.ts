/**
 * Record which syscalls a command makes, with seccomp user notification:
 * the native helper loads a program that returns SECCOMP_RET_USER_NOTIF for
 * the calls to record, and a supervisor process (in the helper, not under the
 * filter) answers each notification with SECCOMP_USER_NOTIF_FLAG_CONTINUE
 * after noting (arch, nr, chosen arguments). The command runs unchanged, with
 * every thread and descendant; distinct calls come back over a pipe.
 *
 *   const r = await record("ls", ["-la", "/"], { capture: true });
 *   r.calls  // [{ abi: "x86_64", syscall: "openat", … }, …]
 *
 * With a `policy` it is a complain mode: the program allows what the policy
 * allows and notifies what it would deny, so only would-be denials are
 * recorded, each with the decision (action and rule) that would deny it.
 *
 * Not a security boundary: CONTINUE lets the call run with arguments the
 * command may change after we looked (see docs/record.md).
 */
import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions as NodeSpawnOptions } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { getAbi, localAbis, type AbiName } from "../abi/arch.js";
import { syscallNumber } from "../abi/tables.js";
import { SyscageError } from "../errors.js";
import { decide, type Decision } from "../policy/evaluate.js";
import { ALLOW, NOTIFY, definePolicy, type Action, type Policy } from "../policy/model.js";
import { requireHelper } from "../run/helper.js";
import { LaunchError, encodeLaunch, parseStatusReport, planLaunch, type LaunchPlan } from "../run/launch.js";
import { captureAndFeed, commandStdio, nodeOptions } from "../run/spawn.js";
import { ARG_SYSCALLS, argEntriesFor, type ArgEntry, type RecordedCall } from "./generate.js";

/** Options of {@link record}. */
export interface RecordOptions extends Omit<NodeSpawnOptions, "shell" | "argv0"> {
  /**
   * Complain mode: record only the calls this policy would deny (and say
   * why), letting them run. Without it every call is recorded.
   */
  readonly policy?: Policy;
  /** ABIs to record without a policy (default: the host's local ABIs). */
  readonly abis?: readonly AbiName[];
  /**
   * Record the argument values of {@link ARG_SYSCALLS} (true) or of the named
   * ones among them. Without a policy only.
   */
  readonly args?: boolean | readonly string[];
  /** Capabilities to retain (names or numbers), or "keep" (default) to leave them, as `run`. */
  readonly capabilities?: readonly (string | number)[] | ReadonlySet<number> | "keep";
  /** A private network namespace with loopback only (root), as `run`. */
  readonly privateNetwork?: boolean;
  /** Path of the native helper (default: the package's `native/build/syscage-exec`). */
  readonly helper?: string;
  /** Capture stdout and stderr as strings (default false: they follow `stdio`, default "inherit"). */
  readonly capture?: boolean;
  /** Written to the command's stdin, which is then closed. */
  readonly input?: string | Uint8Array;
}

/** A recorded call in complain mode: the decision the policy would have made. */
export interface WouldDeny extends RecordedCall {
  readonly action: Action;
  readonly origin: string;
  /** Index of the deciding rule in policy.rules, when a rule decided. */
  readonly rule?: number;
}

/** How the command ended and what it did. */
export interface RecordResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout?: string;
  readonly stderr?: string;
  /** Every distinct recorded (ABI, syscall[, argument values]) in the order first seen. */
  readonly calls: readonly RecordedCall[];
  /** Complain mode: the calls the policy would deny (the same as `calls`, with decisions). */
  readonly wouldDeny?: readonly WouldDeny[];
  /** How many notifications the supervisor answered (every recorded call, repeats included). */
  readonly notifications: number;
  /** Distinct records dropped because the supervisor's table was full (argument variants). */
  readonly dropped: number;
  /** The ABIs the recording covered. */
  readonly abis: readonly AbiName[];
}

/**
 * The recording program's policy: ALLOW where `p` allows (LOG included),
 * NOTIFY where it would deny, and NOTIFY for execve/execveat in any case:
 * the helper's own execve must wait until the supervisor holds the listener
 * (the listener is close-on-exec). Allowed calls that notify are not reported.
 */
export function complainVariant(p: Policy): Policy {
  const m = (a: Action): Action => (a.kind === "ALLOW" || a.kind === "LOG" ? ALLOW : NOTIFY);
  const handoff = ["execve", "execveat"].map((syscall) => ({ syscall, action: NOTIFY, conditions: [], origin: "syscage record: hand-off to the supervisor" }));
  return {
    rules: [...p.rules.map((r) => ({ ...r, action: m(r.action) })), ...handoff],
    default: { ...p.default, action: m(p.default.action) },
    unknown: { ...p.unknown, action: m(p.unknown.action) },
    badArch: { ...p.badArch, action: m(p.badArch.action) },
    abis: p.abis,
    flags: [],
  };
}

/** Arguments the complain-mode supervisor must record so that decide() is exact: those the policy's conditions test. */
function conditionEntries(p: Policy): ArgEntry[] {
  const masks = new Map<string, number>();
  for (const r of p.rules) for (const c of r.conditions) masks.set(r.syscall, (masks.get(r.syscall) ?? 0) | (1 << c.arg));
  const out: ArgEntry[] = [];
  for (const abi of p.abis) {
    for (const [name, mask] of masks) {
      const nr = syscallNumber(abi, name);
      if (nr !== undefined) out.push({ arch: getAbi(abi).auditArch, nr, mask });
    }
  }
  return out;
}


/** A recording plan: what the helper loads and what the supervisor records. */
export interface RecordPlan {
  readonly launch: LaunchPlan;
  /** The policy recorded calls are judged by (the complain policy, or "deny everything" on the recorded ABIs). */
  readonly judge: Policy;
  readonly complain: boolean;
  readonly argEntries: readonly ArgEntry[];
}

/**
 * Work out the recording: the program (NOTIFY for what to record), the
 * argument masks. Throws SyscageError before anything runs.
 */
export function planRecord(options: Pick<RecordOptions, "policy" | "abis" | "args" | "capabilities" | "privateNetwork"> = {}): RecordPlan {
  const complain = options.policy !== undefined;
  if (complain && options.args !== undefined && options.args !== false) {
    throw new SyscageError("BAD_OPTIONS", "record: argument recording (args) works without a policy only; complain mode records the arguments the policy's rules test");
  }
  if (complain && options.abis !== undefined) throw new SyscageError("BAD_OPTIONS", "record: give the ABIs in the policy, not as abis");
  const judge = options.policy ?? definePolicy({ abis: options.abis ?? localAbis(), origin: "recording" });
  const variant = complain ? complainVariant(judge) : definePolicy({ abis: judge.abis, default: "NOTIFY", unknown: "NOTIFY", badArch: "NOTIFY" });
  let argNames: string[] = [];
  if (options.args === true) argNames = Object.keys(ARG_SYSCALLS);
  else if (Array.isArray(options.args)) {
    for (const n of options.args as readonly string[]) {
      if (ARG_SYSCALLS[n] === undefined) {
        throw new SyscageError("BAD_OPTIONS", `record: arguments of ${n} cannot be recorded; recordable: ${Object.keys(ARG_SYSCALLS).join(", ")}`);
      }
    }
    argNames = [...(options.args as readonly string[])];
  }
  const argEntries = complain ? conditionEntries(judge) : argEntriesFor(judge.abis, argNames, syscallNumber);
  const launch = planLaunch({
    policy: variant,
    capabilities: options.capabilities ?? "keep",
    privateNetwork: options.privateNetwork === true,
    flags: [],
  });
  return { launch, judge, complain, argEntries };
}

const RECORD_SIZE = 64;
const REC_CALL = 1;
const REC_END = 2;
const REC_ERROR = 3;
const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The launch description with the record part (src/run/launch-format.ts). */
export function encodeRecordLaunch(plan: RecordPlan, recordFd: number): Uint8Array {
  return encodeLaunch(plan.launch, { recordFd, argEntries: plan.argEntries.map((e) => ({ arch: e.arch >>> 0, nr: e.nr >>> 0, mask: e.mask })) });
}

/** What the supervisor's record stream says. */
export interface RecordStream {
  readonly calls: readonly { arch: number; nr: number; mask: number; args: bigint[] }[];
  /** Present when the supervisor finished normally. */
  readonly end?: { notifications: number; distinct: number; dropped: number };
  /** The supervisor's error, if it failed. */
  readonly error?: string;
}

/** Decode the supervisor's 64-byte records. */
export function decodeRecordStream(bytes: Uint8Array): RecordStream {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const calls: { arch: number; nr: number; mask: number; args: bigint[] }[] = [];
  let end: RecordStream["end"];
  let error: string | undefined;
  for (let o = 0; o + RECORD_SIZE <= bytes.length; o += RECORD_SIZE) {
    const kind = view.getUint32(o, LE);
    const args = [0, 1, 2, 3, 4, 5].map((i) => view.getBigUint64(o + 16 + 8 * i, LE));
    if (kind === REC_CALL) calls.push({ arch: view.getUint32(o + 4, LE), nr: view.getUint32(o + 8, LE), mask: view.getUint32(o + 12, LE), args });
    else if (kind === REC_END) end = { notifications: Number(args[0]), distinct: Number(args[1]), dropped: Number(args[2]) };
    else if (kind === REC_ERROR) {
      const text = bytes.subarray(o + 16, o + 64);
      const nul = text.indexOf(0);
      error = new TextDecoder().decode(nul < 0 ? text : text.subarray(0, nul));
    }
  }
  if (bytes.length % RECORD_SIZE !== 0 && error === undefined) error = `the record stream ends in the middle of a record (${bytes.length} bytes)`;
  return { calls, ...(end !== undefined ? { end } : {}), ...(error !== undefined ? { error } : {}) };
}

/** Judge the raw records: ABI, syscall name, and in complain mode the would-be decision. */
export function interpretCalls(plan: RecordPlan, raw: RecordStream["calls"]): { calls: RecordedCall[]; wouldDeny: WouldDeny[] } {
  const calls: RecordedCall[] = [];
  const wouldDeny: WouldDeny[] = [];
  for (const r of raw) {
    const d: Decision = decide(plan.judge, { arch: r.arch, nr: r.nr, args: r.args });
    const call: RecordedCall = {
      arch: r.arch,
      nr: r.nr,
      ...(d.abi !== undefined ? { abi: d.abi } : {}),
      ...(d.syscall !== undefined ? { syscall: d.syscall } : {}),
      argMask: r.mask,
      args: r.args,
    };
    if (plan.complain) {
      // execve/execveat always notify (see complainVariant); report only what the policy would deny.
      if (d.action.kind === "ALLOW" || d.action.kind === "LOG") continue;
      wouldDeny.push({ ...call, action: d.action, origin: d.origin, ...(d.rule !== undefined ? { rule: d.rule } : {}) });
    }
    calls.push(call);
  }
  return { calls, wouldDeny };
}

const OWN_KEYS = ["policy", "abis", "args", "capabilities", "privateNetwork", "helper", "capture", "input", "shell", "argv0", "stdio"] as const;

/** The live recording: the command's ChildProcess, and the promise of the result. */
export interface Recording {
  readonly child: ChildProcess;
  readonly result: Promise<RecordResult>;
}

/**
 * Start recording `command` (found on PATH) with `args`. The returned child
 * IS the command (its pid, signals, exit status); `result` resolves when the
 * command and every descendant have exited. Rejects with a
 * {@link LaunchError} (exitStatus 125/126/127) when the command did not run,
 * and a SyscageError RECORD_FAILED when the supervisor failed (then no
 * result: the recording is incomplete).
 */
export function startRecording(command: string, args: readonly string[] = [], options: RecordOptions = {}, plan: RecordPlan = planRecord(options)): Recording {
  if (typeof command !== "string" || command === "") throw new SyscageError("BAD_USAGE", "record: no command given");
  const helper = requireHelper(options.helper);
  const stdio = commandStdio(options);
  const configFd = stdio.length;
  const statusFd = configFd + 1;
  const recordFd = configFd + 2;
  stdio.push("pipe", "pipe", "pipe");
  const child = nodeSpawn(helper, [String(configFd), String(statusFd), "--", command, ...args], { ...nodeOptions(options, OWN_KEYS), stdio });
  const result = new Promise<RecordResult>((resolve, reject) => {
    const config = child.stdio[configFd] as Writable | null;
    const status = child.stdio[statusFd] as Readable | null;
    const records = child.stdio[recordFd] as Readable | null;
    let failure: Error | undefined;
    child.on("error", (e: Error) => {
      failure ??= e;
      if (!(e instanceof LaunchError) && child.pid === undefined) reject(e);
    });
    if (config === null || status === null || records === null) return;
    config.on("error", () => undefined);
    config.end(encodeRecordLaunch(plan, recordFd));
    let report = "";
    status.setEncoding("utf8");
    status.on("data", (c: string) => (report += c));
    status.on("error", () => undefined);
    const chunks: Buffer[] = [];
    records.on("data", (c: Buffer) => chunks.push(c));
    records.on("error", () => undefined);
    const output = captureAndFeed(child, options);
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let recordsDone = false;
    let statusDone = false;
    const finish = (): void => {
      if (exited === undefined || !recordsDone || !statusDone) return;
      const launchError = parseStatusReport(report);
      if (launchError !== undefined) return reject(launchError);
      if (failure !== undefined) return reject(failure);
      const stream = decodeRecordStream(Buffer.concat(chunks));
      if (stream.error !== undefined) {
        return reject(new SyscageError("RECORD_FAILED", `the recording supervisor failed: ${stream.error}; nothing was recorded`));
      }
      if (stream.end === undefined) {
        return reject(new SyscageError("RECORD_FAILED", "the recording supervisor stopped before the command's processes ended (killed?); the recording is incomplete"));
      }
      const { calls, wouldDeny } = interpretCalls(plan, stream.calls);
      const base = { code: exited.code, signal: exited.signal, calls, notifications: stream.end.notifications, dropped: stream.end.dropped, abis: plan.judge.abis };
      resolve({
        ...base,
        ...(options.capture === true ? output() : {}),
        ...(plan.complain ? { wouldDeny } : {}),
      });
    };
    status.on("end", () => {
      statusDone = true;
      finish();
    });
    records.on("end", () => {
      recordsDone = true;
      finish();
    });
    child.on("close", (code: number | null, signal: NodeJS.Signals | null) => {
      exited = { code, signal };
      finish();
    });
  });
  return { child, result };
}

/**
 * Run `command` under recording and wait for it and all its descendants
 * (see {@link startRecording}).
 */
export function record(command: string, args: readonly string[] = [], options: RecordOptions = {}): Promise<RecordResult> {
  try {
    return startRecording(command, args, options).result;
  } catch (e) {
    return Promise.reject(e);
  }
}
