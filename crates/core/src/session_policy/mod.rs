//! SessionPolicy → one Conditional Access policy: the pure plan ([`plan`]), applying plans to
//! one tenant ([`sync`], where SessionPolicy implements the seam's
//! [`crate::tenant_object::kind::SeamKind`]) and the way back, policy → manifest ([`export`]).

pub mod export;
pub mod fields;
pub mod plan;
pub mod sync;
pub mod wire;

use serde_json::Value;
use sessionops_graph::models::{
    ConditionDevices, ConditionSet, ConditionalAccessPolicy, GrantControls, PolicyState,
    SessionControls,
};

use crate::tenant_object::TenantObject;

impl TenantObject for ConditionalAccessPolicy {
    fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    fn display_name(&self) -> &str {
        &self.display_name
    }

    fn deleted_date_time(&self) -> Option<&str> {
        self.deleted_date_time.as_deref()
    }

    fn write_body(&self) -> Value {
        self.to_write_body()
    }

    /// Every container a field lives in, present and empty; grant controls keep Graph's
    /// default operator.
    fn cleared() -> Value {
        ConditionalAccessPolicy {
            id: None,
            display_name: String::new(),
            description: None,
            state: PolicyState::Disabled,
            conditions: ConditionSet {
                users: Some(Default::default()),
                applications: Some(Default::default()),
                platforms: Some(Default::default()),
                locations: Some(Default::default()),
                devices: Some(ConditionDevices::default()),
                client_applications: Some(Default::default()),
                authentication_flows: Some(Default::default()),
                device_states: Some(Default::default()),
                ..Default::default()
            },
            grant_controls: Some(GrantControls {
                operator: Some("OR".to_owned()),
                ..Default::default()
            }),
            session_controls: Some(SessionControls::default()),
            created_date_time: None,
            modified_date_time: None,
            deleted_date_time: None,
            template_id: None,
            extra: Default::default(),
        }
        .to_write_body()
    }
}
