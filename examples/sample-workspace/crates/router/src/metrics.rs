pub struct RoutingMetrics { pub calls: u64, pub nanos: u64 }
pub struct RoutingCounters;
pub struct LatencyHistogram;
pub struct CacheHitRate(pub f32);
pub struct LoadImbalance(pub f32);
pub struct TokensPerExpert(pub Vec<u32>);

pub fn record_latency(m: &mut RoutingMetrics, nanos: u64) { m.calls += 1; m.nanos += nanos; }
pub fn reset_counters(m: &mut RoutingMetrics) { m.calls = 0; m.nanos = 0; }
pub fn histogram_buckets() -> [u64; 8] { [1, 2, 4, 8, 16, 32, 64, 128] }
