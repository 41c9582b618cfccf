/**
 * A Policy written in one of the formats other tools read, or in syscage's
 * own (docs/profiles.md, docs/policy-format.md):
 *
 * - `syscage`: syscage's policy JSON (policy-json.ts), read back by `--policy`;
 * - `oci`: the OCI runtime-spec `linux.seccomp` object (a Kubernetes
 *   Localhost profile; runc, crun, CRI-O) (oci.ts);
 * - `docker`: the same with `archMap` (for `docker run --security-opt seccomp=FILE`);
 * - `spo`: a Security Profiles Operator `SeccompProfile` (v1) YAML (spo.ts);
 * - `systemd`: `SystemCallFilter=` / `SystemCallErrorNumber=` /
 *   `SystemCallArchitectures=` lines, when the policy can be said that way
 *   (systemd.ts).
 *
 * What a format cannot express is an error naming the rule and the reason,
 * never a silent change; `analyze/roundtrip.ts` reads every export back and
 * compares it with the policy. A compiled program's formats (raw, C, JSON,
 * assembly) are in program.ts.
 */
import { yamlModule } from "../deps.js";
import { assertPolicy } from "../policy/check.js";
import type { Policy } from "../policy/model.js";
import { withRoutes } from "../policy/routes.js";
import { toJson } from "./json.js";
import { policyToOci } from "./oci.js";
import { formatPolicyJson } from "./policy-json.js";
import { policyToSpo } from "./spo.js";
import { policyToSystemd } from "./systemd.js";

/** Export formats. */
export type ExportFormat = "syscage" | "oci" | "docker" | "spo" | "systemd";

/** The container-profile formats (those a Kubernetes pod can use). */
export type ProfileFormat = "oci" | "docker" | "spo";

/** Every export format, for help texts. */
export const EXPORT_FORMATS: readonly ExportFormat[] = ["syscage", "oci", "docker", "spo", "systemd"];

/** Options of the exporters. */
export interface ExportOptions {
  /** SPO: `metadata.name` (default "syscage-profile"). */
  readonly name?: string;
  /** syscage: the file's top-level `comment`. */
  readonly comment?: string;
  /**
   * systemd: say what the format cannot by something stricter, with a
   * warning each (an argument rule → the syscall's strictest action; see
   * `SystemdExportOptions`). The other formats say everything they accept.
   */
  readonly approximate?: boolean;
}

/** An exported document and the notes a user should read. */
export interface ExportResult {
  /** The file's text (JSON, YAML or unit lines), ending with a newline. */
  readonly text: string;
  readonly warnings: readonly string[];
}

/**
 * Export a policy to `format`. The container and systemd formats have no
 * `routes` or `network` field, so they get the policy as enforced (the
 * closing rules written out, see `withRoutes`); syscage's format says
 * `routes` and `network` itself and gets the policy as given.
 * @throws SyscageError EXPORT_UNSUPPORTED naming the rule and saying why the format cannot express it.
 */
export function exportPolicy(given: Policy, format: ExportFormat, opts: ExportOptions = {}): ExportResult {
  if (format === "syscage") {
    assertPolicy(given);
    return { text: formatPolicyJson(given, opts.comment), warnings: [] };
  }
  const p = withRoutes(given);
  switch (format) {
    case "oci":
    case "docker": {
      const { seccomp, warnings } = policyToOci(p, format);
      return { text: toJson(seccomp) + "\n", warnings };
    }
    case "spo": {
      const { doc, warnings } = policyToSpo(p, opts);
      return { text: yamlModule().stringify(doc, { lineWidth: 0 }), warnings };
    }
    case "systemd":
      return policyToSystemd(p, { approximate: opts.approximate === true });
  }
}
