/**
 * syscage's reading of a unit's seccomp directives against real systemd
 * (docs/testing.md, "Real systemd"): the host's systemd boots as PID 1 in
 * `systemd-nspawn -b --volatile=overlay` (test/helpers/systemd-container.ts),
 * transient services run with the directives (`systemd-run -p …`), and
 * `syscage diff pid:N` compares the stack of filters each service really has
 * with what syscage builds from the same properties (routes open: systemd's
 * filters as they are). Every difference is listed below with its reason;
 * the test asserts the list, so a new difference fails it.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, test, type TestContext } from "node:test";
import { CLI_NODE_ARGS, ROOT } from "./helpers/cli.js";
import { REQUIRE_ORACLES } from "./helpers/oracles.js";
import { bootSystemdContainer, systemdBootMissing, type SystemdContainer } from "./helpers/systemd-container.js";

interface DiffJson {
  abis: { abi: string; groups: { syscalls: { name: string; args: string[]; a: { action: string }; b: { action: string } }[] }[] }[];
  equal: boolean;
}

/** Each difference as "abi name(args) A→B", and whether an argument has bits above 32. */
function differences(pid: number, properties: readonly string[], width: "kernel" | "u64"): { abi: string; text: string; highBits: boolean }[] {
  const r = spawnSync(
    process.execPath,
    [...CLI_NODE_ARGS, "diff", `pid:${pid}`, ...properties.flatMap((p) => ["--b-property", p]), "--b-routes", "open", "--b-argument-width", width, "--arch", "x86_64,x86,x32", "--json"],
    { cwd: ROOT, encoding: "utf8" },
  );
  assert.ok(r.status === 0 || r.status === 1, `diff exit ${r.status}: ${r.stderr}`);
  const doc = JSON.parse(r.stdout) as DiffJson;
  return doc.abis
    .flatMap((a) => a.groups.flatMap((g) => g.syscalls.map((s) => ({ abi: a.abi, text: `${a.abi} ${s.name}(${s.args.join(", ")}) ${s.a.action}→${s.b.action}`, highBits: s.args.some((x) => BigInt(x) >= 1n << 32n) }))))
    .sort((x, y) => (x.text < y.text ? -1 : 1));
}

/**
 * The cases, and the differences systemd 252 (Debian 12) has from syscage's
 * reading (which follows current systemd), each with its reason.
 */
const CASES: readonly { properties: readonly string[]; filters: number; v252: readonly RegExp[]; why?: string }[] = [
  { properties: ["RestrictAddressFamilies=AF_UNIX"], filters: 2, v252: [] },
  { properties: ["RestrictAddressFamilies=~AF_INET AF_PACKET"], filters: 2, v252: [] },
  // (RestrictAddressFamilies=none: systemd-run 252 refuses it as a -p property, "Invalid argument"; unit files take it.)
  { properties: ["RestrictNamespaces=yes"], filters: 3, v252: [] },
  {
    properties: ["RestrictNamespaces=~user"],
    filters: 3,
    // systemd 252's NAMESPACE_FLAGS_ALL lacks CLONE_NEWTIME while its namespace table has it, so a ~list takes "time" away too.
    v252: [/^(x86_64|x86|x32) (clone|unshare|setns)\(.*\) ERRNO\(EPERM\)→ALLOW$/],
    why: "systemd 252 denies CLONE_NEWTIME under any RestrictNamespaces=~list",
  },
  { properties: ["RestrictNamespaces=net uts"], filters: 3, v252: [] },
  { properties: ["MemoryDenyWriteExecute=yes"], filters: 3, v252: [] },
  { properties: ["LockPersonality=yes"], filters: 3, v252: [] },
  { properties: ["RestrictRealtime=yes"], filters: 3, v252: [] },
  { properties: ["RestrictSUIDSGID=yes"], filters: 3, v252: [] },
  { properties: ["ProtectClock=yes"], filters: 3, v252: [] },
  { properties: ["ProtectHostname=yes"], filters: 3, v252: [] },
  { properties: ["ProtectKernelModules=yes"], filters: 3, v252: [] },
  { properties: ["ProtectKernelLogs=yes"], filters: 3, v252: [] },
  // _sysctl: x32 has none, so two filters.
  { properties: ["ProtectKernelTunables=yes"], filters: 2, v252: [] },
  { properties: ["PrivateDevices=yes"], filters: 3, v252: [] },
  {
    // Stacked with SystemCallFilter= (a deny list: no group of v252 and v260 differs) and each other.
    properties: [
      "SystemCallFilter=~mkdir:EACCES personality:ENOEXEC",
      "RestrictAddressFamilies=AF_UNIX AF_INET",
      "RestrictNamespaces=yes",
      "MemoryDenyWriteExecute=yes",
      "LockPersonality=yes",
      "RestrictRealtime=yes",
      "RestrictSUIDSGID=yes",
      "ProtectClock=yes",
      "ProtectHostname=yes",
    ],
    filters: 2 + 3 * 7 + 3,
    v252: [],
  },
];

let box: SystemdContainer | undefined;
let missing: string | null = null;

function need(t: TestContext): SystemdContainer | undefined {
  if (box !== undefined) return box;
  const why = missing ?? "the container did not boot";
  if (REQUIRE_ORACLES) throw new Error(`real systemd: ${why}; SYSCAGE_REQUIRE_ORACLES=1`);
  process.stderr.write(`\n*** SKIPPED: real systemd: ${why} ***\n`);
  t.skip(why);
  return undefined;
}

describe("unit directives against real systemd (PID 1 in systemd-nspawn -b)", () => {
  before(() => {
    missing = systemdBootMissing();
    if (missing === null) box = bootSystemdContainer();
  });
  after(() => box?.stop());

  test("the container's systemd runs services under the directives' filters", (t) => {
    const c = need(t);
    if (c === undefined) return;
    assert.match(c.version, /^systemd \d+/);
    process.stderr.write(`# real systemd: ${c.version}\n`);
  });

  CASES.forEach((k, i) => {
    test(`${k.properties.join(" ")}: syscage's reading equals the service's filters${k.v252.length > 0 ? ` but for ${k.why}` : ""}`, (t) => {
      const c = need(t);
      if (c === undefined) return;
      const pid = c.service(`syscage-case-${i}`, k.properties);
      const filters = Number(/Seccomp_filters:\s*(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
      assert.equal(filters, k.filters, "one filter per directive and ABI it covers");
      // libseccomp compares all 64 bits of an argument on x86_64 and x86 (--argument-width u64), and
      // the low 32 bits of an int on x32, as the kernel's width does: together, exactly systemd's filters.
      const u64 = differences(pid, k.properties, "u64");
      const kernel = differences(pid, k.properties, "kernel");
      const exact = [...u64.filter((d) => d.abi !== "x32"), ...kernel.filter((d) => d.abi === "x32")].map((d) => d.text);
      const unexplained = exact.filter((d) => !k.v252.some((re) => re.test(d)));
      assert.deepEqual(unexplained, [], `differences from ${c.version}`);
      for (const re of k.v252) assert.ok(exact.some((d) => re.test(d)), `the listed difference ${re} is gone: update the list`);
      // The other readings differ only on arguments with bits above 32: syscage's default (the kernel's widths) drops them where the kernel does.
      for (const d of [...u64, ...kernel]) if (!exact.includes(d.text)) assert.ok(d.highBits, `only an argument with high bits may differ: ${d.text}`);
    });
  });
});
