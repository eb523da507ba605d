//! SessionPolicy → one Conditional Access policy: the pure plan ([`plan`]), applying plans to
//! one tenant with one shared read ([`sync`]) and the way back, policy → manifest ([`export`]).

pub mod export;
pub mod plan;
pub mod sync;
