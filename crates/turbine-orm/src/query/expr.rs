//! Value expressions over a model's columns: a value, a column, or arithmetic on them
//! (Django's `F()` expressions), e.g. `views + 1` in a bulk update.
//!
//! ```
//! use turbine_orm::query::{ArithOp, Expr};
//!
//! let plus_one = Expr::field("views").add(1i64);
//! assert_eq!(
//!     plus_one,
//!     Expr::Arith(Box::new(Expr::field("views")), ArithOp::Add, Box::new(Expr::value(1i64)))
//! );
//! ```

use std::borrow::Cow;
use std::marker::PhantomData;

use crate::model::{Column, ForeignKey, Model};
use crate::value::{FieldValue, Value};

/// An arithmetic operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
}

/// An untyped value expression: a bound value, a field of the model being queried (by field
/// name), or arithmetic on two expressions.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A field of the model, by name.
    Field(Cow<'static, str>),
    /// A value (always bound as a parameter).
    Value(Value),
    /// `left op right`.
    Arith(Box<Expr>, ArithOp, Box<Expr>),
}

impl Expr {
    /// The field `name` of the model being queried.
    pub fn field(name: impl Into<Cow<'static, str>>) -> Self {
        Expr::Field(name.into())
    }

    /// A bound value.
    pub fn value(value: impl Into<Value>) -> Self {
        Expr::Value(value.into())
    }

    fn arith(self, op: ArithOp, right: impl Into<Expr>) -> Self {
        Expr::Arith(Box::new(self), op, Box::new(right.into()))
    }

    /// `self + right`.
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, right: impl Into<Expr>) -> Self {
        self.arith(ArithOp::Add, right)
    }

    /// `self - right`.
    #[allow(clippy::should_implement_trait)]
    pub fn sub(self, right: impl Into<Expr>) -> Self {
        self.arith(ArithOp::Sub, right)
    }

    /// `self * right`.
    #[allow(clippy::should_implement_trait)]
    pub fn mul(self, right: impl Into<Expr>) -> Self {
        self.arith(ArithOp::Mul, right)
    }

    /// `self / right`.
    #[allow(clippy::should_implement_trait)]
    pub fn div(self, right: impl Into<Expr>) -> Self {
        self.arith(ArithOp::Div, right)
    }

    /// `true` for a NULL value.
    pub(crate) fn is_null_value(&self) -> bool {
        matches!(self, Expr::Value(v) if crate::value::is_null(v))
    }
}

impl From<Value> for Expr {
    fn from(value: Value) -> Self {
        Expr::Value(value)
    }
}

macro_rules! expr_from {
    ($($t:ty),*) => {$(
        impl From<$t> for Expr {
            fn from(value: $t) -> Self {
                Expr::Value(value.into())
            }
        }
    )*};
}
expr_from!(
    bool,
    i16,
    i32,
    i64,
    f32,
    f64,
    String,
    &str,
    uuid::Uuid,
    rust_decimal::Decimal
);

/// A typed expression of Rust type `T` over the columns of model `M`: what `Post::VIEWS + 1`
/// is. Only numeric columns have arithmetic.
pub struct TypedExpr<M, T> {
    expr: Expr,
    _types: PhantomData<fn() -> (M, T)>,
}

impl<M, T> TypedExpr<M, T> {
    /// Wraps an untyped expression (the caller vouches for its type).
    pub fn from_expr(expr: Expr) -> Self {
        Self {
            expr,
            _types: PhantomData,
        }
    }

    /// The untyped expression.
    pub fn into_expr(self) -> Expr {
        self.expr
    }
}

impl<M, T> Clone for TypedExpr<M, T> {
    fn clone(&self) -> Self {
        Self::from_expr(self.expr.clone())
    }
}

impl<M, T> std::fmt::Debug for TypedExpr<M, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.expr.fmt(f)
    }
}

/// Something that can stand on the right of a lookup on a column of type `T` of model `M`: a
/// value of the column's type (or `&str` for text, a model or its key for a foreign key), or
/// another column or expression of the same model and type.
pub trait IntoExpr<M, T> {
    /// The untyped expression.
    fn into_expr(self) -> Expr;
}

impl<M, X: FieldValue> IntoExpr<M, X> for X {
    fn into_expr(self) -> Expr {
        Expr::Value(self.to_value())
    }
}

impl<M, X: FieldValue> IntoExpr<M, Option<X>> for X {
    fn into_expr(self) -> Expr {
        Expr::Value(self.to_value())
    }
}

impl<M> IntoExpr<M, String> for &str {
    fn into_expr(self) -> Expr {
        Expr::Value(Value::String(Some(self.to_owned())))
    }
}

impl<M> IntoExpr<M, Option<String>> for &str {
    fn into_expr(self) -> Expr {
        Expr::Value(Value::String(Some(self.to_owned())))
    }
}

impl<M> IntoExpr<M, String> for &String {
    fn into_expr(self) -> Expr {
        Expr::Value(Value::String(Some(self.clone())))
    }
}

impl<M> IntoExpr<M, Option<String>> for &String {
    fn into_expr(self) -> Expr {
        Expr::Value(Value::String(Some(self.clone())))
    }
}

impl<M, T> IntoExpr<M, T> for Column<M, T> {
    fn into_expr(self) -> Expr {
        Expr::Field(Cow::Borrowed(self.name()))
    }
}

impl<M, T> IntoExpr<M, T> for TypedExpr<M, T> {
    fn into_expr(self) -> Expr {
        self.expr
    }
}

impl<M, T: Model> IntoExpr<M, ForeignKey<T>> for &T {
    fn into_expr(self) -> Expr {
        Expr::Value(self.key().to_value())
    }
}

impl<M, T: Model> IntoExpr<M, Option<ForeignKey<T>>> for &T {
    fn into_expr(self) -> Expr {
        Expr::Value(self.key().to_value())
    }
}

macro_rules! fk_by_key {
    ($($key:ty),*) => {$(
        impl<M, T: Model<Key = $key>> IntoExpr<M, ForeignKey<T>> for $key {
            fn into_expr(self) -> Expr {
                Expr::Value(self.to_value())
            }
        }
        impl<M, T: Model<Key = $key>> IntoExpr<M, Option<ForeignKey<T>>> for $key {
            fn into_expr(self) -> Expr {
                Expr::Value(self.to_value())
            }
        }
    )*};
}
fk_by_key!(i32, i64, uuid::Uuid, String);

/// Column types with arithmetic (`+ - *`) and `sum` / `avg`.
pub trait Numeric {}
impl Numeric for i16 {}
impl Numeric for i32 {}
impl Numeric for i64 {}
impl Numeric for f32 {}
impl Numeric for f64 {}
impl Numeric for rust_decimal::Decimal {}
impl<T: Numeric> Numeric for Option<T> {}

macro_rules! arith_ops {
    ($($trait:ident $method:ident $op:ident),*) => {$(
        impl<M, T: Numeric, R: IntoExpr<M, T>> std::ops::$trait<R> for Column<M, T> {
            type Output = TypedExpr<M, T>;
            fn $method(self, right: R) -> TypedExpr<M, T> {
                TypedExpr::from_expr(Expr::field(self.name()).arith(ArithOp::$op, right.into_expr()))
            }
        }
        impl<M, T: Numeric, R: IntoExpr<M, T>> std::ops::$trait<R> for TypedExpr<M, T> {
            type Output = TypedExpr<M, T>;
            fn $method(self, right: R) -> TypedExpr<M, T> {
                TypedExpr::from_expr(self.expr.arith(ArithOp::$op, right.into_expr()))
            }
        }
    )*};
}
arith_ops!(Add add Add, Sub sub Sub, Mul mul Mul, Div div Div);
