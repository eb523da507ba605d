//! The Kubernetes permissions the operator uses, and nothing more. The Helm chart's ClusterRole
//! and Role hold exactly these rules; `tests/chart.rs` fails when they drift apart.

/// One RBAC rule: API group, resources, verbs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// API group (`""` is the core group).
    pub api_group: &'static str,
    /// Resources (subresources as `kind/status`).
    pub resources: &'static [&'static str],
    /// Verbs.
    pub verbs: &'static [&'static str],
}

/// Cluster-wide rules (ClusterRole): the operator watches its kinds in every namespace (or
/// the one `--watch-namespace` names), reads credential Secrets by name, and stores generated
/// temporary passwords in a Secret beside their RevocationRequest.
pub const CLUSTER_RULES: &[Rule] = &[
    Rule {
        api_group: "sessionops.io",
        // patch: the finalizer that honours deletionPolicy.
        resources: &["sessionpolicies"],
        verbs: &["list", "watch", "patch"],
    },
    Rule {
        api_group: "sessionops.io",
        resources: &[
            "clustertenantconnections",
            "tenantconnections",
            "revocationrequests",
        ],
        verbs: &["list", "watch"],
    },
    Rule {
        api_group: "sessionops.io",
        resources: &[
            "clustertenantconnections/status",
            "tenantconnections/status",
            "sessionpolicies/status",
            "revocationrequests/status",
        ],
        verbs: &["patch"],
    },
    Rule {
        // get: the credential a connection's secretRef names (read by name, never listed).
        // create, patch: the Secret holding requirePasswordChange's temporary passwords.
        api_group: "",
        resources: &["secrets"],
        verbs: &["get", "create", "patch"],
    },
    Rule {
        api_group: "events.k8s.io",
        resources: &["events"],
        verbs: &["create", "patch"],
    },
];

/// Rules in the operator's own namespace (Role): the leader-election Lease.
pub const NAMESPACE_RULES: &[Rule] = &[Rule {
    api_group: "coordination.k8s.io",
    resources: &["leases"],
    verbs: &["get", "create", "patch"],
}];
