/**
 * The launch cache of `syscage run` (docs/run.md): the launch description
 * planned for a set of policy options, stored under
 * `$XDG_CACHE_HOME/syscage/launch/<key>` (default `~/.cache/syscage/launch`),
 * so that the next run with the same options skips loading, building and
 * compiling the policy (src/cli/fast-run.ts).
 *
 * The key covers everything the description depends on: syscage's build
 * (package.json and the size, mtime and inode of every module of the running
 * tree, and the JSON schemas), the policy options in order (not the command
 * and its arguments, which are not part of the description), the sha256 of
 * every file they name, the host's architecture and byte order (the default
 * ABIs), `uname -r` (profiles' minKernel default) and the effective uid.
 *
 * Fail closed: an entry is used only when its directory and file belong to
 * the effective uid and nobody else can write them, its key and sha256
 * checksum match, and its description is well formed with at least one
 * program; anything else is a miss. This module loads only Node built-ins.
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { endianness, homedir, release } from "node:os";
import { dirname, extname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";

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
  readonly key: string;
  readonly dir: string;
  readonly path: string;
}

/** A cache entry that passed every check. */
export interface LaunchCacheEntry {
  readonly description: Uint8Array;
  readonly warnings: readonly string[];
}

const FORMAT = "syscage-launch-cache/1";
const MAX_ENTRY = 8 * 1024 * 1024;

/** Policy options with a value: true when the value is a file whose content matters. */
const VALUE_OPTIONS: ReadonlyMap<string, boolean> = new Map([
  ["--policy", true],
  ["--system-call-filter", false],
  ["--capability", false],
  ["--drop-capability", false],
  ["--settings", true],
  ["--property", false],
  ["--unit", true],
  ["--arch", false],
  ["--profile", true],
  ["--kernel", false],
  ["--host-arch", false],
  ["--argument-width", false],
  ["--add-filter", true],
]);
const FLAG_OPTIONS: ReadonlySet<string> = new Set(["--private-network"]);

/** SYSCAGE_NO_CACHE=1 (any value but "" and "0") turns the cache off. */
export function cacheDisabled(): boolean {
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
    const isFile = VALUE_OPTIONS.get(name);
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

let stamp: string | undefined;

/** syscage's build: package.json, and the size, mtime and inode of every module of the running tree (dist/*.js or src/*.ts) and of the schemas. */
function buildStamp(): string {
  if (stamp !== undefined) return stamp;
  const here = fileURLToPath(import.meta.url);
  const ext = extname(here);
  const tree = dirname(dirname(here));
  const root = dirname(tree);
  const parts = [sha256(readFileSync(join(root, "package.json")))];
  const files = readdirSync(tree, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(ext) && !f.endsWith(".d.ts"))
    .sort();
  for (const f of [...files.map((f) => join(tree, f)), join(root, "docs", "policy.schema.json"), join(root, "docs", "profile.schema.json")]) {
    const s = statSync(f);
    parts.push(`${f} ${s.size} ${s.mtimeMs} ${s.ino}`);
  }
  return (stamp = sha256(parts.join("\n")));
}

function euid(): number {
  return process.geteuid?.() ?? -1;
}

/** The cache key of `run`'s options: see the module doc. Throws when a named file cannot be read. */
export function cacheKey(run: RunArgv): string {
  const material = [
    FORMAT,
    buildStamp(),
    process.arch,
    endianness(),
    release(),
    euid(),
    run.options,
    run.files.map((f) => sha256(readFileSync(f))),
  ];
  return sha256(JSON.stringify(material));
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
  return { run, key, dir, path: join(dir, key) };
}

/** Why the directory `path` must not be trusted, or undefined: it must be a real directory of the effective uid that nobody else can write. */
function untrustedDir(path: string): string | undefined {
  const s = lstatSync(path);
  if (!s.isDirectory()) return `${path} is not a directory`;
  if (s.uid !== euid()) return `${path} is owned by uid ${s.uid}, not ${euid()}`;
  if ((s.mode & 0o022) !== 0) return `${path} is writable by group or others`;
  return undefined;
}

/** The checksum stored in an entry: sha256 over the format, key, warnings and base64 description. */
export function entryChecksum(key: string, warnings: readonly string[], description: string): string {
  return sha256(`${FORMAT}\n${key}\n${JSON.stringify(warnings)}\n${description}`);
}

/**
 * Why `bytes` is not a launch description `syscage run` would send (see
 * encodeLaunch and native/syscage-exec.c), or undefined: "SCGX", version 1,
 * no option but capabilities and private network, 1 to 64 programs of 1 to
 * 4096 instructions, nothing after them. At least one program: the plan
 * always has the policy's, and the helper would load nothing for zero.
 */
export function badDescription(bytes: Uint8Array): string | undefined {
  if (bytes.length < 28) return "too short";
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = endianness() === "LE";
  if (bytes[0] !== 0x53 || bytes[1] !== 0x43 || bytes[2] !== 0x47 || bytes[3] !== 0x58) return "bad magic";
  if (view.getUint32(4, le) !== 1) return "bad version";
  if ((view.getUint32(12, le) & ~3) !== 0) return "unexpected options";
  const count = view.getUint32(24, le);
  if (count < 1 || count > 64) return `${count} programs`;
  let o = 28;
  for (let p = 0; p < count; p++) {
    if (bytes.length - o < 4) return "truncated";
    const insns = view.getUint32(o, le);
    if (insns < 1 || insns > 4096) return `program ${p + 1} has ${insns} instructions`;
    o += 4 + insns * 8;
    if (o > bytes.length) return "truncated";
  }
  return o === bytes.length ? undefined : "trailing bytes";
}

/** The entry of `slot` when it passes every check (see the module doc), else why not. */
export function readEntry(slot: LaunchCacheSlot): LaunchCacheEntry | string {
  let text: string;
  try {
    const bad = untrustedDir(dirname(slot.dir)) ?? untrustedDir(slot.dir);
    if (bad !== undefined) return bad;
    const fd = openSync(slot.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const s = fstatSync(fd);
      if (!s.isFile()) return "not a regular file";
      if (s.uid !== euid()) return `owned by uid ${s.uid}, not ${euid()}`;
      if ((s.mode & 0o077) !== 0) return `mode ${(s.mode & 0o777).toString(8)}, not 600`;
      if (s.size > MAX_ENTRY) return "too large";
      const buf = Buffer.alloc(s.size);
      let n = 0;
      while (n < buf.length) {
        const r = readSync(fd, buf, n, buf.length - n, n);
        if (r === 0) break;
        n += r;
      }
      text = buf.toString("utf8", 0, n);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === "ENOENT" ? "no entry" : `cannot read the entry (${code ?? String(e)})`;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return "malformed entry";
  }
  if (raw === null || typeof raw !== "object") return "malformed entry";
  const e = raw as Record<string, unknown>;
  const warnings = e.warnings;
  if (
    e.format !== FORMAT ||
    e.key !== slot.key ||
    typeof e.description !== "string" ||
    typeof e.sha256 !== "string" ||
    !Array.isArray(warnings) ||
    !warnings.every((w): w is string => typeof w === "string")
  ) {
    return "malformed entry";
  }
  if (entryChecksum(slot.key, warnings, e.description) !== e.sha256) return "checksum mismatch";
  const description = Buffer.from(e.description, "base64");
  if (description.toString("base64") !== e.description) return "malformed description";
  const bad = badDescription(description);
  if (bad !== undefined) return `bad description: ${bad}`;
  return { description: new Uint8Array(description.buffer, description.byteOffset, description.byteLength), warnings };
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
    if (cacheKey(slot.run) !== slot.key) {
      cacheDebug("not stored (a policy file changed while planning)");
      return;
    }
    mkdirSync(slot.dir, { recursive: true, mode: 0o700 });
    const untrusted = untrustedDir(dirname(slot.dir)) ?? untrustedDir(slot.dir);
    if (untrusted !== undefined) {
      cacheDebug(`not stored (${untrusted})`);
      return;
    }
    const b64 = Buffer.from(description.buffer, description.byteOffset, description.byteLength).toString("base64");
    const entry = JSON.stringify({ format: FORMAT, key: slot.key, warnings, description: b64, sha256: entryChecksum(slot.key, warnings, b64) });
    tmp = join(slot.dir, `.${slot.key}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
    const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      const data = Buffer.from(entry, "utf8");
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
