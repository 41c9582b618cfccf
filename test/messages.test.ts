/**
 * One clear line for the inputs of issue #19, item 7 (smaller): commander's
 * own errors in syscage's style, a command not found on PATH, a bad
 * SystemCallErrorNumber=, record without -o.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ABI_NAMES } from "../src/abi/arch.js";
import { spawnCli } from "./helpers/cli.js";
import { setup } from "./helpers/run-probe.js";

const cli = (...args: string[]): { code: number | null; err: string } => {
  const r = spawnCli(args, { env: { ...process.env, SYSCAGE_NO_CACHE: "1" } });
  return { code: r.status, err: r.stderr };
};

describe("one-line answers", () => {
  test("compile -o into a missing directory blames the directory; --arch all works where --arch does", () => {
    assert.deepEqual(cli("compile", "-o", "/no-such-dir-syscage/x.bpf"), { code: 1, err: "syscage: /no-such-dir-syscage/x.bpf: the directory /no-such-dir-syscage does not exist; create it first or give another path\n" });
    assert.match(cli("compile", "--policy", "/no-such-file-syscage.json").err, /^syscage: \/no-such-file-syscage\.json: no such file; check the path\n$/);
    const r = spawnCli(["stats", "--arch", "all", "--json"], { env: { ...process.env }, maxBuffer: 256 << 20 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { abis: unknown[] }).abis.length, ABI_NAMES.length);
  });

  test("commander's errors: one line, syscage's prefix, the help hint on the same line; run's exit 125", () => {
    assert.deepEqual(cli("frobnicate"), { code: 1, err: "syscage: unknown command 'frobnicate' (run with --help for usage)\n" });
    assert.deepEqual(cli("compile", "--frobnicate"), { code: 1, err: "syscage: unknown option '--frobnicate' (run with --help for usage)\n" });
    assert.deepEqual(cli("run", "--frobnicate", "--", "true"), { code: 125, err: "syscage: unknown option '--frobnicate' (run with --help for usage)\n" });
  });

  test("run -- NAME not on PATH: 127, 'not found on PATH'; a path keeps the system's words", (t) => {
    if (setup(t) === null) return;
    const r = cli("run", "--", "no-such-command-syscage");
    assert.equal(r.code, 127);
    assert.match(r.err, /^syscage: no-such-command-syscage: not found on PATH \(.*\/usr\/bin.*\)\n$/);
    const p = cli("run", "--", "/nonexistent-dir/x");
    assert.match(p.err, /^syscage: \/nonexistent-dir\/x: No such file or directory\n$/);
  });

  test("SystemCallErrorNumber=EFOO: a sentence with the suggestions, the key named once", () => {
    const r = cli("compile", "-p", "SystemCallErrorNumber=EFOO", "-o", "/dev/null");
    assert.equal(r.code, 1);
    assert.equal(r.err, 'syscage: -p SystemCallErrorNumber=EFOO: "EFOO" is not an errno. Did you mean "EIO", "EDOM", "ELOOP"? Write an errno name such as EPERM or EACCES or a decimal number 0..4095, or "kill" (the default)\n');
  });

  test("record without -o: says what -o is for, once", () => {
    const r = cli("record", "--", "true");
    assert.equal(r.code, 125);
    assert.equal(r.err, "syscage: record: -o FILE is required: where to write the policy (syscage record -o policy.json -- COMMAND …)\n");
  });
});
