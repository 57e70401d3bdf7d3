"""The hostile-input figures of docs/reliability.md: each tree of ``tests/test_hostile.py``
built at full size and checked by the real ``ruvopt check`` process; prints time, peak RSS
of that process and the result (findings by code, notices).

    .venv/bin/python scripts/hostile.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.process_usage import run_check

MANIFEST = '[package]\nname = "hostile"\nversion = "0.1.0"\nedition = "2021"\n'
LIB = "//! Hostile.\n\npub fn f() {}\n"
MB = 1024 * 1024


def write(root: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)


def many_files(root: Path) -> None:
    write(root, {"Cargo.toml": MANIFEST, "src/lib.rs": LIB})
    for d in range(100):
        (root / "src" / f"d{d}").mkdir()
        for k in range(1000):
            (root / "src" / f"d{d}" / f"m{k}.rs").write_text(f"pub fn f{k}() -> u32 {{ {k} }}\n")


def manifest_with(extra: str) -> Callable[[Path], None]:
    return lambda root: write(root, {"Cargo.toml": f"{MANIFEST}\n{extra}\n", "src/lib.rs": LIB, "README.md": "# h\n"})


FEATURES = "[features]\n" + "\n".join(f'f{i} = ["f{i + 1}"]' for i in range(9_999)) + '\nf9999 = []\ndefault = ["f0"]'
LOCK_ENTRY = '[[package]]\nname = "p{}"\nversion = "1.0.0"\nchecksum = "' + "0" * 64 + '"\n\n'
CASES: dict[str, Callable[[Path], None]] = {
    "100,000 .rs files": many_files,
    "a 50 MB .rs file": lambda r: write(
        r,
        {
            "Cargo.toml": MANIFEST,
            "src/lib.rs": LIB,
            "src/big.rs": "pub fn g() -> u32 { unsafe { 1 } }\n" * (50 * MB // 36),
        },
    ),
    "TOML bomb: 10,000 nested inline tables": manifest_with(
        "[package.metadata]\nx = " + "{a = " * 10_000 + "1" + "}" * 10_000
    ),
    "TOML bomb: a 3 MB array (1,000,000 items)": manifest_with("[package.metadata]\nx = [" + "1, " * 1_000_000 + "]"),
    "Cargo.toml with 10,000 features": manifest_with(FEATURES),
    "a 50 MB Cargo.lock": lambda r: write(
        r,
        {
            "Cargo.toml": MANIFEST,
            "src/lib.rs": LIB,
            "Cargo.lock": "".join(LOCK_ENTRY.format(i) for i in range(50 * MB // len(LOCK_ENTRY))),
        },
    ),
}


def measure(root: Path) -> tuple[float, int, str]:
    code, stdout, stderr, took, peak_mb = run_check(root)
    if code not in (0, 1):
        return took, peak_mb, f"exit {code}: {stderr.decode()[-200:]}"
    report = json.loads(stdout)
    found = dict(Counter(f["code"] for f in report["findings"]))
    first = report["findings"][0]["message"][:110] if report["findings"] else ""
    return took, peak_mb, f"findings {found or 'none'} {first!r}; notices {report['notices'] or 'none'}"


def main() -> None:
    print("| input | time s | peak RSS MB | result |\n|---|---|---|---|")
    for name, build in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            build(Path(tmp))
            took, peak_mb, result = measure(Path(tmp))
        print(f"| {name} | {took:.1f} | {peak_mb} | {result} |", flush=True)


if __name__ == "__main__":
    main()
