//! Exact decimals: strict parsing (strings only, never floats) and fast, explicit rounding.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How an amount is rounded to a currency's minor units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Half away from zero ("commercial rounding"): 0.125 -> 0.13, -0.125 -> -0.13.
    #[default]
    HalfUp,
    /// Half to the nearest even digit ("banker's rounding"): 0.125 -> 0.12, 0.135 -> 0.14.
    HalfEven,
    /// Half towards zero: 0.125 -> 0.12.
    HalfDown,
    /// Away from zero: 0.121 -> 0.13.
    Up,
    /// Towards zero (truncation): 0.129 -> 0.12.
    Down,
    /// Towards positive infinity.
    Ceiling,
    /// Towards negative infinity.
    Floor,
}

/// Why a text is not a decimal number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecimalError {
    Empty,
    Malformed(String),
    OutOfRange(String),
}

impl std::error::Error for DecimalError {}

/// Parses a plain decimal number: an optional `-`, digits, and optionally `.` and more digits.
/// No exponent, no `+`, no spaces, no thousands separators; nothing is silently rounded.
pub fn parse_decimal(text: &str) -> Result<Decimal, DecimalError> {
    if text.is_empty() {
        return Err(DecimalError::Empty);
    }
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = match digits.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
        return Err(DecimalError::Malformed(text.to_owned()));
    }
    Decimal::from_str_exact(text).map_err(|_| DecimalError::OutOfRange(text.to_owned()))
}

/// Powers of ten that fit in a `u64`.
const POW10_U64: [u64; 20] = [
    1,
    10,
    100,
    1000,
    10000,
    100000,
    1000000,
    10000000,
    100000000,
    1000000000,
    10000000000,
    100000000000,
    1000000000000,
    10000000000000,
    100000000000000,
    1000000000000000,
    10000000000000000,
    100000000000000000,
    1000000000000000000,
    10000000000000000000,
];

fn pow10_i128(exp: u32) -> Option<i128> {
    10i128.checked_pow(exp)
}

/// Whether a truncated quotient must move one step away from zero, given the remainder
/// (`rem` out of `divisor`, both non-negative), the quotient's parity and the sign.
fn bump(mode: Rounding, rem: u128, divisor: u128, odd: bool, negative: bool) -> bool {
    if rem == 0 {
        return false;
    }
    // rem < divisor <= 10^28, so twice the remainder cannot overflow a u128.
    let twice = rem.saturating_mul(2);
    match mode {
        Rounding::HalfUp => twice >= divisor,
        Rounding::HalfDown => twice > divisor,
        Rounding::HalfEven => twice > divisor || (twice == divisor && odd),
        Rounding::Up => true,
        Rounding::Down => false,
        Rounding::Ceiling => !negative,
        Rounding::Floor => negative,
    }
}

/// Rounds `value` to exactly `dp` decimal places (padding with zeros when it has fewer), so
/// that `12.5` becomes `12.50` for a two-decimal currency. `None` only if the result cannot be
/// represented (more than 28 digits).
pub fn round_to_scale(value: Decimal, dp: u32, mode: Rounding) -> Option<Decimal> {
    if value.scale() == dp {
        return Some(value);
    }
    round_mantissa(value.mantissa(), value.scale(), dp, mode)
}

/// `a × b` rounded to `dp` places. The product is exact in 128-bit integers (wider than a
/// decimal's 96 bits), so this is both faster than multiplying decimals and rounding, and
/// never loses a digit before rounding.
pub fn mul_round(a: Decimal, b: Decimal, dp: u32, mode: Rounding) -> Option<Decimal> {
    match (a.mantissa().checked_mul(b.mantissa()), a.scale().checked_add(b.scale())) {
        (Some(m), Some(scale)) => round_mantissa(m, scale, dp, mode),
        _ => round_to_scale(a.checked_mul(b)?, dp, mode),
    }
}

/// `a × b / 10^shift` rounded to `dp` places (a percentage of an amount: `shift` 2), when the
/// product is exact as a decimal: at most 96 bits and `28 - shift` places. Multiplying and
/// dividing the decimals then gives this same exact value before rounding, without a decimal
/// division. `None` otherwise: the caller computes it as decimals.
pub fn mul_shift_round(
    a: Decimal,
    b: Decimal,
    shift: u32,
    dp: u32,
    mode: Rounding,
) -> Option<Decimal> {
    let product = a.mantissa().checked_mul(b.mantissa())?;
    let scale = a.scale().checked_add(b.scale())?.checked_add(shift)?;
    if scale > 28 || product.unsigned_abs() > DECIMAL_MAX_MANTISSA {
        return None;
    }
    round_mantissa(product, scale, dp, mode)
}

/// Compares two decimals, as `Ord` does. Amounts compared in routing and in conditions nearly
/// always have the same scale (a total and a threshold in cents), and then comparing the
/// mantissas is enough, which is a fraction of the cost of the general comparison.
#[inline]
pub fn cmp(a: &Decimal, b: &Decimal) -> std::cmp::Ordering {
    if a.scale() == b.scale() { a.mantissa().cmp(&b.mantissa()) } else { a.cmp(b) }
}

/// Decimal arithmetic out of line in the browser builds: rust_decimal's operations are
/// inlined wherever they are used, which cost the exact-rounding path alone about 16 KB of wasm.
/// Natively they stay inline (speed over size).
pub mod op {
    use rust_decimal::Decimal;

    #[cfg_attr(target_arch = "wasm32", inline(never))]
    pub fn add(a: Decimal, b: Decimal) -> Option<Decimal> {
        a.checked_add(b)
    }

    #[cfg_attr(target_arch = "wasm32", inline(never))]
    pub fn sub(a: Decimal, b: Decimal) -> Option<Decimal> {
        a.checked_sub(b)
    }

    #[cfg_attr(target_arch = "wasm32", inline(never))]
    pub fn mul(a: Decimal, b: Decimal) -> Option<Decimal> {
        a.checked_mul(b)
    }

    #[cfg_attr(target_arch = "wasm32", inline(never))]
    pub fn div(a: Decimal, b: Decimal) -> Option<Decimal> {
        a.checked_div(b)
    }
}

/// `numerator / divisor` rounded to an integer (`divisor` positive). Uses 64-bit division when
/// both fit, which matters in wasm, where 128-bit division is a library call.
pub fn div_round(numerator: i128, divisor: i128, mode: Rounding) -> Option<i128> {
    if divisor <= 0 {
        return None;
    }
    let negative = numerator < 0;
    let magnitude = numerator.unsigned_abs();
    let divisor = divisor.unsigned_abs();
    let (quotient, rem) = match (u64::try_from(magnitude), u64::try_from(divisor)) {
        (Ok(n), Ok(d)) => (u128::from(n.checked_div(d)?), u128::from(n.checked_rem(d)?)),
        _ => (magnitude.checked_div(divisor)?, magnitude.checked_rem(divisor)?),
    };
    let odd = quotient % 2 == 1;
    let rounded =
        if bump(mode, rem, divisor, odd, negative) { quotient.checked_add(1)? } else { quotient };
    let signed = i128::try_from(rounded).ok()?;
    if negative { signed.checked_neg() } else { Some(signed) }
}

/// `mantissa × 10^-scale` in units of `10^-dp`, rounded: `(1249, 3)` is 125 cents at 2 places.
pub fn to_units(mantissa: i128, scale: u32, dp: u32, mode: Rounding) -> Option<i128> {
    if scale <= dp {
        mul_exact(mantissa, pow10(dp.checked_sub(scale)?)?)
    } else {
        div_round(mantissa, pow10(scale.checked_sub(dp)?)?, mode)
    }
}

/// The decimal `units × 10^-scale`; `None` beyond a decimal's 96 bits or 28 places.
///
/// Built from its three 32-bit words in registers: `Decimal::try_from_i128_with_scale` goes
/// through memory in a way that stalls store forwarding, which was a quarter of pricing's time.
#[inline]
pub fn from_units(units: i128, scale: u32) -> Option<Decimal> {
    let magnitude = units.unsigned_abs();
    if scale > 28 || magnitude > DECIMAL_MAX_MANTISSA {
        return None;
    }
    // Truncations on purpose: the three 32-bit words of a mantissa checked to fit 96 bits.
    let low = magnitude as u64;
    let (lo, mid, hi) = (low as u32, (low >> 32) as u32, (magnitude >> 64) as u32);
    Some(Decimal::from_parts(lo, mid, hi, units < 0, scale))
}

/// `units × 10^-scale` for a figure known to fit because its magnitude is at most that of a
/// figure [`from_units`] accepted (a line's amount, next to the subtotal). Infallible, so that
/// it stays in registers in a loop; a mantissa beyond 96 bits would lose its high bits.
#[inline]
pub fn from_units_within(units: i128, scale: u32) -> Decimal {
    let magnitude = units.unsigned_abs() & DECIMAL_MAX_MANTISSA;
    let low = magnitude as u64;
    let (lo, mid, hi) = (low as u32, (low >> 32) as u32, (magnitude >> 64) as u32);
    Decimal::from_parts(lo, mid, hi, units < 0, scale.min(28))
}

/// The largest mantissa a decimal holds: 2^96 - 1.
const DECIMAL_MAX_MANTISSA: u128 = (1 << 96) - 1;

/// `a × b`, exactly, or `None` on overflow. Factors of 32 bits (nearly every amount in minor
/// units, price, quantity and rate) multiply in 64 bits: a 128-bit multiplication with its
/// overflow check is a library call in wasm.
#[inline]
pub fn mul_exact(a: i128, b: i128) -> Option<i128> {
    match (i32::try_from(a), i32::try_from(b)) {
        // |a|, |b| <= 2^31, so |a × b| <= 2^62: no overflow in 64 bits.
        (Ok(x), Ok(y)) => Some(i128::from(i64::from(x).wrapping_mul(i64::from(y)))),
        _ => a.checked_mul(b),
    }
}

/// `10^exp` for the exponents decimals have (0 to 28), from a table.
pub fn pow10(exp: u32) -> Option<i128> {
    match POW10_U64.get(exp as usize) {
        Some(&p) => Some(i128::from(p)),
        None => 10i128.checked_pow(exp),
    }
}

/// The number `mantissa × 10^-scale` rounded to `dp` places, as a decimal with scale `dp`.
fn round_mantissa(mantissa: i128, scale: u32, dp: u32, mode: Rounding) -> Option<Decimal> {
    if scale <= dp {
        let factor = pow10_i128(dp.checked_sub(scale)?)?;
        return from_units(mul_exact(mantissa, factor)?, dp);
    }
    let shift = scale.checked_sub(dp)?;
    let negative = mantissa < 0;
    let magnitude = mantissa.unsigned_abs();
    // Fast path: most amounts fit in 64 bits, where division is a single instruction.
    let (quotient, rem, divisor) = match (u64::try_from(magnitude), POW10_U64.get(shift as usize)) {
        (Ok(m), Some(&p)) => {
            (u128::from(m.checked_div(p)?), u128::from(m.checked_rem(p)?), u128::from(p))
        }
        _ => {
            let p = 10u128.checked_pow(shift)?;
            (magnitude.checked_div(p)?, magnitude.checked_rem(p)?, p)
        }
    };
    let odd = quotient % 2 == 1;
    let rounded =
        if bump(mode, rem, divisor, odd, negative) { quotient.checked_add(1)? } else { quotient };
    let signed = i128::try_from(rounded).ok()?;
    let signed = if negative { signed.checked_neg()? } else { signed };
    from_units(signed, dp)
}

/// Serde support for decimals written as JSON strings (`"12.50"`). Numbers are refused: a JSON
/// number may already have passed through a float.
pub mod serde_str {
    use super::parse_decimal;
    use rust_decimal::Decimal;
    use serde::{Deserializer, Serializer, de};
    use std::fmt;

    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        deserializer.deserialize_str(DecimalVisitor)
    }

    pub(crate) struct DecimalVisitor;

    impl de::Visitor<'_> for DecimalVisitor {
        type Value = Decimal;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a decimal number written as a string, such as \"12.50\"")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            parse_decimal(v).map_err(E::custom)
        }
    }
}

/// [`serde_str`] for optional fields.
pub mod serde_str_opt {
    use rust_decimal::Decimal;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        value: &Option<Decimal>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(d) => serializer.collect_str(d),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Decimal>, D::Error> {
        #[derive(Deserialize)]
        struct Wrapped(#[serde(with = "super::serde_str")] Decimal);
        Ok(Option::<Wrapped>::deserialize(deserializer)?.map(|Wrapped(d)| d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        parse_decimal(s).unwrap()
    }

    #[test]
    fn parses_only_plain_decimals() {
        assert_eq!(d("12.50").to_string(), "12.50");
        assert_eq!(d("-0.5").to_string(), "-0.5");
        for bad in ["", "1e5", "+1", " 1", "1.", ".5", "1,000", "1_000", "abc", "--1", "0x10"] {
            assert!(parse_decimal(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(matches!(
            parse_decimal("123456789012345678901234567890123"),
            Err(DecimalError::OutOfRange(_))
        ));
    }

    #[test]
    fn rounds_like_rust_decimal_in_every_mode() {
        use rust_decimal::RoundingStrategy as S;
        let modes = [
            (Rounding::HalfUp, S::MidpointAwayFromZero),
            (Rounding::HalfEven, S::MidpointNearestEven),
            (Rounding::HalfDown, S::MidpointTowardZero),
            (Rounding::Up, S::AwayFromZero),
            (Rounding::Down, S::ToZero),
            (Rounding::Ceiling, S::ToPositiveInfinity),
            (Rounding::Floor, S::ToNegativeInfinity),
        ];
        let values = [
            "0.125",
            "0.135",
            "-0.125",
            "-0.135",
            "2.5",
            "3.5",
            "-2.5",
            "1.2349",
            "1.2351",
            "0.001",
            "-0.001",
            "12",
            "12.5",
            "99999999999999999999.995",
            "-7922816251426433759354395.0335",
            "0.0000000000000000000000000005",
        ];
        for (ours, theirs) in modes {
            for v in values {
                let x = d(v);
                for dp in [0, 2, 3] {
                    let expected = x.round_dp_with_strategy(dp, theirs);
                    let got = round_to_scale(x, dp, ours).unwrap();
                    assert_eq!(got, expected, "{v} to {dp} places with {ours:?}");
                    assert_eq!(got.scale(), dp, "{v} keeps exactly {dp} places");
                }
            }
        }
    }

    #[test]
    fn compares_as_decimals_do() {
        let values = ["0", "-0", "0.00", "-0.00", "1", "1.00", "-1.00", "2000.00", "1999.99"];
        let more =
            ["99999999999.99", "-79228162514264337593543950335", "0.0000000000000000000000000001"];
        for a in values.iter().chain(&more) {
            for b in values.iter().chain(&more) {
                assert_eq!(cmp(&d(a), &d(b)), d(a).cmp(&d(b)), "{a} against {b}");
            }
        }
    }

    #[test]
    fn mul_round_matches_multiplying_then_rounding() {
        let values = [
            "149.00",
            "0.08875",
            "19.90",
            "3.125",
            "-2.5",
            "0",
            "1234567.891",
            "0.0001",
            "99999999999.99",
        ];
        for a in values {
            for b in values {
                for mode in
                    [Rounding::HalfUp, Rounding::HalfEven, Rounding::Down, Rounding::Ceiling]
                {
                    let expected = round_to_scale(d(a).checked_mul(d(b)).unwrap(), 2, mode);
                    assert_eq!(mul_round(d(a), d(b), 2, mode), expected, "{a} × {b} ({mode:?})");
                }
            }
        }
        for a in values {
            for b in ["3", "0.5", "12.125", "100", "0", "3.0000000000000000000000001"] {
                for mode in [Rounding::HalfUp, Rounding::HalfEven, Rounding::Up, Rounding::Floor] {
                    let decimals = d(a)
                        .checked_mul(d(b))
                        .and_then(|x| x.checked_div(Decimal::ONE_HUNDRED))
                        .and_then(|x| round_to_scale(x, 2, mode));
                    if let Some(got) = mul_shift_round(d(a), d(b), 2, 2, mode) {
                        assert_eq!(Some(got), decimals, "{a} × {b} / 100 ({mode:?})");
                    }
                }
            }
        }
        assert_eq!(
            mul_shift_round(d("1.5"), d("0.000000000000000000000000001"), 2, 2, Rounding::Up),
            None
        );
        // Beyond 96 bits the decimal product would lose digits; the 128-bit one does not.
        let big = d("79228162514264337593543950.335");
        assert_eq!(
            mul_round(big, d("0.001"), 2, Rounding::HalfUp),
            Some(d("79228162514264337593543.95"))
        );
    }
}
