//! Identifiers: validated on the way in, cheap to clone.

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use std::fmt;

/// The engine's immutable text: identifiers, names, labels and text values.
///
/// Texts of up to 23 bytes (nearly every identifier) are stored inline, so cloning one is a
/// copy and dropping it is free; longer ones share one reference-counted allocation. Pricing
/// a cart copies every line's SKU, category, list and tax rule into its result: with `Arc<str>`
/// the atomic reference counts of those copies were a quarter of the time it took.
pub type SharedStr = smol_str::SmolStr;

/// The longest identifier accepted, in characters.
pub const MAX_ID_LEN: usize = 128;

/// Why a text cannot be an identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdError {
    Empty { what: &'static str },
    TooLong { what: &'static str, len: usize },
    BadCharacter { what: &'static str, text: String },
}

impl std::error::Error for IdError {}

fn check(text: &str, what: &'static str) -> Result<(), IdError> {
    if text.is_empty() {
        return Err(IdError::Empty { what });
    }
    let len = text.chars().count();
    if len > MAX_ID_LEN {
        return Err(IdError::TooLong { what, len });
    }
    if text.chars().any(char::is_control) || text.trim() != text {
        return Err(IdError::BadCharacter { what, text: text.to_owned() });
    }
    Ok(())
}

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(SharedStr);

        impl $name {
            /// What this identifier names, as used in messages.
            pub const WHAT: &'static str = $what;

            pub fn parse(text: &str) -> Result<Self, IdError> {
                check(text, $what).map(|()| Self(SharedStr::from(text)))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The text, as a value of its own (a copy, or a shared reference when long).
            pub fn shared(&self) -> SharedStr {
                self.0.clone()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        write!(f, "{} (a non-empty string)", $what)
                    }
                    fn visit_str<E: de::Error>(self, v: &str) -> Result<$name, E> {
                        $name::parse(v).map_err(E::custom)
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }
    };
}

id_type!(/// A product's stock-keeping unit.
    Sku, "sku");
id_type!(/// A product category.
    CategoryId, "category");
id_type!(/// A price list.
    PriceListId, "price list id");
id_type!(/// A tax rule.
    TaxRuleId, "tax rule id");
id_type!(/// A product tax class ("standard", "reduced", "food", ...).
    TaxClass, "tax class");
id_type!(/// A customer company.
    CustomerId, "customer id");
id_type!(/// A customer group (for group price lists and workflow scopes).
    GroupId, "customer group");
id_type!(/// A user of a customer company or of the seller.
    UserId, "user id");
id_type!(/// A business unit in a customer company's tree.
    UnitId, "business unit id");
id_type!(/// A company role ("approver", "finance", ...), as used by approval rules.
    RoleName, "role");
id_type!(/// An approval rule within a policy.
    RuleId, "rule id");
id_type!(/// A spending limit within a policy.
    LimitId, "spending limit id");
id_type!(/// A quote (for negotiated prices).
    QuoteId, "quote id");
id_type!(/// A payment method ("invoice", "card", ...).
    PaymentMethod, "payment method");
id_type!(/// A workflow definition.
    WorkflowId, "workflow id");
id_type!(/// A state of a workflow.
    StateId, "state id");
id_type!(/// A transition of a workflow.
    TransitionId, "transition id");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        assert_eq!(Sku::parse("A-1").unwrap().as_str(), "A-1");
        assert_eq!(Sku::parse(""), Err(IdError::Empty { what: "sku" }));
        assert!(matches!(Sku::parse(" A"), Err(IdError::BadCharacter { .. })));
        assert!(matches!(Sku::parse("A\n"), Err(IdError::BadCharacter { .. })));
        assert!(matches!(Sku::parse(&"x".repeat(129)), Err(IdError::TooLong { len: 129, .. })));
        let err = serde_json::from_str::<Sku>("\"\"").unwrap_err().to_string();
        assert!(err.contains("sku must not be empty"), "{err}");
        assert!(serde_json::from_str::<Sku>("12").is_err());
    }
}
