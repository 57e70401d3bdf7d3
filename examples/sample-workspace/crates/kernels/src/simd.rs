//! Dot products and friends, with a fast path over raw pointers.
//!
//! The unchecked variants skip bounds checks on the routing hot path; their callers
//! guarantee the lengths.

/// Dot product of two equally long slices.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    // SAFETY: both slices have `a.len()` elements, checked just above.
    unsafe { dot_unchecked(a.as_ptr(), b.as_ptr(), a.len()) }
}

/// Dot product over raw pointers, four lanes at a time.
///
/// # Safety
/// `a` and `b` must each point to `n` initialised, readable `f32`s.
pub unsafe fn dot_unchecked(a: *const f32, b: *const f32, n: usize) -> f32 {
    let mut acc = [0.0f32; 4];
    let chunks = n / 4;
    for i in 0..chunks {
        for lane in 0..4 {
            // SAFETY: `i * 4 + lane < chunks * 4 <= n`, inside both buffers.
            let (x, y) = unsafe { (*a.add(i * 4 + lane), *b.add(i * 4 + lane)) };
            acc[lane] += x * y;
        }
    }
    let mut sum = acc[0] + acc[1] + acc[2] + acc[3];
    for i in chunks * 4..n {
        sum += unsafe { *a.add(i) * *b.add(i) };
    }
    sum
}

/// Half-precision dot product (inputs as raw `u16` bit patterns).
pub unsafe fn dot_f16(a: *const u16, b: *const u16, n: usize) -> f32 {
    let mut sum = 0.0f32;
    for i in 0..n {
        let (x, y) = (f16_to_f32(*a.add(i)), f16_to_f32(*b.add(i)));
        sum += x * y;
    }
    sum
}

fn f16_to_f32(bits: u16) -> f32 {
    let sign = ((bits >> 15) as u32) << 31;
    let exp = ((bits >> 10) & 0x1f) as u32;
    let frac = (bits & 0x3ff) as u32;
    if exp == 0 {
        return f32::from_bits(sign);
    }
    f32::from_bits(sign | ((exp + 112) << 23) | (frac << 13))
}

/// `y += alpha * x`.
pub fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    let n = x.len().min(y.len());
    let (xp, yp) = (x.as_ptr(), y.as_mut_ptr());
    for i in 0..n {
        unsafe { *yp.add(i) += alpha * *xp.add(i) };
    }
}

/// Numerically stable softmax, in place.
pub fn softmax_in_place(v: &mut [f32]) {
    let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut total = 0.0;
    for x in v.iter_mut() {
        *x = (*x - max).exp();
        total += *x;
    }
    for x in v.iter_mut() {
        *x /= total;
    }
}

/// Indices of the `k` largest scores, best first.
pub fn top_k_indices(scores: &[f32], k: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|a, b| scores[*b].total_cmp(&scores[*a]));
    order.truncate(k);
    order
}
