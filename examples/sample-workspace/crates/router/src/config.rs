pub const DEFAULT_TOP_K: usize = 2;
pub const DEFAULT_CAPACITY: f32 = 1.25;
pub const MAX_EXPERTS: usize = 64;

pub struct RouterConfig { pub top_k: TopK, pub capacity: CapacityFactor }
pub struct TopK(pub usize);
pub struct CapacityFactor(pub f32);
pub struct ExpertConfig;
pub struct GateConfig;
pub struct LoadBalanceConfig;
pub struct NoiseConfig;
