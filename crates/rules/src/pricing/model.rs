//! What pricing reads (the seller's data and a cart) and what it writes (a priced cart).

use crate::ids::SharedStr;
use crate::{
    decimal::Rounding,
    ids::{CategoryId, CustomerId, GroupId, PriceListId, QuoteId, Sku, TaxClass, TaxRuleId},
    money::{Currency, Money},
    time::Date,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, de};
use std::fmt;

/// The seller's pricing data: catalog, price lists, tax rules and rounding. Prepared once into
/// a [`super::PricingContext`] and reused for every cart.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingData {
    pub catalog: Vec<Product>,
    pub price_lists: Vec<PriceList>,
    #[serde(default)]
    pub tax_rules: Vec<TaxRule>,
    #[serde(default)]
    pub rounding: RoundingPolicy,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Product {
    pub sku: Sku,
    pub name: SharedStr,
    pub category: CategoryId,
    pub tax_class: TaxClass,
}

/// Who a price list is for. Resolution order: the customer's own lists, then its group's,
/// then the default lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Audience {
    Customer(CustomerId),
    Group(GroupId),
    Default,
}

/// The level a price came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ListLevel {
    Customer,
    Group,
    Default,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceList {
    pub id: PriceListId,
    pub name: SharedStr,
    pub audience: Audience,
    pub currency: Currency,
    /// Whether the prices include VAT (gross, as in many European shops) or not (net).
    #[serde(default)]
    pub prices_include_tax: bool,
    /// First day the list applies (inclusive); open if absent.
    #[serde(default)]
    pub valid_from: Option<Date>,
    /// Last day the list applies (inclusive); open if absent.
    #[serde(default)]
    pub valid_until: Option<Date>,
    pub prices: Vec<ListPrice>,
}

/// A product's price in one list: volume tiers by minimum quantity.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListPrice {
    pub sku: Sku,
    pub tiers: Vec<Tier>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    pub min_quantity: u32,
    #[serde(with = "crate::decimal::serde_str")]
    pub unit_price: Decimal,
}

/// Sales tax is added on top of net prices; VAT is added on top of net prices or contained in
/// gross ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxKind {
    SalesTax,
    Vat,
}

/// A tax rate for one product tax class in a country, or in one region of it. A rule for the
/// region wins over the rule for the whole country.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaxRule {
    pub id: TaxRuleId,
    pub name: SharedStr,
    pub kind: TaxKind,
    pub country: Country,
    #[serde(default)]
    pub region: Option<Region>,
    pub tax_class: TaxClass,
    /// The rate in percent: `"8.875"` is 8.875 %.
    #[serde(with = "crate::decimal::serde_str")]
    pub percent: Decimal,
}

/// Where rounding to minor units happens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// Each line's amount, discount share and tax are rounded; totals are sums of lines.
    #[default]
    PerLine,
    /// Lines are kept exact; the subtotal, the discount and each tax rate's amount are rounded
    /// once, on the totals.
    OnTotal,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoundingPolicy {
    #[serde(default)]
    pub mode: RoundingMode,
    #[serde(default)]
    pub rounding: Rounding,
}

/// An ISO 3166-1 alpha-2 country code ("US", "DE").
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country([u8; 2]);

impl Country {
    pub fn parse(text: &str) -> Result<Country, BadCountry> {
        match text.as_bytes() {
            [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Ok(Country([*a, *b])),
            _ => Err(BadCountry(text.to_owned())),
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

/// A text that is not a two-letter country code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadCountry(pub String);

impl std::error::Error for BadCountry {}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Country {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Country {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Country;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a two-letter country code such as \"US\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Country, E> {
                Country::parse(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// A region within a country (a US state, a Canadian province): "NY", "QC".
pub type Region = crate::ids::UnitId;

/// The customer a cart is priced for, and where it ships (which decides tax).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomerRef {
    pub id: CustomerId,
    #[serde(default)]
    pub group: Option<GroupId>,
    pub country: Country,
    #[serde(default)]
    pub region: Option<Region>,
}

/// A quantity of at least one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Quantity(u32);

impl Quantity {
    pub fn new(n: u32) -> Option<Quantity> {
        (n >= 1).then_some(Quantity(n))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = u32::deserialize(deserializer)?;
        Quantity::new(n).ok_or_else(|| de::Error::custom("a quantity must be at least 1"))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CartLine {
    pub sku: Sku,
    pub quantity: Quantity,
}

/// A line price agreed in an accepted quote; it replaces the list price for that SKU. Quote
/// prices are net of tax.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegotiatedPrice {
    pub sku: Sku,
    #[serde(with = "crate::decimal::serde_str")]
    pub unit_price: Decimal,
    pub quote: QuoteId,
}

/// An order-level discount: a percentage (optionally capped) or a fixed amount, in the cart's
/// currency. Exactly one of `percent` and `amount`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderDiscount {
    #[serde(
        default,
        with = "crate::decimal::serde_str_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub percent: Option<Decimal>,
    #[serde(
        default,
        with = "crate::decimal::serde_str_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub amount: Option<Decimal>,
    /// The most a percentage discount may take off.
    #[serde(
        default,
        with = "crate::decimal::serde_str_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cap: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<SharedStr>,
}

/// Shipping cost, in the cart's currency and on the same tax basis as its prices. Taxed with
/// the rule for its tax class, if it has one. Never discounted.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shipping {
    #[serde(with = "crate::decimal::serde_str")]
    pub amount: Decimal,
    #[serde(default)]
    pub tax_class: Option<TaxClass>,
}

/// A cart to price.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cart {
    pub currency: Currency,
    /// The day prices are taken for (price list validity).
    pub date: Date,
    pub customer: CustomerRef,
    pub lines: Vec<CartLine>,
    #[serde(default)]
    pub negotiated: Vec<NegotiatedPrice>,
    #[serde(default)]
    pub discount: Option<OrderDiscount>,
    #[serde(default)]
    pub shipping: Option<Shipping>,
}

/// Where a line's unit price came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PriceSource {
    /// A price list's tier.
    List {
        list: PriceListId,
        level: ListLevel,
        /// The tier's minimum quantity.
        min_quantity: u32,
        /// The next tier up, if any: buying `min_quantity` would cost `unit_price` each.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next_tier: Option<NextTier>,
    },
    /// A price negotiated in a quote.
    Negotiated { quote: QuoteId },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NextTier {
    pub min_quantity: u32,
    pub unit_price: Money,
}

/// From how many units a unit price applies (see [`super::PricingContext::price_breaks`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriceBreak {
    pub min_quantity: u32,
    pub unit_price: Money,
    /// The price includes VAT (its list's prices are gross).
    pub prices_include_tax: bool,
}

/// The tax on a line (or on shipping).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LineTax {
    /// The rule applied; `None` when no rule covers the tax class where the order ships.
    pub rule: Option<TaxRuleId>,
    #[serde(with = "crate::decimal::serde_str")]
    pub percent: Decimal,
    /// The line's tax, rounded. With rounding on the total this is for display: each rate's
    /// total is computed from the exact taxable amounts and rounded once.
    pub amount: Money,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PricedLine {
    pub sku: Sku,
    pub category: CategoryId,
    pub quantity: u32,
    pub unit_price: Money,
    pub source: PriceSource,
    /// `unit_price × quantity` (rounded per line, or exact with rounding on the total).
    pub amount: Money,
    /// This line's share of the order discount (rounded; exact shares are used for tax when
    /// rounding on the total).
    pub discount: Money,
    pub tax: LineTax,
    /// The reasons in sentences; empty until [`PricedCart::explained`] fills it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explanation: Vec<String>,
}

/// Tax for one rule, over the whole cart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaxAmount {
    pub rule: TaxRuleId,
    pub name: SharedStr,
    pub kind: TaxKind,
    #[serde(with = "crate::decimal::serde_str")]
    pub percent: Decimal,
    /// The taxable amount, net of tax.
    pub base: Money,
    pub amount: Money,
    /// Contained in the prices (gross prices) rather than added on top.
    pub included: bool,
}

/// The discount as applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppliedDiscount {
    pub amount: Money,
    #[serde(
        default,
        with = "crate::decimal::serde_str_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub percent: Option<Decimal>,
    /// The percentage would have taken off more than the cap.
    pub capped: bool,
    /// A fixed amount larger than the subtotal was reduced to the subtotal.
    pub limited_to_subtotal: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<SharedStr>,
}

/// A priced cart. Always `total = subtotal - discount + shipping + tax_added`, where
/// `tax_added` is the sum of the taxes not included in the prices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PricedCart {
    pub currency: Currency,
    pub lines: Vec<PricedLine>,
    pub subtotal: Money,
    pub discount: Option<AppliedDiscount>,
    pub shipping: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_tax: Option<LineTax>,
    pub taxes: Vec<TaxAmount>,
    /// All tax, included or added.
    pub tax_total: Money,
    pub total: Money,
    pub prices_include_tax: bool,
    pub rounding: RoundingPolicy,
    /// The reasons in sentences; empty until [`PricedCart::explained`] fills it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub explanation: Vec<String>,
}

impl PricedCart {
    /// The discount taken off, zero if none.
    pub fn discount_amount(&self) -> Money {
        self.discount.as_ref().map_or(Money::zero(self.currency), |d| d.amount)
    }

    /// The tax added on top of the prices (zero with gross prices).
    pub fn tax_added(&self) -> Money {
        if self.prices_include_tax { Money::zero(self.currency) } else { self.tax_total }
    }
}
