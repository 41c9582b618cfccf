/**
 * Socket and IPC calls through socketcall(2) and ipc(2) (docs/semantics.md):
 * an unconditional rule on a sub-call (socket, semop, …) also decides the
 * multiplexer with that sub-call number, on every ABI that has it; rules
 * with conditions cannot follow. Checked in the reference semantics, in the
 * compiled program (interpreter and prove), against libseccomp, and in the
 * kernel through int $0x80.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { getAbi, type AbiName } from "../src/abi/arch.js";
import { SUBCALL_ARG_MASK, multiplexedAs } from "../src/abi/multiplex.js";
import { syscallNumber } from "../src/abi/tables.js";
import { explain } from "../src/analyze/explain.js";
import { prove } from "../src/analyze/prove.js";
import { interpret } from "../src/bpf/interpret.js";
import { compile } from "../src/compile/index.js";
import { decide } from "../src/policy/evaluate.js";
import { definePolicy, type Policy, type PolicyInput } from "../src/policy/model.js";
import { libseccompBuild, type LsSpec } from "./helpers/libseccomp.js";
import { needOracle } from "./helpers/oracles.js";
import { decodeProgram } from "../src/bpf/codec.js";
import { run as runCommand } from "../src/run/spawn.js";
import { ERRNO, baseline, setup } from "./helpers/run-probe.js";
import { needHost } from "./helpers/host.js";

const EPERM = 0x00050001;
const EXDEV = 0x00050012;
const ALLOW = 0x7fff0000;
const KILL = 0x80000000;

function policy(input: Partial<PolicyInput>): Policy {
  return definePolicy({ default: "ALLOW", abis: ["x86", "s390x", "ppc64le", "x86_64"], ...input } as PolicyInput);
}

/** decide() for `name` on `abi` with `args`. */
function ret(p: Policy, abi: AbiName, name: string, args: readonly bigint[] = []): number {
  const nr = syscallNumber(abi, name);
  assert.ok(nr !== undefined, `${name} on ${abi}`);
  return decide(p, { arch: getAbi(abi).auditArch, nr, args: [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6) }).ret >>> 0;
}

/** The compiled program's answer for the same call. */
function run(p: Policy, abi: AbiName, name: string, args: readonly bigint[] = []): number {
  const prog = compile(p).insns;
  const info = getAbi(abi);
  return interpret(prog, { arch: info.auditArch, nr: syscallNumber(abi, name)!, instructionPointer: 0n, args: [...args, 0n, 0n, 0n, 0n, 0n, 0n].slice(0, 6) }, info.endian).ret >>> 0;
}

describe("socketcall and ipc: the reference semantics", () => {
  test("an unconditional rule on socket also decides socketcall(SYS_SOCKET, …), on every ABI with socketcall, and only that sub-call", () => {
    const p = policy({ rules: [{ syscall: "socket", action: "ERRNO(EXDEV)" }] });
    for (const abi of ["x86", "s390x", "ppc64le"] as const) {
      assert.equal(ret(p, abi, "socket"), EXDEV, `${abi} socket`);
      assert.equal(ret(p, abi, "socketcall", [1n]), EXDEV, `${abi} socketcall(1)`);
      assert.equal(ret(p, abi, "socketcall", [2n]), ALLOW, `${abi} socketcall(2) is bind`);
      assert.equal(ret(p, abi, "socketcall", [0n]), ALLOW, `${abi} socketcall(0)`);
    }
    // The kernel reads an int: the high word of a 64-bit register does not change the sub-call.
    assert.equal(ret(p, "s390x", "socketcall", [(1n << 32n) | 1n]), EXDEV);
    assert.equal(syscallNumber("x86_64", "socketcall"), undefined, "x86_64 has no socketcall");
    const d = decide(p, { arch: getAbi("x86").auditArch, nr: syscallNumber("x86", "socketcall")!, args: [1n, 0n, 0n, 0n, 0n, 0n] });
    assert.equal(d.rule, 0, "the deciding rule is the policy's socket rule");
    assert.match(d.origin, /\(as socketcall\(1, …\)\)$/);
  });

  test("ipc: the low 16 bits pick the sub-call (the version in bits 16-31 does not hide it)", () => {
    const p = policy({ rules: [{ syscall: "semop", action: "ERRNO(EPERM)" }, { syscall: "shmat", action: "KILL_PROCESS" }] });
    const semop = multiplexedAs("x86", "semop")!;
    assert.equal(SUBCALL_ARG_MASK.ipc, 0xffff);
    assert.equal(ret(p, "x86", "ipc", [BigInt(semop.subcall)]), EPERM);
    assert.equal(ret(p, "x86", "ipc", [0x10000n | BigInt(semop.subcall)]), EPERM);
    assert.equal(ret(p, "x86", "ipc", [BigInt(multiplexedAs("x86", "shmat")!.subcall)]), KILL);
    assert.equal(ret(p, "x86", "ipc", [2n]), ALLOW, "semget");
  });

  test("a rule with conditions covers the direct call only", () => {
    const p = policy({ rules: [{ syscall: "socket", action: "ERRNO(EXDEV)", conditions: [{ arg: 0, op: "EQ", value: 16n }] }] });
    assert.equal(ret(p, "x86", "socket", [16n]), EXDEV);
    assert.equal(ret(p, "x86", "socketcall", [1n]), ALLOW);
    const x = explain(p, { syscall: "socket", args: [16n] }, {}).abis.find((a) => a.abi === "x86")!;
    assert.ok(
      x.notes.some((n) => /socketcall\(1, …\).*gets ALLOW.*argument checks do not apply/.test(n)),
      x.notes.join("\n"),
    );
  });

  test("with explicit socketcall rules, the usual precedence: the most restrictive matching rule, then policy order", () => {
    const p = policy({
      rules: [
        { syscall: "socketcall", action: "ALLOW" },
        { syscall: "socket", action: "ERRNO(EPERM)" },
        { syscall: "bind", action: "ERRNO(EXDEV)" },
        { syscall: "socketcall", action: "KILL_PROCESS", conditions: [{ arg: 0, op: "EQ", value: 3n }] },
      ],
      default: "ERRNO(EPERM)",
    });
    assert.equal(ret(p, "x86", "socketcall", [1n]), EPERM);
    assert.equal(ret(p, "x86", "socketcall", [2n]), EXDEV);
    assert.equal(ret(p, "x86", "socketcall", [3n]), KILL, "connect: the explicit argument rule");
    assert.equal(ret(p, "x86", "socketcall", [4n]), ALLOW);
  });
});

describe("socketcall and ipc: the compiled program", () => {
  const policies: [string, Policy][] = [
    ["deny socket, bind; kill semop", policy({ rules: [{ syscall: "socket", action: "ERRNO(EXDEV)" }, { syscall: "bind", action: "ERRNO(EPERM)" }, { syscall: "semop", action: "KILL_PROCESS" }] })],
    [
      "allow list with socket calls and an argument rule",
      policy({
        default: "ERRNO(EPERM)",
        rules: [
          { syscall: ["socket", "connect", "recvmsg", "semget", "read"], action: "ALLOW" },
          { syscall: "socket", action: "ERRNO(EXDEV)", conditions: [{ arg: 0, op: "EQ", value: 16n }] },
          { syscall: "socketcall", action: "ERRNO(EXDEV)", conditions: [{ arg: 0, op: "GT", value: 17n }] },
        ],
      }),
    ],
  ];
  for (const [label, p] of policies) {
    test(`${label}: the program gives decide()'s answer for every sub-call, and prove finds it equivalent`, () => {
      for (const abi of ["x86", "s390x", "ppc64le"] as const) {
        for (const via of ["socketcall", "ipc"]) {
          for (let sub = 0n; sub <= 25n; sub++) {
            for (const hi of [0n, 0x10000n, 1n << 32n]) {
              const a0 = sub | hi;
              assert.equal(run(p, abi, via, [a0]), ret(p, abi, via, [a0]), `${abi} ${via}(0x${a0.toString(16)})`);
            }
          }
        }
      }
      const r = prove([compile(p).insns], p);
      assert.equal(r.equivalent, true, JSON.stringify(r.counterexample));
    });
  }
});

describe("socketcall and ipc: against libseccomp 2.5.4 (x86)", () => {
  test("unconditional rules on socket calls get the same socketcall/ipc decisions as libseccomp's rewrite", (t) => {
    if (!needOracle(t, "python3-seccomp")) return;
    const rules = [
      { syscall: "socket", action: { ERRNO: 18 } },
      { syscall: "accept4", action: { ERRNO: 1 } },
      { syscall: "sendmmsg", action: "KILL_PROCESS" },
      { syscall: "semget", action: { ERRNO: 13 } },
      { syscall: "msgsnd", action: { ERRNO: 1 } },
    ] as const;
    const spec: LsSpec = { default: "ALLOW", arches: ["x86"], rules: rules.map((r) => ({ syscall: r.syscall, action: r.action, args: [] })) };
    const [ls] = libseccompBuild([spec]);
    assert.deepEqual(ls!.errors, []);
    const theirs = decodeProgram(ls!.bpf, "libseccomp");
    const p = definePolicy({
      default: "ALLOW",
      abis: ["x86"],
      rules: rules.map((r) => ({ syscall: r.syscall, action: typeof r.action === "string" ? r.action : `ERRNO(${r.action.ERRNO})` })),
    });
    const ours = compile(p).insns;
    const info = getAbi("x86");
    let compared = 0;
    for (const via of ["socketcall", "ipc"]) {
      const nr = syscallNumber("x86", via)!;
      for (let a0 = 0n; a0 <= 30n; a0++) {
        const data = { arch: info.auditArch, nr, instructionPointer: 0n, args: [a0, 0n, 0n, 0n, 0n, 0n] };
        assert.equal(interpret(ours, data, "little").ret >>> 0, interpret(theirs, data, "little").ret >>> 0, `${via}(${a0})`);
        compared++;
      }
      // libseccomp compares the whole argument, so ipc's version bits (which the kernel ignores) get past it; syscage masks them.
      if (via === "ipc") {
        const data = { arch: info.auditArch, nr, instructionPointer: 0n, args: [0x10000n | 2n, 0n, 0n, 0n, 0n, 0n] };
        assert.equal(interpret(theirs, data, "little").ret >>> 0, ALLOW, "libseccomp: ipc(0x10002) passes");
        assert.equal(interpret(ours, data, "little").ret >>> 0, 0x0005000d, "syscage: ipc(0x10002) is semget");
      }
    }
    assert.equal(compared, 62);
  });
});

describe("socketcall and ipc: the kernel (i386 calls through int $0x80)", () => {
  test("a rule on socket also denies socketcall(SYS_SOCKET, …); bind and the direct call as the rules say; ipc's version bits do not hide semget", async (t) => {
    const probe = setup(t);
    if (probe === null) return;
    if (!needHost(t, "i386", "the decide/prove/libseccomp comparisons of socketcall and ipc above, on every sub-call")) return;
    const p = definePolicy({
      default: "ALLOW",
      abis: ["x86_64", "x86", "x32"],
      rules: [
        { syscall: "socket", action: "ERRNO(EXDEV)" },
        { syscall: "semget", action: "ERRNO(EXDEV)" },
      ],
    });
    const socketcall = syscallNumber("x86", "socketcall")!;
    const ipc = syscallNumber("x86", "ipc")!;
    const socket = syscallNumber("x86", "socket")!;
    const semget = multiplexedAs("x86", "semget")!.subcall;
    // Harmless: socketcall with a NULL argument pointer is EFAULT before anything happens; ipc
    // SEMGET with IPC_PRIVATE and nsems -1 is EINVAL; socket with family -1 is EAFNOSUPPORT.
    const specs = [
      `i386:${socketcall}:1,0`,
      `i386:${socketcall}:2,0`,
      `i386:${socket}:0xffffffff,1,0`,
      `i386:${ipc}:${semget},0,0xffffffff,0`,
      `i386:${ipc}:${0x10000 | semget},0,0xffffffff,0`,
    ];
    const r = await runCommand(probe, specs, { policy: p, capture: true });
    assert.equal(r.code, 0, r.stderr);
    const got = r.stdout!.trimEnd().split("\n");
    const base = baseline(probe, specs);
    const exdev = `err ${ERRNO.EXDEV}`;
    assert.deepEqual(got, [exdev, base[1], exdev, exdev, exdev]);
    for (const i of [0, 2, 3, 4]) assert.notEqual(base[i], exdev, `${specs[i]} without a filter: ${base[i]}`);
    assert.equal(base[0], "err 14", "EFAULT: the kernel reads the NULL argument pointer");
  });
});
