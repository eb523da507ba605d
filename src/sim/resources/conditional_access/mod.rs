//! Conditional Access (fact sheet §§3, 4): policies and named locations, with their soft-deleted
//! items.

pub mod named_locations;
pub mod policies;
pub mod schema;
