//! Filters, expressions, aggregates and sort keys to sea-query expressions, against a model's
//! metadata (fields resolved by name, values coerced to the field's type, always bound).

use sea_query::{
    Alias, Asterisk, Expr as SqExpr, ExprTrait, Func, NullOrdering, Order, SelectStatement,
};

use super::aggregate::{AggFunc, Aggregate};
use super::convert::{coerce, value_to_json};
use super::expr::{ArithOp, Expr};
use super::filter::{Condition, Filter, Lookup, Target};
use super::order::{Nulls, OrderBy};
use super::pattern::{TextOp, glob_pattern, like_pattern};
use crate::backend::Dialect;
use crate::error::{Error, Result};
use crate::meta::{FieldMeta, FieldType, ModelMeta};
use crate::value::Value;

/// How a model's columns are named in one statement.
pub(crate) struct Scope<'a> {
    pub(crate) meta: &'a ModelMeta,
    /// The table name or alias that qualifies columns; `None` leaves them unqualified.
    pub(crate) qualifier: Option<String>,
    pub(crate) dialect: Dialect,
}

/// The error for a field the model does not have, listing the fields it has.
pub(crate) fn unknown_field(meta: &ModelMeta, name: &str) -> String {
    let names: Vec<&str> = meta
        .fields
        .iter()
        .filter(|f| f.has_column())
        .map(|f| f.name.as_str())
        .collect();
    format!(
        "{} has no field `{name}`; its fields are: {}",
        meta.label(),
        names.join(", ")
    )
}

/// `true` for text fields (the ones text lookups apply to).
pub(crate) fn is_text(ty: &FieldType) -> bool {
    matches!(ty, FieldType::String { .. } | FieldType::Text)
}

impl<'a> Scope<'a> {
    /// Unqualified columns of `meta`.
    pub(crate) fn new(meta: &'a ModelMeta, dialect: Dialect) -> Self {
        Self {
            meta,
            qualifier: None,
            dialect,
        }
    }

    /// Columns of `meta` qualified by `alias`.
    pub(crate) fn qualified(meta: &'a ModelMeta, alias: String, dialect: Dialect) -> Self {
        Self {
            meta,
            qualifier: Some(alias),
            dialect,
        }
    }

    /// Custom SQL around expressions, written with `$1`, `$2`… in order (each once); SQLite's
    /// builder takes `?` instead.
    fn custom<const N: usize>(&self, sql: &'static str, exprs: [SqExpr; N]) -> SqExpr {
        match self.dialect {
            Dialect::Postgres => SqExpr::cust_with_exprs(sql, exprs),
            _ => {
                let mut out = String::with_capacity(sql.len());
                let mut chars = sql.chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
                        while chars.peek().is_some_and(char::is_ascii_digit) {
                            chars.next();
                        }
                        out.push('?');
                    } else {
                        out.push(c);
                    }
                }
                SqExpr::cust_with_exprs(out, exprs)
            }
        }
    }

    /// A column field by name.
    pub(crate) fn field(&self, name: &str) -> Result<&'a FieldMeta> {
        self.meta
            .fields
            .iter()
            .find(|f| f.name == name && f.has_column())
            .ok_or_else(|| Error::Query(unknown_field(self.meta, name)))
    }

    /// The column of a field.
    pub(crate) fn col(&self, f: &FieldMeta) -> SqExpr {
        match &self.qualifier {
            Some(q) => SqExpr::col((Alias::new(q.as_str()), Alias::new(f.column.as_str()))),
            None => SqExpr::col(Alias::new(f.column.as_str())),
        }
    }

    /// A value expression; values are coerced to `ty` when given.
    pub(crate) fn expr(&self, e: &Expr, ty: Option<&FieldType>) -> Result<SqExpr> {
        Ok(match e {
            Expr::Field(name) => self.col(self.field(name)?),
            Expr::Value(v) => SqExpr::val(match ty {
                Some(ty) => coerce(v.clone(), ty),
                None => v.clone(),
            }),
            Expr::Arith(l, op, r) => {
                let (l, r) = (self.expr(l, ty)?, self.expr(r, ty)?);
                match op {
                    ArithOp::Add => l.add(r),
                    ArithOp::Sub => l.sub(r),
                    ArithOp::Mul => l.mul(r),
                    ArithOp::Div => l.div(r),
                }
            }
        })
    }

    /// The WHERE expression of a filter; `None` when it matches every row.
    pub(crate) fn filter(&self, f: &Filter) -> Result<Option<SqExpr>> {
        match f {
            Filter::All => Ok(None),
            f => self.filter_inner(f, false).map(Some),
        }
    }

    fn filter_inner(&self, f: &Filter, negated: bool) -> Result<SqExpr> {
        Ok(match f {
            Filter::All => SqExpr::cust("1 = 1"),
            Filter::Nothing => SqExpr::cust("1 = 0"),
            Filter::Cond(c) => self.condition(c, negated)?,
            Filter::And(parts) => self.chain(parts, negated, true)?,
            Filter::Or(parts) => self.chain(parts, negated, false)?,
            Filter::Not(inner) => self.filter_inner(inner, true)?.not(),
            Filter::Related {
                field,
                target,
                filter,
            } => self.related(field, target.meta(), filter, negated)?,
        })
    }

    /// `fk IN (SELECT pk FROM target WHERE filter)`.
    fn related(
        &self,
        field: &str,
        target: &ModelMeta,
        filter: &Filter,
        negated: bool,
    ) -> Result<SqExpr> {
        let f = self.field(field)?;
        match &f.relation {
            Some(r)
                if r.kind != crate::meta::RelationKind::ManyToMany && r.to == target.label() => {}
            _ => {
                return Err(Error::Query(format!(
                    "{}.{field} is not a foreign key to {}",
                    self.meta.label(),
                    target.label()
                )));
            }
        }
        let inner = Scope::new(target, self.dialect);
        let pk = super::select::primary_key(target)?;
        let mut sel = SelectStatement::new();
        sel.expr(inner.col(pk))
            .from(Alias::new(target.table.as_str()));
        if let Some(cond) = inner.filter(filter)? {
            sel.and_where(cond);
        }
        let lhs = self.col(f);
        let cond = lhs.clone().in_subquery(sel);
        Ok(if negated && f.nullable {
            cond.and(lhs.is_not_null())
        } else {
            cond
        })
    }

    fn chain(&self, parts: &[Filter], negated: bool, and: bool) -> Result<SqExpr> {
        let mut out: Option<SqExpr> = None;
        for p in parts {
            let e = self.filter_inner(p, negated)?;
            out = Some(match out {
                None => e,
                Some(acc) if and => acc.and(e),
                Some(acc) => acc.or(e),
            });
        }
        Ok(out.unwrap_or_else(|| SqExpr::cust(if and { "1 = 1" } else { "1 = 0" })))
    }

    fn condition(&self, c: &Condition, negated: bool) -> Result<SqExpr> {
        match &c.target {
            Target::Field(name) => {
                let f = self.field(name)?;
                if c.lookup.is_text() && !is_text(&f.ty) {
                    return Err(Error::Query(format!(
                        "{}.{name}: text lookups need a text field",
                        self.meta.label()
                    )));
                }
                self.lookup(self.col(f), Some(&f.ty), f.nullable, &c.lookup, negated)
            }
            Target::Json { field, path } => self.json_condition(field, path, &c.lookup, negated),
            Target::Aggregate(a) => {
                if c.lookup.is_text() {
                    return Err(Error::Query("aggregates take comparisons only".into()));
                }
                self.lookup(self.aggregate(a)?, None, true, &c.lookup, negated)
            }
        }
    }

    fn lookup(
        &self,
        lhs: SqExpr,
        ty: Option<&FieldType>,
        nullable: bool,
        lookup: &Lookup,
        negated: bool,
    ) -> Result<SqExpr> {
        let rhs = |e: &Expr| self.expr(e, ty);
        let cond = match lookup {
            Lookup::Eq(e) if e.is_null_value() => return Ok(lhs.is_null()),
            Lookup::Ne(e) if e.is_null_value() => return Ok(lhs.is_not_null()),
            Lookup::IsNull(true) => return Ok(lhs.is_null()),
            Lookup::IsNull(false) => return Ok(lhs.is_not_null()),
            Lookup::Ne(e) => {
                let ne = lhs.clone().ne(rhs(e)?);
                // Rows where the field is NULL are "not equal" too (two-valued, as `exclude`).
                return Ok(if nullable { ne.or(lhs.is_null()) } else { ne });
            }
            Lookup::Eq(e) => lhs.clone().eq(rhs(e)?),
            Lookup::Lt(e) => lhs.clone().lt(rhs(e)?),
            Lookup::Lte(e) => lhs.clone().lte(rhs(e)?),
            Lookup::Gt(e) => lhs.clone().gt(rhs(e)?),
            Lookup::Gte(e) => lhs.clone().gte(rhs(e)?),
            Lookup::Between(a, b) => lhs.clone().between(rhs(a)?, rhs(b)?),
            Lookup::InSelect(sel) => lhs.clone().in_subquery((**sel).clone()),
            Lookup::In(list) => {
                let values = list
                    .iter()
                    .filter(|e| !e.is_null_value())
                    .map(rhs)
                    .collect::<Result<Vec<_>>>()?;
                if values.is_empty() {
                    return Ok(SqExpr::cust("1 = 0"));
                }
                lhs.clone().is_in(values)
            }
            Lookup::Contains(s) => self.text(lhs.clone(), TextOp::Contains, false, s),
            Lookup::IContains(s) => self.text(lhs.clone(), TextOp::Contains, true, s),
            Lookup::StartsWith(s) => self.text(lhs.clone(), TextOp::Starts, false, s),
            Lookup::IStartsWith(s) => self.text(lhs.clone(), TextOp::Starts, true, s),
            Lookup::EndsWith(s) => self.text(lhs.clone(), TextOp::Ends, false, s),
            Lookup::IEndsWith(s) => self.text(lhs.clone(), TextOp::Ends, true, s),
            Lookup::IExact(s) => self.text(lhs.clone(), TextOp::Exact, true, s),
        };
        // Under a NOT, a comparison with NULL must be false (not unknown), so that the
        // negation matches the row, as `exclude` does.
        Ok(if negated && nullable {
            cond.and(lhs.is_not_null())
        } else {
            cond
        })
    }

    /// A text match. Postgres: `LIKE` / `ILIKE` with an escaped pattern and `ESCAPE '!'`.
    /// SQLite: `GLOB` (its `LIKE` ignores ASCII case only), with every cased letter written as a
    /// class of its lower and upper case for the case-insensitive lookups, so they hold for
    /// non-ASCII letters too.
    fn text(&self, lhs: SqExpr, op: TextOp, ci: bool, s: &str) -> SqExpr {
        match self.dialect {
            Dialect::Postgres => {
                let sql = if ci {
                    "$1 ILIKE $2 ESCAPE '!'"
                } else {
                    "$1 LIKE $2 ESCAPE '!'"
                };
                self.custom(sql, [lhs, SqExpr::val(like_pattern(op, s))])
            }
            _ => self.custom("$1 GLOB $2", [lhs, SqExpr::val(glob_pattern(op, s, ci))]),
        }
    }

    fn json_condition(
        &self,
        field: &str,
        path: &[String],
        lookup: &Lookup,
        negated: bool,
    ) -> Result<SqExpr> {
        let f = self.field(field)?;
        if f.ty != FieldType::Json {
            return Err(Error::Query(format!(
                "{}.{field}: key lookups need a JSON field",
                self.meta.label()
            )));
        }
        if path.is_empty() {
            return Err(Error::Query(format!(
                "{field}: a JSON key lookup needs a key"
            )));
        }
        let text = self.json_lhs(f, path, true)?;
        let by_value = match lookup {
            Lookup::Eq(e) | Lookup::Ne(e) if e.is_null_value() || is_json_null(e) => None,
            Lookup::IsNull(_) => None,
            l if l.is_text() => None,
            _ => Some(()),
        };
        let Some(()) = by_value else {
            let lookup = match lookup {
                Lookup::Eq(e) if is_json_null(e) => &Lookup::IsNull(true),
                Lookup::Ne(e) if is_json_null(e) => &Lookup::IsNull(false),
                l => l,
            };
            return self.lookup(text, None, true, lookup, negated);
        };
        let value = |e: &Expr| -> Result<SqExpr> {
            let Expr::Value(v) = e else {
                return Err(Error::Query(format!(
                    "{field}: JSON key lookups compare with values"
                )));
            };
            let json = match v {
                Value::Json(Some(j)) => (**j).clone(),
                other => value_to_json(other),
            };
            Ok(match self.dialect {
                Dialect::Postgres => SqExpr::val(Value::Json(Some(Box::new(json)))),
                _ => SqExpr::val(json_scalar(json)),
            })
        };
        let lhs = match self.dialect {
            Dialect::Postgres => self.json_lhs(f, path, false)?,
            _ => text.clone(),
        };
        let cond = match lookup {
            Lookup::Eq(e) => lhs.eq(value(e)?),
            Lookup::Ne(e) => return Ok(lhs.ne(value(e)?).or(text.is_null())),
            Lookup::Lt(e) => lhs.lt(value(e)?),
            Lookup::Lte(e) => lhs.lte(value(e)?),
            Lookup::Gt(e) => lhs.gt(value(e)?),
            Lookup::Gte(e) => lhs.gte(value(e)?),
            Lookup::Between(a, b) => lhs.between(value(a)?, value(b)?),
            Lookup::In(list) => {
                let values = list.iter().map(value).collect::<Result<Vec<_>>>()?;
                if values.is_empty() {
                    return Ok(SqExpr::cust("1 = 0"));
                }
                lhs.is_in(values)
            }
            _ => {
                return Err(Error::Query(format!(
                    "{field}: this lookup does not apply to JSON keys"
                )));
            }
        };
        Ok(if negated {
            cond.and(text.is_not_null())
        } else {
            cond
        })
    }

    /// `field -> key …` (JSON) or, with `text`, the last step as `->>` (text on Postgres, the
    /// SQL value on SQLite).
    fn json_lhs(&self, f: &FieldMeta, path: &[String], text: bool) -> Result<SqExpr> {
        let col = self.col(f);
        Ok(match self.dialect {
            Dialect::Postgres => {
                let mut e = col;
                for (i, key) in path.iter().enumerate() {
                    let sql = if text && i + 1 == path.len() {
                        "$1 ->> CAST($2 AS TEXT)"
                    } else {
                        "$1 -> CAST($2 AS TEXT)"
                    };
                    e = self.custom(sql, [e, SqExpr::val(key.clone())]);
                }
                e
            }
            _ => {
                let mut p = String::from("$");
                for key in path {
                    if key.contains('"') {
                        return Err(Error::Query(format!(
                            "JSON key `{key}`: keys with `\"` are not supported"
                        )));
                    }
                    p.push_str(".\"");
                    p.push_str(key);
                    p.push('"');
                }
                let sql = if text { "$1 ->> $2" } else { "$1 -> $2" };
                self.custom(sql, [col, SqExpr::val(p)])
            }
        })
    }

    /// An aggregate call. On Postgres sums of integers are cast back to `BIGINT` and averages
    /// to `DOUBLE PRECISION`, so both backends return the same types.
    pub(crate) fn aggregate(&self, a: &Aggregate) -> Result<SqExpr> {
        let (arg, ty) = match &a.field {
            None => (SqExpr::col(Asterisk), None),
            Some(name) => {
                let f = self.field(name)?;
                (self.col(f), Some(&f.ty))
            }
        };
        let call: SqExpr = match (a.func, a.distinct) {
            (AggFunc::Count, false) => Func::count(arg).into(),
            (AggFunc::Count, true) => Func::count_distinct(arg).into(),
            (AggFunc::Sum, false) => Func::sum(arg).into(),
            (AggFunc::Sum, true) => self.custom("SUM(DISTINCT $1)", [arg]),
            (AggFunc::Avg, false) => Func::avg(arg).into(),
            (AggFunc::Avg, true) => self.custom("AVG(DISTINCT $1)", [arg]),
            (AggFunc::Min, _) => Func::min(arg).into(),
            (AggFunc::Max, _) => Func::max(arg).into(),
        };
        let integer = matches!(ty, Some(FieldType::I16 | FieldType::I32 | FieldType::I64));
        let decimal = matches!(ty, Some(FieldType::Decimal { .. }));
        Ok(match (self.dialect, a.func) {
            (Dialect::Postgres, AggFunc::Sum) if integer => {
                self.custom("CAST($1 AS BIGINT)", [call])
            }
            (Dialect::Postgres, AggFunc::Avg) if !decimal => {
                self.custom("CAST($1 AS DOUBLE PRECISION)", [call])
            }
            _ => call,
        })
    }

    /// Adds a sort key.
    pub(crate) fn order(&self, sel: &mut SelectStatement, o: &OrderBy) -> Result<()> {
        let col = self.col(self.field(&o.field)?);
        let order = if o.descending {
            Order::Desc
        } else {
            Order::Asc
        };
        match o.nulls {
            None => sel.order_by_expr(col, order),
            Some(Nulls::First) => sel.order_by_expr_with_nulls(col, order, NullOrdering::First),
            Some(Nulls::Last) => sel.order_by_expr_with_nulls(col, order, NullOrdering::Last),
        };
        Ok(())
    }
}

fn is_json_null(e: &Expr) -> bool {
    matches!(e, Expr::Value(Value::Json(Some(j))) if serde_json::Value::is_null(j))
}

/// A JSON scalar as the SQL value SQLite's `->>` yields for it.
fn json_scalar(json: serde_json::Value) -> Value {
    use serde_json::Value as J;
    match json {
        J::Null => Value::String(None),
        J::Bool(b) => Value::Bool(Some(b)),
        J::Number(n) => match n.as_i64() {
            Some(i) => Value::BigInt(Some(i)),
            None => Value::Double(n.as_f64()),
        },
        J::String(s) => Value::String(Some(s)),
        other => Value::String(Some(other.to_string())),
    }
}
