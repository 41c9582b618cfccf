/**
 * syscage library entry point.
 *
 *   import { abi, bpf } from "syscage";
 *   import { lookupSyscall } from "syscage/abi";
 */
export * as abi from "./abi/index.js";
export * as bpf from "./bpf/index.js";
export { SyscageError } from "./errors.js";
