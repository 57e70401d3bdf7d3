"""Generate a Rust workspace shaped like a real ML monorepo (deterministic).

The shape of the seed's own repository: ~120 member crates (a few large ones — an LLM
runtime, kernels, a vector index — many small bindings and tools), ~300 ``Cargo.toml``
files, ~4,000 ``.rs`` files, ~1.7 M lines:

- a virtual root manifest with ``[workspace.package]``, ``[workspace.dependencies]``
  (features, ``default-features = false``), member globs, ``exclude`` for the nested
  workspaces, and a fat-LTO ``[profile.release]``;
- members inherit (``version.workspace = true``, ``serde = { workspace = true, features
  = [...] }``), declare optional dependencies, ``[features]`` chains (``default → full →
  candle → dep:candle-core``), target-specific dependencies
  (``[target.'cfg(target_arch = "wasm32")'.dependencies]``), ``[dev-dependencies]`` and
  criterion ``[[bench]]`` targets with bench files under ``benches/``;
- example crates (members), nested fuzz workspaces (their own ``[workspace]``, excluded),
  and test-fixture manifests that belong to no workspace;
- sources: SIMD-style kernels with and without SAFETY comments, ``pub unsafe fn`` with and
  without ``# Safety``, MoE routers (``mem::take`` with and without restoring), configs,
  feature-gated and ungated uses of optional dependencies, ``Instant::now()`` metrics,
  crate roots with ``pub mod``/``pub use`` lists and ``#![allow]``, READMEs that document
  some features.

    python benchmarks/gen_workspace.py OUT_DIR [--scale 1.0] [--git]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}

DOMAINS = (
    "core",
    "attention",
    "gnn",
    "graph",
    "router",
    "quant",
    "kernels",
    "serving",
    "tokenizer",
    "cluster",
    "raft",
    "storage",
    "index",
    "metrics",
    "sparse",
    "math",
    "sona",
    "hnsw",
    "cache",
    "embed",
)
KINDS = ("", "-wasm", "-node", "-cli", "-ffi", "-bench")
WORKSPACE_DEPS = """[workspace.dependencies]
serde = { version = "1", default-features = false }
serde_json = "1"
thiserror = "1"
rayon = "1.8"
ndarray = { version = "0.15", default-features = false }
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }
candle-core = { version = "0.8", default-features = false }
candle-nn = "0.8"
tokenizers = { version = "0.20", default-features = false, features = ["onig"] }
hf-hub = { version = "0.3", default-features = false }
wasm-bindgen = "0.2"
napi = { version = "2", default-features = false }
criterion = { version = "0.5", features = ["html_reports"] }
parking_lot = "0.12"
"""

KERNEL = """
/// Dot product, unrolled by two.
#[inline]
pub fn dot_{u}(a: &[f32], b: &[f32]) -> f32 {{
    let mut acc = 0.0f32;
    let len = a.len().min(b.len());
    let mut i = 0;
    while i + 2 <= len {{
        {comment}unsafe {{
            let x = *a.get_unchecked(i) * *b.get_unchecked(i);
            let y = *a.get_unchecked(i + 1) * *b.get_unchecked(i + 1);
            acc += x + y;
        }}
        i += 2;
    }}
    for j in i..len {{
        acc += a[j] * b[j];
    }}
    acc
}}
"""

RAW_KERNEL = """
/// Scales `len` floats in place.
{safety}pub unsafe fn scale_raw_{u}(ptr: *mut f32, len: usize, factor: f32) {{
    for i in 0..len {{
        // SAFETY: the caller guarantees `ptr..ptr+len` is valid for writes.
        unsafe {{ *ptr.add(i) *= factor }};
    }}
}}
"""
SAFETY_DOC = "///\n/// # Safety\n///\n/// `ptr` must be valid for reads and writes of `len` floats.\n"

ROUTER = """
pub struct Router{u} {{
    scores: Vec<f32>,
    result_buffer: Vec<usize>,
    started: Option<std::time::Instant>,
}}

impl Router{u} {{
    pub fn select_top_k_{u}(&mut self, logits: &[f32], k: usize) -> Vec<usize> {{
        self.started = Some(std::time::Instant::now());
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
"""

FILLER = """
#[derive(Debug, Clone, Default)]
pub struct Config{u} {{
    pub hidden: usize,
    pub heads: usize,
    pub eps: f32,
}}

impl Config{u} {{
    pub fn new(hidden: usize, heads: usize) -> Self {{
        Self {{ hidden, heads, eps: 1e-5 }}
    }}

    pub fn head_dim(&self) -> usize {{
        // Integer division: heads always divides hidden in supported models.
        self.hidden / self.heads
    }}

    pub fn describe(&self) -> String {{
        format!("hidden={{}} heads={{}}", self.hidden, self.heads)
    }}
}}
"""

GATED = """
#[cfg(feature = "candle")]
pub fn to_tensor_{u}(values: &[f32]) -> candle_core::Result<candle_core::Tensor> {{
    candle_core::Tensor::from_slice(values, values.len(), &candle_core::Device::Cpu)
}}
"""

UNGATED = """
pub fn tokenizer_vocab_{u}(path: &str) -> usize {{
    tokenizers::Tokenizer::from_file(path).map(|t| t.get_vocab_size(true)).unwrap_or(0)
}}
"""

DISPATCH = """
/// Activation functions the layers support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activation{u} {{
    Relu,
    Gelu,
    Silu,
    Identity,
}}

impl Activation{u} {{
    pub fn apply(self, x: f32) -> f32 {{
        match self {{
            Activation{u}::Relu => x.max(0.0),
            Activation{u}::Gelu => 0.5 * x * (1.0 + (0.797_884_6 * (x + 0.044_715 * x * x * x)).tanh()),
            Activation{u}::Silu => x / (1.0 + (-x).exp()),
            Activation{u}::Identity => x,
        }}
    }}
}}

impl std::fmt::Display for Activation{u} {{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{
        let name = match self {{
            Activation{u}::Relu => "relu",
            Activation{u}::Gelu => "gelu",
            Activation{u}::Silu => "silu",
            Activation{u}::Identity => "identity",
        }};
        f.write_str(name)
    }}
}}
"""

ITERATORS = """
/// Normalises `values` to unit length and keeps the `k` largest, with their positions.
pub fn top_k_normalised_{u}(values: &[f32], k: usize) -> Vec<(usize, f32)> {{
    let norm = values.iter().map(|v| v * v).sum::<f32>().sqrt().max(f32::EPSILON);
    let mut scored: Vec<(usize, f32)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (i, v / norm))
        .filter(|(_, v)| v.is_finite())
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1));
    scored.truncate(k);
    scored
}}

pub fn mean_pool_{u}(rows: &[Vec<f32>]) -> Option<Vec<f32>> {{
    let width = rows.first()?.len();
    let mut out = vec![0.0; width];
    for row in rows.iter().filter(|r| r.len() == width) {{
        for (acc, v) in out.iter_mut().zip(row) {{
            *acc += v;
        }}
    }}
    let count = rows.len() as f32;
    out.iter_mut().for_each(|v| *v /= count);
    Some(out)
}}
"""

TESTS = """
#[cfg(test)]
mod tests_{u} {{
    use super::*;

    #[test]
    fn pools_rows_of_equal_width() {{
        let rows = vec![vec![1.0, 2.0], vec![3.0, 4.0]];
        let pooled: Vec<f32> = rows.iter().map(|r| r.iter().sum()).collect();
        assert_eq!(pooled, vec![3.0, 7.0]);
    }}

    #[test]
    fn empty_input_gives_nothing() {{
        let rows: Vec<Vec<f32>> = Vec::new();
        assert!(rows.is_empty());
    }}
}}
"""

BENCH = """use criterion::{{black_box, criterion_group, criterion_main, BatchSize, Criterion}};
use {ident}::*;

fn bench_{name}(c: &mut Criterion) {{
    let logits = vec![0.25f32; 64];
    let mut router = Router{router}::default_for_bench();
    c.bench_function("{name}/select", |b| b.iter(|| router.select_top_k_{router}(black_box(&logits), 2)));
    c.bench_function("{name}/dot", |b| b.iter(|| dot_{dot}(black_box(&logits), black_box(&logits))));
    c.bench_function("{name}/batched", |b| {{
        b.iter_batched(|| logits.clone(), |l| dot_{dot}(&l, &l), BatchSize::SmallInput)
    }});
}}

criterion_group!(benches, bench_{name});
criterion_main!(benches);
"""


@dataclass
class Crate:
    name: str
    directory: str
    files: int
    heavy: bool  # depends on candle/tokenizers (the ML runtime crates)
    benches: int = 0
    modules: list[str] = field(default_factory=list)  # module file stems of src/
    routers: list[str] = field(default_factory=list)  # unique suffixes of generated routers
    dots: list[str] = field(default_factory=list)  # unique suffixes of generated kernels

    @property
    def ident(self) -> str:
        return self.name.replace("-", "_")


def rust_file(rng: random.Random, crate: Crate, module: str, target_lines: int) -> str:
    parts = [f"//! Module {module} of {crate.name}: generated.\n", "use std::fmt::Debug;\n"]
    lines, n = 2, 0
    while lines < target_lines:
        unique = f"{module}_{n}"
        kind = rng.random()
        # The mix: mostly ordinary code (types, dispatch, iterator pipelines, tests), with the
        # SIMD-style unsafe kernels and buffer-reusing routers an inference stack has.
        if kind < 0.15:
            comment = "// SAFETY: i + 1 < len is checked by the loop condition.\n        " if rng.random() < 0.8 else ""
            chunk = KERNEL.format(u=unique, comment=comment)
            crate.dots.append(unique)
        elif kind < 0.19:
            restore = "self.result_buffer = idx;" if rng.random() < 0.7 else ""
            chunk = ROUTER.format(u=unique, restore=restore)
            crate.routers.append(unique)
        elif kind < 0.22:
            chunk = RAW_KERNEL.format(u=unique, safety=SAFETY_DOC if rng.random() < 0.6 else "")
        elif kind < 0.25 and crate.heavy:
            chunk = (GATED if rng.random() < 0.8 else UNGATED).format(u=unique)
        elif kind < 0.45:
            chunk = DISPATCH.format(u=unique)
        elif kind < 0.65:
            chunk = ITERATORS.format(u=unique)
        elif kind < 0.75:
            chunk = TESTS.format(u=unique)
        else:
            chunk = FILLER.format(u=unique)
        parts.append(chunk)
        lines += chunk.count("\n")
        n += 1
    return "".join(parts)


def crate_root(crate: Crate, rng: random.Random) -> str:
    allows = ", ".join(f"clippy::lint_{i}" for i in range(rng.randint(2, 20)))
    head = f"#![allow({allows})]\n//! Crate `{crate.name}`.\n//!\n//! Features: `simd` turns on the wide kernels.\n\n"
    mods = "".join(f"pub mod {m};\n" for m in crate.modules)
    uses = "".join(f"pub use {m}::*;\n" for m in crate.modules[: rng.randint(3, 80)])
    bench_hook = ""
    if crate.routers:
        r = crate.routers[0]
        bench_hook = (
            f"\nimpl {r.split('_')[0]}::Router{r} {{\n    pub fn default_for_bench() -> Self {{\n"
            "        Self { scores: Vec::new(), result_buffer: Vec::new(), started: None }\n    }\n}\n"
        )
    return head + mods + uses + bench_hook


def member_manifest(crate: Crate, rng: random.Random) -> str:
    heavy = crate.heavy
    deps = ['serde = { workspace = true, features = ["derive"] }', "thiserror.workspace = true"]
    parallel = rng.random() < 0.5
    if parallel:
        deps.append("rayon = { workspace = true, optional = true }")
    if heavy:
        deps += [
            "candle-core = { workspace = true, optional = true }",
            "candle-nn = { workspace = true, optional = true }",
            "tokenizers = { workspace = true, optional = true }",
            "hf-hub = { workspace = true, optional = true }",
            "tokio = { workspace = true, optional = true }",
        ]
    features = ["simd = []", *(['parallel = ["dep:rayon"]'] if parallel else [])]
    if heavy:
        features += [
            'default = ["full"]' if rng.random() < 0.5 else 'default = ["simd"]',
            'full = ["candle", "async-runtime", "hub"]',
            'candle = ["dep:candle-core", "dep:candle-nn"]',
            'async-runtime = ["dep:tokio"]',
            'hub = ["dep:hf-hub", "tokenizers"]',
            "routing-metrics = []",
        ]
    else:
        features.append('default = ["simd"]')
    text = [
        "[package]",
        f'name = "{crate.name}"',
        "version.workspace = true",
        "edition.workspace = true",
        "license.workspace = true",
        'readme = "README.md"',
        "",
        "[dependencies]",
        *deps,
        "",
        "[target.'cfg(target_arch = \"wasm32\")'.dependencies]",
        "wasm-bindgen.workspace = true",
        "",
        "[target.'cfg(not(target_arch = \"wasm32\"))'.dependencies]",
        "parking_lot.workspace = true",
        "",
        "[dev-dependencies]",
        "criterion.workspace = true",
        "",
        "[features]",
        *features,
        "",
    ]
    for b in range(crate.benches):
        text += ["[[bench]]", f'name = "{crate.ident}_bench{b}"', "harness = false", ""]
    return "\n".join(text)


def plan_crates(rng: random.Random, scale: float) -> list[Crate]:
    crates = []
    names = [f"ruv-{d}{k}" for k in KINDS for d in DOMAINS]
    sizes = [120] * 10 + [40] * 40 + [12] * 70  # large runtimes, medium libraries, small bindings
    for i, files in enumerate(sizes):
        name = names[i]
        count = max(3, round(files * scale))
        crates.append(Crate(name, f"crates/{name}", count, heavy=i < 20, benches=(1 + i % 3) if i < 60 else 0))
    return crates


def generate(out: Path, scale: float = 1.0, lines_per_file: int = 468, seed: int = 7) -> dict[str, int]:
    """Write the workspace under ``out``; return counts (crates, manifests, rs files, lines)."""
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    crates = plan_crates(rng, scale)
    examples = max(2, round(40 * scale))
    fuzz = max(2, round(60 * scale))
    fixtures = max(2, round(80 * scale))
    counts = {"crates": len(crates) + examples, "manifests": 1, "rs_files": 0, "lines": 0}

    def write(relative: str, text: str) -> None:
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if relative.endswith(".rs"):
            counts["rs_files"] += 1
            counts["lines"] += text.count("\n")
        elif relative.endswith("Cargo.toml"):
            counts["manifests"] += 1

    root = (
        '[workspace]\nresolver = "2"\nmembers = ["crates/*", "examples/*"]\n'
        'exclude = ["crates/*/fuzz", "crates/*/tests/fixtures"]\n\n'
        '[workspace.package]\nversion = "0.4.2"\nedition = "2021"\nlicense = "MIT OR Apache-2.0"\n'
        'readme = "README.md"\n\n'
        f'{WORKSPACE_DEPS}\n[profile.release]\nlto = "fat"\ncodegen-units = 1\n\n[profile.bench]\ndebug = true\n'
    )
    (out / "Cargo.toml").write_text(root)
    (out / "README.md").write_text("# ruv monorepo\n\nFeatures: `simd`, `parallel`, `full`.\n")
    for crate in crates:
        crate.modules = [f"m{f}" for f in range(crate.files - 1)]
        for module in crate.modules:
            target = int(rng.gauss(lines_per_file, lines_per_file / 3))
            write(f"{crate.directory}/src/{module}.rs", rust_file(rng, crate, module, max(40, target)))
        write(f"{crate.directory}/src/lib.rs", crate_root(crate, rng))
        write(f"{crate.directory}/Cargo.toml", member_manifest(crate, rng))
        documented = "`candle`, `hub`" if crate.heavy else "`simd`"
        write(f"{crate.directory}/README.md", f"# {crate.name}\n\nFeatures: {documented}.\n")
        for b in range(crate.benches):
            router = crate.routers[0] if crate.routers else "0"
            dot = crate.dots[b % len(crate.dots)] if crate.dots else "0"
            if crate.routers:
                write(
                    f"{crate.directory}/benches/{crate.ident}_bench{b}.rs",
                    BENCH.format(ident=crate.ident, name=f"b{b}", router=router, dot=dot),
                )
    for e in range(examples):
        directory = f"examples/example-{e}"
        write(
            f"{directory}/Cargo.toml",
            f'[package]\nname = "example-{e}"\nversion.workspace = true\n'
            f"edition.workspace = true\npublish = false\n\n[dependencies]\n{crates[e % len(crates)].name} = "
            f'{{ path = "../../{crates[e % len(crates)].directory}" }}\n',
        )
        write(f"{directory}/src/main.rs", 'fn main() {\n    println!("example");\n}\n')
        for f in range(4):
            write(f"{directory}/src/part{f}.rs", rust_file(rng, Crate("ex", directory, 4, False), f"part{f}", 120))
    for z in range(fuzz):
        crate = crates[z % len(crates)]
        directory = f"{crate.directory}/fuzz"
        write(
            f"{directory}/Cargo.toml",
            f'[package]\nname = "{crate.name}-fuzz{z}"\nversion = "0.0.0"\n'
            'publish = false\nedition = "2021"\n\n[package.metadata]\ncargo-fuzz = true\n\n'
            f'[dependencies]\nlibfuzzer-sys = "0.4"\n\n[workspace]\nmembers = ["."]\n',
        )
        for t in range(2):
            write(
                f"{directory}/fuzz_targets/target{t}.rs",
                "#![no_main]\nlibfuzzer_sys::fuzz_target!(|data: &[u8]| {\n    let _ = data.len();\n});\n",
            )
    for x in range(fixtures):
        crate = crates[x % len(crates)]
        write(
            f"{crate.directory}/tests/fixtures/case{x}/Cargo.toml",
            f'[package]\nname = "fixture{x}"\nversion = "0.1.0"\nedition = "2021"\n',
        )
    return counts


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
    parser.add_argument("--scale", type=float, default=1.0, help="files per crate relative to the full shape")
    parser.add_argument("--git", action="store_true", help="commit the result in a new git repo")
    args = parser.parse_args()
    counts = generate(args.out, args.scale)
    print(", ".join(f"{k}: {v:,}" for k, v in counts.items()))
    if args.git:
        print(git_commit_all(args.out, "generated workspace"))


if __name__ == "__main__":
    main()
