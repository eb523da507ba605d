//! The Kubernetes permissions the operator uses, and nothing more, derived from the kind
//! registry ([`KINDS`]) so that a new kind cannot be forgotten. The Helm chart's ClusterRole
//! and Role hold exactly these rules; `tests/chart.rs` fails when they drift apart.

use sessionops_api::{GROUP, KINDS};

/// One RBAC rule: API group, resources, verbs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// API group (`""` is the core group).
    pub api_group: &'static str,
    /// Resources (subresources as `plural/status`).
    pub resources: Vec<String>,
    /// Verbs.
    pub verbs: &'static [&'static str],
}

/// Cluster-wide rules (ClusterRole): the operator watches its kinds in every namespace (or
/// the one `--watch-namespace` names) and patches their status, patches the finalizer onto the
/// kinds that have one (it honours `deletionPolicy`), reads credential Secrets by name, and
/// stores generated temporary passwords in a Secret beside their RevocationRequest.
pub fn cluster_rules() -> Vec<Rule> {
    let plurals = |finalizer: bool| -> Vec<String> {
        KINDS
            .iter()
            .filter(|k| k.finalizer == finalizer)
            .map(|k| k.plural.to_owned())
            .collect()
    };
    let mut rules = Vec::new();
    let with_finalizer = plurals(true);
    if !with_finalizer.is_empty() {
        rules.push(Rule {
            api_group: GROUP,
            resources: with_finalizer,
            verbs: &["list", "watch", "patch"],
        });
    }
    rules.push(Rule {
        api_group: GROUP,
        resources: plurals(false),
        verbs: &["list", "watch"],
    });
    rules.push(Rule {
        api_group: GROUP,
        resources: KINDS
            .iter()
            .map(|k| format!("{}/status", k.plural))
            .collect(),
        verbs: &["patch"],
    });
    rules.push(Rule {
        // get: the credential a connection's secretRef names (read by name, never listed).
        // create, patch: the Secret holding requirePasswordChange's temporary passwords.
        api_group: "",
        resources: vec!["secrets".to_owned()],
        verbs: &["get", "create", "patch"],
    });
    rules.push(Rule {
        api_group: "events.k8s.io",
        resources: vec!["events".to_owned()],
        verbs: &["create", "patch"],
    });
    rules
}

/// Rules in the operator's own namespace (Role): the leader-election Lease.
pub fn namespace_rules() -> Vec<Rule> {
    vec![Rule {
        api_group: "coordination.k8s.io",
        resources: vec!["leases".to_owned()],
        verbs: &["get", "create", "patch"],
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grants(rules: &[Rule], group: &str, resource: &str, verb: &str) -> bool {
        rules.iter().any(|r| {
            r.api_group == group
                && r.resources.iter().any(|s| s == resource)
                && r.verbs.contains(&verb)
        })
    }

    /// Every CRD the operator installs is watchable and its status patchable: the watch
    /// streams list and watch every plural, and every controller patches `/status`.
    #[test]
    fn every_crd_is_listed_watched_and_its_status_patched() {
        let rules = cluster_rules();
        let crds = sessionops_api::crds::all();
        assert_eq!(crds.len(), KINDS.len());
        for crd in crds {
            let (group, plural) = (crd.spec.group.as_str(), crd.spec.names.plural.as_str());
            for verb in ["list", "watch"] {
                assert!(grants(&rules, group, plural, verb), "{verb} {plural}");
            }
            let status = format!("{plural}/status");
            assert!(grants(&rules, group, &status, "patch"), "patch {status}");
            // Status is written by patch only; nothing here may create or delete the kinds.
            for verb in ["create", "delete", "update"] {
                assert!(!grants(&rules, group, plural, verb), "{verb} {plural}");
            }
        }
        assert!(
            grants(&rules, GROUP, "sessionpolicies", "patch"),
            "finalizer"
        );
        assert!(!grants(&rules, GROUP, "revocationrequests", "patch"));
    }
}
