//! SIMD-style kernels used on the routing path.

mod buf;
mod simd;

pub use buf::AlignedBuf;
pub use simd::{axpy, dot, dot_f16, softmax_in_place, top_k_indices};
