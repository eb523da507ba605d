//! NamedLocation on the tenant-object seam, against the simulator: create, read back in sync,
//! a portal edit corrected by a PATCH that names the derived type, delete into deleted items,
//! restore. (The kind's drivers, operator and CLI, come with its registration.)

use sessionops_testkit as common;

use serde_json::json;
use sessionops_api::NamedLocationSpec;
use sessionops_core::named_location::{ENDPOINTS, desired_location, plan};
use sessionops_core::tenant_object::Plan;
use sessionops_core::tenant_object::io::{self, AppliedAction};
use sessionops_graph::models::NamedLocation;
use sessionops_graph::{GraphClient, GraphRequest, paths};

async fn read(client: &GraphClient) -> io::TenantObjects<NamedLocation> {
    let mut objects = io::read(client, &ENDPOINTS, false).await.unwrap();
    io::read_deleted(client, &ENDPOINTS, &mut objects)
        .await
        .unwrap();
    objects
}

#[tokio::test]
async fn a_location_is_created_kept_as_written_and_restored() {
    let (_sim, client) = common::start_unpaced().await;
    let spec: NamedLocationSpec = serde_json::from_value(json!({
        "tenantRef": {"kind": "ClusterTenantConnection", "name": "contoso"},
        "displayName": "Head office",
        "ip": {"ranges": ["203.0.113.0/24", "2001:db8::/48"], "trusted": true}
    }))
    .unwrap();
    let desired = desired_location(&spec, "identity", "office");

    let tenant = read(&client).await;
    let created = plan(&desired, None, &tenant.active, &tenant.deleted).unwrap();
    assert!(matches!(created, Plan::Create { .. }));
    let applied = io::apply(&client, &ENDPOINTS, &created).await.unwrap();
    assert_eq!(applied.action, AppliedAction::Created);
    let id = applied.id.clone();
    let tenant = read(&client).await;
    assert_eq!(
        plan(&desired, Some(&id), &tenant.active, &tenant.deleted).unwrap(),
        Plan::NoOp {
            id: id.clone(),
            adopted: false
        },
        "what Graph returns is what was written"
    );

    // A portal edit: the range list replaced, the location untrusted.
    client
        .send(GraphRequest::patch(
            &paths::named_location(&id),
            json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "isTrusted": false,
                   "ipRanges": [{"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "198.51.100.0/24"}]}),
        ))
        .await
        .unwrap();
    let tenant = read(&client).await;
    let update = plan(&desired, Some(&id), &tenant.active, &tenant.deleted).unwrap();
    let Plan::Update { changes, .. } = &update else {
        panic!("the edit is found: {update:?}");
    };
    let fields: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
    assert_eq!(fields, ["ipRanges", "isTrusted"]);
    io::apply(&client, &ENDPOINTS, &update).await.unwrap();
    let tenant = read(&client).await;
    assert!(matches!(
        plan(&desired, Some(&id), &tenant.active, &tenant.deleted).unwrap(),
        Plan::NoOp { .. }
    ));

    // Deleted in the portal: found among deleted items (beta) and restored with its id.
    // A trusted location cannot be deleted; the portal untrusts it first.
    client
        .send(GraphRequest::patch(
            &paths::named_location(&id),
            json!({"@odata.type": "#microsoft.graph.ipNamedLocation", "isTrusted": false}),
        ))
        .await
        .unwrap();
    io::delete(&client, &ENDPOINTS, &id).await.unwrap();
    let tenant = read(&client).await;
    assert!(tenant.active.is_empty());
    let restore = plan(&desired, Some(&id), &tenant.active, &tenant.deleted).unwrap();
    assert!(matches!(&restore, Plan::Restore { id: restored, .. } if *restored == id));
    let applied = io::apply(&client, &ENDPOINTS, &restore).await.unwrap();
    assert_eq!(applied.action, AppliedAction::Restored);
    let tenant = read(&client).await;
    assert!(matches!(
        plan(&desired, Some(&id), &tenant.active, &tenant.deleted).unwrap(),
        Plan::NoOp { .. }
    ));
}

/// A CA policy (created as the portal would) whose locations condition names `location`.
async fn policy_naming(client: &GraphClient, location: &str) -> String {
    let created: serde_json::Value = client
        .send_json(GraphRequest::post(
            paths::CONDITIONAL_ACCESS_POLICIES,
            json!({
                "displayName": "Block outside the office",
                "state": "disabled",
                "conditions": {
                    "users": {"includeUsers": ["All"]},
                    "applications": {"includeApplications": ["All"]},
                    "clientAppTypes": ["all"],
                    "locations": {"includeLocations": ["All"], "excludeLocations": [location]}
                },
                "grantControls": {"operator": "OR", "builtInControls": ["block"]}
            }),
        ))
        .await
        .unwrap();
    created["id"].as_str().unwrap().to_owned()
}

/// Deleting a NamedLocation's location: refused (InUse, naming the policy) while a policy
/// names it, then untrusted and deleted once none does. Graph refuses to delete a trusted
/// location outright, which the simulator reproduces.
#[tokio::test]
async fn a_location_in_use_is_kept_and_a_trusted_one_is_untrusted_before_delete() {
    use sessionops_core::status::Reason;
    use sessionops_core::tenant_object::kind::SeamKind;
    let (_sim, client) = common::start_unpaced().await;
    let spec: NamedLocationSpec = serde_json::from_value(json!({
        "tenantRef": {"kind": "ClusterTenantConnection", "name": "contoso"},
        "displayName": "Head office",
        "ip": {"ranges": ["203.0.113.0/24"], "trusted": true}
    }))
    .unwrap();
    let desired = desired_location(&spec, "identity", "office");
    let tenant = read(&client).await;
    let created = plan(&desired, None, &tenant.active, &tenant.deleted).unwrap();
    let id = io::apply(&client, &ENDPOINTS, &created).await.unwrap().id;

    let refused = client
        .send(GraphRequest::delete(&paths::named_location(&id)))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("trusted"), "{refused}");

    let policy = policy_naming(&client, &id).await;
    let in_use = <sessionops_api::NamedLocation as SeamKind>::delete(&client, &id)
        .await
        .unwrap_err();
    assert_eq!(in_use.reason(), Reason::InUse);
    assert!(in_use.to_string().contains(&policy), "{in_use}");
    assert_eq!(read(&client).await.active.len(), 1, "nothing was written");
    assert_eq!(
        read(&client).await.active[0].is_trusted,
        Some(true),
        "not even the untrust"
    );

    client
        .send(GraphRequest::delete(&paths::conditional_access_policy(
            &policy,
        )))
        .await
        .unwrap();
    <sessionops_api::NamedLocation as SeamKind>::delete(&client, &id)
        .await
        .unwrap();
    let tenant = read(&client).await;
    assert!(tenant.active.is_empty());
    assert_eq!(tenant.deleted.len(), 1);
    assert_eq!(tenant.deleted[0].is_trusted, Some(false));
    // Gone already is success.
    <sessionops_api::NamedLocation as SeamKind>::delete(&client, &id)
        .await
        .unwrap();
}
