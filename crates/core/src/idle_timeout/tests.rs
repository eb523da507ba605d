use serde_json::{Value, json};

use super::export::spec_from_timeout_policy;
use super::*;
use crate::tenant_object::export::Exported;
use sessionops_api::{ApplicationIdleTimeout, TenantKind};

/// The definition `activitybasedtimeoutpolicy.md` shows (default 1 h, Azure portal 15 min).
const DOCUMENTED: &str = r#"{"ActivityBasedTimeoutPolicy":{"Version":1,"ApplicationPolicies":[{"ApplicationId":"default","WebSessionIdleTimeout":"01:00:00"},{"ApplicationId":"c44b4083-3bb0-49c1-b47d-974e53cbdf3c","WebSessionIdleTimeout":"00:15:00"}]}}"#;

fn tenant() -> TenantRef {
    TenantRef {
        kind: TenantKind::ClusterTenantConnection,
        name: "contoso".into(),
    }
}

fn spec(share_point: Option<(&str, &str)>) -> IdleTimeoutPolicySpec {
    IdleTimeoutPolicySpec {
        tenant_ref: tenant(),
        display_name: Some("Web idle timeout".into()),
        description: None,
        deletion_policy: DeletionPolicy::Delete,
        default: "1h".into(),
        applications: vec![ApplicationIdleTimeout {
            app: "AzurePortal".into(),
            idle_timeout: "15m".into(),
        }],
        share_point: share_point.map(|(warn, sign_out)| SharePointIdleSignOut {
            warn_after: warn.into(),
            sign_out_after: sign_out.into(),
        }),
    }
}

fn policy(value: Value) -> ActivityBasedTimeoutPolicy {
    serde_json::from_value(value).unwrap()
}

fn tenant_policy(
    id: &str,
    name: &str,
    definition: &str,
    default: bool,
) -> ActivityBasedTimeoutPolicy {
    policy(json!({
        "id": id, "displayName": name, "definition": [definition],
        "isOrganizationDefault": default, "description": null
    }))
}

#[test]
fn graph_timespans_are_read_in_every_form_and_written_as_the_docs_say() {
    for (text, seconds) in [
        ("01:00:00", 3_600),
        ("1:00:00", 3_600),
        ("0.01:00:00", 3_600),
        ("00:15:00", 900),
        ("00:15:00.0000000", 900),
        ("23:59:59", 86_400),
        ("1.00:00:00", 86_400),
        (" 08:00:00 ", 28_800),
    ] {
        assert_eq!(timespan_seconds(text), Some(seconds), "{text}");
    }
    for bad in [
        "",
        "15m",
        "24:00:00",
        "00:60:00",
        "1:2",
        "x.01:00:00",
        "001:00:00",
    ] {
        assert_eq!(timespan_seconds(bad), None, "{bad}");
    }
    assert_eq!(timespan(3_600), "01:00:00");
    assert_eq!(timespan(900), "00:15:00");
    assert_eq!(timespan(86_400), "23:59:59");
}

/// The documented definition, and the same definition as another writer might format it, plan
/// to no change against the spec that asks for it.
#[test]
fn the_documented_definition_in_any_textual_form_is_not_drift() {
    let desired = desired(&spec(None), "identity", "web");
    let variants = [
        DOCUMENTED.to_owned(),
        // Whitespace and key order (PowerShell's ConvertTo-Json, hand-written JSON).
        r#"{ "ActivityBasedTimeoutPolicy": { "ApplicationPolicies": [ { "WebSessionIdleTimeout": "00:15:00", "ApplicationId": "C44B4083-3BB0-49C1-B47D-974E53CBDF3C" }, { "ApplicationId": "default", "WebSessionIdleTimeout": "1:00:00" } ], "Version": 1 } }"#.to_owned(),
        // Days and fractions, as .NET's TimeSpan writes them.
        DOCUMENTED
            .replace("01:00:00", "0.01:00:00")
            .replace("00:15:00", "00:15:00.0000000"),
    ];
    for text in variants {
        let read = IdleTimeoutRead {
            policies: vec![tenant_policy("t-1", "Web idle timeout", &text, true)],
            share_point: None,
        };
        assert_eq!(
            plan(&desired, Some("t-1"), &read),
            Ok(Plan::NoOp {
                id: "t-1".into(),
                adopted: false
            }),
            "{text}"
        );
    }
    // A real change is one field, the definition, with the parsed values.
    let read = IdleTimeoutRead {
        policies: vec![tenant_policy(
            "t-1",
            "Web idle timeout",
            &DOCUMENTED.replace("01:00:00", "02:00:00"),
            true,
        )],
        share_point: None,
    };
    let Ok(Plan::Update { changes, patch, .. }) = plan(&desired, Some("t-1"), &read) else {
        panic!()
    };
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].field, "definition");
    assert_eq!(changes[0].tenant["applications"]["default"], json!("2h"));
    assert_eq!(changes[0].desired["applications"]["default"], json!("1h"));
    assert_eq!(
        changes[0].desired["applications"]["AzurePortal"],
        json!("15m")
    );
    let written: Vec<String> = serde_json::from_value(patch["definition"].clone()).unwrap();
    assert_eq!(
        definition_value(&written),
        definition_value(&[DOCUMENTED.to_owned()])
    );
    assert_eq!(patch.as_object().unwrap().len(), 1, "{patch}");
}

#[test]
fn the_organization_default_is_adopted_whatever_its_name_and_a_new_one_is_refused() {
    let desired = desired(&spec(None), "identity", "web");
    let portal = tenant_policy("t-9", "DefaultTimeoutPolicy", DOCUMENTED, true);
    let other = tenant_policy("t-2", "Web idle timeout", DOCUMENTED, false);
    let read = IdleTimeoutRead {
        policies: vec![other.clone(), portal.clone()],
        share_point: None,
    };
    // Adopted by being the default, renamed to the spec's name.
    let Ok(Plan::Update {
        id,
        changes,
        adopted,
        ..
    }) = plan(&desired, None, &read)
    else {
        panic!()
    };
    assert_eq!((id.as_str(), adopted), ("t-9", true));
    assert_eq!(
        changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(),
        ["displayName"]
    );
    // Managed t-2, but someone made t-9 the default: refused, naming both.
    let refused = plan(&desired, Some("t-2"), &read).unwrap_err();
    assert!(matches!(refused, IdleTimeoutError::OtherDefault { .. }));
    assert!(refused.to_string().contains("t-9") && refused.to_string().contains("t-2"));
    // No default: adopted by display name (and made the default).
    let read = IdleTimeoutRead {
        policies: vec![other],
        share_point: None,
    };
    let Ok(Plan::Update { changes, .. }) = plan(&desired, None, &read) else {
        panic!()
    };
    assert_eq!(changes[0].field, "isOrganizationDefault");
    // Nothing: created as the default, in the documented shape.
    let Ok(Plan::Create { body, .. }) = plan(&desired, None, &IdleTimeoutRead::default()) else {
        panic!()
    };
    assert_eq!(body["isOrganizationDefault"], json!(true));
    assert_eq!(body["displayName"], json!("Web idle timeout"));
    assert!(body.get(SHARE_POINT_PROPERTY).is_none());
    let definition: Vec<String> = serde_json::from_value(body["definition"].clone()).unwrap();
    assert_eq!(
        definition_value(&definition),
        definition_value(&[DOCUMENTED.to_owned()])
    );
}

#[test]
fn share_point_is_compared_and_written_only_when_the_spec_sets_it() {
    let read = |setting: Option<IdleSessionSignOut>| IdleTimeoutRead {
        policies: vec![tenant_policy("t-1", "Web idle timeout", DOCUMENTED, true)],
        share_point: setting,
    };
    // Not managed: whatever SharePoint has is not looked at.
    let unmanaged = desired(&spec(None), "identity", "web");
    assert!(matches!(
        plan(&unmanaged, Some("t-1"), &read(None)),
        Ok(Plan::NoOp { .. })
    ));
    // Managed and off (Graph's default): one change, sent whole to SharePoint.
    let managed = desired(&spec(Some(("45m", "1h"))), "identity", "web");
    let off = IdleSessionSignOut {
        is_enabled: Some(false),
        warn_after_in_seconds: Some(0),
        sign_out_after_in_seconds: Some(0),
    };
    let Ok(Plan::Update { changes, patch, .. }) = plan(&managed, Some("t-1"), &read(Some(off)))
    else {
        panic!()
    };
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].field, SHARE_POINT_PROPERTY);
    assert_eq!(
        patch,
        json!({SHARE_POINT_PROPERTY: {"isEnabled": true, "warnAfterInSeconds": 2_700, "signOutAfterInSeconds": 3_600}})
    );
    let (policy, share_point) = split(&patch);
    assert!(policy.is_empty());
    assert!(share_point.is_some());
    // In sync.
    let on = share_point_setting(&SharePointIdleSignOut {
        warn_after: "45m".into(),
        sign_out_after: "1h".into(),
    });
    assert!(matches!(
        plan(&managed, Some("t-1"), &read(Some(on))),
        Ok(Plan::NoOp { .. })
    ));
}

#[test]
fn a_write_is_folded_into_the_read_so_the_next_plan_is_no_change() {
    let managed = desired(&spec(Some(("45m", "1h"))), "identity", "web");
    let mut read = IdleTimeoutRead {
        policies: Vec::new(),
        share_point: Some(IdleSessionSignOut::default()),
    };
    let created = plan(&managed, None, &read).unwrap();
    let applied = Applied {
        id: "t-new".into(),
        action: AppliedAction::Created,
        version: ApiVersion::V1,
        changed_fields: Vec::new(),
        note: None,
    };
    assert!(record(&mut read, &created, &applied));
    assert!(matches!(
        plan(&managed, Some("t-new"), &read),
        Ok(Plan::NoOp { .. })
    ));
}

#[test]
fn the_default_exports_to_a_spec_that_plans_back_unchanged_and_others_are_left_out() {
    let documented = tenant_policy("t-1", "Web idle timeout", DOCUMENTED, true);
    let on = IdleSessionSignOut {
        is_enabled: Some(true),
        warn_after_in_seconds: Some(2_700),
        sign_out_after_in_seconds: Some(3_600),
    };
    let Ok(Exported::Spec(exported)) = spec_from_timeout_policy(&documented, Some(&on), &tenant())
    else {
        panic!()
    };
    assert_eq!(exported, spec(Some(("45m", "1h"))));
    let one_day = tenant_policy(
        "t-1",
        "Day",
        &DOCUMENTED.replace("01:00:00", "23:59:59"),
        true,
    );
    let Ok(Exported::Spec(exported)) = spec_from_timeout_policy(&one_day, None, &tenant()) else {
        panic!()
    };
    assert_eq!(exported.default, "24h");
    assert!(exported.share_point.is_none());
    let inactive = tenant_policy("t-2", "Old", DOCUMENTED, false);
    assert!(matches!(
        spec_from_timeout_policy(&inactive, None, &tenant()),
        Ok(Exported::LeftOut(_))
    ));
    // Content a spec cannot write refuses the policy, naming it.
    let other_app = tenant_policy(
        "t-3",
        "Apps",
        &DOCUMENTED.replace(
            "c44b4083-3bb0-49c1-b47d-974e53cbdf3c",
            "00000002-0000-0ff1-ce00-000000000000",
        ),
        true,
    );
    let refused = spec_from_timeout_policy(&other_app, None, &tenant()).unwrap_err();
    assert!(
        refused.reasons[0].contains("00000002-0000-0ff1-ce00-000000000000"),
        "{refused:?}"
    );
    let extra_key = tenant_policy(
        "t-4",
        "Keys",
        &DOCUMENTED.replace("\"Version\":1", "\"Version\":1,\"Grace\":\"00:01:00\""),
        true,
    );
    let refused = spec_from_timeout_policy(&extra_key, None, &tenant()).unwrap_err();
    assert_eq!(
        refused.reasons,
        ["definition.ActivityBasedTimeoutPolicy.Grace"]
    );
}
