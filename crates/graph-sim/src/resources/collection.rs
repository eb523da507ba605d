//! A collection of stored documents exposed the OData way: list with `$filter`, `$select` and
//! `$top` paging, get, soft delete, deleted items, restore and purge. Conditional Access
//! policies, named locations, authentication strengths and timeout policies are all this.

use serde_json::Value;

use super::Ctx;
use super::store::{Record, RecordStore};
use crate::error::GraphError;
use crate::odata;
use crate::pipeline::{ApiVersion, GraphResponse};
use crate::tenant::Tenant;

/// One document collection.
pub(crate) struct Collection {
    /// Context path of live objects: `identity/conditionalAccess/policies`.
    pub entity_set: &'static str,
    /// Context path of deleted objects (unused by collections without deleted items).
    pub deleted_set: &'static str,
    /// Type name for `$select` errors.
    pub type_name: &'static str,
    /// Properties `$select` and `$filter` may name.
    pub properties: &'static [&'static str],
    pub store: fn(&Tenant) -> &RecordStore,
    pub store_mut: fn(&mut Tenant) -> &mut RecordStore,
    /// The object as a reader of this version sees it (the bool is the `Prefer` header).
    pub render: fn(&Tenant, &Record, ApiVersion, bool) -> Value,
}

impl Collection {
    fn render(&self, ctx: &Ctx<'_>, record: &Record) -> Value {
        (self.render)(
            ctx.tenant,
            record,
            ctx.version(),
            ctx.req.include_unknown_enum_members(),
        )
    }

    fn check_select(&self, ctx: &Ctx<'_>) -> Result<(), GraphError> {
        match &ctx.query.select {
            Some(select) => odata::check_select(select, self.properties, self.type_name),
            None => Ok(()),
        }
    }

    fn list_records<'r>(
        &self,
        ctx: &Ctx<'_>,
        records: impl Iterator<Item = &'r Record>,
        entity_set: &str,
    ) -> Result<GraphResponse, GraphError> {
        let query = ctx.query;
        self.check_select(ctx)?;
        if let Some(filter) = &query.filter {
            filter.check(self.properties, self.type_name, true)?;
        }
        // These collections are small (a tenant holds at most a few hundred policies) and
        // Graph returns them whole unless `$top` asks for pages.
        let size = query.page_size(usize::MAX, odata::DIRECTORY_MAX_PAGE)?;
        let mut values = Vec::new();
        for record in records {
            let object = self.render(ctx, record);
            let keep = query
                .filter
                .as_ref()
                .is_none_or(|f| f.matches(&|p| object.get(p).cloned().unwrap_or(Value::Null)));
            if keep {
                values.push(match &query.select {
                    Some(select) => odata::select_fields(&object, select),
                    None => object,
                });
            }
        }
        let page = odata::paginate(values, query.offset, size);
        let next = page.next_offset.map(|n| odata::next_link(ctx.req, n));
        Ok(GraphResponse::ok(odata::collection_body(
            odata::context(
                ctx.version(),
                &odata::collection_fragment(entity_set, query.select.as_deref()),
            ),
            page.items,
            next,
            None,
        )))
    }

    fn entity(&self, ctx: &Ctx<'_>, record: &Record, entity_set: &str) -> Value {
        let object = self.render(ctx, record);
        let object = match &ctx.query.select {
            Some(select) => odata::select_fields(&object, select),
            None => object,
        };
        odata::entity_body(
            odata::context(
                ctx.version(),
                &odata::entity_fragment(entity_set, ctx.query.select.as_deref()),
            ),
            object,
        )
    }

    /// `GET` of the live collection.
    pub(crate) fn list(&self, ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
        let records = (self.store)(ctx.tenant).active(ctx.instant);
        self.list_records(ctx, records, self.entity_set)
    }

    /// `GET` of one live object.
    pub(crate) fn get(&self, ctx: &mut Ctx<'_>, id: &str) -> Result<GraphResponse, GraphError> {
        self.check_select(ctx)?;
        let record = (self.store)(ctx.tenant)
            .get_active(id, ctx.instant)
            .ok_or_else(|| GraphError::not_found(id))?;
        let body = self.entity(ctx, record, self.entity_set);
        Ok(GraphResponse::ok(self.with_tips(
            ctx,
            body,
            self.entity_set,
        )))
    }

    /// Graph adds a `@microsoft.graph.tips` annotation to reads without `$select`
    /// (conditionalaccesspolicy-get.md, policydeletableitem-list.md): metadata that clients
    /// must ignore, so the simulator sends it too.
    fn with_tips(&self, ctx: &Ctx<'_>, mut body: Value, entity_set: &str) -> Value {
        if ctx.query.select.is_none()
            && self.deleted_set != self.entity_set
            && let Value::Object(map) = &mut body
        {
            map.insert(
                "@microsoft.graph.tips".into(),
                Value::String(format!(
                    "Use $select to choose only the properties your app needs, as this can lead to performance improvements. For example: GET {entity_set}?$select=createdDateTime,displayName"
                )),
            );
        }
        body
    }

    /// `DELETE`: moves the object to the deleted items (204).
    pub(crate) fn delete(&self, ctx: &mut Ctx<'_>, id: &str) -> Result<GraphResponse, GraphError> {
        if (self.store_mut)(ctx.tenant).soft_delete(id, ctx.now, ctx.instant) {
            Ok(GraphResponse::no_content())
        } else {
            Err(GraphError::not_found(id))
        }
    }

    /// `GET …/deletedItems/…`.
    pub(crate) fn list_deleted(&self, ctx: &mut Ctx<'_>) -> Result<GraphResponse, GraphError> {
        let records = (self.store)(ctx.tenant).deleted();
        let mut response = self.list_records(ctx, records, self.deleted_set)?;
        if let Some(body) = response.body.take() {
            response.body = Some(self.with_tips(ctx, body, self.deleted_set));
        }
        Ok(response)
    }

    /// `GET …/deletedItems/…/{id}`.
    pub(crate) fn get_deleted(
        &self,
        ctx: &mut Ctx<'_>,
        id: &str,
    ) -> Result<GraphResponse, GraphError> {
        self.check_select(ctx)?;
        let record = (self.store)(ctx.tenant)
            .get_deleted(id)
            .ok_or_else(|| GraphError::not_found(id))?;
        let body = self.entity(ctx, record, self.deleted_set);
        Ok(GraphResponse::ok(self.with_tips(
            ctx,
            body,
            self.deleted_set,
        )))
    }

    /// `POST …/deletedItems/…/{id}/restore`: 200 with the object, in the state it had.
    pub(crate) fn restore(&self, ctx: &mut Ctx<'_>, id: &str) -> Result<GraphResponse, GraphError> {
        let (now, instant) = (ctx.now, ctx.instant);
        let record = (self.store_mut)(ctx.tenant)
            .restore(id, now, instant)
            .cloned()
            .ok_or_else(|| GraphError::not_found(id))?;
        Ok(GraphResponse::ok(self.entity(
            ctx,
            &record,
            self.entity_set,
        )))
    }

    /// `DELETE …/deletedItems/…/{id}`: gone for good (204).
    pub(crate) fn purge(&self, ctx: &mut Ctx<'_>, id: &str) -> Result<GraphResponse, GraphError> {
        if (self.store_mut)(ctx.tenant).purge(id, true, ctx.instant) {
            Ok(GraphResponse::no_content())
        } else {
            Err(GraphError::not_found(id))
        }
    }

    /// The 201 answer to a POST: the new object, which its creator sees even during lag.
    pub(crate) fn created(&self, ctx: &Ctx<'_>, record: &Record) -> GraphResponse {
        GraphResponse::created(odata::entity_body(
            odata::context(
                ctx.version(),
                &odata::entity_fragment(self.entity_set, None),
            ),
            self.render(ctx, record),
        ))
    }

    /// `DELETE` for collections without deleted items (204).
    pub(crate) fn delete_permanently(
        &self,
        ctx: &mut Ctx<'_>,
        id: &str,
    ) -> Result<GraphResponse, GraphError> {
        if (self.store_mut)(ctx.tenant).purge(id, false, ctx.instant) {
            Ok(GraphResponse::no_content())
        } else {
            Err(GraphError::not_found(id))
        }
    }
}
