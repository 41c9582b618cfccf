/**
 * What this host can do: {@link probeHost} and what it means ({@link hostNotes}).
 */
export * from "./probe.js";
export * from "./advice.js";
