//! The directory and policies of the simulated tenant, built from the seed file and the
//! generation flags with deterministic ids.

use std::collections::HashSet;
use std::time::Instant;

use jiff::{SignedDuration, Timestamp};

use super::config::{ConfigError, SimConfig};
use super::ids::{self, IdSequence};
use super::resources::authentication_strengths;
use super::resources::conditional_access::{named_locations, policies};
use super::resources::devices::{Device, Devices};
use super::resources::groups::{Group, Groups, Member};
use super::resources::risky_users::{RISK_LEVELS, RISK_STATES};
use super::resources::role_templates;
use super::resources::service_principals::ServicePrincipal;
use super::resources::store::{Record, RecordStore};
use super::resources::users::{RiskState, User, Users};
use super::resources::{sharepoint_settings, timeout_policies};
use super::seed::{Seed, SeedGroup, SeedUser, UserType};

/// Everything in the tenant.
#[derive(Debug)]
pub(crate) struct Tenant {
    pub users: Users,
    pub devices: Devices,
    pub groups: Groups,
    pub service_principals: Vec<ServicePrincipal>,
    pub policies: RecordStore,
    pub named_locations: RecordStore,
    pub authentication_strengths: RecordStore,
    pub timeout_policies: RecordStore,
    /// SharePoint and OneDrive tenant settings (`/admin/sharepoint/settings`).
    pub share_point_settings: serde_json::Map<String, serde_json::Value>,
    /// Ids of objects created through the API.
    pub ids: IdSequence,
}

fn seed_error(message: impl Into<String>) -> ConfigError {
    ConfigError::Seed(message.into())
}

impl Tenant {
    /// Builds the tenant: seeded users and groups first, then generated ones, then policies
    /// (which may refer to seeded authentication strengths).
    pub(crate) fn build(
        config: &SimConfig,
        now: Timestamp,
        at: Instant,
    ) -> Result<Tenant, ConfigError> {
        let mut tenant = Tenant {
            users: Users::default(),
            devices: Devices::default(),
            groups: Groups::default(),
            service_principals: Vec::new(),
            policies: RecordStore::default(),
            named_locations: RecordStore::default(),
            authentication_strengths: RecordStore::default(),
            timeout_policies: RecordStore::default(),
            share_point_settings: sharepoint_settings::defaults(),
            ids: IdSequence::default(),
        };
        for record in authentication_strengths::built_ins(at) {
            tenant.authentication_strengths.insert(record);
        }
        // Accounts exist long before anyone revokes them, so the first revocation visibly moves
        // signInSessionsValidFromDateTime even within the second the simulator started.
        let created = now
            .checked_sub(SignedDuration::from_hours(30 * 24))
            .unwrap_or(now);
        let empty = Seed::default();
        let seed = config.seed.as_ref().unwrap_or(&empty);
        for user in &seed.users {
            tenant.add_seed_user(user, created, now)?;
        }
        for (index, seeded) in seed.service_principals.iter().enumerate() {
            let id = seeded.id.clone().unwrap_or_else(|| {
                ids::derive(&format!(
                    "servicePrincipal:{}",
                    seeded.app_id.to_lowercase()
                ))
            });
            if tenant
                .service_principals
                .iter()
                .any(|sp| sp.id == id || sp.app_id.eq_ignore_ascii_case(&seeded.app_id))
            {
                return Err(seed_error(format!(
                    "servicePrincipals[{index}]: duplicate id or appId"
                )));
            }
            tenant.service_principals.push(ServicePrincipal {
                id,
                app_id: seeded.app_id.clone(),
                display_name: seeded.display_name.clone(),
            });
        }
        let mut generated = Vec::new();
        for n in 1..=config.users {
            let upn = format!("user{n:04}@{}", config.domain);
            let mut user = User::new(
                ids::derive(&format!("user:{}", upn.to_lowercase())),
                upn,
                format!("User {n:04}"),
                created,
            );
            user.given_name = Some("User".to_owned());
            user.surname = Some(format!("{n:04}"));
            generated.push(user.id.clone());
            tenant.users.insert(user).map_err(seed_error)?;
        }
        tenant.add_seed_groups(&seed.groups, created)?;
        for (name, count) in &config.groups {
            if tenant.groups.find_by_name(name).is_some() {
                return Err(seed_error(format!(
                    "group '{name}' is both seeded and generated"
                )));
            }
            let members = generated
                .iter()
                .take(*count as usize)
                .map(|id| Member::User(id.clone()))
                .collect();
            tenant
                .groups
                .insert(Group {
                    id: ids::derive(&format!("group:{}", name.to_lowercase())),
                    display_name: name.clone(),
                    description: Some(format!("The first {count} generated users")),
                    created,
                    members,
                })
                .map_err(seed_error)?;
        }
        tenant.add_seed_policies(seed, now, at)?;
        Ok(tenant)
    }

    fn add_seed_user(
        &mut self,
        seed: &SeedUser,
        created: Timestamp,
        now: Timestamp,
    ) -> Result<(), ConfigError> {
        let upn = seed.user_principal_name.clone();
        if !upn.contains('@') {
            return Err(seed_error(format!(
                "user '{upn}': userPrincipalName must look like name@domain"
            )));
        }
        let id = seed
            .id
            .clone()
            .unwrap_or_else(|| ids::derive(&format!("user:{}", upn.to_lowercase())));
        let display_name = seed
            .display_name
            .clone()
            .unwrap_or_else(|| upn.split('@').next().unwrap_or_default().to_owned());
        let mut user = User::new(id, upn.clone(), display_name, created);
        user.given_name = seed.given_name.clone();
        user.surname = seed.surname.clone();
        user.mail = seed.mail.clone();
        if let Some(job) = &seed.job_title {
            user.strings.insert("jobTitle", job.clone());
        }
        user.user_type = seed.user_type;
        user.external = seed.external.unwrap_or(seed.user_type == UserType::Guest);
        for role in &seed.directory_roles {
            let id = role_templates::template_id(role).ok_or_else(|| {
                seed_error(format!(
                    "user '{upn}': '{role}' is not a built-in directory role the simulator knows"
                ))
            })?;
            user.directory_roles.push(id.to_owned());
        }
        user.account_enabled = seed.account_enabled;
        user.on_premises_sync_enabled = seed.on_premises_sync_enabled;
        if seed.risk_level.is_some() || seed.risk_state.is_some() {
            let level = seed.risk_level.clone().unwrap_or_else(|| "none".into());
            let state = seed.risk_state.clone().unwrap_or_else(|| "atRisk".into());
            if !RISK_LEVELS.contains(&level.as_str()) {
                return Err(seed_error(format!(
                    "user '{upn}': unknown riskLevel '{level}'"
                )));
            }
            if !RISK_STATES.contains(&state.as_str()) {
                return Err(seed_error(format!(
                    "user '{upn}': unknown riskState '{state}'"
                )));
            }
            user.risk = RiskState {
                level,
                state,
                detail: "none".into(),
                last_updated: Some(now),
            };
        }
        for (index, device) in seed.devices.iter().enumerate() {
            if !matches!(
                device.trust_type.as_str(),
                "AzureAd" | "Workplace" | "ServerAd"
            ) {
                return Err(seed_error(format!(
                    "device '{}': trustType must be AzureAd, Workplace or ServerAd",
                    device.display_name
                )));
            }
            let key = format!("{}:{index}", upn.to_lowercase());
            let device = Device {
                id: device
                    .id
                    .clone()
                    .unwrap_or_else(|| ids::derive(&format!("device:{key}"))),
                device_id: device
                    .device_id
                    .clone()
                    .unwrap_or_else(|| ids::derive(&format!("deviceId:{key}"))),
                display_name: device.display_name.clone(),
                operating_system: device.operating_system.clone(),
                operating_system_version: device.operating_system_version.clone(),
                trust_type: device.trust_type.clone(),
                account_enabled: device.account_enabled,
                is_compliant: device.is_compliant,
                is_managed: device.is_managed,
                registered: created,
            };
            user.devices.push(device.id.clone());
            self.devices.insert(device).map_err(seed_error)?;
        }
        self.users.insert(user).map_err(seed_error)
    }

    /// Groups are created first and their members resolved afterwards, so a group may contain
    /// a group seeded after it. Nesting cycles are refused (the directory has none).
    fn add_seed_groups(
        &mut self,
        seeds: &[SeedGroup],
        created: Timestamp,
    ) -> Result<(), ConfigError> {
        for seed in seeds {
            if self.groups.find_by_name(&seed.display_name).is_some() {
                return Err(seed_error(format!(
                    "duplicate group '{}'",
                    seed.display_name
                )));
            }
            let id = seed.id.clone().unwrap_or_else(|| {
                ids::derive(&format!("group:{}", seed.display_name.to_lowercase()))
            });
            self.groups
                .insert(Group {
                    id,
                    display_name: seed.display_name.clone(),
                    description: seed.description.clone(),
                    created,
                    members: Vec::new(),
                })
                .map_err(seed_error)?;
        }
        for seed in seeds {
            let mut members = Vec::new();
            for name in &seed.members {
                let member = if let Some(user) = self.users.find(name) {
                    Member::User(user.id.clone())
                } else if let Some(group) = self
                    .groups
                    .find_by_name(name)
                    .or_else(|| self.groups.find(name))
                {
                    Member::Group(group.id.clone())
                } else {
                    return Err(seed_error(format!(
                        "group '{}': member '{name}' is neither a user nor a group",
                        seed.display_name
                    )));
                };
                if !members.contains(&member) {
                    members.push(member);
                }
            }
            if let Some(group) = self.groups.find_by_name_mut(&seed.display_name) {
                group.members = members;
            }
        }
        for seed in seeds {
            let Some(group) = self.groups.find_by_name(&seed.display_name) else {
                continue;
            };
            if self.contains_group(&group.id, &group.id, &mut HashSet::new()) {
                return Err(seed_error(format!(
                    "group '{}' is nested in itself",
                    seed.display_name
                )));
            }
        }
        Ok(())
    }

    /// True when `needle` is reachable from the members of `from`.
    fn contains_group(&self, from: &str, needle: &str, visited: &mut HashSet<String>) -> bool {
        let Some(group) = self.groups.find(from) else {
            return false;
        };
        group.members.iter().any(|member| match member {
            Member::Group(id) if id == needle => true,
            Member::Group(id) if visited.insert(id.clone()) => {
                self.contains_group(id, needle, visited)
            }
            _ => false,
        })
    }

    fn add_seed_policies(
        &mut self,
        seed: &Seed,
        now: Timestamp,
        at: Instant,
    ) -> Result<(), ConfigError> {
        for (index, location) in seed.named_locations.iter().enumerate() {
            let record = named_locations::record_from_raw(location, self, now, at)
                .map_err(|e| seed_error(format!("namedLocations[{index}]: {}", e.message)))?;
            self.insert_unique("namedLocations", index, record, |t| &mut t.named_locations)?;
        }
        for (index, strength) in seed.authentication_strength_policies.iter().enumerate() {
            if index >= authentication_strengths::MAX_CUSTOM {
                return Err(seed_error(format!(
                    "authenticationStrengthPolicies[{index}]: a tenant has at most {} custom authentication strengths",
                    authentication_strengths::MAX_CUSTOM
                )));
            }
            let doc = authentication_strengths::custom_document(
                &strength.display_name,
                strength.description.as_deref(),
                &strength.allowed_combinations,
            )
            .map_err(|e| {
                seed_error(format!(
                    "authenticationStrengthPolicies[{index}]: {}",
                    e.message
                ))
            })?;
            let id = strength.id.clone().unwrap_or_else(|| {
                ids::derive(&format!(
                    "authenticationStrength:{}",
                    strength.display_name.to_lowercase()
                ))
            });
            let record = Record::new(id, doc, now, at);
            self.insert_unique("authenticationStrengthPolicies", index, record, |t| {
                &mut t.authentication_strengths
            })?;
        }
        for (index, policy) in seed.conditional_access_policies.iter().enumerate() {
            let record = policies::record_from_raw(policy, self, now, at).map_err(|e| {
                seed_error(format!("conditionalAccessPolicies[{index}]: {}", e.message))
            })?;
            self.policies.insert(record);
        }
        for (index, policy) in seed.activity_based_timeout_policies.iter().enumerate() {
            let record = timeout_policies::record_from_raw(policy, self, now, at).map_err(|e| {
                seed_error(format!(
                    "activityBasedTimeoutPolicies[{index}]: {}",
                    e.message
                ))
            })?;
            self.insert_unique("activityBasedTimeoutPolicies", index, record, |t| {
                &mut t.timeout_policies
            })?;
        }
        if let Some(settings) = &seed.share_point_settings {
            let Some(settings) = settings.as_object() else {
                return Err(seed_error("sharePointSettings must be an object"));
            };
            sharepoint_settings::merge(&mut self.share_point_settings, settings)
                .map_err(|e| seed_error(format!("sharePointSettings: {}", e.message)))?;
        }
        Ok(())
    }

    fn insert_unique(
        &mut self,
        what: &str,
        index: usize,
        record: Record,
        store: fn(&mut Tenant) -> &mut RecordStore,
    ) -> Result<(), ConfigError> {
        let store = store(self);
        if store.contains_id(&record.id) {
            return Err(seed_error(format!(
                "{what}[{index}]: duplicate id {}",
                record.id
            )));
        }
        store.insert(record);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(seed: &str, users: u32, groups: Vec<(String, u32)>) -> Result<Tenant, ConfigError> {
        let config = SimConfig {
            users,
            groups,
            seed: Some(Seed::from_yaml(seed).unwrap()),
            ..SimConfig::default()
        };
        Tenant::build(&config, Timestamp::now(), Instant::now())
    }

    #[test]
    fn seeds_and_generates_with_stable_ids() {
        let seed = "users:\n  - userPrincipalName: jdoe@contoso.com\n    devices: [{displayName: L1}]\ngroups:\n  - displayName: outer\n    members: [inner, user0002@contoso.onmicrosoft.com]\n  - displayName: inner\n    members: [jdoe@contoso.com]\n";
        let tenant = build(seed, 3, vec![("staff".into(), 2)]).unwrap();
        assert_eq!(tenant.users.len(), 4);
        let jdoe = tenant.users.find("JDOE@contoso.com").unwrap();
        assert_eq!(jdoe.id, ids::derive("user:jdoe@contoso.com"));
        assert_eq!(jdoe.devices.len(), 1);
        let outer = tenant.groups.find_by_name("outer").unwrap();
        assert_eq!(tenant.groups.transitive_members(&outer.id).len(), 3);
        let staff = tenant.groups.find_by_name("staff").unwrap();
        assert_eq!(staff.members.len(), 2);
        assert_eq!(
            tenant.authentication_strengths.all().count(),
            3,
            "the built-in strengths"
        );
    }

    #[test]
    fn refuses_unknown_members_cycles_and_bad_policies() {
        let unknown = "groups:\n  - displayName: g\n    members: [nobody@x.com]\n";
        assert!(
            build(unknown, 0, vec![])
                .unwrap_err()
                .to_string()
                .contains("nobody@x.com")
        );
        let cycle =
            "groups:\n  - displayName: a\n    members: [b]\n  - displayName: b\n    members: [a]\n";
        assert!(
            build(cycle, 0, vec![])
                .unwrap_err()
                .to_string()
                .contains("nested in itself")
        );
        let strengths: String = (0..=authentication_strengths::MAX_CUSTOM)
            .map(|n| format!("  - {{displayName: s{n}, allowedCombinations: [fido2]}}\n"))
            .collect();
        let err = build(
            &format!("authenticationStrengthPolicies:\n{strengths}"),
            0,
            vec![],
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("authenticationStrengthPolicies[15]: a tenant has at most 15"),
            "{err}"
        );
        let policy = "conditionalAccessPolicies:\n  - displayName: p\n    state: on\n    conditions: {users: {includeUsers: [All]}, clientAppTypes: [all]}\n";
        let err = build(policy, 0, vec![]).unwrap_err().to_string();
        assert!(err.contains("conditionalAccessPolicies[0]"), "{err}");
    }
}
