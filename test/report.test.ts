/**
 * `syscage report`: the HTML report (src/analyze/report.ts).
 *
 * Unit tests check the generated file: self-contained (no http(s) URL, no
 * external resource), the embedded data (outcome classes, explanations, the
 * diff marks equal to diffPolicies'), and escaping (an origin or title with
 * markup stays text). End-to-end tests open the report in headless Debian
 * chromium through playwright-core: search, group filter, a click on a cell
 * and its explanation, the diff view, print styles, and a screenshot that is
 * decoded and checked not to be blank.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { inflateSync } from "node:zlib";
import { diffPolicies } from "../src/analyze/diff.js";
import { STACK_NOTE, UNKNOWN_ROW, buildReport, classifyAction, jsonForScript, reportData, type ReportData } from "../src/analyze/report.js";
import { compile } from "../src/compile/index.js";
import { definePolicy, errno, KILL_PROCESS, trap, ALLOW } from "../src/policy/model.js";
import { nspawnPolicy } from "../src/policy/nspawn.js";
import { ROOT, cli as run, ensureBuilt } from "./helpers/cli.js";
import { needHost } from "./helpers/host.js";
import { findProcess } from "./helpers/run-probe.js";
import { CHROMIUM, needOracle } from "./helpers/oracles.js";

const DIR = mkdtempSync(join(tmpdir(), "syscage-report-"));
// SYSCAGE_KEEP_REPORT=1 keeps the reports and screenshots to look at.
after(() => {
  if (process.env.SYSCAGE_KEEP_REPORT === "1") process.stderr.write(`report test files kept in ${DIR}\n`);
  else rmSync(DIR, { recursive: true, force: true });
});

const ABIS = ["x86_64", "x86", "x32"] as const;
const DENY_MKDIR = { systemCallFilter: ["~mkdir"], abis: ABIS };

/** The JSON block of a report, parsed. */
function embedded(html: string): { rows: unknown[][]; s: string[]; abis: string[]; sources: string[]; title: string } {
  const m = /<script type="application\/json" id="syscage-data">([^<]*)<\/script>/.exec(html);
  assert.ok(m !== null, "the report embeds its data in a JSON script block");
  return JSON.parse(m[1]!) as { rows: unknown[][]; s: string[]; abis: string[]; sources: string[]; title: string };
}

/** What covers `report pid:N` where the kernel does not let us read filters (as test/dump.test.ts says for its pid:N tests). */
const READ_FILTERS_COVERED = "the report of the same kind of stack from a raw program (this file), and the pid:N tests of test/dump.test.ts that need no privilege";

function row(data: ReportData, name: string): ReportData["rows"][number] {
  const r = data.rows.find((x) => x.name === name);
  assert.ok(r !== undefined, `row ${name}`);
  return r;
}

describe("report data and HTML", () => {
  const policy = nspawnPolicy(DENY_MKDIR);
  const data = reportData({ policy: { policy, source: "nspawn ~mkdir", context: { nspawn: DENY_MKDIR } } });

  test("cells: classes, letters and explanations from explain()", () => {
    const mkdir = row(data, "mkdir");
    for (const cell of mkdir.cells[0]!) {
      assert.equal(cell?.cls, "eperm");
      assert.equal(cell?.label, "P");
      const text = cell!.explanation.map((l) => l.text).join("\n");
      assert.match(text, /mkdir → ERRNO\(EPERM\): in @file-system \(nspawn allow list\), but removed by --system-call-filter=~mkdir \(deny lists take precedence\)/);
      assert.ok(cell!.explanation.some((l) => l.kind === "decides" && l.text.includes("removed by --system-call-filter=~mkdir")));
    }
    assert.equal(row(data, "read").cells[0]![0]!.cls, "allow");
    // socket is argument-dependent (nspawn's audit rule): both outcomes, each with an example call.
    const socket = row(data, "socket").cells[0]![0]!;
    assert.equal(socket.cls, "args");
    assert.equal(socket.label, "A/E");
    assert.ok(socket.explanation.some((l) => l.kind === "outcome" && l.text.startsWith("socket(16, 0, 9) → ERRNO(EAFNOSUPPORT)")), JSON.stringify(socket.explanation));
    // Absent on an ABI: null (x86 has no accept syscall of its own; x86_64 has no _llseek).
    assert.equal(row(data, "_llseek").cells[0]![0], null);
    assert.equal(row(data, "_llseek").cells[0]![1]!.cls, "allow");
    // Numbers the tables do not know.
    const unknown = row(data, UNKNOWN_ROW).cells[0]![0]!;
    assert.equal(unknown.cls, "enosys");
    assert.equal(unknown.label, "N");
  });

  test("classes of actions, with per-ABI errno numbers", () => {
    assert.deepEqual(classifyAction(errno("EPERM"), "x86_64"), { cls: "eperm", label: "P" });
    assert.deepEqual(classifyAction(errno(1), "x86_64"), { cls: "eperm", label: "P" });
    assert.deepEqual(classifyAction(errno("ENOSYS"), "mips"), { cls: "enosys", label: "N" });
    // 38 is ENOSYS on x86_64 but not on MIPS (89 there).
    assert.deepEqual(classifyAction(errno(38), "x86_64"), { cls: "enosys", label: "N" });
    assert.deepEqual(classifyAction(errno(38), "mips"), { cls: "errno", label: "E" });
    assert.deepEqual(classifyAction(errno("EACCES"), "x86_64"), { cls: "errno", label: "E" });
    assert.deepEqual(classifyAction(KILL_PROCESS, "x86"), { cls: "kill", label: "K" });
    assert.deepEqual(classifyAction(trap(3), "x86"), { cls: "special", label: "T" });
    assert.deepEqual(classifyAction(ALLOW, "x86"), { cls: "allow", label: "A" });
  });

  test("self-contained: no URL, no external resource; the data is embedded", () => {
    const html = buildReport({ policy: { policy, source: "nspawn ~mkdir", context: { nspawn: DENY_MKDIR } } });
    assert.doesNotMatch(html, /https?:\/\//i, "no http(s) URL anywhere");
    assert.doesNotMatch(html, /\s(?:src|href)\s*=/i, "no src= or href= attribute");
    assert.doesNotMatch(html, /<link|<img|<iframe|@import|url\(/i);
    assert.match(html, /<style>[\s\S]*@media print[\s\S]*<\/style>/, "inline CSS with print styles");
    assert.equal((html.match(/<script/g) ?? []).length, 2, "the JSON block and the inline script");
    const d = embedded(html);
    assert.deepEqual(d.abis, [...ABIS]);
    assert.ok(d.rows.some((r) => r[0] === "mkdir"));
    assert.ok(d.s.some((t) => t.includes("removed by --system-call-filter=~mkdir")));
  });

  test("escaping: origins and titles are data, never markup", () => {
    const evil = "<script>alert(1)</script><img src=x onerror=alert(2)>&amp;";
    const p = definePolicy({ abis: ["x86_64"], rules: [{ syscall: "mkdir", action: "ALLOW", origin: evil }] });
    const html = buildReport({ policy: { policy: p, source: `</title><b>${evil}` }, title: `</title>${evil}` });
    assert.ok(!html.includes("<script>alert"), "no raw <script> from data");
    assert.ok(!html.includes("<img src=x"), "no raw <img> from data");
    assert.ok(!html.includes("</title><b>"), "no raw title break-out");
    assert.equal((html.match(/<script/g) ?? []).length, 2);
    assert.equal((html.match(/<\/script>/g) ?? []).length, 2);
    assert.match(html, /<title>&#60;\/title&#62;&#60;script&#62;alert\(1\)/);
    const d = embedded(html);
    assert.ok(d.s.some((t) => t.includes(evil)), "the origin comes back unchanged from the JSON");
    assert.equal(d.title, `</title>${evil}`);
    assert.equal(jsonForScript({ a: "</script>&\u2028" }), '{"a":"\\u003c/script\\u003e\\u0026\\u2028"}');
  });

  test("diff marks are exactly syscage diff's differences", () => {
    const b = nspawnPolicy({ abis: ABIS });
    const two = reportData({ policy: { policy, source: "A" }, against: { policy: b, source: "B" } });
    const marked = two.rows.flatMap((r) => (r.differences ?? []).flatMap((d, j) => (d === null ? [] : [`${two.abis[j]} ${r.name}`])));
    const diff = diffPolicies({ kind: "policy", policy, label: "A" }, { kind: "policy", policy: b, label: "B" });
    const expected = diff.abis.flatMap((a) => a.differences.map((d) => `${a.abi} ${d.name}`));
    assert.deepEqual(marked.sort(), expected.sort());
    assert.deepEqual(marked.sort(), ["x32 mkdir", "x86 mkdir", "x86_64 mkdir"]);
    assert.match(row(two, "mkdir").differences![0]!, /A ERRNO\(EPERM\) — removed by --system-call-filter=~mkdir.*B ALLOW — nspawn allow list: @file-system/);
    // B's side has its own cells: mkdir is allowed there.
    assert.equal(row(two, "mkdir").cells[1]![0]!.cls, "allow");
  });
});

describe("report of a filter stack (a raw program, pid:N)", () => {
  const policy = nspawnPolicy(DENY_MKDIR);
  const program = compile(policy).insns;
  const fromPolicy = reportData({ policy: { policy, source: "nspawn ~mkdir" } });
  const fromStack = reportData({ policy: { stack: { programs: [program], labels: ["nspawn.bpf"] }, abis: ABIS, source: "nspawn.bpf (raw program)", ref: "nspawn.bpf" } });

  test("every cell has the outcomes of the policy the program was compiled from, argument-dependent ones included", () => {
    assert.equal(fromStack.rows.length, fromPolicy.rows.length);
    const differ: string[] = [];
    fromPolicy.rows.forEach((r, i) => {
      const s = fromStack.rows[i]!;
      assert.equal(s.name, r.name);
      r.cells[0]!.forEach((c, j) => {
        const d = s.cells[0]![j];
        if (c?.key !== d?.key || c?.cls !== d?.cls || c?.label !== d?.label) differ.push(`${ABIS[j]} ${r.name}: policy ${c?.label} ${c?.key}, program ${d?.label} ${d?.key}`);
      });
    });
    assert.deepEqual(differ, []);
    const socket = row(fromStack, "socket").cells[0]![0]!;
    assert.equal(socket.cls, "args");
    assert.ok(socket.explanation.some((l) => l.kind === "outcome" && l.text.startsWith("socket(16, 0, 9) → ERRNO(EAFNOSUPPORT)")), JSON.stringify(socket.explanation));
  });

  test("no rule origins: each cell and the page say the stack has no rules", () => {
    const mkdir = row(fromStack, "mkdir").cells[0]![0]!;
    assert.equal(mkdir.cls, "eperm");
    assert.match(mkdir.explanation[0]!.text, /^mkdir → ERRNO\(EPERM\)/);
    assert.ok(mkdir.explanation.some((l) => l.kind === "note" && /no rule origins/.test(l.text)));
    assert.ok(!mkdir.explanation.some((l) => /@file-system|--system-call-filter/.test(l.text)), "nothing only a policy knows");
    assert.deepEqual(fromStack.notes, [[STACK_NOTE]]);
    assert.deepEqual(fromPolicy.notes, [[]]);
  });

  test("syscage report FILE.bpf: the program's matrix; policy options other than --arch refused", () => {
    const bpf = join(DIR, "deny-mkdir.bpf");
    const c = run("compile", "--system-call-filter=~mkdir", "--arch", "x86_64,x86,x32", "--format", "raw", "-o", bpf);
    assert.equal(c.code, 0, c.err);
    const out = join(DIR, "bpf.html");
    const r = run("report", bpf, "--arch", "x86_64,x86,x32", "-o", out);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /wrote .*bpf\.html: \d+ syscalls × 3 ABIs/);
    const d = embedded(readFileSync(out, "utf8"));
    assert.deepEqual(d.sources, [`${bpf} (raw program)`]);
    assert.ok(d.s.some((t) => t.startsWith("mkdir → ERRNO(EPERM)")));
    const bad = run("report", bpf, "--deny-network", "-o", join(DIR, "no.html"));
    assert.equal(bad.code, 1);
    assert.match(bad.err, /^syscage: report of .*deny-mkdir\.bpf: --deny-network cannot apply to a program \(only --arch\)[^\n]*\n$/);
  });

  test("syscage report pid:N of a process that does not exist: one line, exit 1", () => {
    const pidMax = Number(readFileSync("/proc/sys/kernel/pid_max", "utf8"));
    const r = run("report", `pid:${pidMax + 1}`, "-o", join(DIR, "gone.html"));
    assert.equal(r.code, 1, r.err);
    assert.equal(r.out, "");
    const lines = r.err.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, 1, r.err);
    assert.match(lines[0]!, new RegExp(`^syscage: pid ${pidMax + 1}: no such process`));
    assert.doesNotMatch(r.err, /\n\s+at /);
  });

  test("syscage report pid:N of a `syscage run` child: its label, and reboot denied (CAP_SYS_BOOT dropped)", async (t) => {
    if (!needHost(t, "read-filters", READ_FILTERS_COVERED)) return;
    ensureBuilt();
    const arg = `${4000 + (process.pid % 1000)}.${Date.now() % 100000}`;
    const child = spawn(join(ROOT, "bin", "syscage"), ["run", "--drop-capability=CAP_SYS_BOOT", "--", "sleep", arg], { stdio: "ignore" });
    let pid: number | undefined;
    try {
      pid = await findProcess(["sleep", arg], "2");
      const out = join(DIR, "pid.html");
      const r = run("report", `pid:${pid}`, "-o", out);
      assert.equal(r.code, 0, r.err);
      const html = readFileSync(out, "utf8");
      const d = embedded(html);
      const label = `pid:${pid} (sleep, 1 filter)`;
      assert.deepEqual(d.sources, [label]);
      assert.ok(html.includes(`<title>syscage report: ${label}</title>`));
      const cells = (d.rows.find((x) => x[0] === "reboot")![3] as unknown[][])[0]!;
      assert.equal(cells.length, 3, "the host's ABIs");
      const native = cells[0] as [number, number, number];
      assert.equal(d.s[native[2]], "ERRNO(EPERM)", "reboot is denied");
      const getpid = (d.rows.find((x) => x[0] === "getpid")![3] as unknown[][])[0]![0] as [number, number, number];
      assert.equal(d.s[getpid[2]], "ALLOW");
      // audit pid:N: the same filters audited (issue #15), and the page's Audit section says the same.
      const a = run("audit", `pid:${pid}`, "--json");
      assert.equal(a.code, 0, a.err);
      const audit = JSON.parse(a.out) as { source: string; kind: string; score: number; label: string; findings: { id: string }[] };
      assert.equal(audit.kind, "process");
      assert.equal(audit.source, label);
      const ids = audit.findings.map((f) => f.id);
      assert.ok(ids.includes("danger.ptrace"), ids.join(", "));
      assert.ok(!ids.includes("danger.reboot"), "reboot is denied: CAP_SYS_BOOT dropped");
      assert.ok(!ids.includes("danger.tiocsti"), "syscage run guards the terminal");
      assert.ok(html.includes(`Overall exposure level: <b>${audit.score.toFixed(1)} ${audit.label}</b>`), "the page's Audit section");
    } finally {
      if (pid !== undefined) process.kill(pid, "SIGKILL");
      child.kill("SIGKILL");
    }
  });
});

describe("syscage report (CLI)", () => {
  test("writes the file; --against nspawn gives the diff view", () => {
    const out = join(DIR, "cli.html");
    const r = run("report", "--system-call-filter=~mkdir", "--arch", "x86_64,x86,x32", "-o", out, "--against", "nspawn");
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /wrote .*cli\.html: \d+ syscalls × 3 ABIs .*3 cells differ/);
    const d = embedded(readFileSync(out, "utf8"));
    assert.equal(d.sources.length, 2);
    assert.match(d.sources[0]!, /--system-call-filter=~mkdir/);
  });

  test("the Audit section: syscage audit's findings worst first and its score, linked from the top; escaped", () => {
    const out = join(DIR, "audit.html");
    const pol = join(DIR, "audit-policy.json");
    writeFileSync(pol, JSON.stringify({ abis: ["x86_64"], rules: [{ syscalls: ["read", "ptrace", "bpf"], action: "ALLOW", comment: "<script>x</script>" }], audit: { waive: [{ id: "danger.bpf", reason: "a <b>reason</b>" }] } }));
    const r = run("report", "--policy", pol, "-o", out);
    assert.equal(r.code, 0, r.err);
    const html = readFileSync(out, "utf8");
    const audit = JSON.parse(run("audit", pol, "--json").out) as { score: number; label: string; findings: { id: string; waived?: unknown }[] };
    const section = html.slice(html.indexOf('<section id="audit">'));
    assert.ok(html.indexOf('<section id="audit">') > 0, "an Audit section");
    assert.match(html, new RegExp(`<a href="#audit">Audit: exposure ${audit.score.toFixed(1)} ${audit.label}, 1 finding ↓</a>`));
    const idsInPage = [...section.matchAll(/<td><code>([a-z0-9.-]+)<\/code><\/td>/g)].map((m) => m[1]);
    assert.deepEqual(idsInPage, audit.findings.map((f) => f.id), "the same findings in the same order");
    assert.match(section, /<tr class="sev-waived">.*danger\.bpf.*waived: a &#60;b&#62;reason&#60;\/b&#62;/s);
    assert.match(section, new RegExp(`Overall exposure level: <b>${audit.score.toFixed(1)} ${audit.label}</b>`));
    assert.doesNotMatch(section, /<script>x<\/script>|<b>reason/, "origins and reasons are text");
  });

  test("--against a JSON policy file", () => {
    const pol = join(DIR, "allow-mkdir.json");
    writeFileSync(pol, JSON.stringify({ abis: ["x86_64"], default: "ERRNO(EPERM)", rules: [{ syscall: "mkdir", action: "KILL_PROCESS" }] }));
    const out = join(DIR, "policy.html");
    const r = run("report", "--arch", "x86_64", "-o", out, "--against", pol);
    assert.equal(r.code, 0, r.err);
    const d = embedded(readFileSync(out, "utf8"));
    assert.equal(d.sources[1], pol);
    assert.ok(d.s.some((t) => t.includes(`${pol} rule #1`)));
  });

  test("bad input: one-line errors, exit 1", () => {
    for (const [args, fragment] of [
      [["--against", "bogus.txt"], 'cannot tell what "bogus.txt" is'],
      [["--against", join(DIR, "missing.json")], "missing.json: no such file"],
      [["--system-call-filter=~mkdirr"], "unknown syscall"],
    ] as const) {
      const r = run("report", "-o", join(DIR, "bad.html"), ...args);
      assert.equal(r.code, 1, r.err);
      const lines = r.err.split("\n").filter((l) => l !== "");
      assert.equal(lines.length, 1, r.err);
      assert.match(lines[0]!, /^syscage: /);
      assert.ok(lines[0]!.includes(fragment), lines[0]);
    }
    const r = run("report");
    assert.equal(r.code, 1);
    assert.match(r.err, /-o, --output/);
  });
});

// ---- a small PNG decoder (8-bit RGB/RGBA, non-interlaced: what Chromium writes) ----

/** Decode a PNG into RGBA rows; enough for screenshots. */
function decodePng(buf: Buffer): { width: number; height: number; rgba: Uint8Array } {
  assert.equal(buf.subarray(0, 8).toString("hex"), "89504e470d0a1a0a", "PNG signature");
  let pos = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Buffer[] = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString("latin1", pos + 4, pos + 8);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    if (type === "IHDR") {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      assert.equal(body[8], 8, "bit depth 8");
      colorType = body[9]!;
      assert.ok(colorType === 2 || colorType === 6, `colour type ${colorType}`);
      assert.equal(body[12], 0, "not interlaced");
    } else if (type === "IDAT") idat.push(body);
    else if (type === "IEND") break;
    pos += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const out = new Uint8Array(width * height * 4);
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp]! : 0;
      const b = prev[i]!;
      const c = i >= bpp ? prev[i - bpp]! : 0;
      let v = line[i]!;
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[i] = v & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      out[o] = cur[x * bpp]!;
      out[o + 1] = cur[x * bpp + 1]!;
      out[o + 2] = cur[x * bpp + 2]!;
      out[o + 3] = bpp === 4 ? cur[x * bpp + 3]! : 255;
    }
    prev = cur;
  }
  return { width, height, rgba: out };
}

/** Distinct colours, the share of non-white pixels, and whether a colour near `rgb` occurs. */
function pixelStats(png: Buffer, probes: readonly (readonly [number, number, number])[]): { colours: number; inked: number; found: boolean[] } {
  const { width, height, rgba } = decodePng(png);
  const colours = new Set<number>();
  let inked = 0;
  const found = probes.map(() => false);
  for (let i = 0; i < width * height; i++) {
    const r = rgba[i * 4]!;
    const g = rgba[i * 4 + 1]!;
    const b = rgba[i * 4 + 2]!;
    colours.add((r << 16) | (g << 8) | b);
    if (r < 245 || g < 245 || b < 245) inked++;
    probes.forEach((p, k) => {
      if (Math.abs(p[0] - r) + Math.abs(p[1] - g) + Math.abs(p[2] - b) <= 6) found[k] = true;
    });
  }
  return { colours: colours.size, inked: inked / (width * height), found };
}

describe("report in headless Chromium", () => {
  test("search, group filter, explanation, diff view, print styles, screenshot", async (t) => {
    if (!needOracle(t, "chromium")) return;
    const { chromium } = await import("playwright-core");
    const single = join(DIR, "single.html");
    const double = join(DIR, "double.html");
    let r = run("report", "--system-call-filter=~mkdir", "--arch", "x86_64,x86,x32", "-o", single);
    assert.equal(r.code, 0, r.err);
    r = run("report", "--system-call-filter=~mkdir", "--arch", "x86_64,x86,x32", "-o", double, "--against", "nspawn");
    assert.equal(r.code, 0, r.err);
    const evilPolicy = join(DIR, "evil.json");
    writeFileSync(evilPolicy, JSON.stringify({ abis: ["x86_64"], rules: [{ syscall: "mkdir", action: "ALLOW", comment: '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>' }] }));
    const evil = join(DIR, "evil.html");
    r = run("report", "--policy", evilPolicy, "-o", evil);
    assert.equal(r.code, 0, r.err);

    const profile = mkdtempSync(join(tmpdir(), "syscage-chromium-"));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1280, height: 900 },
    });
    const requests: string[] = [];
    const errors: string[] = [];
    try {
      await context.route("**/*", (route) => {
        const url = route.request().url();
        if (url.startsWith("file:")) return route.continue();
        requests.push(url);
        return route.abort();
      });
      const page = await context.newPage();
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("dialog", (d) => {
        errors.push(`dialog: ${d.message()}`);
        void d.dismiss();
      });

      // ---- one policy: search, click, explanation
      await page.goto(pathToFileURL(single).href);
      await page.waitForSelector("body[data-ready='1']");
      const allRows = await page.locator("table.matrix tbody tr").count();
      assert.ok(allRows > 400, `rows: ${allRows}`);
      await page.locator("#search").fill("");
      await page.locator("#search").pressSequentially("mkdir");
      const visible = await page.locator("table.matrix tbody tr:not([hidden])").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-syscall")));
      assert.deepEqual(visible, ["mkdir", "mkdirat"]);
      await page.locator('.cell[data-syscall="mkdir"][data-abi="x86_64"]').click();
      const text = await page.locator("#explanation").innerText();
      assert.match(text, /mkdir on x86_64 \(nr 83\) → ERRNO\(EPERM\)/);
      assert.match(text, /EPERM/);
      assert.match(text, /removed by --system-call-filter=~mkdir \(deny lists take precedence\)/);
      assert.match(text, /in @file-system \(nspawn allow list\)/);
      // The deciding rule is marked as such (the "decides:" label is CSS generated content).
      assert.match(await page.locator("#explanation li.k-decides").innerText(), /^ERRNO\(EPERM\) — removed by --system-call-filter=~mkdir/);

      // A group filter shows only its syscalls.
      await page.locator("#search").fill("");
      await page.locator('button[data-group="@clock"]').click();
      const clock = await page.locator("table.matrix tbody tr:not([hidden])").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-syscall")));
      assert.ok(clock.includes("clock_settime") && clock.includes("settimeofday"), clock.join(","));
      assert.ok(!clock.includes("mkdir") && !clock.includes("read"));
      await page.locator('button[data-group="@clock"]').click();
      assert.equal(await page.locator("table.matrix tbody tr:not([hidden])").count(), allRows);

      // The screenshot: a matrix with several outcome colours, not blank.
      const shot = join(DIR, "report.png");
      await page.locator('.cell[data-syscall="socket"][data-abi="x86_64"]').click();
      await page.evaluate("window.scrollTo(0, 0)");
      await page.screenshot({ path: shot });
      const stats = pixelStats(readFileSync(shot), [
        [0xbf, 0xe6, 0xb5], // ALLOW
        [0xf2, 0xa5, 0x9d], // ERRNO(EPERM)
      ]);
      assert.ok(stats.colours >= 50, `distinct colours: ${stats.colours}`);
      assert.ok(stats.inked > 0.05 && stats.inked < 0.9, `non-white share: ${stats.inked}`);
      assert.deepEqual(stats.found, [true, true], "ALLOW and EPERM cell colours on screen");
      process.stderr.write(`report screenshot: ${shot} (${stats.colours} colours, ${(stats.inked * 100).toFixed(1)}% inked)\n`);

      // Print: no interactive chrome, the matrix stays.
      await page.emulateMedia({ media: "print" });
      assert.equal(await page.locator(".controls").isVisible(), false);
      assert.equal(await page.locator("#explanation").isVisible(), false);
      assert.equal(await page.locator("table.matrix").isVisible(), true);
      // Rows never split across pages (the header row repeats on each: it is a thead).
      assert.equal(await page.evaluate("getComputedStyle(document.querySelector('tbody tr')).breakInside"), "avoid");
      await page.emulateMedia({ media: "screen" });

      // ---- two policies: the diff view
      await page.goto(pathToFileURL(double).href);
      await page.waitForSelector("body[data-ready='1']");
      const diffCells = await page.locator("table.matrix .cell.diff").evaluateAll((cs) => cs.map((c) => `${c.getAttribute("data-syscall")} ${c.getAttribute("data-abi")} ${c.textContent}`));
      assert.deepEqual(diffCells, ["mkdir x86_64 P→A", "mkdir x86 P→A", "mkdir x32 P→A"]);
      await page.locator("#only-diff").check();
      assert.deepEqual(await page.locator("table.matrix tbody tr:not([hidden])").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-syscall"))), ["mkdir"]);
      await page.locator('.cell[data-syscall="mkdir"][data-abi="x86_64"]').click();
      const diffText = await page.locator("#difference").innerText();
      assert.match(diffText, /A ERRNO\(EPERM\) — removed by --system-call-filter=~mkdir .*B ALLOW — nspawn allow list: @file-system/);
      const panel = await page.locator("#explanation").innerText();
      assert.match(panel, /mkdir → ALLOW: in @file-system \(nspawn allow list\)/);
      await page.locator('button[data-view="b"]').click();
      assert.equal(await page.locator('.cell[data-syscall="mkdir"][data-abi="x86_64"]').innerText(), "A");
      const diffShot = join(DIR, "diff.png");
      await page.screenshot({ path: diffShot });
      assert.ok(pixelStats(readFileSync(diffShot), []).colours >= 50);

      // ---- markup in an origin stays text
      await page.goto(pathToFileURL(evil).href);
      await page.waitForSelector("body[data-ready='1']");
      await page.locator('.cell[data-syscall="mkdir"][data-abi="x86_64"]').click();
      const evilText = await page.locator("#explanation").innerText();
      assert.ok(evilText.includes('<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'), evilText);
      assert.equal(await page.evaluate("typeof window.__pwned"), "undefined");
      assert.equal(await page.locator("#explanation img, #explanation script").count(), 0);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
    assert.deepEqual(errors, [], "no page errors or dialogs");
    assert.deepEqual(requests, [], "no network requests");
  });
});
