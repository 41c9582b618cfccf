"""Like libseccomp_gen.py (same input and output), but for filters whose ABIs
have another byte order than this machine (s390x, s390 on an x86_64 host):
libseccomp refuses to mix byte orders in one filter, so the native arch is
removed BEFORE the requested ones are added. Used by profile-libseccomp.test.ts.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import libseccomp_gen  # noqa: E402


def build(spec):
    return libseccomp_gen.build(spec, remove_native_first=True, resolve_numbers=False)


if __name__ == "__main__":
    json.dump([build(s) for s in json.load(sys.stdin)], sys.stdout)
