/**
 * The launch cache of `syscage run` on the real kernel, through both of its
 * readers: Node's (src/cli/run-cache.ts, fast-run.ts; the CLI run from the
 * sources) and the native front door (native/cached-run.c, through
 * bin/syscage and the built dist/, as installed users run it). A miss stores
 * the entry and the next run hits it with the same enforcement and exit
 * statuses; changed policy files miss; corrupted, malformed and badly owned
 * entries are refused and the normal path runs.
 */
import assert from "node:assert/strict";
import { spawn as nodeSpawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test, type TestContext } from "node:test";
import { resolveSyscall } from "../src/abi/tables.js";
import { Command } from "commander";
import { POLICY_OPTIONS } from "../src/cli/policy-option-table.js";
import { RUN_OPTIONS } from "../src/cli/run-option-table.js";
import { register as registerRun } from "../src/cli/commands/run.js";
import { NO_SANDBOX } from "../src/run/sandbox.js";
import { OPT_RECORD, decodeLaunchDescription, encodeLaunchDescription } from "../src/run/launch-format.js";
import { addPolicyOptions, loadPolicy } from "../src/cli/policy-options.js";
import { badDescription, cacheKey, decodeEntry, encodeEntry, fnv1a64, parseRunArgv } from "../src/cli/run-cache.js";
import { decide } from "../src/policy/evaluate.js";
import { CLI_NODE_ARGS, ensureBuilt, spawnCli } from "./helpers/cli.js";
import { REQUIRE_ORACLES } from "./helpers/oracles.js";
import { ERRNO, NOBODY, NR, REPO, checkoutReadableBy, needRoot, setup } from "./helpers/run-probe.js";

const NR_MKDIR = resolveSyscall("x86_64", "mkdir");
const EFAULT = 14;
const BIN = join(REPO, "bin", "syscage");

type Reader = "node" | "native";
/** Who runs syscage: root, or the unprivileged user (the test itself stays root, to set up what another user owns). */
type Who = "root" | "nobody";

/** A fresh directory (0755) owned by `who`: a cache home, or where a test keeps its policy files. */
function workDirOf(who: Who): string {
  const d = mkdtempSync(join(tmpdir(), "syscage-run-cache-"));
  chmodSync(d, 0o755);
  if (who === "nobody") chownSync(d, NOBODY, NOBODY);
  return d;
}

/** The user's options for spawn: root as we are, or nobody with its own home (its cache home when XDG_CACHE_HOME is unset). */
function asUser(who: Who): { uid?: number; gid?: number } {
  return who === "nobody" ? { uid: NOBODY, gid: NOBODY } : {};
}

/** How each reader says it used an entry. */
const HIT: Record<Reader, RegExp> = { node: /^hit \//, native: /^hit \(native\) \// };

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  cache: string[];
}

/** `syscage ARGS` (the CLI from the sources, or bin/syscage) with the cache in `cache` and its debug lines on. */
function syscageWith(reader: Reader, who: Who, cache: string, args: readonly string[], env: Record<string, string> = {}): Run {
  const home = who === "nobody" ? { HOME: cache } : {};
  const options = { cwd: REPO, input: "", encoding: "utf8" as const, ...asUser(who), env: { ...process.env, ...home, XDG_CACHE_HOME: cache, SYSCAGE_CACHE_DEBUG: "1", ...env } };
  const r = reader === "node" ? spawnCli(args, options) : spawnSync(BIN, args, options);
  const lines = r.stderr.split("\n");
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: lines.filter((l) => !l.startsWith("syscage: cache: ")).join("\n"),
    cache: lines.filter((l) => l.startsWith("syscage: cache: ")).map((l) => l.slice("syscage: cache: ".length)),
  };
}

function entries(cache: string): string[] {
  try {
    return readdirSync(join(cache, "syscage", "launch")).map((f) => join(cache, "syscage", "launch", f));
  } catch {
    return [];
  }
}

for (const who of ["root", "nobody"] as const)
for (const reader of ["node", "native"] as const) {
  describe(`syscage run as ${who === "root" ? "root" : "an unprivileged user"}: launch cache, read by ${reader === "node" ? "Node (src/cli/fast-run.ts)" : "the native front door (bin/syscage)"}`, () => {
    /** The uids the messages name: ours, and another user's. */
    const me = who === "root" ? 0 : NOBODY;
    const other = who === "root" ? NOBODY : 0;
    const workDir = (): string => workDirOf(who);
    /** `setup` (probe, helper, root), for nobody a checkout it can read, and for the native reader the built CLI. */
    const ready = (t: TestContext): string | null => {
      const probe = setup(t);
      if (probe === null || !needRoot(t)) return null;
      if (who === "nobody" && !checkoutReadableBy(NOBODY)) {
        const why = `uid ${NOBODY} cannot read the checkout ${REPO} (a directory above it is closed to others): the unprivileged cache tests need to run the CLI from it`;
        if (REQUIRE_ORACLES) throw new Error(why);
        process.stderr.write(`\n*** SKIPPED: ${why} ***\n`);
        t.skip(why);
        return null;
      }
      if (reader === "native") ensureBuilt();
      return probe;
    };
    const syscage = (cache: string, args: readonly string[], env: Record<string, string> = {}): Run => syscageWith(reader, who, cache, args, env);
    /** This reader used the entry (never the other one). */
    const isHit = (r: { cache: string[] }): boolean => r.cache.some((l) => HIT[reader].test(l));

    test("a miss stores the entry (0700/0600); the next run hits it and enforces the same policy", (t) => {
      const probe = ready(t);
      if (probe === null) return;
      const cache = workDir();
      const args = ["run", "--system-call-filter=~mkdir", "--", probe, `native:${NR_MKDIR}:0`, `native:${NR.getpid}`];
      const first = syscage(cache, args);
      assert.equal(first.status, 0, first.stderr);
      assert.ok(first.cache.some((l) => l.startsWith("miss (no entry)")), first.cache.join("\n"));
      assert.ok(first.cache.some((l) => l.startsWith("stored ")), first.cache.join("\n"));
      assert.equal(first.stdout, `err ${ERRNO.EPERM}\nok\n`);
      const [entry] = entries(cache);
      assert.ok(entry !== undefined);
      assert.equal(statSync(entry).mode & 0o777, 0o600);
      assert.equal(statSync(join(cache, "syscage", "launch")).mode & 0o777, 0o700);
      const second = syscage(cache, args);
      assert.ok(isHit(second), second.cache.join("\n"));
      assert.equal(second.status, 0, second.stderr);
      assert.equal(second.stdout, first.stdout, "mkdir still denied with EPERM on the hit path");
      // Unfiltered, mkdir(NULL) is EFAULT: the filter is what denies it.
      const plain = syscage(cache, ["run", "--", probe, `native:${NR_MKDIR}:0`]);
      assert.equal(plain.stdout, `err ${EFAULT}\n`);
      assert.equal(entries(cache).length, 2, "one entry per set of options; the command is not part of the key");
      // Only the options count: a different command hits the same entry.
      const other = syscage(cache, ["run", "--system-call-filter=~mkdir", "--", "/bin/true"]);
      assert.ok(isHit(other), other.cache.join("\n"));
      assert.equal(other.status, 0);
    });

    test("a changed --policy file is a miss, and the new policy applies", (t) => {
      const probe = ready(t);
      if (probe === null) return;
      const cache = workDir();
      const d = workDir();
      const policy = join(d, "p.json");
      const write = (errno: string): void =>
        writeFileSync(policy, JSON.stringify({ default: "ALLOW", rules: [{ syscall: "getppid", action: `ERRNO(${errno})` }] }));
      const args = ["run", "--policy", policy, "--", probe, `native:${NR.getppid}`];
      write("EPERM");
      assert.equal(syscage(cache, args).stdout, `err ${ERRNO.EPERM}\n`);
      const hit = syscage(cache, args);
      assert.ok(isHit(hit));
      assert.equal(hit.stdout, `err ${ERRNO.EPERM}\n`);
      write("EXDEV");
      const changed = syscage(cache, args);
      assert.ok(!isHit(changed), changed.cache.join("\n"));
      assert.equal(changed.stdout, `err ${ERRNO.EXDEV}\n`);
      const again = syscage(cache, args);
      assert.ok(isHit(again));
      assert.equal(again.stdout, `err ${ERRNO.EXDEV}\n`);
    });

    test("a policy rewritten in place with the same size and times is a miss: the key is the content", (t) => {
      const probe = ready(t);
      if (probe === null) return;
      const cache = workDir();
      const d = workDir();
      const policy = join(d, "p.json");
      // Same length, so the stat tuple but for the times is unchanged; the times are put back too.
      const allow = JSON.stringify({ default: "ALLOW", rules: [{ syscall: "getppid", action: "ERRNO(EPERM)" }] });
      const deny = JSON.stringify({ default: "ALLOW", rules: [{ syscall: "getppid", action: "ERRNO(EXDEV)" }] });
      assert.equal(allow.length, deny.length);
      writeFileSync(policy, allow);
      const args = ["run", "--policy", policy, "--", probe, `native:${NR.getppid}`];
      assert.equal(syscage(cache, args).stdout, `err ${ERRNO.EPERM}\n`);
      assert.ok(isHit(syscage(cache, args)));
      const before = statSync(policy);
      writeFileSync(policy, deny);
      utimesSync(policy, before.atime, before.mtime);
      const r = syscage(cache, args);
      assert.ok(!isHit(r), `the entry of the old content must not be used: ${r.cache.join("\n")}`);
      assert.equal(r.stdout, `err ${ERRNO.EXDEV}\n`);
    });

    test("a corrupted or malformed entry is refused: the normal path runs and still enforces the policy", (t) => {
      const probe = ready(t);
      if (probe === null) return;
      const cache = workDir();
      const args = ["run", "--system-call-filter=~mkdir", "--", probe, `native:${NR_MKDIR}:0`];
      assert.equal(syscage(cache, args).stdout, `err ${ERRNO.EPERM}\n`);
      const [entry] = entries(cache);
      assert.ok(entry !== undefined);
      const good = readFileSync(entry);
      const parsed = decodeEntry(good);
      assert.ok(typeof parsed !== "string", String(parsed));

      const refused = (bytes: Uint8Array, reason: RegExp): void => {
        writeFileSync(entry, bytes, { mode: 0o600 });
        const r = syscage(cache, args);
        assert.ok(!r.cache.some((l) => /^hit /.test(l)), `${reason}: ${r.cache.join("\n")}`);
        assert.ok(r.cache.some((l) => reason.test(l)), `${reason}: ${r.cache.join("\n")}`);
        assert.equal(r.stdout, `err ${ERRNO.EPERM}\n`, "the normal path enforces the policy");
        assert.equal(r.status, 0);
        assert.deepEqual(readFileSync(entry), good, "the normal path stores a good entry again");
      };
      const { key, warnings, description } = parsed;
      // Flipped bytes in the program, the checksum left as it was.
      const flipped = Buffer.from(good);
      const start = good.length - 8 - description.length;
      for (let i = start + 40; i < good.length - 8; i += 8) flipped[i]! ^= 0xff;
      refused(flipped, /^miss \(checksum mismatch\)/);
      // Truncated file, garbage, another key (correctly summed).
      refused(good.subarray(0, good.length >> 1), /^miss \(malformed entry\)/);
      refused(Buffer.from("\0\0\0garbage"), /^miss \(malformed entry\)/);
      refused(encodeEntry(key.replace(/^euid \d+$/m, "euid 4242"), warnings, description), /^miss \(key mismatch\)/);
      // A well-formed, correctly summed entry with no program at all (the helper would load nothing).
      const empty = Buffer.from(description.subarray(0, 28));
      empty.writeUInt32LE(0, 24);
      refused(encodeEntry(key, warnings, empty), /^miss \(bad description: 0 programs\)/);
      // A program cut short, also correctly summed.
      refused(encodeEntry(key, warnings, description.subarray(0, description.length - 8)), /^miss \(bad description: truncated\)/);
    });

    test("an entry or directory others can write, or owned by another user, is ignored", (t) => {
      const probe = ready(t);
      if (probe === null) return;
      const cache = workDir();
      const args = ["run", "--system-call-filter=~mkdir", "--", probe, `native:${NR_MKDIR}:0`];
      syscage(cache, args);
      const [entry] = entries(cache);
      assert.ok(entry !== undefined);
      const ignored = (setUp: () => void, reason: RegExp): void => {
        setUp();
        const r = syscage(cache, args);
        assert.ok(!isHit(r) && r.cache.some((l) => reason.test(l)), `${reason}: ${r.cache.join("\n")}`);
        assert.equal(r.stdout, `err ${ERRNO.EPERM}\n`);
      };
      ignored(() => chmodSync(entry, 0o620), /^miss \(mode 620, not 600\)/);
      assert.ok(isHit(syscage(cache, args)), "the normal path replaced it with a 0600 entry");
      // Readable (0644), so the owner is what refuses it (a 0600 entry of another user is simply unreadable).
      ignored(() => (chownSync(entry, other, other), chmodSync(entry, 0o644)), new RegExp(`^miss \\(owned by uid ${other}, not ${me}\\)`));
      const launch = join(cache, "syscage", "launch");
      ignored(() => chmodSync(launch, 0o777), /^miss \(.*launch is writable by group or others\)/);
      // The normal path does not store into such a directory either.
      chmodSync(launch, 0o700);
      assert.ok(isHit(syscage(cache, args)));
      // The cache home itself (XDG_CACHE_HOME): writable by others and not sticky, or a link to a good one.
      ignored(() => chmodSync(cache, 0o777), /^miss \(.* is writable by group or others\)/);
      chmodSync(cache, 0o700);
      assert.ok(isHit(syscage(cache, args)));
      const link = join(workDir(), "cache-link");
      symlinkSync(cache, link);
      const viaLink = syscage(link, args);
      assert.ok(!isHit(viaLink) && viaLink.cache.some((l) => /^miss \(.*cache-link is not a directory \(a link\?\)\)/.test(l)), viaLink.cache.join("\n"));
      assert.equal(viaLink.stdout, `err ${ERRNO.EPERM}\n`);
    });

    test("the writer never follows a link or writes into another user's directory", (t) => {
      const probe = ready(t);
      if (probe === null) return;
      const args = ["run", "--", probe, `native:${NR.getppid}`];
      // XDG_CACHE_HOME owned by another user, with "syscage" a link into that user's tree.
      const theirs = workDir();
      const target = workDir();
      chownSync(theirs, other, other);
      chownSync(target, other, other);
      symlinkSync(target, join(theirs, "syscage"));
      const r = syscage(theirs, args);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(readdirSync(target), [], "nothing created through the link");
      // Root's cache home may belong to root (as /var/cache does); the link in it is still not followed.
      if (reader === "node" && other !== 0) assert.ok(r.cache.some((l) => new RegExp(`not stored \\(.*belongs to uid ${other}`).test(l)), r.cache.join("\n"));
      if (reader === "node" && other === 0) assert.ok(r.cache.some((l) => /not stored \(.*syscage is not a directory/.test(l)), r.cache.join("\n"));
      // Our own cache home, but "syscage" a link: not followed either.
      const mine = workDir();
      const elsewhere = workDir();
      symlinkSync(elsewhere, join(mine, "syscage"));
      const m = syscage(mine, args);
      assert.equal(m.status, 0, m.stderr);
      assert.deepEqual(readdirSync(elsewhere), [], "nothing created through our own link");
    });

    test("exit statuses on the hit path equal the normal path's", (t) => {
      const probe = ready(t);
      if (probe === null) return;
      const d = workDir();
      const policy = join(d, "kill-getppid.json");
      writeFileSync(policy, JSON.stringify({ default: "ALLOW", rules: [{ syscall: "getppid", action: "KILL_PROCESS" }] }));
      const cases: string[][] = [
        ["run", "--", "sh", "-c", "exit 7"],
        ["run", "--", "sh", "-c", "kill -TERM $$"],
        ["run", "--", "/nonexistent-dir/no-such-command"],
        ["run", "--policy", policy, "--", probe, `direct:native:${NR.getppid}`],
      ];
      for (const args of cases) {
        const normal = syscage(workDir(), args, { SYSCAGE_NO_CACHE: "1" });
        assert.deepEqual(normal.cache, [], "SYSCAGE_NO_CACHE=1: no cache at all");
        const cache = workDir();
        const miss = syscage(cache, args);
        const hit = syscage(cache, args);
        assert.ok(!isHit(miss) && isHit(hit), `${args.join(" ")}: ${miss.cache.join(",")} / ${hit.cache.join(",")}`);
        for (const r of [miss, hit]) {
          assert.equal(r.status, normal.status, args.join(" "));
          assert.equal(r.stdout, normal.stdout, args.join(" "));
          assert.equal(r.stderr, normal.stderr, args.join(" "));
        }
      }
      const sys = syscage(workDir(), cases[3]!);
      assert.equal(sys.status, 128 + 31);
      assert.match(sys.stderr, /^syscage: .* was killed by the syscall filter \(SIGSYS\)\n$/);
      assert.equal(syscage(workDir(), cases[2]!).status, 127);
    });

    test("on a hit, stdin passes through, and SIGTERM and SIGHUP sent to syscage reach the command", async (t) => {
      if (ready(t) === null) return;
      const cache = workDir();
      const env = { ...process.env, ...(who === "nobody" ? { HOME: cache } : {}), XDG_CACHE_HOME: cache, SYSCAGE_CACHE_DEBUG: "1" };
      syscage(cache, ["run", "--", "/bin/true"]);
      const cat = syscage(cache, ["run", "--", "cat"]);
      assert.ok(isHit(cat), cat.cache.join("\n"));
      const piped = reader === "node" ? spawnCli(["run", "--", "cat"], { cwd: REPO, input: "piped\n", env, ...asUser(who) }) : spawnSync(BIN, ["run", "--", "cat"], { cwd: REPO, input: "piped\n", encoding: "utf8", env, ...asUser(who) });
      assert.equal(piped.stdout, "piped\n");
      assert.equal(piped.status, 0);
      for (const [sig, n] of [["SIGTERM", 15], ["SIGHUP", 1]] as const) {
        const argv = ["run", "--", "sh", "-c", "echo ready; exec sleep 30"];
        const child = reader === "node" ? nodeSpawn(process.execPath, [...CLI_NODE_ARGS, ...argv], { cwd: REPO, env, ...asUser(who), stdio: ["ignore", "pipe", "pipe"] }) : nodeSpawn(BIN, argv, { cwd: REPO, env, ...asUser(who), stdio: ["ignore", "pipe", "pipe"] });
        let stderr = "";
        child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
        await new Promise<void>((res) => child.stdout!.once("data", () => res()));
        child.kill(sig);
        const code = await new Promise<number | null>((res) => child.on("close", (c: number | null) => res(c)));
        assert.equal(code, 128 + n, `${sig}: the command (sleep) died of the forwarded signal`);
        assert.ok(stderr.split("\n").some((l) => HIT[reader].test(l.replace("syscage: cache: ", ""))), stderr);
      }
    });

    test("--dry-run, --help and unknown options never use the cache; SYSCAGE_NO_CACHE=1 stores nothing", (t) => {
      if (ready(t) === null) return;
      const cache = workDir();
      syscage(cache, ["run", "--", "/bin/true"]);
      assert.equal(entries(cache).length, 1);
      const dry = syscage(cache, ["run", "--dry-run", "--", "/bin/true"]);
      assert.equal(dry.status, 0);
      assert.match(dry.stdout, /^command: {8}\/bin\/true\n/);
      assert.deepEqual(dry.cache, ["not used (option --dry-run)"]);
      const help = syscage(cache, ["run", "--help"]);
      assert.equal(help.status, 0);
      assert.deepEqual(help.cache, ["not used (option --help)"]);
      const bad = syscage(cache, ["run", "--no-such-option", "--", "/bin/true"]);
      assert.equal(bad.status, 125);
      assert.deepEqual(bad.cache, ["not used (option --no-such-option)"]);
      const fresh = workDir();
      const off = syscage(fresh, ["run", "--", "/bin/true"], { SYSCAGE_NO_CACHE: "1" });
      assert.equal(off.status, 0);
      assert.deepEqual(off.cache, []);
      assert.equal(entries(fresh).length, 0);
    });
  });
}

describe("launch cache entries", () => {
  test("the planner compiles the bytes the key names: a link repointed between key and plan changes nothing", () => {
    const d = workDirOf("root");
    const denyFile = join(d, "deny.json");
    const allowFile = join(d, "allow.json");
    writeFileSync(denyFile, JSON.stringify({ default: "ALLOW", rules: [{ syscall: "mkdir", action: "ERRNO(EPERM)" }] }));
    writeFileSync(allowFile, JSON.stringify({ default: "ALLOW", rules: [] }));
    const link = join(d, "p.json");
    symlinkSync(denyFile, link);
    const run = parseRunArgv(["run", "--policy", link, "--", "true"]);
    assert.ok(typeof run !== "string");
    const key = cacheKey(run);
    // The hook between reading and storing: the link now names the allow-all policy.
    unlinkSync(link);
    symlinkSync(allowFile, link);
    const planned = loadPolicy({ policy: link }).policy;
    const mkdir = { arch: 0xc000003e, nr: NR_MKDIR, args: [] };
    assert.equal(decide(planned, mkdir).ret >>> 0, 0x00050001, "the plan is the deny policy the key was made from");
    assert.equal(cacheKey(run), key, "and the key still names those bytes");
    assert.match(key, new RegExp(`^file ${readFileSync(denyFile).length} ${fnv1a64(readFileSync(denyFile))}$`, "m"));
  });

  test("badDescription: only what encodeLaunch produces for run", () => {
    const program = Buffer.alloc(8);
    program.writeUInt32LE(0x7fff0000, 4);
    const one = Buffer.from(encodeLaunchDescription({ flags: 0, options: 0, retained: 0n }, [program], NO_SANDBOX));
    assert.equal(badDescription(one), undefined);
    assert.equal(decodeLaunchDescription(one).programs.length, 1);
    const zero = Buffer.from(one.subarray(0, 28));
    zero.writeUInt32LE(0, 24);
    assert.equal(badDescription(zero), "0 programs");
    const record = Buffer.from(one);
    record.writeUInt32LE(OPT_RECORD, 12);
    assert.equal(badDescription(record), "unexpected options");
    const noInsns = Buffer.from(one.subarray(0, 32));
    noInsns.writeUInt32LE(0, 28);
    assert.equal(badDescription(noInsns), "program 1 has 0 instructions");
    assert.equal(badDescription(Buffer.concat([one, Buffer.alloc(1)])), "trailing bytes");
    assert.equal(badDescription(one.subarray(0, 20)), "too short");
    assert.equal(badDescription(one.subarray(0, 40)), "truncated", "the sandbox part is missing");
    const v1 = Buffer.from(one);
    v1.writeUInt32LE(1, 4);
    assert.equal(badDescription(v1), "bad version");
  });

  test("one list of policy options: the commands register them all, and native/cached-run.c keys on the same ones", () => {
    const cmd = addPolicyOptions(new Command());
    assert.deepEqual(
      cmd.options.map((o) => [o.long, o.required ? "value" : "flag"]).sort(),
      POLICY_OPTIONS.map((o) => [`--${o.name}`, o.kind === "flag" ? "flag" : "value"]).sort(),
    );
    const source = readFileSync(join(REPO, "native", "cached-run.c"), "utf8");
    const native = [...source.matchAll(/\{"(--[a-z-]+)", ([012])\}/g)].map((m) => [m[1], Number(m[2])]).sort();
    const kind = (file: boolean, value?: string): number => (file || value === "file" ? 1 : value === "path" ? 2 : 0);
    const expected = [
      ...POLICY_OPTIONS.filter((o) => o.kind !== "flag").map((o) => [`--${o.name}`, kind(o.file)]),
      ...RUN_OPTIONS.filter((o) => o.kind !== "flag").map((o) => [`--${o.name}`, kind(false, o.value)]),
    ].sort();
    assert.deepEqual(native, expected);
    for (const o of [...POLICY_OPTIONS, ...RUN_OPTIONS].filter((o) => o.kind === "flag")) assert.ok(source.includes(`strcmp(name, "--${o.name}") == 0`), o.name);
    // And run registers every run option the cache keys on.
    const run = new Command();
    registerRun(run);
    const runCmd = run.commands.find((c) => c.name() === "run")!;
    for (const o of RUN_OPTIONS) assert.ok(runCmd.options.some((x) => x.long === `--${o.name}` && (o.kind === "flag") === !x.required), `run registers --${o.name} as a ${o.kind}`);
  });

  test("fnv1a64: the published FNV-1a 64 vectors (native/cached-run.c computes the same)", () => {
    assert.equal(fnv1a64(Buffer.from("")), "cbf29ce484222325");
    assert.equal(fnv1a64(Buffer.from("a")), "af63dc4c8601ec8c");
    assert.equal(fnv1a64(Buffer.from("foobar")), "85944171f73967e8");
  });

  test("encodeEntry / decodeEntry: round trip; any changed byte is refused", () => {
    const description = Buffer.from("SCGX-some-bytes");
    const bytes = encodeEntry("syscage-launch-cache/2\nbuild x\n", ["one", "two\nlines"], description);
    assert.deepEqual(decodeEntry(bytes), { key: "syscage-launch-cache/2\nbuild x\n", warnings: ["one", "two lines"], description });
    for (let i = 0; i < bytes.length; i++) {
      const b = Buffer.from(bytes);
      b[i]! ^= 0x01;
      assert.equal(typeof decodeEntry(b), "string", `byte ${i} changed`);
    }
    assert.equal(decodeEntry(bytes.subarray(0, bytes.length - 1)), "malformed entry");
  });
});
