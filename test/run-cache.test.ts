/**
 * The launch cache of `syscage run` (src/cli/run-cache.ts, fast-run.ts) on the
 * real kernel: a miss stores the entry and the next run hits it with the same
 * enforcement and exit statuses; changed policy files miss; corrupted,
 * malformed and badly owned entries are refused and the normal path runs.
 */
import assert from "node:assert/strict";
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { resolveSyscall } from "../src/abi/tables.js";
import { badDescription, entryChecksum } from "../src/cli/run-cache.js";
import { spawnCli } from "./helpers/cli.js";
import { ERRNO, NOBODY, NR, REPO, needRoot, setup } from "./helpers/run-probe.js";

const NR_MKDIR = resolveSyscall("x86_64", "mkdir");
const EFAULT = 14;

function workDir(): string {
  const d = mkdtempSync(join(tmpdir(), "syscage-run-cache-"));
  chmodSync(d, 0o755);
  return d;
}

/** `syscage ARGS` with the cache in `cache` and its debug lines on. */
function syscage(cache: string, args: readonly string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string; cache: string[] } {
  const r = spawnCli(args, { cwd: REPO, input: "", env: { ...process.env, XDG_CACHE_HOME: cache, SYSCAGE_CACHE_DEBUG: "1", ...env } });
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

const isHit = (r: { cache: string[] }): boolean => r.cache.some((l) => l.startsWith("hit "));

describe("syscage run: launch cache", () => {
  test("a miss stores the entry (0700/0600); the next run hits it and enforces the same policy", (t) => {
    const probe = setup(t);
    if (probe === null || !needRoot(t)) return;
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
    const probe = setup(t);
    if (probe === null || !needRoot(t)) return;
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

  test("a corrupted or malformed entry is refused: the normal path runs and still enforces the policy", (t) => {
    const probe = setup(t);
    if (probe === null || !needRoot(t)) return;
    const cache = workDir();
    const args = ["run", "--system-call-filter=~mkdir", "--", probe, `native:${NR_MKDIR}:0`];
    assert.equal(syscage(cache, args).stdout, `err ${ERRNO.EPERM}\n`);
    const [entry] = entries(cache);
    assert.ok(entry !== undefined);
    const good = readFileSync(entry, "utf8");
    const parsed = JSON.parse(good) as { key: string; warnings: string[]; description: string; sha256: string };

    const refused = (text: string, reason: RegExp): void => {
      writeFileSync(entry, text, { mode: 0o600 });
      const r = syscage(cache, args);
      assert.ok(!isHit(r), `${reason}: ${r.cache.join("\n")}`);
      assert.ok(r.cache.some((l) => reason.test(l)), `${reason}: ${r.cache.join("\n")}`);
      assert.equal(r.stdout, `err ${ERRNO.EPERM}\n`, "the normal path enforces the policy");
      assert.equal(r.status, 0);
      assert.equal(readFileSync(entry, "utf8"), good, "the normal path stores a good entry again");
    };
    // Flipped bytes in the program.
    const d = Buffer.from(parsed.description, "base64");
    for (let i = 40; i < d.length; i += 8) d[i]! ^= 0xff;
    refused(JSON.stringify({ ...parsed, description: d.toString("base64") }), /^miss \(checksum mismatch\)/);
    // Truncated file, garbage, wrong key.
    refused(good.slice(0, good.length >> 1), /^miss \(malformed entry\)/);
    refused("\0\0\0garbage", /^miss \(malformed entry\)/);
    refused(JSON.stringify({ ...parsed, key: "0".repeat(64) }), /^miss \(malformed entry\)/);
    // A well-formed, correctly summed entry with no program at all (the helper would load nothing).
    const empty = Buffer.from(parsed.description, "base64").subarray(0, 28);
    empty.writeUInt32LE(0, 24);
    const b64 = empty.toString("base64");
    refused(JSON.stringify({ ...parsed, description: b64, sha256: entryChecksum(parsed.key, parsed.warnings, b64) }), /^miss \(bad description: 0 programs\)/);
    // A program cut short, also correctly summed.
    const cut = Buffer.from(parsed.description, "base64");
    const short = cut.subarray(0, cut.length - 8).toString("base64");
    refused(JSON.stringify({ ...parsed, description: short, sha256: entryChecksum(parsed.key, parsed.warnings, short) }), /^miss \(bad description: truncated\)/);
  });

  test("badDescription: only what encodeLaunch produces for run", () => {
    const one = Buffer.alloc(28 + 4 + 8);
    one.write("SCGX", 0, "latin1");
    one.writeUInt32LE(1, 4);
    one.writeUInt32LE(1, 24);
    one.writeUInt32LE(1, 28);
    one.writeUInt32LE(0x7fff0000, 36);
    assert.equal(badDescription(one), undefined);
    const zero = Buffer.from(one.subarray(0, 28));
    zero.writeUInt32LE(0, 24);
    assert.equal(badDescription(zero), "0 programs");
    const record = Buffer.from(one);
    record.writeUInt32LE(4, 12);
    assert.equal(badDescription(record), "unexpected options");
    const noInsns = Buffer.from(one.subarray(0, 32));
    noInsns.writeUInt32LE(0, 28);
    assert.equal(badDescription(noInsns), "program 1 has 0 instructions");
    assert.equal(badDescription(Buffer.concat([one, Buffer.alloc(1)])), "trailing bytes");
    assert.equal(badDescription(one.subarray(0, 20)), "too short");
  });

  test("an entry or directory others can write, or owned by another user, is ignored", (t) => {
    const probe = setup(t);
    if (probe === null || !needRoot(t)) return;
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
    ignored(() => chownSync(entry, NOBODY, NOBODY), /^miss \(owned by uid 65534, not 0\)/);
    const launch = join(cache, "syscage", "launch");
    ignored(() => chmodSync(launch, 0o777), /^miss \(.*launch is writable by group or others\)/);
    // The normal path does not store into such a directory either.
    chmodSync(launch, 0o700);
    assert.ok(isHit(syscage(cache, args)));
  });

  test("exit statuses on the hit path equal the normal path's", (t) => {
    const probe = setup(t);
    if (probe === null || !needRoot(t)) return;
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

  test("--dry-run, --help and unknown options never use the cache; SYSCAGE_NO_CACHE=1 stores nothing", (t) => {
    if (setup(t) === null || !needRoot(t)) return;
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
