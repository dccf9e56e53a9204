//! Pricing: a cart and the seller's data in, priced lines, discount, tax and total out, each
//! with where it came from.
//!
//! Resolution of a line's unit price, first match wins:
//! 1. a price negotiated in an accepted quote for that SKU;
//! 2. the customer's own price lists, then its group's, then the default lists; only lists in
//!    the cart's currency and valid on the cart's date count; among lists of one level the one
//!    that started last wins (then the smaller id); a list without a tier for the quantity is
//!    skipped;
//! 3. within a list, the tier with the largest minimum quantity not above the line's quantity.

mod model;

pub use model::*;

use crate::{
    decimal::{
        div_round, from_units, from_units_within, mul_exact, mul_shift_round, op, pow10,
        round_to_scale, to_units,
    },
    diagnostic::{Diagnostic, Problem},
    ids::{CategoryId, PriceListId, Sku, TaxClass, TaxRuleId},
    money::{Currency, Money, MoneyError},
};
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use std::collections::HashSet;

/// Why a cart cannot be priced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PricingError {
    UnknownSku {
        line: usize,
        sku: Sku,
    },
    /// No price list in the cart's currency, valid on its date, has a price for this quantity.
    NoPrice {
        line: usize,
        sku: Sku,
        quantity: u32,
        currency: Currency,
    },
    DuplicateLine {
        line: usize,
        first: usize,
        sku: Sku,
    },
    /// A line priced net next to a line priced gross.
    MixedTaxBasis {
        line: usize,
        sku: Sku,
    },
    /// A sales tax cannot be contained in gross prices.
    SalesTaxOnGrossPrices {
        rule: TaxRuleId,
    },
    NegativeNegotiatedPrice {
        sku: Sku,
    },
    DiscountNeedsOneOf,
    DiscountCapWithoutPercent,
    DiscountPercentOutOfRange(Decimal),
    NegativeDiscount,
    NegativeShipping,
    Money(MoneyError),
}

impl std::error::Error for PricingError {}

impl From<MoneyError> for PricingError {
    fn from(e: MoneyError) -> Self {
        PricingError::Money(e)
    }
}

/// [`PricingData`] checked and indexed for fast pricing.
#[derive(Debug)]
pub struct PricingContext {
    data: PricingData,
    products: FxHashMap<Sku, usize>,
    /// Per product: the price lists that price it, as (list index, index of its `ListPrice`),
    /// in list order. A product is in few lists, so a short scan finds its entry in one: it
    /// costs less than hashing into a map per list.
    product_prices: Vec<Vec<(usize, usize)>>,
    /// Per product: index into `classes`.
    product_class: Vec<usize>,
    classes: Vec<TaxClass>,
    /// Per product: the index of its category among the catalog's distinct categories, so
    /// that the categories of an order are told apart without comparing texts.
    product_category: Vec<usize>,
}

/// Checks pricing data; every problem is reported.
pub fn validate(data: &PricingData) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    let mut skus = HashSet::new();
    for (i, p) in data.catalog.iter().enumerate() {
        if !skus.insert(&p.sku) {
            problems.push(Diagnostic::error(
                format!("catalog[{i}].sku"),
                Problem::DuplicateSku { sku: p.sku.clone() },
            ));
        }
    }
    let mut list_ids = HashSet::new();
    for (li, list) in data.price_lists.iter().enumerate() {
        let at = format!("price_lists[{li}]");
        if !list_ids.insert(&list.id) {
            problems.push(Diagnostic::error(
                format!("{at}.id"),
                Problem::DuplicatePriceList { list: list.id.clone() },
            ));
        }
        if let (Some(from), Some(until)) = (list.valid_from, list.valid_until)
            && from > until
        {
            problems.push(Diagnostic::error(
                format!("{at}.valid_until"),
                Problem::ValidityReversed { list: list.id.clone() },
            ));
        }
        let mut seen = HashSet::new();
        for (pi, price) in list.prices.iter().enumerate() {
            let at = format!("{at}.prices[{pi}]");
            let (list_id, sku) = (list.id.clone(), price.sku.clone());
            if !skus.contains(&price.sku) {
                problems.push(Diagnostic::error(
                    format!("{at}.sku"),
                    Problem::PriceForUnknownSku { list: list_id.clone(), sku: sku.clone() },
                ));
            }
            if !seen.insert(&price.sku) {
                problems.push(Diagnostic::error(
                    format!("{at}.sku"),
                    Problem::DuplicateListPrice { list: list_id.clone(), sku: sku.clone() },
                ));
            }
            if price.tiers.is_empty() {
                problems.push(Diagnostic::error(
                    format!("{at}.tiers"),
                    Problem::NoTiers { list: list_id.clone(), sku: sku.clone() },
                ));
            }
            let mut previous: Option<u32> = None;
            for (ti, tier) in price.tiers.iter().enumerate() {
                let at = format!("{at}.tiers[{ti}]");
                let problem = if tier.min_quantity == 0 {
                    Some((
                        "min_quantity",
                        Problem::ZeroMinQuantity { list: list_id.clone(), sku: sku.clone() },
                    ))
                } else if previous.is_some_and(|p| tier.min_quantity <= p) {
                    Some((
                        "min_quantity",
                        Problem::TiersNotIncreasing { list: list_id.clone(), sku: sku.clone() },
                    ))
                } else if tier.unit_price.is_sign_negative() && !tier.unit_price.is_zero() {
                    Some((
                        "unit_price",
                        Problem::NegativePrice { list: list_id.clone(), sku: sku.clone() },
                    ))
                } else {
                    None
                };
                if let Some((field, problem)) = problem {
                    problems.push(Diagnostic::error(format!("{at}.{field}"), problem));
                }
                previous = Some(tier.min_quantity);
            }
        }
    }
    let mut rule_ids = HashSet::new();
    let mut scopes: FxHashMap<_, &TaxRuleId> = FxHashMap::default();
    for (i, rule) in data.tax_rules.iter().enumerate() {
        let at = format!("tax_rules[{i}]");
        if !rule_ids.insert(&rule.id) {
            problems.push(Diagnostic::error(
                format!("{at}.id"),
                Problem::DuplicateTaxRule { rule: rule.id.clone() },
            ));
        }
        if let Some(other) = scopes.insert((rule.country, &rule.region, &rule.tax_class), &rule.id)
        {
            problems.push(Diagnostic::error(
                at.clone(),
                Problem::SameTaxScope { rule: rule.id.clone(), other: other.clone() },
            ));
        }
        if rule.percent.is_sign_negative() || rule.percent > Decimal::ONE_HUNDRED {
            problems.push(Diagnostic::error(
                format!("{at}.percent"),
                Problem::TaxPercentOutOfRange { rule: rule.id.clone(), percent: rule.percent },
            ));
        }
    }
    problems
}

impl PricingContext {
    /// Checks and indexes the data. Any error-level problem refuses the data.
    pub fn new(data: PricingData) -> Result<PricingContext, Vec<Diagnostic>> {
        let problems = validate(&data);
        if !problems.is_empty() {
            return Err(problems);
        }
        let products: FxHashMap<Sku, usize> =
            data.catalog.iter().enumerate().map(|(i, p)| (p.sku.clone(), i)).collect();
        let mut product_prices: Vec<Vec<(usize, usize)>> = vec![Vec::new(); data.catalog.len()];
        for (li, list) in data.price_lists.iter().enumerate() {
            for (pi, price) in list.prices.iter().enumerate() {
                if let Some(entries) =
                    products.get(&price.sku).and_then(|&p| product_prices.get_mut(p))
                {
                    entries.push((li, pi));
                }
            }
        }
        let (classes, product_class) = distinct(data.catalog.iter().map(|p| &p.tax_class));
        let (_, product_category) = distinct(data.catalog.iter().map(|p| &p.category));
        Ok(PricingContext {
            data,
            products,
            product_prices,
            product_class,
            classes,
            product_category,
        })
    }

    pub fn data(&self) -> &PricingData {
        &self.data
    }

    /// The index of the `ListPrice` of a product in a price list, if the list prices it.
    fn list_price(&self, product: usize, list: usize) -> Option<usize> {
        let entries = self.product_prices.get(product)?;
        entries.iter().find(|&&(l, _)| l == list).map(|&(_, price)| price)
    }

    /// The product with this SKU, if the catalog has it.
    pub fn product(&self, sku: &Sku) -> Option<&Product> {
        self.products.get(sku).and_then(|&i| self.data.catalog.get(i))
    }

    /// The cart with its explanations (and its lines') filled in, naming price lists and tax
    /// rules from this data. Pricing itself does not write sentences: that would cost more
    /// than the pricing.
    pub fn explained(&self, mut priced: PricedCart) -> PricedCart {
        for line in &mut priced.lines {
            line.explanation = crate::messages::explain_line(line, &Names(&self.data));
        }
        priced.explanation = crate::messages::explain_cart(&priced);
        priced
    }

    /// Prices a cart. Deterministic: the same data and cart always give the same result, on
    /// every platform.
    pub fn price(&self, cart: &Cart) -> Result<PricedCart, PricingError> {
        let mut pricer = Pricer::new(self, cart);
        let resolved = pricer.resolve()?;
        pricer.priced(resolved)
    }

    /// [`PricingContext::price`], and the distinct categories of the cart's lines in order of
    /// first appearance, as [`crate::approval::OrderFacts::from_priced`] finds them, but told
    /// apart by their index in the catalog rather than by comparing texts.
    pub(crate) fn price_with_categories(
        &self,
        cart: &Cart,
    ) -> Result<(PricedCart, Vec<CategoryId>), PricingError> {
        let mut pricer = Pricer::new(self, cart);
        let resolved = pricer.resolve()?;
        let categories = pricer.categories(&resolved);
        Ok((pricer.priced(resolved)?, categories))
    }

    /// What one unit of a product costs the buyer of `cart` (its customer, currency, date and
    /// negotiated prices; its lines do not matter), by quantity: each quantity from which the
    /// unit price changes, with that price, as checkout would price a line of the product.
    /// Empty when nothing prices it. A more specific price list that starts at a larger
    /// quantity leaves the smaller quantities to the next list, so the breaks can mix lists.
    pub fn price_breaks(&self, cart: &Cart, sku: &Sku) -> Vec<PriceBreak> {
        let Some(&product) = self.products.get(sku) else { return Vec::new() };
        let mut quantities: Vec<u32> = match cart.negotiated.iter().any(|n| n.sku == *sku) {
            true => vec![1],
            false => {
                let lists = Pricer::new(self, cart).candidate_lists();
                lists
                    .iter()
                    .filter_map(|&(_, li)| {
                        let list = self.data.price_lists.get(li)?;
                        list.prices.get(self.list_price(product, li)?)
                    })
                    .flat_map(|price| price.tiers.iter().map(|t| t.min_quantity))
                    .collect()
            }
        };
        crate::sort::sort_unstable(&mut quantities);
        quantities.dedup();
        let mut breaks: Vec<PriceBreak> = Vec::with_capacity(quantities.len());
        for quantity in quantities {
            // A pricer of its own for each: lists of net and of gross prices may both apply.
            let mut pricer = Pricer::new(self, cart);
            let lists = pricer.candidate_lists();
            let Ok((unit, _)) = pricer.unit_price(0, product, sku, quantity, &lists) else {
                continue;
            };
            let gross = pricer.gross == Some(true);
            if breaks
                .last()
                .is_none_or(|b| b.unit_price.amount() != unit || b.prices_include_tax != gross)
            {
                breaks.push(PriceBreak {
                    min_quantity: quantity,
                    unit_price: pricer.money(unit),
                    prices_include_tax: gross,
                });
            }
        }
        breaks
    }

    /// The tax rule for a class where the cart ships: the region's rule, else the country's.
    fn tax_rule(&self, cart: &Cart, class: &TaxClass) -> Option<usize> {
        let mut country_wide = None;
        for (i, rule) in self.data.tax_rules.iter().enumerate() {
            if rule.country != cart.customer.country || rule.tax_class != *class {
                continue;
            }
            match &rule.region {
                Some(region) if Some(region) == cart.customer.region.as_ref() => return Some(i),
                Some(_) => {}
                None => country_wide = Some(i),
            }
        }
        country_wide
    }
}

/// The distinct values of a list, in order of first appearance, and each item's index among
/// them.
fn distinct<'a, T: std::hash::Hash + Eq + Clone + 'a>(
    items: impl Iterator<Item = &'a T>,
) -> (Vec<T>, Vec<usize>) {
    let mut values: Vec<T> = Vec::new();
    let mut index: FxHashMap<&'a T, usize> = FxHashMap::default();
    let indices = items
        .map(|item| {
            *index.entry(item).or_insert_with(|| {
                values.push(item.clone());
                values.len().saturating_sub(1)
            })
        })
        .collect();
    (values, indices)
}

/// The names of the price lists and tax rules of the data, for explanations.
struct Names<'a>(&'a PricingData);

impl<'a> crate::messages::PricingNames<'a> for Names<'a> {
    fn list(&self, id: &PriceListId) -> Option<&'a str> {
        self.0.price_lists.iter().find(|l| l.id == *id).map(|l| &*l.name)
    }

    fn tax_rule(&self, id: &TaxRuleId) -> Option<&'a str> {
        self.0.tax_rules.iter().find(|r| r.id == *id).map(|r| &*r.name)
    }
}

/// A line's product and unit price, resolved: references into the cart and the pricing data,
/// so that it is copied cheaply; the priced line is written once, at the end, from these.
#[derive(Clone, Copy)]
struct Resolved<'a> {
    product: usize,
    sku: &'a Sku,
    category: &'a CategoryId,
    quantity: u32,
    unit: Decimal,
    origin: Origin<'a>,
}

/// Where a unit price came from.
#[derive(Clone, Copy)]
enum Origin<'a> {
    Negotiated(&'a NegotiatedPrice),
    /// `tiers[tier]` of a list's price for the product.
    List {
        list: &'a PriceList,
        level: ListLevel,
        tiers: &'a [Tier],
        tier: usize,
    },
}

/// A line's figures in minor units, with rounding per line.
#[derive(Clone, Copy)]
struct Figures<'a> {
    amount: i128,
    /// Its share of the order discount.
    share: i128,
    /// The tax rule applied and the tax, if a rule applies.
    tax: Option<(&'a TaxRule, i128)>,
}

struct Pricer<'a> {
    ctx: &'a PricingContext,
    cart: &'a Cart,
    currency: Currency,
    policy: RoundingPolicy,
    /// Per tax class: resolved or not yet (`None`), then the rule if any.
    class_rules: Vec<Option<Option<usize>>>,
    gross: Option<bool>,
}

impl<'a> Pricer<'a> {
    fn new(ctx: &'a PricingContext, cart: &'a Cart) -> Self {
        Pricer {
            ctx,
            cart,
            currency: cart.currency,
            policy: ctx.data.rounding,
            class_rules: vec![None; ctx.classes.len()],
            gross: None,
        }
    }

    fn money(&self, amount: Decimal) -> Money {
        Money::new(amount, self.currency)
    }

    /// Zero in the cart's currency, written with its minor units.
    fn zero(&self) -> Decimal {
        Money::zero(self.currency).amount()
    }

    fn round(&self, amount: Decimal) -> Result<Decimal, PricingError> {
        round_to_scale(amount, self.currency.minor_units(), self.policy.rounding)
            .ok_or(PricingError::Money(MoneyError::Overflow))
    }

    /// Candidate price lists, most specific first.
    fn candidate_lists(&self) -> Vec<(ListLevel, usize)> {
        let cart = self.cart;
        let mut out: Vec<(ListLevel, usize)> = self
            .ctx
            .data
            .price_lists
            .iter()
            .enumerate()
            .filter_map(|(i, list)| {
                if list.currency != cart.currency
                    || list.valid_from.is_some_and(|d| d > cart.date)
                    || list.valid_until.is_some_and(|d| d < cart.date)
                {
                    return None;
                }
                let level = match &list.audience {
                    Audience::Customer(c) if *c == cart.customer.id => ListLevel::Customer,
                    Audience::Group(g) if Some(g) == cart.customer.group.as_ref() => {
                        ListLevel::Group
                    }
                    Audience::Default => ListLevel::Default,
                    _ => return None,
                };
                Some((level, i))
            })
            .collect();
        let lists = &self.ctx.data.price_lists;
        crate::sort::sort_by(&mut out, |(la, a), (lb, b)| {
            let (a, b) = (lists.get(*a), lists.get(*b));
            la.cmp(lb)
                .then_with(|| b.map(|l| l.valid_from).cmp(&a.map(|l| l.valid_from)))
                .then_with(|| a.map(|l| &l.id).cmp(&b.map(|l| &l.id)))
        });
        out
    }

    /// Whether a product comes on more than one line. Products numbered below 1,024 (any
    /// catalog up to that size) are marked in a bit set on the stack, one pass; a cart with
    /// others is checked on a sorted copy of its products.
    fn repeats(product_of_line: &[(usize, &Product)]) -> bool {
        let mut seen = [0u64; 16];
        let mut marked = true;
        for &(p, _) in product_of_line {
            let Some(word) = seen.get_mut(p / 64) else {
                marked = false;
                break;
            };
            let bit = 1u64 << (p % 64);
            if *word & bit != 0 {
                return true;
            }
            *word |= bit;
        }
        if marked {
            return false;
        }
        let mut sorted: Vec<usize> = product_of_line.iter().map(|p| p.0).collect();
        crate::sort::sort_unstable(&mut sorted);
        sorted.windows(2).any(|w| w.first() == w.get(1))
    }

    fn check_duplicates(&self, product_of_line: &[(usize, &Product)]) -> Result<(), PricingError> {
        if product_of_line.len() < 2 {
            return Ok(());
        }
        if !Self::repeats(product_of_line) {
            return Ok(());
        }
        for (line, p) in product_of_line.iter().enumerate() {
            if let Some(first) = product_of_line.iter().take(line).position(|q| q.0 == p.0) {
                let sku = self.cart.lines.get(line).map(|l| l.sku.clone());
                if let Some(sku) = sku {
                    return Err(PricingError::DuplicateLine { line, first, sku });
                }
            }
        }
        Ok(())
    }

    fn set_basis(&mut self, gross: bool, line: usize, sku: &Sku) -> Result<(), PricingError> {
        match self.gross {
            Some(g) if g != gross => Err(PricingError::MixedTaxBasis { line, sku: sku.clone() }),
            _ => {
                self.gross = Some(gross);
                Ok(())
            }
        }
    }

    /// The unit price of a line and where it came from.
    fn unit_price(
        &mut self,
        line: usize,
        product: usize,
        sku: &Sku,
        quantity: u32,
        lists: &[(ListLevel, usize)],
    ) -> Result<(Decimal, Origin<'a>), PricingError> {
        let cart: &'a Cart = self.cart;
        if let Some(n) = cart.negotiated.iter().find(|n| n.sku == *sku) {
            if n.unit_price.is_sign_negative() && !n.unit_price.is_zero() {
                return Err(PricingError::NegativeNegotiatedPrice { sku: sku.clone() });
            }
            self.set_basis(false, line, sku)?;
            return Ok((n.unit_price, Origin::Negotiated(n)));
        }
        let ctx: &'a PricingContext = self.ctx;
        for &(level, li) in lists {
            let Some(list) = ctx.data.price_lists.get(li) else { continue };
            let Some(price) = ctx.list_price(product, li).and_then(|e| list.prices.get(e)) else {
                continue;
            };
            let Some(tier) = price.tiers.iter().rposition(|t| t.min_quantity <= quantity) else {
                continue;
            };
            let Some(unit) = price.tiers.get(tier).map(|t| t.unit_price) else { continue };
            self.set_basis(list.prices_include_tax, line, sku)?;
            return Ok((unit, Origin::List { list, level, tiers: &price.tiers, tier }));
        }
        Err(PricingError::NoPrice { line, sku: sku.clone(), quantity, currency: self.currency })
    }

    /// Where a resolved price came from, for the priced line.
    fn source(&self, origin: Origin<'a>) -> PriceSource {
        match origin {
            Origin::Negotiated(n) => PriceSource::Negotiated { quote: n.quote.clone() },
            Origin::List { list, level, tiers, tier } => PriceSource::List {
                list: list.id.clone(),
                level,
                min_quantity: tiers.get(tier).map_or(0, |t| t.min_quantity),
                next_tier: tiers.get(tier.saturating_add(1)).map(|t| NextTier {
                    min_quantity: t.min_quantity,
                    unit_price: self.money(t.unit_price),
                }),
            },
        }
    }

    fn rule_for_class(&mut self, class: usize) -> Option<usize> {
        if let Some(Some(resolved)) = self.class_rules.get(class) {
            return *resolved;
        }
        let resolved = self.ctx.classes.get(class).and_then(|c| self.ctx.tax_rule(self.cart, c));
        if let Some(slot) = self.class_rules.get_mut(class) {
            *slot = Some(resolved);
        }
        resolved
    }

    fn rule_for(&mut self, class: &TaxClass) -> Option<usize> {
        match self.ctx.classes.iter().position(|c| c == class) {
            Some(i) => self.rule_for_class(i),
            None => self.ctx.tax_rule(self.cart, class),
        }
    }

    /// The order discount on a subtotal, rounded, capped, and limited to the subtotal.
    fn discount(&self, subtotal: Decimal) -> Result<Option<AppliedDiscount>, PricingError> {
        let Some(d) = &self.cart.discount else { return Ok(None) };
        let (amount, capped, limited) = match (d.percent, d.amount) {
            (Some(percent), None) => {
                if percent.is_sign_negative() || percent > Decimal::ONE_HUNDRED {
                    return Err(PricingError::DiscountPercentOutOfRange(percent));
                }
                let (minor, mode) = (self.currency.minor_units(), self.policy.rounding);
                // In integers when exact (nearly always), else as decimals; the same figure.
                let raw = match mul_shift_round(subtotal, percent, 2, minor, mode) {
                    Some(raw) => raw,
                    None => self.round(
                        op::mul(subtotal, percent)
                            .and_then(|x| op::div(x, Decimal::ONE_HUNDRED))
                            .ok_or(PricingError::Money(MoneyError::Overflow))?,
                    )?,
                };
                match d.cap {
                    Some(cap) if cap.is_sign_negative() && !cap.is_zero() => {
                        return Err(PricingError::NegativeDiscount);
                    }
                    Some(cap) if raw > cap => (self.round(cap)?, true, false),
                    _ => (raw, false, false),
                }
            }
            (None, Some(amount)) => {
                if d.cap.is_some() {
                    return Err(PricingError::DiscountCapWithoutPercent);
                }
                if amount.is_sign_negative() && !amount.is_zero() {
                    return Err(PricingError::NegativeDiscount);
                }
                let amount = self.round(amount)?;
                if amount > subtotal { (subtotal, false, true) } else { (amount, false, false) }
            }
            _ => return Err(PricingError::DiscountNeedsOneOf),
        };
        Ok(Some(AppliedDiscount {
            amount: self.money(amount),
            percent: d.percent,
            capped,
            limited_to_subtotal: limited,
            label: d.label.clone(),
        }))
    }

    /// A decimal in the cart's currency from a number of minor units.
    fn decimal_of(&self, units: i128) -> Result<Decimal, PricingError> {
        from_units(units, self.currency.minor_units())
            .ok_or(PricingError::Money(MoneyError::Overflow))
    }

    /// A line's figure (amount, discount share, tax) in the cart's currency. Each is at most
    /// the subtotal in magnitude (prices are not negative, a discount is at most the subtotal,
    /// a tax rate at most 100%), and the subtotal was checked with [`Pricer::decimal_of`].
    fn within(&self, units: i128) -> Decimal {
        from_units_within(units, self.currency.minor_units())
    }

    /// An amount in minor units, rounded by the policy.
    fn units(&self, amount: Decimal) -> Result<i128, PricingError> {
        to_units(
            amount.mantissa(),
            amount.scale(),
            self.currency.minor_units(),
            self.policy.rounding,
        )
        .ok_or(PricingError::Money(MoneyError::Overflow))
    }

    /// The tax, in minor units, on a taxable amount in minor units: `base × percent / 100` on
    /// net prices, `base × percent / (100 + percent)` inside gross prices; rounded once.
    fn tax_units(&self, rule: &TaxRule, base: i128) -> Result<i128, PricingError> {
        let overflow = || PricingError::Money(MoneyError::Overflow);
        let (percent, scale) = (rule.percent.mantissa(), rule.percent.scale());
        let numerator = mul_exact(base, percent).ok_or_else(overflow)?;
        let hundred = pow10(scale.checked_add(2).ok_or_else(overflow)?).ok_or_else(overflow)?;
        let divisor = if self.gross == Some(true) {
            if rule.kind == TaxKind::SalesTax {
                return Err(PricingError::SalesTaxOnGrossPrices { rule: rule.id.clone() });
            }
            hundred.checked_add(percent).ok_or_else(overflow)?
        } else {
            hundred
        };
        div_round(numerator, divisor, self.policy.rounding).ok_or_else(overflow)
    }

    /// The tax rule applied to a class, resolved once per cart.
    fn taxed(&mut self, class: Option<usize>) -> Option<(usize, &'a TaxRule)> {
        let index = self.rule_for_class(class?)?;
        Some((index, self.ctx.data.tax_rules.get(index)?))
    }

    /// The tax rule for a tax class (of shipping, say) where the cart ships.
    fn rule_of(&mut self, class: &TaxClass) -> Option<(usize, &'a TaxRule)> {
        let index = self.rule_for(class)?;
        Some((index, self.ctx.data.tax_rules.get(index)?))
    }

    #[inline(always)]
    fn applied(&self, rule: &TaxRule, amount: Decimal) -> LineTax {
        LineTax { rule: Some(rule.id.clone()), percent: rule.percent, amount: self.money(amount) }
    }

    fn untaxed(&self) -> LineTax {
        LineTax { rule: None, percent: Decimal::ZERO, amount: self.money(self.zero()) }
    }

    /// Splits a discount over the lines' amounts in proportion, in whole minor units, into
    /// their `share`s: each share is `discount × amount / subtotal` rounded down (exact
    /// integers), and the units left over go to the largest remainders, earlier lines first on
    /// ties. The shares add up exactly.
    fn split(lines: &mut [Figures<'_>], discount: i128) -> Option<()> {
        let subtotal = lines.iter().try_fold(0i128, |acc, l| acc.checked_add(l.amount))?;
        if discount == 0 || subtotal == 0 {
            return Some(());
        }
        let mut remainders = Vec::with_capacity(lines.len());
        let mut left = discount;
        for (i, line) in lines.iter_mut().enumerate() {
            let product = mul_exact(discount, line.amount)?;
            // 64-bit division when it fits: 128-bit division is a library call (slow in wasm).
            let (share, rem) = match (u64::try_from(product), u64::try_from(subtotal)) {
                (Ok(p), Ok(s)) => (i128::from(p.checked_div(s)?), i128::from(p.checked_rem(s)?)),
                _ => (product.checked_div(subtotal)?, product.checked_rem(subtotal)?),
            };
            remainders.push((rem, i));
            left = left.checked_sub(share)?;
            line.share = share;
        }
        let left = usize::try_from(left).ok()?;
        if left > 0 && left <= remainders.len() {
            let largest_first =
                |(ra, ia): &(i128, usize), (rb, ib): &(i128, usize)| rb.cmp(ra).then(ia.cmp(ib));
            // The standard selection in wasm too: the index sort's set-up would cost more
            // than the rest of the split on a 20-line cart.
            remainders.select_nth_unstable_by(left.checked_sub(1)?, largest_first);
            for (_, i) in remainders.iter().take(left) {
                let line = lines.get_mut(*i)?;
                line.share = line.share.checked_add(1)?;
            }
        }
        Some(())
    }

    /// Resolves every line's product and unit price.
    fn resolve(&mut self) -> Result<Vec<Resolved<'a>>, PricingError> {
        let (cart, ctx): (&'a Cart, &'a PricingContext) = (self.cart, self.ctx);
        let lists = self.candidate_lists();
        let mut products = Vec::with_capacity(cart.lines.len());
        for (i, line) in cart.lines.iter().enumerate() {
            let p = ctx
                .products
                .get(&line.sku)
                .and_then(|&p| Some((p, ctx.data.catalog.get(p)?)))
                .ok_or_else(|| PricingError::UnknownSku { line: i, sku: line.sku.clone() })?;
            products.push(p);
        }
        self.check_duplicates(&products)?;
        let mut resolved = Vec::with_capacity(cart.lines.len());
        for (i, (line, (index, product))) in cart.lines.iter().zip(products).enumerate() {
            let quantity = line.quantity.get();
            let (unit, origin) = self.unit_price(i, index, &line.sku, quantity, &lists)?;
            resolved.push(Resolved {
                product: index,
                sku: &line.sku,
                category: &product.category,
                quantity,
                unit,
                origin,
            });
        }
        Ok(resolved)
    }

    /// The priced line of a resolved line (the only place a line's texts are copied).
    #[inline(always)]
    fn line(
        &self,
        r: Resolved<'a>,
        amount: Decimal,
        discount: Decimal,
        tax: LineTax,
    ) -> PricedLine {
        PricedLine {
            sku: r.sku.clone(),
            category: r.category.clone(),
            quantity: r.quantity,
            unit_price: self.money(r.unit),
            source: self.source(r.origin),
            amount: self.money(amount),
            discount: self.money(discount),
            tax,
            explanation: Vec::new(),
        }
    }

    /// The distinct categories of the resolved lines, in order of first appearance.
    fn categories(&self, resolved: &[Resolved<'a>]) -> Vec<CategoryId> {
        let mut categories: Vec<CategoryId> = Vec::new();
        // Categories with an index below 64 are marked in a bit set; any others (a catalog
        // with more categories) are looked for among those found.
        let mut seen = 0u64;
        for r in resolved {
            let bit = self
                .ctx
                .product_category
                .get(r.product)
                .and_then(|&c| u32::try_from(c).ok())
                .and_then(|c| 1u64.checked_shl(c));
            let new = match bit {
                Some(bit) => {
                    let new = seen & bit == 0;
                    seen |= bit;
                    new
                }
                None => !categories.contains(r.category),
            };
            if new {
                categories.push(r.category.clone());
            }
        }
        categories
    }

    fn priced(self, resolved: Vec<Resolved<'a>>) -> Result<PricedCart, PricingError> {
        match self.policy.mode {
            RoundingMode::PerLine => self.per_line_rounding(resolved),
            RoundingMode::OnTotal => self.on_total_rounding(resolved),
        }
    }

    /// Rounding per line, in exact integer minor units: each line's amount, discount share and
    /// tax are whole minor units, and the totals are their sums.
    fn per_line_rounding(
        mut self,
        resolved: Vec<Resolved<'a>>,
    ) -> Result<PricedCart, PricingError> {
        let overflow = || PricingError::Money(MoneyError::Overflow);
        let (minor, mode) = (self.currency.minor_units(), self.policy.rounding);
        // Each line's figures, filled in below: its amount, then its share of the discount,
        // then its tax (one vector rather than one per figure: fewer allocations).
        let mut figures = Vec::with_capacity(resolved.len());
        for r in &resolved {
            let exact =
                mul_exact(r.unit.mantissa(), i128::from(r.quantity)).ok_or_else(overflow)?;
            let amount = to_units(exact, r.unit.scale(), minor, mode).ok_or_else(overflow)?;
            figures.push(Figures { amount, share: 0, tax: None });
        }
        let subtotal_units =
            figures.iter().try_fold(0i128, |a, f| a.checked_add(f.amount)).ok_or_else(overflow)?;
        let subtotal = self.decimal_of(subtotal_units)?;
        let discount = self.discount(subtotal)?;
        let discount_units = match &discount {
            Some(d) => self.units(d.amount.amount())?,
            None => 0,
        };
        Self::split(&mut figures, discount_units).ok_or_else(overflow)?;

        // (rule, taxable base, tax), in minor units, in order of first use.
        let mut rates: Vec<(usize, i128, i128)> = Vec::new();
        let mut add_rate = |rule: usize, base: i128, tax: i128| -> Option<()> {
            match rates.iter_mut().find(|r| r.0 == rule) {
                Some(r) => {
                    r.1 = r.1.checked_add(base)?;
                    r.2 = r.2.checked_add(tax)?;
                }
                None => rates.push((rule, base, tax)),
            }
            Some(())
        };
        // The figures first (fallible, small), then the lines in one infallible pass, so that
        // each line is written once, in place.
        for (r, f) in resolved.iter().zip(figures.iter_mut()) {
            let class = self.ctx.product_class.get(r.product).copied();
            let base = f.amount.checked_sub(f.share).ok_or_else(overflow)?;
            if let Some((index, rule)) = self.taxed(class) {
                let tax = self.tax_units(rule, base)?;
                add_rate(index, base, tax).ok_or_else(overflow)?;
                f.tax = Some((rule, tax));
            }
        }
        let mut lines = Vec::with_capacity(resolved.len());
        lines.extend(resolved.iter().zip(&figures).map(|(&r, f)| {
            let tax = match f.tax {
                Some((rule, tax)) => self.applied(rule, self.within(tax)),
                None => self.untaxed(),
            };
            self.line(r, self.within(f.amount), self.within(f.share), tax)
        }));

        let (shipping_units, shipping_tax) = match &self.cart.shipping {
            Some(s) => {
                if s.amount.is_sign_negative() && !s.amount.is_zero() {
                    return Err(PricingError::NegativeShipping);
                }
                let amount = self.units(s.amount)?;
                let tax = match s.tax_class.as_ref().map(|c| self.rule_of(c)) {
                    None => None,
                    Some(None) => Some(self.untaxed()),
                    Some(Some((index, rule))) => {
                        let tax = self.tax_units(rule, amount)?;
                        add_rate(index, amount, tax).ok_or_else(overflow)?;
                        Some(self.applied(rule, self.decimal_of(tax)?))
                    }
                };
                (amount, tax)
            }
            None => (0, None),
        };

        let gross = self.gross == Some(true);
        let mut taxes = Vec::with_capacity(rates.len());
        let mut tax_total = 0i128;
        for (index, base, tax) in rates {
            let Some(rule) = self.ctx.data.tax_rules.get(index) else { continue };
            let net_base = if gross { base.checked_sub(tax).ok_or_else(overflow)? } else { base };
            tax_total = tax_total.checked_add(tax).ok_or_else(overflow)?;
            taxes.push(TaxAmount {
                rule: rule.id.clone(),
                name: rule.name.clone(),
                kind: rule.kind,
                percent: rule.percent,
                base: self.money(self.decimal_of(net_base)?),
                amount: self.money(self.decimal_of(tax)?),
                included: gross,
            });
        }
        let added = if gross { 0 } else { tax_total };
        let total = subtotal_units
            .checked_sub(discount_units)
            .and_then(|t| t.checked_add(shipping_units))
            .and_then(|t| t.checked_add(added))
            .ok_or_else(overflow)?;
        Ok(PricedCart {
            currency: self.currency,
            lines,
            subtotal: self.money(subtotal),
            discount,
            shipping: self.money(self.decimal_of(shipping_units)?),
            shipping_tax,
            taxes,
            tax_total: self.money(self.decimal_of(tax_total)?),
            total: self.money(self.decimal_of(total)?),
            prices_include_tax: gross,
            rounding: self.policy,
            explanation: Vec::new(),
        })
    }

    /// The exact tax on an amount under a rule (rounding on the total).
    fn tax_exact(&self, rule: &TaxRule, base: Decimal) -> Result<Decimal, PricingError> {
        let overflow = || PricingError::Money(MoneyError::Overflow);
        let times_rate = op::mul(base, rule.percent).ok_or_else(overflow)?;
        let divisor = if self.gross == Some(true) {
            if rule.kind == TaxKind::SalesTax {
                return Err(PricingError::SalesTaxOnGrossPrices { rule: rule.id.clone() });
            }
            op::add(Decimal::ONE_HUNDRED, rule.percent).ok_or_else(overflow)?
        } else {
            Decimal::ONE_HUNDRED
        };
        op::div(times_rate, divisor).ok_or_else(overflow)
    }

    /// Rounding on the total: lines are kept exact; the subtotal, the discount and each tax
    /// rate's total are rounded once. Lines show their rounded shares and taxes.
    fn on_total_rounding(
        mut self,
        resolved: Vec<Resolved<'a>>,
    ) -> Result<PricedCart, PricingError> {
        let overflow = || PricingError::Money(MoneyError::Overflow);
        let mut amounts = Vec::with_capacity(resolved.len());
        let mut sum = self.zero();
        for r in &resolved {
            let amount = op::mul(r.unit, Decimal::from(r.quantity)).ok_or_else(overflow)?;
            sum = op::add(sum, amount).ok_or_else(overflow)?;
            amounts.push(amount);
        }
        let subtotal = self.round(sum)?;
        let discount = self.discount(subtotal)?;
        let discount_amount = discount.as_ref().map_or(Decimal::ZERO, |d| d.amount.amount());
        let factor = if discount_amount.is_zero() || sum.is_zero() {
            Decimal::ZERO
        } else {
            op::div(discount_amount, sum).ok_or_else(overflow)?
        };
        // (rule, exact taxable base), in order of first use.
        let mut rates: Vec<(usize, Decimal)> = Vec::new();
        let mut add_rate = |rule: usize, base: Decimal| -> Option<()> {
            match rates.iter_mut().find(|r| r.0 == rule) {
                Some(r) => r.1 = op::add(r.1, base)?,
                None => rates.push((rule, base)),
            }
            Some(())
        };
        let mut lines = Vec::with_capacity(resolved.len());
        for (&r, amount) in resolved.iter().zip(amounts) {
            let class = self.ctx.product_class.get(r.product).copied();
            let share = op::mul(amount, factor).ok_or_else(overflow)?;
            let base = op::sub(amount, share).ok_or_else(overflow)?;
            let tax = match self.taxed(class) {
                Some((index, rule)) => {
                    add_rate(index, base).ok_or_else(overflow)?;
                    self.applied(rule, self.round(self.tax_exact(rule, base)?)?)
                }
                None => self.untaxed(),
            };
            let share = self.round(share)?;
            lines.push(self.line(r, amount, share, tax));
        }
        let (shipping, shipping_tax) = match &self.cart.shipping {
            Some(s) => {
                if s.amount.is_sign_negative() && !s.amount.is_zero() {
                    return Err(PricingError::NegativeShipping);
                }
                let amount = self.round(s.amount)?;
                let tax = match s.tax_class.as_ref().map(|c| self.rule_of(c)) {
                    None => None,
                    Some(None) => Some(self.untaxed()),
                    Some(Some((index, rule))) => {
                        add_rate(index, amount).ok_or_else(overflow)?;
                        Some(self.applied(rule, self.round(self.tax_exact(rule, amount)?)?))
                    }
                };
                (amount, tax)
            }
            None => (self.zero(), None),
        };
        let gross = self.gross == Some(true);
        let mut taxes = Vec::with_capacity(rates.len());
        let mut tax_total = self.zero();
        for (index, base) in rates {
            let Some(rule) = self.ctx.data.tax_rules.get(index) else { continue };
            let base_rounded = self.round(base)?;
            let amount = self.round(self.tax_exact(rule, base)?)?;
            let net_base = if gross {
                op::sub(base_rounded, amount).ok_or_else(overflow)?
            } else {
                base_rounded
            };
            tax_total = op::add(tax_total, amount).ok_or_else(overflow)?;
            taxes.push(TaxAmount {
                rule: rule.id.clone(),
                name: rule.name.clone(),
                kind: rule.kind,
                percent: rule.percent,
                base: self.money(net_base),
                amount: self.money(amount),
                included: gross,
            });
        }
        let added = if gross { Decimal::ZERO } else { tax_total };
        let total = op::sub(subtotal, discount_amount)
            .and_then(|t| op::add(t, shipping))
            .and_then(|t| op::add(t, added))
            .ok_or_else(overflow)?;
        Ok(PricedCart {
            currency: self.currency,
            lines,
            subtotal: self.money(subtotal),
            discount,
            shipping: self.money(shipping),
            shipping_tax,
            taxes,
            tax_total: self.money(self.round(tax_total)?),
            total: self.money(self.round(total)?),
            prices_include_tax: gross,
            rounding: self.policy,
            explanation: Vec::new(),
        })
    }
}
