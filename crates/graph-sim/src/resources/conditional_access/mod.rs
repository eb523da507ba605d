//! Conditional Access (`conditionalaccesspolicy.md`, `conditionalaccessroot-post-namedlocations.md`): policies and named locations, with their soft-deleted
//! items.

pub(crate) mod named_locations;
pub(crate) mod policies;
pub(crate) mod schema;
