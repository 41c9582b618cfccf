/**
 * Exports checked against their source before they are written: the text a
 * format gives is read back the way syscage reads that format, and compared
 * with the source policy call by call (diff). Equal passes; otherwise the
 * export is refused with the differing calls, or, with `approximate`,
 * accepted only when the read-back policy is nowhere less restrictive than
 * the source (an approximation toward the stricter side, never broader):
 * the diff finds no looser call, and `within` (relations.ts) proves it on
 * every arch, syscall number and argument vector.
 */
import { hostAbiIfKnown } from "../abi/arch.js";
import { yamlModule } from "../deps.js";
import { SyscageError } from "../errors.js";
import type { ExportFormat } from "../export/formats.js";
import { parsePolicyJson } from "../policy/json.js";
import { limitsAbis, type Policy } from "../policy/model.js";
import { parseProfile } from "../policy/oci.js";
import { buildUnitPolicy, parseUnitFile } from "../policy/systemd-unit.js";
import { diffPolicies, type SyscallDifference } from "./diff.js";
import { within } from "./relations.js";

/**
 * How syscage reads back `text`, an export of `source` in `format`, with the
 * source's routes mode (a profile or unit has no such field: the closing
 * rules of closed routes are written out as rules, and with routes open none
 * are; syscage's own format has the field).
 */
export function readBackExport(text: string, format: ExportFormat, source: Policy): Policy {
  const back = readBack(text, format, source);
  return source.routes === "open" ? { ...back, routes: "open" } : back;
}

function readBack(text: string, format: ExportFormat, source: Policy): Policy {
  const label = `the ${format} export`;
  switch (format) {
    case "syscage":
      // The file says its own routes, network and argument width.
      return parsePolicyJson(text, label);
    case "oci":
    case "docker":
    case "spo": {
      let json = text;
      if (format === "spo") {
        const doc = yamlModule().parse(text) as { spec?: unknown };
        json = JSON.stringify(doc.spec ?? {});
      }
      const host = hostAbiIfKnown();
      const native = host !== undefined && source.abis.includes(host) ? host : source.abis[0]!;
      return parseProfile(json, label, { hostArch: native, kernel: "7.3.0", ...(source.argumentWidth !== undefined ? { argumentWidth: source.argumentWidth } : {}) }).policy;
    }
    case "systemd": {
      const unit = parseUnitFile(`[Service]\n${text}`, label);
      return buildUnitPolicy(unit.properties, { abis: source.abis }).policy;
    }
  }
}


export interface ExportCheck {
  /** The read-back policy decides every call as the source does. */
  readonly equal: boolean;
  /** Under `approximate`: the calls where the export is stricter than the source. */
  readonly stricter: readonly (SyscallDifference & { readonly abi: string })[];
}

/**
 * Check an export against its source (see the module doc).
 * @throws SyscageError EXPORT_DIFFERS naming the differing calls.
 */
export function checkExport(source: Policy, format: ExportFormat, text: string, opts: { approximate?: boolean } = {}): ExportCheck {
  const back = readBackExport(text, format, source);
  const d = diffPolicies({ kind: "policy", policy: source, label: "source" }, { kind: "policy", policy: back, label: `${format} export` });
  if (d.equal) return { equal: true, stricter: [] };
  const all = d.abis.flatMap((a) => a.differences.map((x) => ({ ...x, abi: a.abi })));
  const show = (xs: typeof all): string =>
    xs.slice(0, 8).map((x) => `${x.abi} ${x.name}: ${x.a.action} → ${x.b.action}`).join("; ") + (xs.length > 8 ? `; … (${xs.length} in all)` : "");
  const looser = all.filter((x) => x.bLooser);
  if (opts.approximate === true) {
    if (looser.length === 0) {
      // The diff found no looser call; the proof: the export within the source on every arch, number and argument vector.
      const w = within(back, source, { limit: 8 });
      if (w.within) return { equal: false, stricter: all };
      const calls = w.differences.map((x) => `${x.abi ?? x.archName} ${x.syscall ?? `nr ${x.data.nr}`}: ${x.b.action} → ${x.a.action}`).join("; ");
      throw new SyscageError("EXPORT_DIFFERS", `cannot export to ${format} even approximately: read back, it is not within the policy on ${w.total} call(s): ${calls}`);
    }
    throw new SyscageError("EXPORT_DIFFERS", `cannot export to ${format} even approximately: read back, it allows more than the policy on ${looser.length} call(s): ${show(looser)}`);
  }
  // Rules limited to some ABIs have no profile form: for fewer ABIs they may cover all of them.
  const perAbi = source.rules.some((r) => limitsAbis(r, source)) ? `; rules limited to some ABIs (${[...new Set(source.rules.filter((r) => limitsAbis(r, source)).map((r) => r.syscall))].join(", ")}) were left out, so an export for fewer ABIs (--arch) may be exact` : "";
  throw new SyscageError(
    "EXPORT_DIFFERS",
    `cannot export to ${format}: read back, the ${format} text decides ${all.length} call(s) otherwise than the policy (${looser.length} of them more permissively): ${show(looser.length > 0 ? looser : all)}. ${looser.length === 0 ? "Pass --approximate to accept an export that is only stricter" : "Choose another format"}${perAbi}`,
  );
}
