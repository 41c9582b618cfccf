/**
 * Recording a command's syscalls (seccomp user notification with CONTINUE)
 * and turning the recording into a policy: {@link record},
 * {@link policyFromRecording}. A recorded policy is written by syscage/export
 * (`formatPolicyJson`, `exportPolicy`).
 */
export * from "./record.js";
export * from "./generate.js";
