"""Generate a large synthetic Rust workspace shaped like an ML workspace (deterministic).

Default: 40 crates × 100 files ≈ 4,000 files and ~1.7 M lines — kernels with SIMD-style
unsafe blocks (some with SAFETY comments), a MoE router, big crate roots with `pub use`
and `#![allow]` lists, feature-heavy manifests. Used by the warm re-review benchmark.

    python benchmarks/gen_workspace.py OUT_DIR [--crates 40] [--files 100] [--git]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}

KERNEL = '''
/// Dot product of `{n}` lanes.
#[inline]
pub fn dot_{i}(a: &[f32], b: &[f32]) -> f32 {{
    let mut acc = 0.0f32;
    let len = a.len().min(b.len());
    let mut i = 0;
    while i + 4 <= len {{
        {comment}unsafe {{
            let x = *a.get_unchecked(i) * *b.get_unchecked(i);
            let y = *a.get_unchecked(i + 1) * *b.get_unchecked(i + 1);
            acc += x + y;
        }}
        i += 4;
    }}
    for j in i..len {{
        acc += a[j] * b[j];
    }}
    acc
}}
'''

ROUTER = '''
pub struct Router{i} {{
    scores: Vec<f32>,
    result_buffer: Vec<usize>,
}}

impl Router{i} {{
    pub fn select_top_k(&mut self, logits: &[f32], k: usize) -> Vec<usize> {{
        self.scores.clear();
        self.scores.extend_from_slice(logits);
        let mut idx: Vec<usize> = (0..logits.len()).collect();
        idx.sort_by(|a, b| self.scores[*b].partial_cmp(&self.scores[*a]).unwrap());
        idx.truncate(k);
        let mut out = std::mem::take(&mut self.result_buffer);
        out.clear();
        out.extend_from_slice(&idx);
        {restore}
        out
    }}
}}
'''

FILLER = '''
#[derive(Debug, Clone, Default)]
pub struct Config{i} {{
    pub hidden: usize,
    pub heads: usize,
    pub eps: f32,
}}

impl Config{i} {{
    pub fn new(hidden: usize, heads: usize) -> Self {{
        Self {{ hidden, heads, eps: 1e-5 }}
    }}

    pub fn head_dim(&self) -> usize {{
        // Integer division: heads always divides hidden in supported models.
        self.hidden / self.heads
    }}
}}
'''


def rust_file(rng: random.Random, index: int, target_lines: int) -> str:
    parts = [f"//! Module {index}: generated.\n", "use std::fmt::Debug;\n"]
    lines = 2
    n = 0
    while lines < target_lines:
        kind = rng.random()
        if kind < 0.45:
            comment = "// SAFETY: i + 1 < len is checked by the loop condition.\n        " if rng.random() < 0.8 else ""
            chunk = KERNEL.format(i=n, n=4, comment=comment)
        elif kind < 0.5:
            restore = "self.result_buffer = idx;" if rng.random() < 0.7 else ""
            chunk = ROUTER.format(i=n, restore=restore)
        else:
            chunk = FILLER.format(i=n)
        parts.append(chunk)
        lines += chunk.count("\n")
        n += 1
    return "".join(parts)


def crate_root(crate: int, modules: int, rng: random.Random) -> str:
    allows = ", ".join(f"clippy::lint_{i}" for i in range(rng.randint(2, 20)))
    head = f"#![allow({allows})]\n//! Crate {crate}.\n\n"
    mods = "".join(f"pub mod m{i};\n" for i in range(modules))
    uses = "".join(f"pub use m{i}::{{Config0 as Config{i}_0, dot_0 as dot_{i}}};\n" for i in range(modules))
    return head + mods + uses


def manifest(crate: int) -> str:
    return f'''[package]
name = "mlcrate{crate}"
version = "0.1.0"
edition = "2021"

[dependencies]
candle-core = {{ version = "0.8", optional = true }}
tokio = {{ version = "1", optional = true, features = ["full"] }}

[features]
default = [{'"candle"' if crate % 3 == 0 else ''}]
candle = ["dep:candle-core"]
async-runtime = ["dep:tokio"]
'''


def generate(out: Path, crates: int, files: int, lines_per_file: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    members = ", ".join(f'"crates/c{c}"' for c in range(crates))
    out.mkdir(parents=True, exist_ok=True)
    root = f'[workspace]\nmembers = [{members}]\nresolver = "2"\n\n[profile.release]\nlto = "fat"\ncodegen-units = 1\n'
    (out / "Cargo.toml").write_text(root)
    for c in range(crates):
        src = out / "crates" / f"c{c}" / "src"
        src.mkdir(parents=True, exist_ok=True)
        (src.parent / "Cargo.toml").write_text(manifest(c))
        (src / "lib.rs").write_text(crate_root(c, files - 1, rng))
        for f in range(files - 1):
            target = int(rng.gauss(lines_per_file, lines_per_file / 3))
            (src / f"m{f}.rs").write_text(rust_file(rng, f, max(40, target)))


def git_commit_all(repo: Path, message: str) -> str:
    env = {**os.environ, **GIT_ENV}
    if not (repo / ".git").exists():
        subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "-m", message], check=True, env=env)
    out = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], check=True, env=env, capture_output=True)
    return out.stdout.decode().strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--crates", type=int, default=40)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--lines", type=int, default=425)
    parser.add_argument("--git", action="store_true", help="commit the result in a new git repo")
    args = parser.parse_args()
    generate(args.out, args.crates, args.files, args.lines)
    if args.git:
        print(git_commit_all(args.out, "generated workspace"))


if __name__ == "__main__":
    main()
