/**
 * Real systemd as PID 1 for the tests that compare syscage's reading of unit
 * directives with the filters systemd installs (test/systemd-real.test.ts).
 *
 * The host's own root file system, bind-mounted read-only, is booted with
 * `systemd-nspawn -b --volatile=overlay` (writes go to a tmpfs), with
 * `SYSTEMD_SECCOMP=0` so that nspawn's own filters do not sit under every
 * service, `--register=no --keep-unit` (no systemd or D-Bus on the host),
 * and a private network. Services run with `nsenter -t LEADER -a
 * systemd-run …`; their filters are read from the host (syscage's pid:N).
 * Nothing on the host changes: the mount and the container go at stop().
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SystemdContainer {
  /** The container's PID 1 as the host sees it. */
  readonly leader: number;
  /** `systemctl --version`'s first line inside (e.g. "systemd 252 (252.39-1~deb12u2)"). */
  readonly version: string;
  /** Start `sleep` as a transient service with these properties; its host PID. */
  service(name: string, properties: readonly string[]): number;
  /** Stop the container and undo the mount. */
  stop(): void;
}

/** Why systemd cannot be booted here, or null. */
export function systemdBootMissing(): string | null {
  if (process.getuid?.() !== 0) return "needs root (mounts, systemd-nspawn -b)";
  if (spawnSync("systemd-nspawn", ["--version"]).status !== 0) return "systemd-nspawn missing (apt-get install systemd-container)";
  if (!existsSync("/lib/systemd/systemd") && !existsSync("/usr/lib/systemd/systemd")) return "no systemd on this machine to boot (apt-get install systemd systemd-sysv dbus)";
  if (!existsSync("/sbin/init")) return "no /sbin/init (apt-get install systemd-sysv)";
  return null;
}

const sleep = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

function inside(leader: number, args: readonly string[]): string {
  return execFileSync("nsenter", ["-t", String(leader), "-a", ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** The host PID of the process that is `cpid` in the pid namespace of `leader`. */
function hostPid(leader: number, cpid: number): number {
  const ns = readlinkSync(`/proc/${leader}/ns/pid`);
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readlinkSync(`/proc/${d}/ns/pid`) !== ns) continue;
      const line = readFileSync(`/proc/${d}/status`, "utf8").split("\n").find((l) => l.startsWith("NSpid:"));
      const ids = line?.split(/\s+/).slice(1).filter((x) => x !== "") ?? [];
      if (Number(ids[ids.length - 1]) === cpid) return Number(d);
    } catch {
      // The process went away meanwhile.
    }
  }
  throw new Error(`no host process for pid ${cpid} of the container`);
}

/** Boot the container; throws with nspawn's log when it does not come up within `timeoutMs`. */
export function bootSystemdContainer(timeoutMs = 60_000): SystemdContainer {
  const dir = mkdtempSync(join(tmpdir(), "syscage-systemd-"));
  const root = join(dir, "root");
  execFileSync("mkdir", ["-p", root]);
  execFileSync("mount", ["--bind", "/", root]);
  execFileSync("mount", ["-o", "remount,bind,ro", root]);
  const logPath = join(dir, "nspawn.log");
  const log = openSync(logPath, "w");
  const machine = `syscage-test-${process.pid}`;
  const child = spawn(
    "systemd-nspawn",
    ["-D", root, "--volatile=overlay", "-b", "--register=no", "--keep-unit", "--private-network", "--console=read-only", `--machine=${machine}`],
    { env: { ...process.env, SYSTEMD_SECCOMP: "0" }, stdio: ["ignore", log, log], detached: true },
  );
  closeSync(log);
  const cleanup = (): void => {
    if (child.exitCode === null) {
      try {
        process.kill(child.pid!, "SIGTERM");
      } catch {
        // already gone
      }
      for (let i = 0; i < 100 && spawnSync("kill", ["-0", String(child.pid)]).status === 0; i++) sleep(100);
      if (spawnSync("kill", ["-0", String(child.pid)]).status === 0) process.kill(child.pid!, "SIGKILL");
    }
    for (let i = 0; i < 50 && spawnSync("umount", [root]).status !== 0 && spawnSync("mountpoint", ["-q", root]).status === 0; i++) sleep(100);
    rmSync(dir, { recursive: true, force: true });
  };
  child.unref();
  try {
    const deadline = Date.now() + timeoutMs;
    let leader = 0;
    while (Date.now() < deadline) {
      const r = spawnSync("pgrep", ["-P", String(child.pid), "-x", "systemd"], { encoding: "utf8" });
      if (r.status === 0) {
        leader = Number(r.stdout.trim().split("\n")[0]);
        break;
      }
      if (spawnSync("kill", ["-0", String(child.pid)]).status !== 0) throw new Error(`systemd-nspawn exited:\n${readFileSync(logPath, "utf8")}`);
      sleep(50);
    }
    if (leader === 0) throw new Error(`no systemd inside the container after ${timeoutMs} ms:\n${readFileSync(logPath, "utf8")}`);
    let state = "";
    while (Date.now() < deadline) {
      const r = spawnSync("nsenter", ["-t", String(leader), "-a", "systemctl", "is-system-running"], { encoding: "utf8" });
      state = r.stdout.trim();
      if (state === "running" || state === "degraded") break;
      sleep(100);
    }
    if (state !== "running" && state !== "degraded") throw new Error(`the container's systemd is "${state}" after ${timeoutMs} ms:\n${readFileSync(logPath, "utf8")}`);
    const version = inside(leader, ["systemctl", "--version"]).split("\n")[0]!;
    const units: string[] = [];
    return {
      leader,
      version,
      service(name, properties) {
        const unit = `${name}.service`;
        inside(leader, ["systemd-run", "--quiet", `--unit=${unit}`, ...properties.flatMap((p) => ["-p", p]), "/bin/sleep", "300"]);
        units.push(unit);
        for (let i = 0; i < 100; i++) {
          const main = Number(inside(leader, ["systemctl", "show", "-P", "MainPID", unit]).trim());
          if (main > 0) return hostPid(leader, main);
          sleep(50);
        }
        throw new Error(`${unit} has no main process`);
      },
      stop() {
        for (const u of units) spawnSync("nsenter", ["-t", String(leader), "-a", "systemctl", "stop", u]);
        cleanup();
      },
    };
  } catch (e) {
    cleanup();
    throw e;
  }
}
