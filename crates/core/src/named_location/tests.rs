use super::*;
use serde_json::json;

fn spec(value: serde_json::Value) -> NamedLocationSpec {
    let mut spec = json!({"tenantRef": {"kind": "ClusterTenantConnection", "name": "contoso"}, "displayName": "Head office"});
    for (key, v) in value.as_object().unwrap() {
        spec[key] = v.clone();
    }
    serde_json::from_value(spec).unwrap()
}

/// The location as Graph returns it (`ipnamedlocation.md` example shape).
fn as_graph_returns(desired: &NamedLocation, id: &str) -> NamedLocation {
    let mut body = desired.write_body();
    body["id"] = json!(id);
    body["createdDateTime"] = json!("2026-11-27T10:00:00Z");
    body["modifiedDateTime"] = json!("2026-11-27T10:00:00Z");
    serde_json::from_value(body).unwrap()
}

#[test]
fn an_ip_location_is_written_with_its_derived_types() {
    let desired = desired_location(
        &spec(json!({"ip": {"ranges": ["203.0.113.0/24", "2001:db8::/48"], "trusted": true}})),
        "identity",
        "office",
    );
    assert_eq!(
        desired.write_body(),
        json!({
            "@odata.type": "#microsoft.graph.ipNamedLocation",
            "displayName": "Head office",
            "isTrusted": true,
            "ipRanges": [
                {"@odata.type": "#microsoft.graph.iPv4CidrRange", "cidrAddress": "203.0.113.0/24"},
                {"@odata.type": "#microsoft.graph.iPv6CidrRange", "cidrAddress": "2001:db8::/48"}
            ]
        })
    );
    let Plan::Create { body, .. } = plan(&desired, None, &[], &[]).unwrap() else {
        panic!("a missing location is created");
    };
    assert_eq!(body, desired.write_body());
}

#[test]
fn representation_differences_are_not_drift_and_edits_patch_with_the_type() {
    let desired = desired_location(
        &spec(json!({"country": {"countries": ["KP", "IR"]}})),
        "identity",
        "blocked",
    );
    let mut observed = as_graph_returns(&desired, "l-1");
    // Order, case, Graph's default lookup method left out.
    observed.countries_and_regions = Some(vec!["ir".into(), "KP".into()]);
    observed.country_lookup_method = None;
    assert_eq!(
        plan(&desired, Some("l-1"), std::slice::from_ref(&observed), &[]).unwrap(),
        Plan::NoOp {
            id: "l-1".into(),
            adopted: false
        }
    );
    // A portal edit: one more country. The PATCH names the derived type and the changed
    // property only.
    observed.countries_and_regions = Some(vec!["KP".into(), "IR".into(), "CU".into()]);
    let Plan::Update { patch, changes, .. } =
        plan(&desired, Some("l-1"), std::slice::from_ref(&observed), &[]).unwrap()
    else {
        panic!("an edited location is updated");
    };
    assert_eq!(changes.len(), 1);
    assert_eq!(
        patch,
        json!({"@odata.type": "#microsoft.graph.countryNamedLocation", "countriesAndRegions": ["KP", "IR"]})
    );
}

#[test]
fn adoption_restore_duplicates_and_type_changes() {
    let desired = desired_location(
        &spec(json!({"ip": {"ranges": ["203.0.113.0/24"]}})),
        "identity",
        "office",
    );
    let existing = as_graph_returns(&desired, "l-1");
    assert!(matches!(
        plan(&desired, None, std::slice::from_ref(&existing), &[]).unwrap(),
        Plan::NoOp { adopted: true, .. }
    ));
    let mut deleted = existing.clone();
    deleted.deleted_date_time = Some("2026-11-28T10:00:00Z".into());
    let Plan::Restore { id, patch, .. } =
        plan(&desired, Some("l-1"), &[], std::slice::from_ref(&deleted)).unwrap()
    else {
        panic!("a deleted location is restored");
    };
    assert_eq!((id.as_str(), patch), ("l-1", json!({})));
    let twice = [existing.clone(), as_graph_returns(&desired, "l-2")];
    assert!(matches!(
        plan(&desired, None, &twice, &[]),
        Err(LocationError::DuplicateInTenant { count: 2, .. })
    ));
    let country = desired_location(
        &spec(json!({"country": {"countries": ["US"]}})),
        "identity",
        "office",
    );
    let refused = plan(&country, None, std::slice::from_ref(&existing), &[]).unwrap_err();
    assert_eq!(
        refused.to_string(),
        "named location l-1 has type ip and the spec asks for country; Graph cannot change a location's type: delete it or rename the spec's location"
    );
}
