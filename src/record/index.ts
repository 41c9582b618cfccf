/**
 * Recording a command's syscalls (seccomp user notification with CONTINUE)
 * and turning the recording into a policy: {@link record},
 * {@link policyFromRecording}, {@link formatPolicyJson}.
 */
export * from "./record.js";
export * from "./generate.js";
export * from "./policy-json.js";
