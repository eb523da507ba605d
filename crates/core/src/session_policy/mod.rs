//! SessionPolicy → one Conditional Access policy: the pure plan ([`plan`]), applying plans to
//! one tenant ([`sync`]), the operator's read shared by a tenant's reconciles ([`shared`]) and the way back, policy → manifest ([`export`]).

pub mod export;
pub mod fields;
pub mod plan;
pub mod shared;
pub mod sync;
pub mod wire;
