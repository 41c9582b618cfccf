/**
 * syscage/export: every output format. A Policy as syscage's own JSON
 * (docs/policy-format.md), an OCI / Docker seccomp profile, a Security
 * Profiles Operator SeccompProfile, or systemd unit lines
 * (docs/profiles.md), with the Kubernetes snippet for a profile; a compiled
 * program as raw bytes, C, JSON or assembly; and the bigint-exact JSON writer
 * they share.
 *
 *   import { exportPolicy } from "syscage/export";
 *   const { text, warnings } = exportPolicy(policy, "oci");
 *
 * Each export can be read back and compared with its source by
 * `checkExport` (syscage/analyze).
 */
export { exportPolicy, EXPORT_FORMATS, type ExportFormat, type ExportOptions, type ExportResult, type ProfileFormat } from "./formats.js";
export { policyToOci, MAX_ENTRIES_PER_RULE, type OciArg, type OciSyscall, type OciSeccomp } from "./oci.js";
export { policyToSpo, SPO_ARCHES } from "./spo.js";
export { policyToSystemd } from "./systemd.js";
export { formatPolicyJson } from "./policy-json.js";
export { kubernetesSnippet } from "./kubernetes.js";
export { formatProgram, formatC, formatJsonProgram, formatDisasm, opcodeName, flagsValue, PROGRAM_FORMATS, type ProgramFormat } from "./program.js";
export { toJson } from "./json.js";
