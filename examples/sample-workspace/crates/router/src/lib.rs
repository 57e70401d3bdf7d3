//! Mixture-of-experts routing for the sample workspace.
#![allow(dead_code)]
#![allow(unused_imports, unused_variables, unused_mut)]
#![allow(clippy::too_many_arguments, clippy::type_complexity, clippy::new_without_default)]
#![allow(clippy::needless_range_loop, clippy::manual_memcpy, clippy::large_enum_variant)]
#![allow(clippy::module_inception, clippy::len_without_is_empty, clippy::should_implement_trait)]

pub mod config;
pub mod experts;
pub mod metrics;
pub mod router;

pub use config::{
    CapacityFactor, ExpertConfig, GateConfig, LoadBalanceConfig, NoiseConfig, RouterConfig, TopK,
};
pub use experts::{
    DenseExpert, Expert, ExpertId, ExpertPool, ExpertShard, ExpertStats, GatedExpert, MlpExpert, SparseExpert,
};
pub use metrics::{
    CacheHitRate, LatencyHistogram, LoadImbalance, RoutingCounters, RoutingMetrics, TokensPerExpert,
};
pub use router::{
    MemoryAwareRouter, RouteDecision, RouteScratch, RouterError, RouterOutput, RoutingTable, Score,
};
pub use sample_kernels::{axpy, dot, dot_f16, softmax_in_place, top_k_indices, AlignedBuf};
pub use config::{DEFAULT_CAPACITY, DEFAULT_TOP_K, MAX_EXPERTS};
pub use experts::{expert_for_token, experts_by_load, new_pool, shard_of};
pub use metrics::{histogram_buckets, record_latency, reset_counters};
pub use router::{route_batch, route_token, score_experts, select_top_k, warm_up};
pub use router::prelude::*;
