//! Money: an exact decimal amount with an ISO 4217 currency. Two currencies never mix: adding
//! or comparing them is an error, never a silent conversion.

use crate::decimal::{DecimalError, Rounding, op, parse_decimal, round_to_scale};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de, ser::SerializeStruct};
use std::{cmp::Ordering, fmt};

/// An ISO 4217 currency with its number of minor units (JPY 0, USD 2, BHD 3).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

/// Active ISO 4217 codes and their minor units, sorted by code.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("ANG", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BGN", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLF", 4),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UYW", 4),
    ("UZS", 2),
    ("VED", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XCG", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

impl Currency {
    /// Looks up an ISO 4217 code ("USD"); unknown codes are an error.
    pub fn from_code(code: &str) -> Result<Currency, MoneyError> {
        let index = CURRENCIES
            .binary_search_by(|(c, _)| (*c).cmp(code))
            .map_err(|_| MoneyError::UnknownCurrency(code.to_owned()))?;
        let (c, minor_units) =
            CURRENCIES.get(index).ok_or_else(|| MoneyError::UnknownCurrency(code.to_owned()))?;
        let mut bytes = [0u8; 3];
        bytes.copy_from_slice(c.as_bytes().get(..3).unwrap_or(b"XXX"));
        Ok(Currency { code: bytes, minor_units: *minor_units })
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("???")
    }

    /// Digits after the decimal point in this currency (2 for USD, 0 for JPY, 3 for BHD).
    pub fn minor_units(&self) -> u32 {
        u32::from(self.minor_units)
    }

    /// Every currency this engine knows.
    pub fn all() -> impl Iterator<Item = Currency> {
        CURRENCIES.iter().filter_map(|(c, _)| Currency::from_code(c).ok())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Currency;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an ISO 4217 currency code such as \"USD\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Currency, E> {
                Currency::from_code(v).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// What can go wrong with money.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MoneyError {
    /// Two amounts in different currencies were added, subtracted or compared.
    CurrencyMismatch {
        left: Currency,
        right: Currency,
    },
    /// The result does not fit in 28 significant digits.
    Overflow,
    UnknownCurrency(String),
    BadAmount(DecimalError),
}

impl std::error::Error for MoneyError {}

/// An exact amount in one currency.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    pub const fn new(amount: Decimal, currency: Currency) -> Money {
        Money { amount, currency }
    }

    /// Zero, written with the currency's minor units (`0.00 USD`, `0 JPY`).
    pub fn zero(currency: Currency) -> Money {
        let amount = Decimal::try_new(0, currency.minor_units()).unwrap_or(Decimal::ZERO);
        Money { amount, currency }
    }

    /// Parses an amount and a code, e.g. `Money::parse("3450.00", "USD")`.
    pub fn parse(amount: &str, currency: &str) -> Result<Money, MoneyError> {
        Ok(Money {
            amount: parse_decimal(amount).map_err(MoneyError::BadAmount)?,
            currency: Currency::from_code(currency)?,
        })
    }

    pub const fn amount(&self) -> Decimal {
        self.amount
    }

    pub const fn currency(&self) -> Currency {
        self.currency
    }

    pub fn is_zero(&self) -> bool {
        self.amount.is_zero()
    }

    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }

    fn same_currency(&self, other: &Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch { left: self.currency, right: other.currency })
        }
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let amount = op::add(self.amount, other.amount).ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, currency: self.currency })
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(&other)?;
        let amount = op::sub(self.amount, other.amount).ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, currency: self.currency })
    }

    /// Multiplies by a plain factor (a quantity, a rate); the result is not rounded.
    pub fn checked_mul(self, factor: Decimal) -> Result<Money, MoneyError> {
        let amount = op::mul(self.amount, factor).ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, currency: self.currency })
    }

    /// Compares two amounts of the same currency; different currencies are an error.
    pub fn try_cmp(&self, other: &Money) -> Result<Ordering, MoneyError> {
        self.same_currency(other)?;
        Ok(crate::decimal::cmp(&self.amount, &other.amount))
    }

    /// Rounds to the currency's minor units (and pads: 12.5 USD becomes 12.50 USD).
    pub fn round(self, rounding: Rounding) -> Result<Money, MoneyError> {
        let amount = round_to_scale(self.amount, self.currency.minor_units(), rounding)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money { amount, currency: self.currency })
    }

    /// The amount counted in minor units (`3,450.00 USD` is 345000), when it is a whole number
    /// of them and fits in an `i64`; for storing sums a database can add exactly.
    pub fn to_minor_units(&self) -> Option<i64> {
        let unit = 10_i64.checked_pow(self.currency.minor_units())?;
        let scaled = op::mul(self.amount, Decimal::from(unit))?;
        if scaled.fract().is_zero() { i64::try_from(scaled.trunc()).ok() } else { None }
    }

    /// An amount given in minor units: `from_minor_units(345000, USD)` is `3,450.00 USD`.
    pub fn from_minor_units(units: i64, currency: Currency) -> Option<Money> {
        let amount = Decimal::try_new(units, currency.minor_units()).ok()?;
        Some(Money { amount, currency })
    }

    /// The amount formatted for people: `3,450.00 USD`.
    pub fn display(&self) -> String {
        self.to_string()
    }
}

/// `3,450.00 USD`: thousands grouped, minor units padded, the code after the amount.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let minor = self.currency.minor_units();
        let shown = if self.amount.scale() < minor {
            round_to_scale(self.amount, minor, Rounding::Down).unwrap_or(self.amount)
        } else {
            self.amount
        };
        let text = shown.abs().to_string();
        let (whole, fraction) = match text.split_once('.') {
            Some((w, fr)) => (w, Some(fr)),
            None => (text.as_str(), None),
        };
        if shown.is_sign_negative() && !shown.is_zero() {
            f.write_str("-")?;
        }
        let len = whole.len();
        for (i, ch) in whole.chars().enumerate() {
            if i > 0 && (len.saturating_sub(i)) % 3 == 0 {
                f.write_str(",")?;
            }
            write!(f, "{ch}")?;
        }
        if let Some(fraction) = fraction {
            write!(f, ".{fraction}")?;
        }
        write!(f, " {}", self.currency)
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// JSON form: `{"amount": "3450.00", "currency": "USD"}`; the amount is always a string.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Money", 2)?;
        s.serialize_field("amount", &DecimalText(self.amount))?;
        s.serialize_field("currency", &self.currency)?;
        s.end()
    }
}

struct DecimalText(Decimal);

impl Serialize for DecimalText {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Repr {
            #[serde(with = "crate::decimal::serde_str")]
            amount: Decimal,
            currency: Currency,
        }
        let Repr { amount, currency } = Repr::deserialize(deserializer)?;
        Ok(Money { amount, currency })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Money {
        Money::parse(s, "USD").unwrap()
    }

    #[test]
    fn currencies_carry_minor_units() {
        assert_eq!(Currency::from_code("JPY").unwrap().minor_units(), 0);
        assert_eq!(Currency::from_code("USD").unwrap().minor_units(), 2);
        assert_eq!(Currency::from_code("BHD").unwrap().minor_units(), 3);
        assert_eq!(Currency::from_code("usd"), Err(MoneyError::UnknownCurrency("usd".into())));
        assert!(Currency::from_code("XYZ").is_err());
        let codes: Vec<&str> = CURRENCIES.iter().map(|(c, _)| *c).collect();
        let mut sorted = codes.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(codes, sorted, "the table must stay sorted and unique");
        assert_eq!(Currency::all().count(), CURRENCIES.len());
    }

    #[test]
    fn two_currencies_never_mix() {
        let eur = Money::parse("1", "EUR").unwrap();
        let err = MoneyError::CurrencyMismatch { left: usd("1").currency(), right: eur.currency() };
        assert_eq!(usd("1").checked_add(eur), Err(err.clone()));
        assert_eq!(usd("1").try_cmp(&eur), Err(err));
        assert_eq!(usd("1.10").checked_add(usd("2.205")).unwrap(), usd("3.305"));
    }

    #[test]
    fn rounds_to_minor_units() {
        assert_eq!(usd("12.5").round(Rounding::HalfUp).unwrap().amount().to_string(), "12.50");
        let jpy = Money::parse("1234.5", "JPY").unwrap();
        assert_eq!(jpy.round(Rounding::HalfEven).unwrap().amount().to_string(), "1234");
        let bhd = Money::parse("1.23456", "BHD").unwrap();
        assert_eq!(bhd.round(Rounding::HalfUp).unwrap().amount().to_string(), "1.235");
    }

    #[test]
    fn counts_in_minor_units() {
        assert_eq!(usd("3450").to_minor_units(), Some(345_000));
        assert_eq!(usd("-0.01").to_minor_units(), Some(-1));
        assert_eq!(usd("1.005").to_minor_units(), None, "not a whole number of cents");
        assert_eq!(Money::parse("50000", "JPY").unwrap().to_minor_units(), Some(50_000));
        assert_eq!(Money::parse("1.235", "BHD").unwrap().to_minor_units(), Some(1_235));
        assert_eq!(usd("100000000000000000").to_minor_units(), None, "does not fit in an i64");
        let back = Money::from_minor_units(345_000, usd("0").currency()).unwrap();
        assert_eq!(back.to_string(), "3,450.00 USD");
    }

    #[test]
    fn displays_for_people() {
        assert_eq!(usd("3450").to_string(), "3,450.00 USD");
        assert_eq!(usd("-1234567.891").to_string(), "-1,234,567.891 USD");
        assert_eq!(usd("999.99").to_string(), "999.99 USD");
        assert_eq!(Money::parse("50000", "JPY").unwrap().to_string(), "50,000 JPY");
    }

    #[test]
    fn json_form_is_strict() {
        let m: Money = serde_json::from_str(r#"{"amount":"3450.00","currency":"USD"}"#).unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), r#"{"amount":"3450.00","currency":"USD"}"#);
        assert!(serde_json::from_str::<Money>(r#"{"amount":3450.0,"currency":"USD"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1","currency":"usd"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1","currency":"USD","x":1}"#).is_err());
    }
}
