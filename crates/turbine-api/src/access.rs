//! Permission checks: the resource's [`Rule`] for an operation, first before anything is read
//! (who may call the endpoint at all), then on the object (policies, ownership).

use turbine_auth::service::codename;
use turbine_auth::{CurrentUser, Error as AuthError};
use turbine_orm::{Db, Value};

use crate::resource::{Op, Resource, Rule};

fn forbidden(resource: &Resource, op: Op) -> turbine_core::Error {
    AuthError::Forbidden(format!(
        "you may not {} {}",
        op.action().as_str(),
        resource.meta.verbose_name_plural
    ))
    .into()
}

/// The check before the object is loaded. Returns the signed-in user when the rule needs one.
pub(crate) async fn check_endpoint<'u>(
    resource: &Resource,
    op: Op,
    user: Option<&'u CurrentUser>,
) -> turbine_core::Result<Option<&'u CurrentUser>> {
    check_rule(resource, op, resource.rule(op), user).await?;
    Ok(user)
}

/// [`check_endpoint`] with a given rule (a list view's).
pub(crate) async fn check_rule(
    resource: &Resource,
    op: Op,
    rule: Rule,
    user: Option<&CurrentUser>,
) -> turbine_core::Result<()> {
    if rule == Rule::Anyone {
        return Ok(());
    }
    if rule == Rule::Nobody {
        return Err(forbidden(resource, op));
    }
    let user = user.ok_or(AuthError::Unauthenticated)?;
    let allowed = match rule {
        Rule::Staff => user.is_staff || user.is_superuser,
        // On one object the policy may still allow what the model permission does not.
        Rule::Permission if matches!(op, Op::List | Op::Create) => {
            user.has_perm(&codename(&resource.meta, op.action().as_str()))
                .await?
        }
        _ => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(forbidden(resource, op))
    }
}

/// The check on a loaded object (`values` in column order).
pub(crate) async fn check_object(
    resource: &Resource,
    op: Op,
    user: Option<&CurrentUser>,
    values: &[Value],
    db: &Db,
) -> turbine_core::Result<()> {
    let rule = resource.rule(op);
    let Some(user) = user else {
        return Ok(()); // `check_endpoint` let an anonymous user through: the rule is `Anyone`.
    };
    if !matches!(rule, Rule::Permission | Rule::Owner) || user.is_superuser {
        return Ok(());
    }
    let allowed = match resource
        .store
        .policy(user, op.action(), &resource.meta, values)
    {
        Some(answer) => answer,
        None => {
            (rule == Rule::Owner && is_owner(resource, user, values, db).await?)
                || user
                    .has_perm(&codename(&resource.meta, op.action().as_str()))
                    .await?
        }
    };
    if allowed {
        Ok(())
    } else {
        Err(forbidden(resource, op))
    }
}

async fn is_owner(
    resource: &Resource,
    user: &CurrentUser,
    values: &[Value],
    db: &Db,
) -> turbine_core::Result<bool> {
    let Some(owner) = &resource.owner else {
        return Ok(false);
    };
    let Some(pos) = resource.position(&owner.field) else {
        return Ok(false);
    };
    let mine = (owner.resolve)(user.clone(), db.clone()).await?;
    Ok(values.get(pos).is_some_and(|v| same(v, &mine)))
}

/// Values equal as JSON (an `Int` key and a `BigInt` owner value are the same key).
pub(crate) fn same(a: &Value, b: &Value) -> bool {
    crate::render::json_of(a) == crate::render::json_of(b)
}
