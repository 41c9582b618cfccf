/**
 * Never silently broader (issue #21): every input that would widen a policy
 * is an error. definePolicy and run() check every field (a property test
 * misspells and mistypes fields of random policies), unit files refuse typo'd
 * seccomp keys, `run` refuses a policy that does not cover the host's native
 * ABI, input files are read with size limits, and "no network" keeps the
 * command's own stdio working — the README's library example, run verbatim.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import { getAbi, hostAbi, syscallNumber } from "../src/abi/index.js";
import { SyscageError } from "../src/errors.js";
import { decide } from "../src/policy/evaluate.js";
import { definePolicy, type PolicyInput } from "../src/policy/model.js";
import { run } from "../src/run/spawn.js";
import { ROOT, cli } from "./helpers/cli.js";
import { setup } from "./helpers/run-probe.js";
import { sharedDataDir } from "./helpers/oracles.js";

const rejects = (f: () => unknown, re: RegExp): void => {
  assert.throws(f, (e: unknown) => e instanceof SyscageError && re.test(e.message), String(re));
};

describe("definePolicy checks what it is given", () => {
  test("the policy file's spelling is the README's: syscalls/args/index mean syscall/conditions/arg", () => {
    const a = definePolicy({ abis: ["x86_64"], rules: [{ syscall: "write", action: "ALLOW", conditions: [{ arg: 0, op: "EQ", value: 2 }] }] });
    const b = definePolicy({ abis: ["x86_64"], rules: [{ syscalls: ["write"], action: "ALLOW", args: [{ index: 0, op: "EQ", value: 2 }] }] });
    assert.deepEqual(a.rules.map((r) => [r.syscall, r.conditions]), b.rules.map((r) => [r.syscall, r.conditions]));
    assert.equal(b.rules[0]!.conditions.length, 1, "the condition is kept, not dropped");
    const call = { arch: getAbi("x86_64").auditArch, nr: syscallNumber("x86_64", "write")!, args: [1n] };
    assert.equal(decide(b, call).ret >>> 0, 0x00050001, "write(1) is not allowed by a rule for fd 2");
  });

  test("unknown fields, both spellings at once and wrong types are errors that name the field", () => {
    rejects(() => definePolicy({ rule: [] } as unknown as PolicyInput), /policy: unknown field "rule". Did you mean "rules"\?/);
    rejects(() => definePolicy({ rules: [{ syscall: "read", action: "ALLOW", condition: [] }] } as unknown as PolicyInput), /rules\[0\]: unknown field "condition". Did you mean "conditions"\?/);
    rejects(() => definePolicy({ rules: [{ syscall: "read", syscalls: ["read"], action: "ALLOW" }] }), /both "syscall" and "syscalls"/);
    rejects(() => definePolicy({ rules: [{ syscall: "read", action: "ALLOW", conditions: [{ arg: 0, index: 0, op: "EQ", value: 1 }] }] }), /both "arg" and "index"/);
    rejects(() => definePolicy({ rules: "read" } as unknown as PolicyInput), /rules: expected an array, got string/);
    rejects(() => definePolicy({ rules: [{ syscall: 7, action: "ALLOW" }] } as unknown as PolicyInput), /rules\[0\].syscall: expected an array, got number/);
    rejects(() => definePolicy({ rules: [{ syscall: "read", action: { kind: "ERRNO", errno: 1, extra: 1 } }] } as unknown as PolicyInput), /action: unknown field "extra"/);
    rejects(() => definePolicy({ rules: [{ syscall: "read", action: { kind: "ERRNOO", errno: 1 } }] } as unknown as PolicyInput), /unknown action kind "ERRNOO". Did you mean "ERRNO"\?/);
    rejects(() => definePolicy({ rules: [{ syscall: "read" }] } as unknown as PolicyInput), /has no action/);
    rejects(() => definePolicy({ flags: ["TSYNK"] } as unknown as PolicyInput), /unknown filter flag "TSYNK". Did you mean "TSYNC"\?/);
    rejects(() => definePolicy({ network: "no" } as unknown as PolicyInput), /network: expected true or false/);
    rejects(() => definePolicy(JSON.parse('{"__proto__": {"default": "ALLOW"}}') as PolicyInput), /unknown field "__proto__"/);
  });

  test("property: one field of a random policy misspelled or mistyped is refused; none compiles to something broader", () => {
    const KEYS = ["default", "rules", "abis", "argumentWidth", "routes"] as const;
    const RULE_KEYS = ["syscall", "action", "conditions"] as const;
    const misspell = (k: string, n: number): string => {
      const i = n % k.length;
      return n % 3 === 0 ? k.slice(0, i) + k.slice(i + 1) : n % 3 === 1 ? k.slice(0, i) + k[i]!.toUpperCase() + k.slice(i + 1) + "s" : `${k}_`;
    };
    let refused = 0;
    fc.assert(
      fc.property(
        fc.record({
          denied: fc.constantFrom("mkdir", "connect", "ptrace", "kill"),
          which: fc.constantFrom<"top" | "rule" | "cond" | "type">("top", "rule", "cond", "type"),
          key: fc.nat(),
          n: fc.nat(),
        }),
        ({ denied, which, key, n }) => {
          const good: Record<string, unknown> = {
            default: "ALLOW",
            abis: ["x86_64"],
            rules: [{ syscall: denied, action: "ERRNO(EPERM)", conditions: [{ arg: 0, op: "GE", value: 0 }] }],
          };
          const bad = structuredClone(good) as Record<string, unknown> & { rules: Record<string, unknown>[] };
          if (which === "top") {
            const k = KEYS[key % KEYS.length]!;
            if (bad[k] === undefined) (bad as Record<string, unknown>)[k] = k === "routes" ? "open" : "kernel";
            bad[misspell(k, n)] = bad[k];
            delete bad[k];
          } else if (which === "rule") {
            const k = RULE_KEYS[key % RULE_KEYS.length]!;
            const r = bad.rules[0]!;
            r[misspell(k, n)] = r[k];
            delete r[k];
          } else if (which === "cond") {
            const c = (bad.rules[0]!.conditions as Record<string, unknown>[])[0]!;
            const k = ["arg", "op", "value"][key % 3]!;
            c[misspell(k, n)] = c[k];
            delete c[k];
          } else {
            const r = bad.rules[0]!;
            const k = RULE_KEYS[key % RULE_KEYS.length]!;
            r[k] = n % 2 === 0 ? 42 : { wrong: true };
          }
          let p;
          try {
            p = definePolicy(bad as unknown as PolicyInput);
          } catch (e) {
            assert.ok(e instanceof SyscageError, `not a SyscageError: ${String(e)}`);
            refused++;
            return;
          }
          // Accepted (a misspelling that is the other spelling, say): it must still deny what the intended policy denies.
          const call = { arch: getAbi("x86_64").auditArch, nr: syscallNumber("x86_64", denied)!, args: [5n] };
          assert.notEqual(decide(p, call).ret >>> 0, 0x7fff0000, `${JSON.stringify(bad)} compiled to a policy that allows ${denied}`);
        },
      ),
      { seed: 0x21b, numRuns: 400 },
    );
    assert.ok(refused > 300, `only ${refused} refused`);
  });
});

describe("run() and spawn() check their options", () => {
  test("a typo'd, unsupported or mistyped option is refused before anything runs", async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ systemCallFiltr: ["~@network-io"] }, /unknown option "systemCallFiltr". Did you mean "systemCallFilter"\?/],
      [{ shell: true }, /option "shell" is not supported/],
      [{ maxBuffer: 1024 }, /option "maxBuffer" is not supported/],
      [{ systemCallFilter: 7 }, /systemCallFilter: expected an array of strings/],
      [{ network: "off" }, /network: expected true or false/],
    ];
    for (const [opts, re] of cases) await assert.rejects(run("/bin/true", [], opts as never), (e: unknown) => e instanceof SyscageError && re.test(e.message), String(re));
  });

  test("property: run() with one option misspelled or mistyped refuses before anything runs", async () => {
    const GOOD: Record<string, unknown> = { systemCallFilter: ["~mkdir"], dropCapability: ["all"], network: false, routes: "closed", capture: true, cwd: "/" };
    const keys = Object.keys(GOOD);
    const misspell = (k: string, n: number): string => {
      const i = n % k.length;
      return n % 3 === 0 ? k.slice(0, i) + k.slice(i + 1) : n % 3 === 1 ? k.slice(0, i) + k[i]! + k[i]! + k.slice(i + 1) : `${k}s`;
    };
    const samples = fc.sample(fc.record({ key: fc.nat(), n: fc.nat(), type: fc.boolean() }), { seed: 0x21c, numRuns: 200 });
    let refused = 0;
    for (const { key, n, type } of samples) {
      const k = keys[key % keys.length]!;
      const bad: Record<string, unknown> = { ...GOOD };
      if (type && k !== "cwd" && k !== "capture") bad[k] = n % 2 === 0 ? 42 : { wrong: true };
      else {
        bad[misspell(k, n)] = bad[k];
        delete bad[k];
      }
      // A marker command: it must never run.
      await assert.rejects(run("/bin/sh", ["-c", "exit 99"], bad as never), (e: unknown) => e instanceof SyscageError, JSON.stringify(bad));
      refused++;
    }
    assert.equal(refused, samples.length);
  });

  test("one string is one entry: systemCallFilter: \"~@network-io\" is the deny list, not its characters", async (t) => {
    if (setup(t) === null) return;
    const r = await run("/bin/echo", ["ok"], { systemCallFilter: "~@network-io" as unknown as string[], capture: true });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "ok\n");
  });
});

describe("files and units", () => {
  test("a typo'd seccomp key in a unit file is an error with a did-you-mean; a unit without a filter says so", () => {
    const dir = mkdtempSync(join(tmpdir(), "syscage-unit-"));
    writeFileSync(join(dir, "e.service"), "[Service]\nExecStart=/bin/true\nSystemCallFiltr=@system-service\n");
    const r = cli("compile", "--unit", join(dir, "e.service"));
    assert.equal(r.code, 1);
    assert.match(r.err, /e\.service:3: unknown key SystemCallFiltr= in \[Service\]\. Did you mean "SystemCallFilter"/);
    writeFileSync(join(dir, "f.service"), "[Service]\nExecStart=/bin/true\nRestrictAdressFamilies=AF_UNIX\n");
    assert.match(cli("compile", "--unit", join(dir, "f.service")).err, /RestrictAdressFamilies=.*Did you mean "RestrictAddressFamilies"/);
    writeFileSync(join(dir, "g.service"), "[Service]\nExecStart=/bin/true\nUser=nobody\n");
    const g = cli("stats", "--unit", join(dir, "g.service"));
    assert.equal(g.code, 0, g.err);
    assert.match(g.err, /sets no SystemCallFilter=: like systemd, syscage's policy for it allows every syscall/);
  });

  test("unbounded or wrong-kind input files: /dev/zero, a directory, an oversized program; a FIFO is read", () => {
    for (const [args, re] of [
      [["compile", "--profile", "/dev/zero"], /\/dev\/zero: is not a regular file/],
      [["disasm", "/dev/zero"], /\/dev\/zero: is not a regular file/],
      [["compile", "--policy", tmpdir()], /is a directory; give a policy/],
      [["verify", tmpdir()], /is a directory; give a raw seccomp program/],
    ] as [string[], RegExp][]) {
      const r = cli(...args);
      assert.equal(r.code, 1, `${args.join(" ")}: ${r.err}`);
      assert.match(r.err, re);
      assert.doesNotMatch(r.err, /internal error/);
    }
    const dir = mkdtempSync(join(tmpdir(), "syscage-big-"));
    writeFileSync(join(dir, "big.bpf"), Buffer.alloc(4097 * 8, 0x06));
    assert.match(cli("disasm", join(dir, "big.bpf")).err, /larger than a raw seccomp program/);
    const fifo = join(dir, "p.fifo");
    if (spawnSync("mkfifo", [fifo]).status === 0) {
      const r = spawnSync("bash", ["-c", `echo '{"default":"ALLOW","rules":[]}' > '${fifo}' & exec "$0" "$@"`, process.execPath, "--import", "tsx", join(ROOT, "src/cli/main.ts"), "stats", "--policy", fifo], { cwd: ROOT, encoding: "utf8" });
      assert.equal(r.status, 0, r.stderr);
    }
  });

  test("run refuses a policy that does not cover the host's native ABI, unless asked", (t) => {
    if (setup(t) === null) return;
    const foreign = hostAbi() === "aarch64" ? "x86_64" : "aarch64";
    const r = cli("run", `--arch=${foreign}`, "--", "/bin/true");
    assert.equal(r.code, 125);
    assert.match(r.err, new RegExp(`not this host's native ABI ${hostAbi()}.*--allow-foreign-arch`));
    const dry = cli("run", `--arch=${foreign}`, "--dry-run", "--", "/bin/true");
    assert.equal(dry.code, 125, "--dry-run says so too");
    const forced = cli("run", `--arch=${foreign}`, "--allow-foreign-arch", "--", "/bin/true");
    assert.equal(forced.code, 128 + 31, "killed at its first call, as asked");
  });
});

describe("no network keeps a program's own stdio working", () => {
  test("the README's library example, run verbatim: output captured, the connection refused", async (t) => {
    if (setup(t) === null) return;
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const block = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block !== undefined, "the README has a ts example");
    // The whole example, verbatim; the test only adds a line that prints what it got.
    const example = block;
    assert.match(example, /network: false/);
    const server = createServer((s) => s.destroy());
    await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
    const port = (server.address() as AddressInfo).port;
    const dir = mkdtempSync(join(tmpdir(), "syscage-readme-"));
    chmodSync(dir, 0o755);
    writeFileSync(
      join(dir, "untrusted.js"),
      `console.log("untrusted ran");\nrequire("net").connect(${port}, "127.0.0.1").on("error", (e) => console.log("connect:", e.code)).on("connect", () => { console.log("connected"); process.exit(0); });\n`,
    );
    const script = example.replace(/from "syscage"/, `from ${JSON.stringify(join(ROOT, "src", "index.ts"))}`) + "\nconsole.log(JSON.stringify({ code, signal, stdout, insns: program.insns.length }));\n";
    writeFileSync(join(dir, "example.mts"), script);
    try {
      // The example's own directory holds untrusted.js; tsx comes from the checkout.
      const tsx = pathToFileURL(join(ROOT, "node_modules", "tsx", "dist", "loader.mjs")).href;
      const r = spawnSync(process.execPath, ["--import", tsx, join(dir, "example.mts")], { cwd: dir, encoding: "utf8", timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      const res = JSON.parse(r.stdout.trim().split("\n").pop()!) as { code: number; stdout: string; insns: number };
      assert.equal(res.code, 0);
      assert.ok(res.insns > 10, "the compiled example policy");
      assert.match(res.stdout, /untrusted ran/);
      assert.match(res.stdout, /connect: EPERM/);
      assert.doesNotMatch(res.stdout, /connected/);
    } finally {
      server.close();
    }
  });
});

describe("exports are read back and checked before they are written", () => {
  test("every --to format on the nspawn default, Docker, Podman and a recorded policy: equal (diff agrees), or refused naming why", (t) => {
    const dir = sharedDataDir(t);
    if (dir === null) return;
    const work = mkdtempSync(join(tmpdir(), "syscage-roundtrip-"));
    const recorded = join(work, "recorded.json");
    // What `syscage record -- ls /` writes (an allow list with default EPERM).
    writeFileSync(recorded, JSON.stringify({ default: "ERRNO(EPERM)", unknown: "ERRNO(ENOSYS)", abis: ["x86_64", "x86", "x32"], rules: [{ syscalls: ["read", "write", "openat", "close", "fstat", "mmap", "brk", "execve", "exit_group", "getdents64", "newfstatat", "ioctl"], action: "ALLOW" }] }));
    const sources: [string, string[], string[]][] = [
      ["nspawn default", [], ["systemd"]],
      ["docker-default", ["--profile", join(dir, "profiles", "docker-default.json")], ["systemd"]],
      ["podman-default", ["--profile", join(dir, "profiles", "podman-default.json")], ["spo", "systemd"]],
      ["recorded", ["--policy", recorded], []],
    ];
    for (const [name, src, refused] of sources) {
      for (const f of ["oci", "docker", "spo", "systemd"]) {
        const out = join(work, `${name.replace(/ /g, "-")}.${f}`);
        const r = cli("convert", ...src, "--to", f, "-o", out);
        if (refused.includes(f)) {
          assert.equal(r.code, 1, `${name} → ${f} should be refused: ${r.err}`);
          assert.match(r.err, /cannot export to/);
          continue;
        }
        assert.equal(r.code, 0, `${name} → ${f}: ${r.err}`);
        if (f === "spo" || f === "systemd") continue; // diff reads JSON profiles
        const d = cli("diff", out, ...(src.length === 0 ? ["nspawn"] : [src[1]!]));
        assert.equal(d.code, 0, `${name} → ${f} read back by diff: ${d.out}`);
      }
    }
    // The recorded policy to systemd: systemd adds @default to every allow list (issue #21), so the
    // export takes its members out again (~getpid …); read back it is the recorded policy exactly.
    const sd = cli("convert", "--policy", recorded, "--to", "systemd");
    assert.equal(sd.code, 0, sd.err);
    assert.match(sd.out, /^SystemCallFilter=~.*\bgetpid\b/m);
    // The argument rules of the others: with --approximate the syscall is denied, never weaker.
    for (const [name, src] of sources.slice(0, 3)) {
      const r = cli("convert", ...src, "--to", "systemd", "--approximate");
      assert.equal(r.code, 0, `${name} → systemd --approximate: ${r.err}`);
      assert.match(r.err, /--approximate: rule #\d+ .*SystemCallFilter= cannot test arguments/);
    }
  });

  test("checkExport: a tampered export that allows more is refused; one that is only stricter passes with approximate", async () => {
    const { checkExport } = await import("../src/analyze/roundtrip.js");
    const { exportPolicy } = await import("../src/export/formats.js");
    const p = definePolicy({ abis: ["x86_64"], default: "ALLOW", unknown: "ALLOW", rules: [{ syscall: "mkdir", action: "ERRNO(EPERM)" }] });
    const text = exportPolicy(p, "oci").text;
    assert.equal(checkExport(p, "oci", text).equal, true);
    const doc = JSON.parse(text) as { syscalls: { names: string[]; action: string; errnoRet?: number }[] };
    const looser = JSON.stringify({ ...doc, syscalls: doc.syscalls.filter((s) => !s.names.includes("mkdir")) });
    assert.throws(() => checkExport(p, "oci", looser), /more permissively.*mkdir: ERRNO\(EPERM\) → ALLOW/);
    const stricter = JSON.stringify({ ...doc, syscalls: [...doc.syscalls, { names: ["rmdir"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }] });
    assert.throws(() => checkExport(p, "oci", stricter), /--approximate/);
    const ok = checkExport(p, "oci", stricter, { approximate: true });
    assert.equal(ok.equal, false);
    assert.ok(ok.stricter.some((x) => x.name === "rmdir"));
  });
});

describe("no network: the Landlock layer", () => {
  test("a TCP connect the filter would allow is denied by Landlock (ABI >= 4); without the layer it connects", async (t) => {
    if (setup(t) === null) return;
    const { hostFacts } = await import("./helpers/host.js");
    const abi = hostFacts().landlock.abi ?? 0;
    if (abi < 4) {
      t.diagnostic(`SKIPPED (kernel capability "landlock": ABI ${abi} has no network rights): the Landlock layer of network: false; covered by its seccomp rules (the README example above)`);
      t.skip("Landlock ABI < 4");
      return;
    }
    const { planLaunch } = await import("../src/run/launch.js");
    const server = createServer((s) => s.destroy());
    await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
    const port = (server.address() as AddressInfo).port;
    try {
      const py = `import socket\ns = socket.socket()\ntry:\n    s.connect(("127.0.0.1", ${port})); print("connected")\nexcept OSError as e:\n    print("err", e.errno)\n`;
      // A filter that allows everything, so only Landlock can stand in the way.
      const base = planLaunch({ policy: definePolicy({ default: "ALLOW", unknown: "ALLOW" }), capabilities: "keep" });
      assert.equal(base.landlockNoTcp, false);
      const without = await run("python3", ["-c", py], { plan: base, capture: true });
      assert.equal(without.stdout, "connected\n", without.stderr);
      const withLayer = await run("python3", ["-c", py], { plan: { ...base, landlockNoTcp: true }, capture: true });
      assert.equal(withLayer.stdout, "err 13\n", `EACCES from Landlock: ${withLayer.stderr}`);
      assert.equal(planLaunch({ network: false }).landlockNoTcp, true, "network: false asks for the layer");
    } finally {
      server.close();
    }
  });
});
