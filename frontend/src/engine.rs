//! The engine in the browser, prepared from the context the server sent: the cart page and
//! an order's change price and route with it as the buyer types, as the server will.

use crate::model::{CheckoutContext, Line};
use rules::{
    CheckoutVerdict,
    approval::ApprovalContext,
    ids::Sku,
    pricing::{CartLine, PricingContext, Quantity},
};

/// The most units of one SKU a line orders (the server refuses more; the pages' messages say it).
pub const MAX_QUANTITY: u32 = 1_000_000;

/// The engine, prepared from the server's data.
#[derive(Debug)]
pub struct Engine {
    pub context: CheckoutContext,
    pricing: PricingContext,
    approval: ApprovalContext,
}

impl Engine {
    pub fn new(context: CheckoutContext) -> Result<Engine, String> {
        let pricing = PricingContext::new(context.pricing.clone())
            .map_err(|p| format!("the price data has {} problems", p.len()))?;
        let approval = ApprovalContext::new(context.policy.clone(), context.directory.clone())
            .map_err(|p| format!("the approval policy has {} problems", p.len()))?;
        Ok(Engine { context, pricing, approval })
    }

    pub fn name(&self, sku: &str) -> String {
        self.context
            .pricing
            .catalog
            .iter()
            .find(|p| p.sku.as_str() == sku)
            .map_or_else(|| sku.to_owned(), |p| p.name.to_string())
    }

    /// Whether the catalog the prices came with has the product: one taken out of it since it
    /// was put in a cart is no longer sold.
    pub fn sells(&self, sku: &str) -> bool {
        Sku::parse(sku).is_ok_and(|sku| self.pricing.product(&sku).is_some())
    }

    /// Prices and routes the lines: the same call the server makes on submission.
    pub fn evaluate(&self, lines: &[Line]) -> Result<CheckoutVerdict, String> {
        let mut request = self.context.request.clone();
        request.cart.lines = lines
            .iter()
            .map(|l| {
                Ok(CartLine {
                    sku: Sku::parse(&l.sku).map_err(|e| e.to_string())?,
                    quantity: Quantity::new(l.quantity).ok_or("a quantity must be at least 1")?,
                })
            })
            .collect::<Result<_, String>>()?;
        let gone: Vec<&str> = request
            .cart
            .lines
            .iter()
            .filter(|l| self.pricing.product(&l.sku).is_none())
            .map(|l| l.sku.as_str())
            .collect();
        match gone.as_slice() {
            [] => {}
            [one] => {
                return Err(format!(
                    "{one} is no longer sold: remove it to see the prices and the approval route."
                ));
            }
            many => {
                return Err(format!(
                    "{} are no longer sold: remove them to see the prices and the approval route.",
                    many.join(", ")
                ));
            }
        }
        rules::evaluate_checkout(&self.pricing, &self.approval, &request)
            .map(|v| v.explained(&self.pricing, &self.approval))
            .map_err(|e| e.to_string())
    }
}
