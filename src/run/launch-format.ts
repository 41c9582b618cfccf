/**
 * The binary launch description read by native/syscage-exec.c (parse_launch),
 * in one place: encoding (for every launch) and decoding (the launch cache
 * checks a stored description with it). Host byte order throughout:
 *
 *   "SCGX"; u32 version = 2; u32 seccomp flags; u32 options; u64 retained
 *   capabilities; u32 program count; per program: u32 instruction count and
 *   the raw `struct sock_filter` bytes;
 *   the sandbox (sandbox.ts):
 *     u32 Landlock ABI needed (0: no ruleset); u32 length + the reason text;
 *     u64 handled fs, u64 handled net, u64 scoped;
 *     8 × (u64 fs, u64 net, u64 scopes) known at ABI 0..7;
 *     u32 path count; per path: u64 access, u32 flags (bit 0: optional), u32 length + the path;
 *     u32 port count; per port: u64 access, u64 port;
 *     u64 temp dir access (0: no private temp dir);
 *     u32 rlimit count; per limit: u32 resource, u64 soft, u64 hard;
 *     u32 has nice, i32 nice; u32 timeout ms, u32 kill-after ms;
 *     u32 kept fd count; per fd: u32;
 *     u32 clear env; u32 env count; per entry: u32 length + "KEY=VALUE";
 *     u32 length + the working directory (0: unchanged);
 *   with option bit 2 (record), the record part (record/record.ts).
 * Nothing may follow. The limits here are the helper's (a test compares them).
 */
import type { SandboxPlan } from "./sandbox.js";
import { LANDLOCK_ABI_KNOWN } from "../abi/landlock.js";

export const LAUNCH_VERSION = 2;
/** Option bits. */
export const OPT_APPLY_CAPS = 1;
export const OPT_PRIVATE_NETWORK = 2;
export const OPT_RECORD = 4;
export const OPT_NEW_SESSION = 8;
export const OPT_LANDLOCK_NO_TCP = 16;
export const KNOWN_OPTIONS = OPT_APPLY_CAPS | OPT_PRIVATE_NETWORK | OPT_RECORD | OPT_NEW_SESSION | OPT_LANDLOCK_NO_TCP;

/** The helper's limits (native/syscage-exec.c). */
export const LAUNCH_LIMITS = { programs: 64, instructions: 4096, paths: 4096, ports: 4096, rlimits: 16, fds: 1024, env: 4096, text: 4096, argEntries: 4096 } as const;

export interface LaunchHeader {
  readonly flags: number;
  readonly options: number;
  readonly retained: bigint;
}

export interface DecodedLaunch extends LaunchHeader {
  readonly programs: readonly Uint8Array[];
  readonly sandbox: SandboxPlan;
  /** The record part (option bit 2), undecoded. */
  readonly rest: Uint8Array;
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const enc = new TextEncoder();

class Writer {
  private parts: Uint8Array[] = [];
  u32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, LE);
    this.parts.push(b);
  }
  i32(v: number): void {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, LE);
    this.parts.push(b);
  }
  u64(v: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, LE);
    this.parts.push(b);
  }
  bytes(b: Uint8Array): void {
    this.parts.push(b);
  }
  text(s: string): void {
    const b = enc.encode(s);
    this.u32(b.length);
    this.parts.push(b);
  }
  done(): Uint8Array {
    const n = this.parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** Record mode's part (option bit 2): where the supervisor writes, and which arguments it notes for each (arch, nr). */
export interface RecordPart {
  readonly recordFd: number;
  readonly argEntries: readonly { readonly arch: number; readonly nr: number; readonly mask: number }[];
}

/** The description of a launch: header, programs (raw bytes, host order), sandbox, and for `record` the record part (which sets option bit 2). */
export function encodeLaunchDescription(h: LaunchHeader, programs: readonly Uint8Array[], s: SandboxPlan, record?: RecordPart): Uint8Array {
  const w = new Writer();
  w.bytes(new Uint8Array([0x53, 0x43, 0x47, 0x58]));
  w.u32(LAUNCH_VERSION);
  w.u32(h.flags);
  w.u32(record === undefined ? h.options : h.options | OPT_RECORD);
  w.u64(h.retained);
  w.u32(programs.length);
  for (const p of programs) {
    w.u32(p.length / 8);
    w.bytes(p);
  }
  const ll = s.landlock;
  w.u32(ll?.abi ?? 0);
  w.text(ll?.reason ?? "");
  w.u64(ll?.handledFs ?? 0n);
  w.u64(ll?.handledNet ?? 0n);
  w.u64(ll?.scoped ?? 0n);
  for (let a = 0; a <= LANDLOCK_ABI_KNOWN; a++) {
    w.u64(ll?.knownFs[a] ?? 0n);
    w.u64(ll?.knownNet[a] ?? 0n);
    w.u64(ll?.knownScopes[a] ?? 0n);
  }
  const paths = ll?.paths ?? [];
  w.u32(paths.length);
  for (const p of paths) {
    w.u64(p.access);
    w.u32(p.optional ? 1 : 0);
    w.text(p.path);
  }
  const ports = ll?.ports ?? [];
  w.u32(ports.length);
  for (const p of ports) {
    w.u64(p.access);
    w.u64(BigInt(p.port));
  }
  w.u64(ll?.tmpAccess ?? 0n);
  w.u32(s.rlimits.length);
  for (const r of s.rlimits) {
    w.u32(r.resource);
    w.u64(r.soft);
    w.u64(r.hard);
  }
  w.u32(s.nice !== undefined ? 1 : 0);
  w.i32(s.nice ?? 0);
  w.u32(s.timeoutMs);
  w.u32(s.killAfterMs);
  w.u32(s.keepFds.length);
  for (const fd of s.keepFds) w.u32(fd);
  w.u32(s.clearEnv ? 1 : 0);
  w.u32(s.setEnv.length);
  for (const kv of s.setEnv) w.text(kv);
  w.text(s.chdir ?? "");
  if (record !== undefined) {
    if (record.argEntries.length > LAUNCH_LIMITS.argEntries) throw new Error(`record: ${record.argEntries.length} argument entries (at most ${LAUNCH_LIMITS.argEntries})`);
    w.u32(record.recordFd);
    w.u32(record.argEntries.length);
    for (const e of record.argEntries) {
      w.u32(e.arch);
      w.u32(e.nr);
      w.u32(e.mask);
    }
  }
  return w.done();
}

class Reader {
  o = 0;
  private readonly view: DataView;
  constructor(private readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  need(n: number): void {
    if (this.b.length - this.o < n) throw new Error("truncated");
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.o, LE);
    this.o += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.view.getInt32(this.o, LE);
    this.o += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.view.getBigUint64(this.o, LE);
    this.o += 8;
    return v;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return v;
  }
  text(max: number, what: string): string {
    const n = this.u32();
    if (n > max) throw new Error(`${what} longer than ${max} bytes`);
    const b = this.bytes(n);
    if (b.includes(0)) throw new Error(`${what} contains a NUL byte`);
    return new TextDecoder().decode(b);
  }
}

/** Decode a description, checking every count against the helper's limits; throws Error("why"). */
export function decodeLaunchDescription(bytes: Uint8Array): DecodedLaunch {
  const r = new Reader(bytes);
  const magic = r.bytes(4);
  if (magic[0] !== 0x53 || magic[1] !== 0x43 || magic[2] !== 0x47 || magic[3] !== 0x58) throw new Error("bad magic");
  if (r.u32() !== LAUNCH_VERSION) throw new Error("bad version");
  const flags = r.u32();
  const options = r.u32();
  if ((options & ~KNOWN_OPTIONS) !== 0) throw new Error("unexpected options");
  const retained = r.u64();
  const count = r.u32();
  if (count < 1 || count > LAUNCH_LIMITS.programs) throw new Error(`${count} programs`);
  const programs: Uint8Array[] = [];
  for (let p = 0; p < count; p++) {
    const insns = r.u32();
    if (insns < 1 || insns > LAUNCH_LIMITS.instructions) throw new Error(`program ${p + 1} has ${insns} instructions`);
    programs.push(r.bytes(insns * 8));
  }
  const abi = r.u32();
  if (abi > LANDLOCK_ABI_KNOWN) throw new Error(`Landlock ABI ${abi}`);
  const reason = r.text(LAUNCH_LIMITS.text, "reason");
  const handledFs = r.u64();
  const handledNet = r.u64();
  const scoped = r.u64();
  const knownFs: bigint[] = [];
  const knownNet: bigint[] = [];
  const knownScopes: bigint[] = [];
  for (let a = 0; a <= LANDLOCK_ABI_KNOWN; a++) {
    knownFs.push(r.u64());
    knownNet.push(r.u64());
    knownScopes.push(r.u64());
  }
  const pathCount = r.u32();
  if (pathCount > LAUNCH_LIMITS.paths) throw new Error(`${pathCount} paths`);
  const paths = [];
  for (let i = 0; i < pathCount; i++) {
    const access = r.u64();
    const fl = r.u32();
    if ((fl & ~1) !== 0) throw new Error("bad path flags");
    const path = r.text(LAUNCH_LIMITS.text, "path");
    if (!path.startsWith("/")) throw new Error("a relative path");
    paths.push({ path, access, optional: fl === 1, from: "description" });
  }
  const portCount = r.u32();
  if (portCount > LAUNCH_LIMITS.ports) throw new Error(`${portCount} ports`);
  const ports = [];
  for (let i = 0; i < portCount; i++) {
    const access = r.u64();
    const port = r.u64();
    if (port > 65535n) throw new Error(`port ${port}`);
    ports.push({ access, port: Number(port) });
  }
  const tmpAccess = r.u64();
  const rlimitCount = r.u32();
  if (rlimitCount > LAUNCH_LIMITS.rlimits) throw new Error(`${rlimitCount} limits`);
  const rlimits = [];
  for (let i = 0; i < rlimitCount; i++) {
    const resource = r.u32();
    if (resource > 15) throw new Error(`rlimit resource ${resource}`);
    rlimits.push({ name: "cpu" as const, resource, soft: r.u64(), hard: r.u64() });
  }
  const hasNice = r.u32();
  const nice = r.i32();
  if (hasNice > 1) throw new Error("bad nice flag");
  const timeoutMs = r.u32();
  const killAfterMs = r.u32();
  const fdCount = r.u32();
  if (fdCount > LAUNCH_LIMITS.fds) throw new Error(`${fdCount} kept fds`);
  const keepFds = [];
  for (let i = 0; i < fdCount; i++) keepFds.push(r.u32());
  const clearEnv = r.u32();
  if (clearEnv > 1) throw new Error("bad clear-env flag");
  const envCount = r.u32();
  if (envCount > LAUNCH_LIMITS.env) throw new Error(`${envCount} environment entries`);
  const setEnv = [];
  for (let i = 0; i < envCount; i++) {
    const kv = r.text(LAUNCH_LIMITS.text, "environment entry");
    if (!/^[^=]+=/.test(kv)) throw new Error("an environment entry without =");
    setEnv.push(kv);
  }
  const chdir = r.text(LAUNCH_LIMITS.text, "working directory");
  const landlock =
    abi === 0
      ? undefined
      : { abi, reason, handledFs, handledNet, scoped, paths, ports, tmpAccess, knownFs, knownNet, knownScopes };
  const sandbox: SandboxPlan = {
    ...(landlock !== undefined ? { landlock } : {}),
    rlimits,
    ...(hasNice === 1 ? { nice } : {}),
    timeoutMs,
    killAfterMs,
    keepFds,
    clearEnv: clearEnv === 1,
    setEnv,
    ...(chdir !== "" ? { chdir } : {}),
    warnings: [],
  };
  return { flags, options, retained, programs, sandbox, rest: bytes.subarray(r.o) };
}
