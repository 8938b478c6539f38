//! The vocabulary shared by cfnkit and its generated L1 crate (`cfnkit-l1`).
//!
//! It is a crate of its own only because of cargo's rules: the generated resource types need these types, and
//! cfnkit's constructs need the generated types, so these cannot live in cfnkit itself. Users see all of it
//! re-exported from `cfnkit`; nothing here needs to be named directly.

#![warn(missing_docs)]

pub mod resource;
pub mod value;

pub use resource::{
    AnyResource, ConditionHandle, RawResource, RemovalPolicy, Resource, ResourceEntry,
    ResourceHandle, TagFormat, TagStyle,
};
pub use value::{
    ElementId, Intrinsic, Json, Literal, Pseudo, RefTarget, StringEnum, ToValue, Val, Value,
};
