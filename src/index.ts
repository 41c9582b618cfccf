/**
 * syscage library entry point.
 *
 *   import { abi, bpf, policy, compile } from "syscage";
 *   import { definePolicy } from "syscage/policy";
 *   import { compile } from "syscage/compile";
 *   import { exportPolicy } from "syscage/export";
 */
export * as abi from "./abi/index.js";
export * as bpf from "./bpf/index.js";
export * as policy from "./policy/index.js";
export { compile, type CompiledProgram, type CompileOptions } from "./compile/index.js";
export { exportPolicy, formatPolicyJson, formatProgram, type ExportFormat, type ExportOptions, type ExportResult, type ProgramFormat } from "./export/index.js";
export * as analyze from "./analyze/index.js";
export { within, intersect, union, type WithinResult } from "./analyze/relations.js";
export { definePolicy, type Policy, type PolicyInput } from "./policy/model.js";
export { SyscageError } from "./errors.js";
export { spawn, run, planLaunch, LaunchError, type SpawnOptions, type RunOptions, type RunResult, type SandboxOptions } from "./run/index.js";
export { record, policyFromRecording, type RecordOptions, type RecordResult } from "./record/index.js";
