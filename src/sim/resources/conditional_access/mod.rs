//! Conditional Access (`conditionalaccesspolicy.md`, `conditionalaccessroot-post-namedlocations.md`): policies and named locations, with their soft-deleted
//! items.

pub mod named_locations;
pub mod policies;
pub mod schema;
