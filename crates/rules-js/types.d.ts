// The JSON shapes of Countersign's rules engine. Amounts are decimal strings ("12.50"), never
// numbers: a JavaScript number is a float. Dates are "YYYY-MM-DD", timestamps RFC 3339 in UTC,
// durations "7d", "1d12h", "90m".

export type Decimal = string;
export interface Money { amount: Decimal; currency: string }
export type Rounding = "half_up" | "half_even" | "half_down" | "up" | "down" | "ceiling" | "floor";

// ---- Conditions (workflow guards, approval rule conditions) ----
export type Value =
  | { money: Money }
  | { number: Decimal }
  | { duration: string }
  | { text: string }
  | { bool: boolean }
  | { list: string[] };
export type Op = "=" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "contains" | "within";
export interface Comparison { field: string; op: Op; value: Value }
export type Condition = { all: Condition[] } | { any: Condition[] } | { not: Condition } | Comparison;
export interface Check { field: string; op: Op; expected: Value; actual?: Value | null; holds: boolean }
export type FieldType = "money" | "number" | "duration" | "text" | "bool" | "text_list" | "unit";

// ---- Diagnostics ----
export interface Diagnostic {
  severity: "error" | "warning";
  /** Where, in the JSON form: "transitions[2].guard.all[1]". */
  path: string;
  /** What, as a stable code: "unreachable_state". The problem's data follows as more keys. */
  code: string;
  message: string;
  [data: string]: unknown;
}

// ---- Pricing ----
export interface Product { sku: string; name: string; category: string; tax_class: string }
export type Audience = "default" | { customer: string } | { group: string };
export type ListLevel = "customer" | "group" | "default";
export interface Tier { min_quantity: number; unit_price: Decimal }
export interface ListPrice { sku: string; tiers: Tier[] }
export interface PriceList {
  id: string; name: string; audience: Audience; currency: string;
  prices_include_tax?: boolean; valid_from?: string | null; valid_until?: string | null;
  prices: ListPrice[];
}
export type TaxKind = "sales_tax" | "vat";
export interface TaxRule {
  id: string; name: string; kind: TaxKind; country: string; region?: string | null;
  tax_class: string; percent: Decimal;
}
export interface RoundingPolicy { mode?: "per_line" | "on_total"; rounding?: Rounding }
export interface PricingData { catalog: Product[]; price_lists: PriceList[]; tax_rules?: TaxRule[]; rounding?: RoundingPolicy }

export interface CustomerRef { id: string; group?: string | null; country: string; region?: string | null }
export interface CartLine { sku: string; quantity: number }
export interface NegotiatedPrice { sku: string; unit_price: Decimal; quote: string }
export interface OrderDiscount { percent?: Decimal; amount?: Decimal; cap?: Decimal; label?: string }
export interface Shipping { amount: Decimal; tax_class?: string | null }
export interface Cart {
  currency: string; date: string; customer: CustomerRef; lines: CartLine[];
  negotiated?: NegotiatedPrice[]; discount?: OrderDiscount | null; shipping?: Shipping | null;
}

export interface NextTier { min_quantity: number; unit_price: Money }
/** From how many units a unit price applies (`Pricing.priceBreaks`). */
export interface PriceBreak { min_quantity: number; unit_price: Money; prices_include_tax: boolean }
export type PriceSource =
  | { kind: "list"; list: string; level: ListLevel; min_quantity: number; next_tier?: NextTier }
  | { kind: "negotiated"; quote: string };
export interface LineTax { rule: string | null; percent: Decimal; amount: Money }
export interface PricedLine {
  sku: string; category: string; quantity: number; unit_price: Money; source: PriceSource;
  amount: Money; discount: Money; tax: LineTax; explanation?: string[];
}
export interface TaxAmount { rule: string; name: string; kind: TaxKind; percent: Decimal; base: Money; amount: Money; included: boolean }
export interface AppliedDiscount { amount: Money; percent?: Decimal; capped: boolean; limited_to_subtotal: boolean; label?: string }
export interface PricedCart {
  currency: string; lines: PricedLine[]; subtotal: Money; discount: AppliedDiscount | null;
  shipping: Money; shipping_tax?: LineTax; taxes: TaxAmount[]; tax_total: Money; total: Money;
  prices_include_tax: boolean; rounding: RoundingPolicy; explanation?: string[];
}

// ---- Approval routing ----
export type Approver = "manager" | { user: string } | { role: string } | { any_of: string[] };
export type Mode = "highest" | "escalation" | "any";
export interface ApprovalRule { id: string; name: string; min_total?: Money | null; when?: Condition | null; approver: Approver }
export type OverLimit = "block" | { approval: Approver };
export type Period = "day" | "week" | "month" | "quarter" | "year";
export type LimitScope = "everyone" | { user: string } | { role: string };
export interface SpendingLimit { id: string; name: string; applies_to: LimitScope; period: Period; amount: Money; on_exceed: OverLimit }
export interface ApprovalPolicy {
  name: string; mode?: Mode; rules?: ApprovalRule[]; spending_limits?: SpendingLimit[];
  over_credit?: OverLimit | null; fallback?: Approver | null;
}
export interface Unit { id: string; name: string; parent?: string | null }
export interface Member { id: string; name: string; roles?: string[]; unit?: string | null; manager?: string | null }
export interface Directory { units?: Unit[]; users: Member[] }
export type Funds = { credit: { limit: Money; open_balance: Money } } | { card: { capacity: Money } };
export interface OrderFacts {
  total: Money; subtotal: Money; discount: Money; shipping: Money; tax: Money;
  sku_count: number; quantity: number; categories: string[];
  business_unit?: string | null; payment_method?: string | null; customer?: string | null; customer_group?: string | null;
}
export interface Spent { limit: string; amount: Money }
export interface RouteRequest { buyer: string; order: OrderFacts; spent?: Spent[]; funds?: Funds | null }
export type Verdict = "no_approval_needed" | "approval_required" | "blocked";
export interface RuleMatch { rule: string; name: string; threshold?: Money; checks?: Check[] }
export type Because =
  | ({ kind: "rule" } & RuleMatch)
  | { kind: "spending_limit"; limit: string; name: string; period: Period; limit_amount: Money; spent: Money }
  | { kind: "credit"; funds: Funds };
export interface RuleRef { rule: string; name: string }
export type EscalationReason = "buyer_is_only_approver" | "outside_business_unit" | "no_approver";
export interface Escalation { from?: RuleRef; to?: RuleRef; reason: EscalationReason }
export interface PlanStep { approver: Approver; candidates: string[]; because: Because[]; escalations?: Escalation[] }
export type Block =
  | { kind: "spending_limit"; limit: string; name: string; period: Period; limit_amount: Money; spent: Money }
  | { kind: "credit"; funds: Funds }
  | { kind: "no_eligible_approver"; because: Because[] }
  | { kind: "no_threshold_in_currency"; currency: string }
  | { kind: "limit_currency"; limit: string; name: string };
export interface ApprovalPlan { verdict: Verdict; total: Money; mode: Mode; steps: PlanStep[]; blocks?: Block[]; explanation?: string[] }
export interface CheckoutRequest {
  cart: Cart; buyer: string; business_unit?: string | null; payment_method?: string | null;
  spent?: Spent[]; funds?: Funds | null;
}
export interface CheckoutVerdict { priced: PricedCart; facts: OrderFacts; plan: ApprovalPlan }
export interface SnapshotLine { sku: string; quantity: number; unit_price: Money }
export interface Snapshot { lines: SnapshotLine[]; facts: OrderFacts; plan: ApprovalPlan }
export type Change =
  | { kind: "line_added"; sku: string; quantity: number }
  | { kind: "line_removed"; sku: string }
  | { kind: "quantity_changed"; sku: string; from: number; to: number }
  | { kind: "unit_price_changed"; sku: string; from: Money; to: Money }
  | { kind: "total_changed"; from: Money; to: Money }
  | { kind: "currency_changed"; from: string; to: string }
  | { kind: "payment_method_changed"; from: string | null; to: string | null }
  | { kind: "business_unit_changed"; from: string | null; to: string | null }
  | { kind: "new_approval"; rules: string[] }
  | { kind: "now_blocked" };
export interface Drift { reapproval_required: boolean; changes: Change[]; explanation?: string[] }

// ---- Workflows ----
export type Entity = "order" | "quote" | "checkout";
export type Scope = "all" | { customer_group: string } | { customer: string };
export interface CustomField { path: string; type: FieldType }
export interface State { id: string; label: string; start?: boolean; terminal?: boolean }
export type Trigger = "manual" | { event: string } | { timer: { after: string } };
export type Recipient = "buyer" | "approvers" | "sales_rep" | "company_admins" | "seller_admins" | "back_office";
export type Action =
  | { notify: { to: Recipient[]; template: string } }
  | { require_approval: Record<string, never> }
  | { set: { field: string; value: Value } }
  | { call: { integration: string } };
export interface Transition {
  id: string; from: string; to: string; label: string; roles?: string[]; trigger?: Trigger;
  guard?: Condition; actions?: Action[];
}
export interface WorkflowDefinition {
  id: string; version: number; name: string; entity: Entity; scope?: Scope;
  fields?: CustomField[]; states: State[]; transitions: Transition[];
}
export interface Instance { workflow: string; version: number; state: string; entered_at: string; fields?: Record<string, Value>; started_by?: string | null }
export interface Actor { id?: string | null; roles: string[] }
export type Refusal =
  | { code: "unknown_transition"; transition: string }
  | { code: "not_from_here"; transition: string; state: string; from: string }
  | { code: "role_not_allowed"; transition: string; allowed: string[] }
  | { code: "own_request"; transition: string }
  | { code: "guard_fails"; transition: string; checks: Check[] }
  | { code: "not_manual"; transition: string }
  | { code: "not_automatic"; transition: string }
  | { code: "timer_not_due"; transition: string; due_at: string };
export interface TransitionOption {
  transition: string; label: string; to: string; trigger: Trigger; enabled: boolean;
  refusals?: Refusal[]; checks?: Check[]; explanation?: string[];
}
export interface Fired { transition: string; from: string; to: string; at: string; actions: Action[]; instance: Instance }
export interface TimerStatus {
  transition: string; due_at: string; elapsed: boolean; guard_holds: boolean; due: boolean;
  checks?: Check[]; explanation: string;
}
