//! The routing hot path: score every expert for a token, keep the best `top_k`.

use std::time::Instant;

use crate::metrics::{record_latency, RoutingMetrics};

pub type Score = f32;
pub struct RouteDecision { pub experts: Vec<usize> }
pub struct RouterOutput;
pub struct RoutingTable;
pub struct RouteScratch;
pub enum RouterError { NoExperts }

pub mod prelude {
    pub use super::{MemoryAwareRouter, RouteDecision};
}

pub struct MemoryAwareRouter {
    gate: Vec<f32>,
    n_experts: usize,
    top_k: usize,
    /// Reused across calls so routing does not allocate.
    result_buffer: Vec<usize>,
    metrics: RoutingMetrics,
}

impl MemoryAwareRouter {
    // ruvopt: hot
    pub fn select_top_k_buffered(&mut self, scores: &[f32]) -> Vec<usize> {
        let start = Instant::now();
        let mut buf = std::mem::take(&mut self.result_buffer);
        buf.clear();
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_unstable_by(|a, b| scores[*b].total_cmp(&scores[*a]));
        buf.extend_from_slice(&order[..self.top_k]);
        record_latency(&mut self.metrics, start.elapsed().as_nanos() as u64);
        buf
    }

    // ruvopt: hot
    pub fn score_experts(&self, hidden: &[f32], scores: &mut [f32]) {
        for (e, score) in scores.iter_mut().enumerate() {
            let row = &self.gate[e * hidden.len()..(e + 1) * hidden.len()];
            *score = sample_kernels::dot(row, hidden);
        }
    }
}

pub fn select_top_k(scores: &[f32], k: usize) -> Vec<usize> { sample_kernels::top_k_indices(scores, k) }
pub fn score_experts(router: &MemoryAwareRouter, hidden: &[f32], out: &mut [f32]) { router.score_experts(hidden, out) }
pub fn route_token(router: &mut MemoryAwareRouter, scores: &[f32]) -> Vec<usize> { router.select_top_k_buffered(scores) }
pub fn route_batch(router: &mut MemoryAwareRouter, batch: &[Vec<f32>]) -> Vec<Vec<usize>> {
    batch.iter().map(|s| router.select_top_k_buffered(s)).collect()
}
pub fn warm_up(router: &mut MemoryAwareRouter) { router.result_buffer.reserve(router.top_k); }
