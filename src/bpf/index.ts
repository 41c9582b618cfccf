/**
 * Classic BPF for seccomp: instructions, return actions, raw encoding, the
 * kernel's verifier rules, an exact interpreter, the kernel's constant-action
 * cache model, and a disassembler/assembler pair.
 */
export * from "./insn.js";
export * from "./actions.js";
export * from "./codec.js";
export * from "./verify.js";
export * from "./interpret.js";
export * from "./cache.js";
export * from "./disasm.js";
export * from "./asm.js";
