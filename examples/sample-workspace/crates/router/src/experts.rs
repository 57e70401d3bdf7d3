pub type ExpertId = usize;

pub trait Expert { fn forward(&self, x: &[f32], out: &mut [f32]); }
pub struct DenseExpert;
pub struct SparseExpert;
pub struct GatedExpert;
pub struct MlpExpert;
pub struct ExpertShard;
pub struct ExpertStats;
pub struct ExpertPool { pub experts: Vec<Box<dyn Expert>> }

pub fn new_pool() -> ExpertPool { ExpertPool { experts: Vec::new() } }
pub fn expert_for_token(token: usize, n: usize) -> ExpertId { token % n }
pub fn experts_by_load(loads: &[u32]) -> Vec<ExpertId> { (0..loads.len()).collect() }
pub fn shard_of(id: ExpertId) -> usize { id / 8 }
