/** Catching the SyscageError a call must throw. */
import assert from "node:assert/strict";
import { SyscageError } from "../../src/errors.js";

/** The SyscageError `f` throws; fails when it throws something else or nothing. */
export function thrown(f: () => unknown): SyscageError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof SyscageError, `expected a SyscageError, got ${String(e)}`);
    return e;
  }
  assert.fail("expected an error");
}
