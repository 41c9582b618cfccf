/**
 * The launch cache of `syscage run` (docs/run.md): the launch description
 * planned for a set of policy options, stored under
 * `$XDG_CACHE_HOME/syscage/launch/<name>` (default `~/.cache/syscage/launch`),
 * so that the next run with the same options skips loading, building and
 * compiling the policy. Two readers use it: src/cli/fast-run.ts in Node, and
 * the native front door (native/cached-run.c, `syscage-exec --cached-run`, run by
 * bin/syscage) before Node even starts. Both build the same key and check
 * an entry the same way; the format is documented in docs/run.md and in
 * the native source.
 *
 * The key is a text that names everything the description depends on:
 * syscage's build (`dist/build-id`, written by the build, or for a source
 * tree the size, mtime and inode of every module and schema), the machine
 * and `uname -r` (default ABIs, profiles' minKernel default), the effective
 * uid, the policy options in order (not the command and its arguments), and
 * the size and 64-bit FNV-1a hash of the content of every file they name
 * (key format 3). Those bytes are pinned for the process (read-file.ts
 * pinInputFile), so the planner compiles exactly the bytes the key names: a
 * file rewritten in place, or a link repointed between the key and the plan,
 * cannot put a program under another content's key. The entry stores the
 * whole key and is used only when it matches exactly; the file name is a
 * 64-bit FNV-1a hash of the key.
 *
 * Fail closed: an entry is used only when its directory and file belong to
 * the effective uid and nobody else can write them, its key and checksum
 * match, and its description is well formed with at least one program;
 * anything else is a miss. This module loads only Node built-ins (and the
 * option table and the input reader).
 */
import { createHash, randomBytes } from "node:crypto";
import { OPT_RECORD, decodeLaunchDescription } from "../run/launch-format.js";
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { endianness, homedir, machine, release } from "node:os";
import { basename, dirname, extname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import { pinInputFile } from "../read-file.js";
import { POLICY_OPTIONS } from "./policy-option-table.js";
import { RUN_OPTIONS } from "./run-option-table.js";

/** The tokens of `syscage run [policy options] [--] COMMAND [ARGS…]` the cache understands. */
export interface RunArgv {
  /** The policy options as (name, value) pairs in order; flags have value "". */
  readonly options: readonly (readonly [string, string])[];
  /** Files the options name, in order. */
  readonly files: readonly string[];
  readonly command: string;
  readonly args: readonly string[];
}

/** Where the entry for one set of options lives. */
export interface LaunchCacheSlot {
  readonly run: RunArgv;
  /** The key text (see the module doc). */
  readonly key: string;
  readonly dir: string;
  readonly path: string;
}

/** A cache entry that passed every check. */
export interface LaunchCacheEntry {
  readonly description: Uint8Array;
  readonly warnings: readonly string[];
}

/** First line of every key: changes whenever the key or the entry format changes. */
const FORMAT = "syscage-launch-cache/3";
/** Entry version, after the magic "SCGC". */
const VERSION = 2;
const MAX_ENTRY = 8 * 1024 * 1024;

/** Policy options with a value: true when the value is a file the policy is read from (native/cached-run.c has the same list). */
const VALUE_OPTIONS: ReadonlyMap<string, boolean> = new Map(POLICY_OPTIONS.filter((o) => o.kind !== "flag").map((o) => [`--${o.name}`, o.file]));
const FLAG_OPTIONS: ReadonlySet<string> = new Set([...POLICY_OPTIONS.filter((o) => o.kind === "flag").map((o) => `--${o.name}`), ...RUN_OPTIONS.filter((o) => o.kind === "flag").map((o) => `--${o.name}`)]);
/** The options `run` adds to the policy options. */
const RUN_VALUE_OPTIONS: ReadonlyMap<string, boolean> = new Map(RUN_OPTIONS.filter((o) => o.kind !== "flag").map((o) => [`--${o.name}`, o.value === "file"]));
/** Run options whose value is a path the helper opens: a relative one makes the working directory part of the key. */
const PATH_OPTIONS: ReadonlySet<string> = new Set(RUN_OPTIONS.filter((o) => o.value === "path").map((o) => `--${o.name}`));

/** SYSCAGE_NO_CACHE=1 (any value but "" and "0") turns the cache off. */
export function cacheDisabled(): boolean {
  // A simulated older Landlock (tests) changes what the plan allows: never cached.
  if (process.env.SYSCAGE_TEST_LANDLOCK_ABI !== undefined) return true;
  const v = process.env.SYSCAGE_NO_CACHE;
  return v !== undefined && v !== "" && v !== "0";
}

/** SYSCAGE_CACHE_DEBUG=1: one `syscage: cache: …` line on stderr per decision. */
export function cacheDebug(text: string): void {
  const v = process.env.SYSCAGE_CACHE_DEBUG;
  if (v !== undefined && v !== "" && v !== "0") process.stderr.write(`syscage: cache: ${text}\n`);
}

/**
 * Split `argv` (`["run", …]`) as commander does for `syscage run`, or say why
 * not: anything unusual (an unknown option, `--dry-run`, `--help`, a short
 * option other than `-p VALUE`, a value that looks like an option,
 * `--capability help`, no command) is left to the normal path.
 */
export function parseRunArgv(argv: readonly string[]): RunArgv | string {
  if (argv[0] !== "run") return "not run";
  const options: [string, string][] = [];
  const files: string[] = [];
  let i = 1;
  for (; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === "--") {
      i++;
      break;
    }
    if (!tok.startsWith("-")) break;
    let name: string;
    let inline: string | undefined;
    if (tok === "-p") name = "--property";
    else if (tok.startsWith("--")) {
      const eq = tok.indexOf("=");
      name = eq < 0 ? tok : tok.slice(0, eq);
      inline = eq < 0 ? undefined : tok.slice(eq + 1);
    } else return `option ${tok}`;
    if (FLAG_OPTIONS.has(name)) {
      if (inline !== undefined) return `option ${tok}`;
      options.push([name, ""]);
      continue;
    }
    const isFile = VALUE_OPTIONS.get(name) ?? RUN_VALUE_OPTIONS.get(name);
    if (isFile === undefined) return `option ${name}`;
    let value = inline;
    if (value === undefined) {
      value = argv[++i];
      if (value === undefined || value.startsWith("-")) return `option ${name} without a plain value`;
    }
    if ((name === "--capability" || name === "--drop-capability") && value.trim() === "help") return `${name} help`;
    options.push([name, value]);
    if (isFile) files.push(value);
  }
  const command = argv[i];
  if (command === undefined || command === "") return "no command";
  return { options, files, command, args: argv.slice(i + 1) };
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/**
 * 64-bit FNV-1a of `bytes` as 16 hex digits: the entry's file name (of the
 * key) and its checksum (of everything before it). Not a security measure —
 * only the effective uid can write the cache — but it catches a torn or
 * corrupted file, and native/cached-run.c computes the same.
 */
export function fnv1a64(bytes: Uint8Array): string {
  // The 64-bit state as two 32-bit halves; the prime is 2^40 + 0x1b3.
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (let i = 0; i < bytes.length; i++) {
    lo = (lo ^ bytes[i]!) >>> 0;
    const low = lo * 0x1b3; // exact: below 2^41
    hi = (Math.imul(hi, 0x1b3) + (lo << 8) + Math.floor(low / 0x100000000)) >>> 0;
    lo = low >>> 0;
  }
  return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
}

let stamp: string | undefined;

/**
 * The id in `<tree>/build-id` with the inode, mtime and size of the CLI's
 * main module: tsc rewrites every module, so a later `tsc` alone (which
 * leaves the id as it was) still changes the key.
 */
function buildId(tree: string): string | undefined {
  const cli = join(tree, "cli", `main${extname(fileURLToPath(import.meta.url))}`);
  try {
    const id = readFileSync(join(tree, "build-id"), "utf8").trim();
    const s = statSync(cli, { bigint: true });
    return `${id} ${s.ino} ${s.mtimeNs} ${s.size}`;
  } catch {
    return undefined;
  }
}

/**
 * syscage's build: the id in `<tree>/build-id` (the build writes it into
 * dist/: a hash of every built module and schema; native/cached-run.c reads
 * it too) and buildId's stat of the CLI, else — running from the sources — package.json and the size,
 * mtime and inode of every module and schema.
 */
function buildStamp(): string {
  if (stamp !== undefined) return stamp;
  const here = fileURLToPath(import.meta.url);
  const tree = dirname(dirname(here));
  const id = buildId(tree);
  if (id !== undefined) return (stamp = id);
  const ext = extname(here);
  const root = dirname(tree);
  const parts = [sha256(readFileSync(join(root, "package.json")))];
  const files = readdirSync(tree, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(ext) && !f.endsWith(".d.ts"))
    .sort();
  for (const f of [...files.map((f) => join(tree, f)), join(root, "docs", "policy.schema.json"), join(root, "docs", "profile.schema.json")]) {
    const s = statSync(f);
    parts.push(`${f} ${s.size} ${s.mtimeMs} ${s.ino}`);
  }
  return (stamp = `source:${sha256(parts.join("\n"))}`);
}

function euid(): number {
  return process.geteuid?.() ?? -1;
}

/** The cache key of `run`'s options: see the module doc. Throws when a named file cannot be read. */
export function cacheKey(run: RunArgv): string {
  const lines = [FORMAT, `build ${buildStamp()}`, `machine ${machine()}`, `release ${release()}`, `euid ${euid()}`];
  for (const [name, value] of run.options) lines.push(`option ${name} ${Buffer.byteLength(value)}:${value}`);
  // A relative --allow-*/--cwd path means another directory elsewhere: the plan resolved it against this one.
  if (run.options.some(([name, value]) => PATH_OPTIONS.has(name) && !value.startsWith("/"))) {
    const cwd = process.cwd();
    lines.push(`cwd ${Buffer.byteLength(cwd)}:${cwd}`);
  }
  // Each named file by its content: the bytes are pinned (read-file.ts), so the planner reads these same bytes.
  for (const f of run.files) {
    const s = statSync(f);
    if (!s.isFile()) throw new Error(`${f} is not a regular file`);
    const bytes = pinInputFile(f);
    lines.push(`file ${bytes.length} ${fnv1a64(bytes)}`);
  }
  return lines.join("\n") + "\n";
}

function cacheDir(): string | undefined {
  const xdg = process.env.XDG_CACHE_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, "syscage", "launch");
  let home: string;
  try {
    home = homedir();
  } catch {
    return undefined;
  }
  return isAbsolute(home) ? join(home, ".cache", "syscage", "launch") : undefined;
}

/** The slot for `run`'s options, or why there is none (the cache is off, a file cannot be read, no cache directory). */
export function cacheSlot(run: RunArgv): LaunchCacheSlot | string {
  if (cacheDisabled()) return "SYSCAGE_NO_CACHE is set";
  const dir = cacheDir();
  if (dir === undefined) return "no cache directory (set XDG_CACHE_HOME or HOME)";
  let key: string;
  try {
    key = cacheKey(run);
  } catch (e) {
    return `cannot compute the key: ${e instanceof Error ? e.message : String(e)}`;
  }
  return { run, key, dir, path: join(dir, fnv1a64(Buffer.from(key, "utf8"))) };
}

/** Why the directory `path` must not be trusted, or undefined: it must be a real directory of the effective uid that nobody else can write. */
function untrustedDir(path: string): string | undefined {
  const s = lstatSync(path);
  if (!s.isDirectory()) return `${path} is not a directory`;
  if (s.uid !== euid()) return `${path} is owned by uid ${s.uid}, not ${euid()}`;
  if ((s.mode & 0o022) !== 0) return `${path} is writable by group or others`;
  return undefined;
}

/**
 * Why the cache's base (XDG_CACHE_HOME or ~/.cache) must not be trusted, or
 * undefined: a real directory (not a link) of the effective uid or root,
 * writable by nobody else unless it is sticky. Writer and both readers ask it.
 */
function untrustedBase(base: string): string | undefined {
  const b = lstatSync(base);
  if (!b.isDirectory()) return `${base} is not a directory (a link?)`;
  if (b.uid !== euid() && b.uid !== 0) return `${base} belongs to uid ${b.uid}`;
  if ((b.mode & 0o022) !== 0 && (b.mode & 0o1000) === 0) return `${base} is writable by group or others`;
  return undefined;
}

/**
 * Create `<base>/syscage/launch` without ever following a link or writing
 * into a directory another user controls: the base (XDG_CACHE_HOME or
 * ~/.cache) must exist, be a real directory, and be writable by no one but
 * its owner, who is the effective uid or root (so nobody else can swap what
 * is inside); then each of the two levels is made with a plain mkdir (which
 * never follows a link at its last component) and checked before the next.
 * Returns why not, or undefined.
 */
function makeTrustedDirs(dir: string): string | undefined {
  const mid = dirname(dir);
  const base = dirname(mid);
  try {
    lstatSync(base);
  } catch {
    // A fresh home without ~/.cache: make it (one level, under a parent that exists).
    try {
      mkdirSync(base, { mode: 0o700 });
    } catch (e) {
      return `cannot create ${base}: ${(e as NodeJS.ErrnoException).code ?? "error"}`;
    }
  }
  const bad = untrustedBase(base);
  if (bad !== undefined) return bad;
  for (const d of [mid, dir]) {
    try {
      mkdirSync(d, { mode: 0o700 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") return `cannot create ${d}: ${(e as NodeJS.ErrnoException).code ?? "error"}`;
    }
    const why = untrustedDir(d);
    if (why !== undefined) return why;
  }
  return undefined;
}

/**
 * An entry's bytes (host byte order): "SCGC", u32 version 2; u32 length and
 * the key text; u32 length and the warnings, each ended by a newline; u32
 * length and the launch description; the 64-bit FNV-1a of everything before
 * it (8 bytes, the hex digits' value).
 */
export function encodeEntry(key: string, warnings: readonly string[], description: Uint8Array): Buffer {
  const le = endianness() === "LE";
  const keyBytes = Buffer.from(key, "utf8");
  const warnBytes = Buffer.from(warnings.map((w) => `${w.replace(/\n/g, " ")}\n`).join(""), "utf8");
  const body = Buffer.alloc(8 + 4 + keyBytes.length + 4 + warnBytes.length + 4 + description.length);
  let o = 0;
  const u32 = (v: number): void => {
    if (le) body.writeUInt32LE(v, o);
    else body.writeUInt32BE(v, o);
    o += 4;
  };
  const bytes = (b: Uint8Array): void => {
    body.set(b, o);
    o += b.length;
  };
  body.write("SCGC", 0, "latin1");
  o = 4;
  u32(VERSION);
  u32(keyBytes.length);
  bytes(keyBytes);
  u32(warnBytes.length);
  bytes(warnBytes);
  u32(description.length);
  bytes(description);
  const sum = Buffer.from(fnv1a64(body), "hex");
  if (le) sum.reverse();
  return Buffer.concat([body, sum]);
}

/** The parts of an entry's bytes, or why they are not an entry (structure and checksum only). */
export function decodeEntry(bytes: Uint8Array): { key: string; warnings: string[]; description: Uint8Array } | string {
  const le = endianness() === "LE";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 8 + 12 + 8 || Buffer.from(bytes.subarray(0, 4)).toString("latin1") !== "SCGC" || view.getUint32(4, le) !== VERSION) return "malformed entry";
  let o = 8;
  const part = (): Uint8Array | undefined => {
    if (bytes.length - 8 - o < 4) return undefined;
    const n = view.getUint32(o, le);
    if (bytes.length - 8 - o - 4 < n) return undefined;
    const b = bytes.subarray(o + 4, o + 4 + n);
    o += 4 + n;
    return b;
  };
  const key = part();
  const warn = part();
  const description = part();
  if (key === undefined || warn === undefined || description === undefined || o !== bytes.length - 8) return "malformed entry";
  const sum = Buffer.from(bytes.subarray(o));
  if (le) sum.reverse();
  if (sum.toString("hex") !== fnv1a64(bytes.subarray(0, o))) return "checksum mismatch";
  const text = Buffer.from(warn).toString("utf8");
  if (text !== "" && !text.endsWith("\n")) return "malformed entry";
  return { key: Buffer.from(key).toString("utf8"), warnings: text === "" ? [] : text.slice(0, -1).split("\n"), description };
}

/**
 * Why `bytes` is not a launch description `syscage run` would send (see
 * encodeLaunch and native/syscage-exec.c), or undefined: "SCGX", version 1,
 * no option but capabilities, private network, a new session and Landlock's no-TCP, 1 to 64 programs of 1 to
 * 4096 instructions, nothing after them. At least one program: the plan
 * always has the policy's, and the helper would load nothing for zero.
 */
export function badDescription(bytes: Uint8Array): string | undefined {
  if (bytes.length < 28) return "too short";
  try {
    const d = decodeLaunchDescription(bytes);
    if ((d.options & OPT_RECORD) !== 0) return "unexpected options";
    if (d.rest.length > 0) return "trailing bytes";
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** The entry of `slot` when it passes every check (see the module doc), else why not. */
export function readEntry(slot: LaunchCacheSlot): LaunchCacheEntry | string {
  let buf: Buffer;
  try {
    const bad = untrustedBase(dirname(dirname(slot.dir))) ?? untrustedDir(dirname(slot.dir)) ?? untrustedDir(slot.dir);
    if (bad !== undefined) return bad;
    const fd = openSync(slot.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const s = fstatSync(fd);
      if (!s.isFile()) return "not a regular file";
      if (s.uid !== euid()) return `owned by uid ${s.uid}, not ${euid()}`;
      if ((s.mode & 0o077) !== 0) return `mode ${(s.mode & 0o777).toString(8)}, not 600`;
      if (s.size > MAX_ENTRY) return "too large";
      buf = Buffer.alloc(s.size);
      let n = 0;
      while (n < buf.length) {
        const r = readSync(fd, buf, n, buf.length - n, n);
        if (r === 0) break;
        n += r;
      }
      buf = buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "no entry" : `cannot read the entry (${code ?? String(e)})`;
  }
  const entry = decodeEntry(buf);
  if (typeof entry === "string") return entry;
  if (entry.key !== slot.key) return "key mismatch";
  const bad = badDescription(entry.description);
  if (bad !== undefined) return `bad description: ${bad}`;
  return { description: entry.description, warnings: entry.warnings };
}

/**
 * Store `description` and `warnings` as the entry of `slot`, best effort
 * (a failure only means no cache): directory 0700, file 0600, written to a
 * temporary file and renamed. Nothing is stored when a named file changed
 * since the key was computed, or the description is not well formed.
 */
export function writeEntry(slot: LaunchCacheSlot, description: Uint8Array, warnings: readonly string[]): void {
  const bad = badDescription(description);
  if (bad !== undefined) {
    cacheDebug(`not stored (bad description: ${bad})`);
    return;
  }
  let tmp: string | undefined;
  try {
    const untrusted = makeTrustedDirs(slot.dir);
    if (untrusted !== undefined) {
      cacheDebug(`not stored (${untrusted})`);
      return;
    }
    const data = encodeEntry(slot.key, warnings, description);
    tmp = join(slot.dir, `.${basename(slot.path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      let n = 0;
      while (n < data.length) n += writeSync(fd, data, n, data.length - n);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, slot.path);
    tmp = undefined;
    cacheDebug(`stored ${slot.path}`);
  } catch (e) {
    cacheDebug(`not stored (${e instanceof Error ? e.message : String(e)})`);
  } finally {
    if (tmp !== undefined) {
      try {
        unlinkSync(tmp);
      } catch {
        // already gone
      }
    }
  }
}
