//! Exact numbers for the Standard Cost Model: naturals of any size, signed rationals and money.
//!
//! Sums of shares (a terminal's cost × a root's baseline volume / the terminal's total baseline volume)
//! have denominators that differ per terminal, so a group's exact total can outgrow `u128`. These types
//! keep every figure exact until the wire, where money is rounded half-up to the đồng and ratios become
//! `f64` (at least 15 significant digits, more than the 9 the SPEC asks for).

use std::cmp::Ordering;
use std::fmt;

use serde::{Serialize, Serializer};

/// A natural number of any size: little-endian 64-bit limbs with no high zero limb (zero is empty).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Nat(Vec<u64>);

impl Nat {
    pub fn zero() -> Self {
        Self(Vec::new())
    }

    pub fn from_u128(n: u128) -> Self {
        let mut out = Self(vec![n as u64, (n >> 64) as u64]);
        out.trim();
        out
    }

    fn trim(&mut self) {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
    }

    pub fn is_zero(&self) -> bool {
        self.0.is_empty()
    }

    /// The number of significant bits (0 for zero).
    pub fn bits(&self) -> u64 {
        match self.0.last() {
            None => 0,
            Some(&top) => (self.0.len() as u64 - 1) * 64 + u64::from(64 - top.leading_zeros()),
        }
    }

    pub fn to_u128(&self) -> Option<u128> {
        match self.0.len() {
            0 => Some(0),
            1 => Some(u128::from(self.0[0])),
            2 => Some(u128::from(self.0[0]) | (u128::from(self.0[1]) << 64)),
            _ => None,
        }
    }

    pub fn add(&self, other: &Nat) -> Nat {
        let (long, short) = if self.0.len() >= other.0.len() { (self, other) } else { (other, self) };
        let mut out = Vec::with_capacity(long.0.len() + 1);
        let mut carry = 0u64;
        for (i, &a) in long.0.iter().enumerate() {
            let b = short.0.get(i).copied().unwrap_or(0);
            let (s1, c1) = a.overflowing_add(b);
            let (s2, c2) = s1.overflowing_add(carry);
            out.push(s2);
            carry = u64::from(c1) + u64::from(c2);
        }
        if carry > 0 {
            out.push(carry);
        }
        Nat(out)
    }

    /// `self − other`; the caller guarantees `self >= other`.
    pub fn sub(&self, other: &Nat) -> Nat {
        let mut out = self.clone();
        out.sub_assign(other);
        out
    }

    fn sub_assign(&mut self, other: &Nat) {
        debug_assert!(*self >= *other, "natural subtraction below zero");
        let mut borrow = 0u64;
        for i in 0..self.0.len() {
            let b = other.0.get(i).copied().unwrap_or(0);
            let (d1, b1) = self.0[i].overflowing_sub(b);
            let (d2, b2) = d1.overflowing_sub(borrow);
            self.0[i] = d2;
            borrow = u64::from(b1) + u64::from(b2);
            if borrow == 0 && i >= other.0.len() {
                break;
            }
        }
        self.trim();
    }

    pub fn mul(&self, other: &Nat) -> Nat {
        if self.is_zero() || other.is_zero() {
            return Nat::zero();
        }
        let mut out = vec![0u64; self.0.len() + other.0.len()];
        for (i, &a) in self.0.iter().enumerate() {
            let mut carry = 0u128;
            for (j, &b) in other.0.iter().enumerate() {
                let t = u128::from(a) * u128::from(b) + u128::from(out[i + j]) + carry;
                out[i + j] = t as u64;
                carry = t >> 64;
            }
            out[i + other.0.len()] = carry as u64;
        }
        let mut out = Nat(out);
        out.trim();
        out
    }

    pub fn mul_u64(&self, m: u64) -> Nat {
        self.mul(&Nat::from_u128(u128::from(m)))
    }

    /// Quotient and remainder by a small divisor (`d > 0`).
    pub fn divmod_u64(&self, d: u64) -> (Nat, u64) {
        assert!(d > 0, "division by zero");
        let mut q = vec![0u64; self.0.len()];
        let mut rem = 0u128;
        for i in (0..self.0.len()).rev() {
            let cur = (rem << 64) | u128::from(self.0[i]);
            q[i] = (cur / u128::from(d)) as u64;
            rem = cur % u128::from(d);
        }
        let mut q = Nat(q);
        q.trim();
        (q, rem as u64)
    }

    pub fn shl(&self, bits: u64) -> Nat {
        if self.is_zero() {
            return Nat::zero();
        }
        let (limbs, shift) = ((bits / 64) as usize, (bits % 64) as u32);
        let mut out = vec![0u64; limbs];
        if shift == 0 {
            out.extend_from_slice(&self.0);
        } else {
            let mut carry = 0u64;
            for &x in &self.0 {
                out.push((x << shift) | carry);
                carry = x >> (64 - shift);
            }
            out.push(carry);
        }
        let mut out = Nat(out);
        out.trim();
        out
    }

    fn shr1_assign(&mut self) {
        let mut carry = 0u64;
        for x in self.0.iter_mut().rev() {
            let next = *x & 1;
            *x = (*x >> 1) | (carry << 63);
            carry = next;
        }
        self.trim();
    }

    fn set_bit(&mut self, bit: u64) {
        let limb = (bit / 64) as usize;
        if self.0.len() <= limb {
            self.0.resize(limb + 1, 0);
        }
        self.0[limb] |= 1 << (bit % 64);
    }

    /// Quotient and remainder (`d > 0`). Shift-and-subtract over the quotient's bits only, so it is
    /// cheap whenever the quotient is small, however large the operands.
    pub fn divmod(&self, d: &Nat) -> (Nat, Nat) {
        assert!(!d.is_zero(), "division by zero");
        if d.0.len() == 1 {
            let (q, r) = self.divmod_u64(d.0[0]);
            return (q, Nat::from_u128(u128::from(r)));
        }
        if self < d {
            return (Nat::zero(), self.clone());
        }
        let shift = self.bits() - d.bits();
        let mut divisor = d.shl(shift);
        let mut rem = self.clone();
        let mut q = Nat::zero();
        for bit in (0..=shift).rev() {
            if rem >= divisor {
                rem.sub_assign(&divisor);
                q.set_bit(bit);
            }
            divisor.shr1_assign();
        }
        q.trim();
        (q, rem)
    }

    /// The nearest `f64` (within an ulp or so).
    pub fn to_f64(&self) -> f64 {
        let bits = self.bits();
        if bits <= 128 {
            return self.to_u128().unwrap_or(0) as f64;
        }
        let (top, _) = self.divmod(&Nat::from_u128(1).shl(bits - 128));
        scale_by_power_of_two(top.to_u128().unwrap_or(u128::MAX) as f64, (bits - 128) as i64)
    }
}

impl Ord for Nat {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.len().cmp(&other.0.len()).then_with(|| self.0.iter().rev().cmp(other.0.iter().rev()))
    }
}

impl PartialOrd for Nat {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for Nat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_u128() {
            Some(n) => write!(f, "{n}"),
            None => write!(f, "Nat({} bits)", self.bits()),
        }
    }
}

/// `x × 2^e` without overflowing the intermediate powers.
fn scale_by_power_of_two(mut x: f64, mut e: i64) -> f64 {
    while e > 0 {
        let step = e.min(1000);
        x *= 2f64.powi(step as i32);
        e -= step;
    }
    while e < 0 {
        let step = (-e).min(1000);
        x /= 2f64.powi(step as i32);
        e += step;
    }
    x
}

fn gcd_u128(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

pub(crate) fn gcd_u64(a: u64, b: u64) -> u64 {
    gcd_u128(u128::from(a), u128::from(b)) as u64
}

/// An exact rational number. Equality and order are by value (`1/2 == 2/4`).
#[derive(Clone)]
pub struct Ratio {
    negative: bool,
    num: Nat,
    /// Always positive.
    den: Nat,
}

impl Ratio {
    pub fn zero() -> Self {
        Self { negative: false, num: Nat::zero(), den: Nat::from_u128(1) }
    }

    pub fn from_int(n: i128) -> Self {
        Self { negative: n < 0, num: Nat::from_u128(n.unsigned_abs()), den: Nat::from_u128(1) }
    }

    /// `num / den` (`den > 0`), reduced to lowest terms.
    pub fn new(num: u128, den: u128) -> Self {
        assert!(den > 0, "a ratio needs a positive denominator");
        let g = gcd_u128(num, den).max(1);
        Self { negative: false, num: Nat::from_u128(num / g), den: Nat::from_u128(den / g) }
    }

    /// `num / den` from naturals of any size (`den > 0`).
    pub fn from_nats(num: Nat, den: Nat) -> Self {
        assert!(!den.is_zero(), "a ratio needs a positive denominator");
        Self { negative: false, num, den }.tidy()
    }

    /// Reduces small values to lowest terms and keeps zero non-negative.
    fn tidy(mut self) -> Self {
        if self.num.is_zero() {
            return Self::zero();
        }
        if let (Some(n), Some(d)) = (self.num.to_u128(), self.den.to_u128()) {
            let g = gcd_u128(n, d);
            if g > 1 {
                self.num = Nat::from_u128(n / g);
                self.den = Nat::from_u128(d / g);
            }
        }
        self
    }

    pub fn is_zero(&self) -> bool {
        self.num.is_zero()
    }

    pub fn is_negative(&self) -> bool {
        self.negative && !self.num.is_zero()
    }

    pub fn numerator(&self) -> (bool, &Nat) {
        (self.negative, &self.num)
    }

    pub fn denominator(&self) -> &Nat {
        &self.den
    }

    pub fn neg(&self) -> Ratio {
        Self { negative: !self.negative, ..self.clone() }.tidy()
    }

    pub fn add(&self, other: &Ratio) -> Ratio {
        let a = self.num.mul(&other.den);
        let b = other.num.mul(&self.den);
        let den = self.den.mul(&other.den);
        let (negative, num) = if self.negative == other.negative {
            (self.negative, a.add(&b))
        } else if a >= b {
            (self.negative, a.sub(&b))
        } else {
            (other.negative, b.sub(&a))
        };
        Self { negative, num, den }.tidy()
    }

    pub fn sub(&self, other: &Ratio) -> Ratio {
        self.add(&other.neg())
    }

    pub fn mul(&self, other: &Ratio) -> Ratio {
        Self { negative: self.negative != other.negative, num: self.num.mul(&other.num), den: self.den.mul(&other.den) }
            .tidy()
    }

    /// `self / other`, or `None` when `other` is zero.
    pub fn div(&self, other: &Ratio) -> Option<Ratio> {
        if other.is_zero() {
            return None;
        }
        Some(
            Self {
                negative: self.negative != other.negative,
                num: self.num.mul(&other.den),
                den: self.den.mul(&other.num),
            }
            .tidy(),
        )
    }

    /// `1 − self`: a reduction from the ratio of current to baseline.
    pub fn one_minus(&self) -> Ratio {
        Ratio::from_int(1).sub(self)
    }

    /// The largest integer at most `self`, for non-negative values; `None` for negative ones or past `u128`.
    pub fn floor_u128(&self) -> Option<u128> {
        if self.is_negative() {
            return None;
        }
        self.num.divmod(&self.den).0.to_u128()
    }

    /// Rounds half-up to an integer (non-negative values only): `floor(x + 1/2)`.
    pub fn round_half_up(&self) -> Option<u128> {
        if self.is_negative() {
            return None;
        }
        let twice = self.num.shl(1).add(&self.den);
        twice.divmod(&self.den.shl(1)).0.to_u128()
    }

    /// The nearest `f64` (to within about an ulp): only for output.
    pub fn to_f64(&self) -> f64 {
        if self.num.is_zero() {
            return 0.0;
        }
        // Scale so that the integer quotient carries about 66 significant bits, then scale back.
        let shift = 66 - (self.num.bits() as i64 - self.den.bits() as i64);
        let (num, den) = if shift >= 0 {
            (self.num.shl(shift as u64), self.den.clone())
        } else {
            (self.num.clone(), self.den.shl((-shift) as u64))
        };
        let (q, r) = num.divmod(&den);
        // A sticky bit keeps a remainder from rounding as if the quotient were exact.
        let q = q.to_u128().unwrap_or(u128::MAX) | u128::from(!r.is_zero());
        let magnitude = scale_by_power_of_two(q as f64, -shift);
        if self.negative { -magnitude } else { magnitude }
    }
}

impl PartialEq for Ratio {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ratio {}

impl Ord for Ratio {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self.is_negative(), other.is_negative()) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (negative, _) => {
                let magnitude = self.num.mul(&other.den).cmp(&other.num.mul(&self.den));
                if negative { magnitude.reverse() } else { magnitude }
            }
        }
    }
}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for Ratio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.is_negative() { "-" } else { "" };
        write!(f, "{sign}{:?}/{:?} (≈{})", self.num, self.den, self.to_f64())
    }
}

/// On the wire a ratio is a JSON number: exact values stay exact until here.
impl Serialize for Ratio {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.to_f64())
    }
}

/// An exact, non-negative amount of đồng. On the wire it is rounded half-up to the đồng and written as an
/// exact JSON integer (past 2⁵³ too).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Money(Ratio);

impl Money {
    pub fn zero() -> Self {
        Self(Ratio::zero())
    }

    pub fn from_dong(n: u128) -> Self {
        Self(Ratio::from_int(n as i128))
    }

    /// An exact amount; `None` if it is negative.
    pub fn from_ratio(r: Ratio) -> Option<Self> {
        (!r.is_negative()).then_some(Self(r))
    }

    pub fn as_ratio(&self) -> &Ratio {
        &self.0
    }

    /// The amount rounded half-up to the đồng, as the wire shows it.
    pub fn rounded_dong(&self) -> u128 {
        self.0.round_half_up().unwrap_or(u128::MAX)
    }

    pub fn add(&self, other: &Money) -> Money {
        Money(self.0.add(&other.0))
    }

    /// `max(0, self − other)`.
    pub fn saturating_sub(&self, other: &Money) -> Money {
        let d = self.0.sub(&other.0);
        if d.is_negative() { Money::zero() } else { Money(d) }
    }

    /// `self × num / den` (`den > 0`).
    pub fn scale(&self, num: u64, den: u64) -> Money {
        Money(self.0.mul(&Ratio::new(u128::from(num), u128::from(den))))
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} đ ({:?})", self.rounded_dong(), self.0)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let dong = self.rounded_dong();
        // u64 where it fits, so `serde_json::to_value` works for every realistic amount.
        match u64::try_from(dong) {
            Ok(small) => s.serialize_u64(small),
            Err(_) => s.serialize_u128(dong),
        }
    }
}

/// A running exact sum of money in units of 1/200 đồng: a whole part and one fraction kept below 1.
///
/// Shares of merged terminals add terms `n / d` with different `d`; adding them one at a time through the
/// least common multiple keeps the fraction exact, and carrying it into the whole part keeps it small.
#[derive(Clone, Debug)]
pub(crate) struct UnitSum {
    whole: u128,
    /// `num / den < 1`; `den` is 1 while every term so far was whole.
    num: Nat,
    den: Nat,
}

/// Money is summed in 1/200 đồng: hours are hundredths, and the `both` tariff is a mean of two.
pub(crate) const UNITS_PER_DONG: u128 = 200;

impl Default for UnitSum {
    fn default() -> Self {
        Self { whole: 0, num: Nat::zero(), den: Nat::from_u128(1) }
    }
}

impl UnitSum {
    pub(crate) fn add_units(&mut self, n: u128) {
        self.whole += n;
    }

    /// Adds `n / d` units (`d > 0`).
    pub(crate) fn add_fraction(&mut self, n: u128, d: u64) {
        let d128 = u128::from(d);
        self.whole += n / d128;
        let r = (n % d128) as u64;
        if r == 0 {
            return;
        }
        // num/den + r/d over lcm(den, d) = den × (d / g), g = gcd(den, d) = gcd(d, den mod d).
        let (_, den_mod_d) = self.den.divmod_u64(d);
        let g = gcd_u64(d, den_mod_d);
        let (den_over_g, _) = self.den.divmod_u64(g);
        let d_over_g = d / g;
        self.num = self.num.mul_u64(d_over_g).add(&den_over_g.mul_u64(r));
        self.den = self.den.mul_u64(d_over_g);
        if self.num >= self.den {
            self.num.sub_assign(&self.den);
            self.whole += 1;
        }
    }

    /// The sum of the units of `sum` and the non-negative `fraction` of a unit (any size).
    pub(crate) fn add_ratio(&mut self, fraction: &Ratio) {
        if fraction.is_zero() {
            return;
        }
        let (whole, rest) = fraction.num.divmod(&fraction.den);
        self.whole += whole.to_u128().expect("a sum of shares far inside u128");
        // num/den + rest/fden over den × fden: exact, if not in lowest terms.
        self.num = self.num.mul(&fraction.den).add(&rest.mul(&self.den));
        self.den = self.den.mul(&fraction.den);
        if self.num >= self.den {
            self.num.sub_assign(&self.den);
            self.whole += 1;
        }
    }

    pub(crate) fn into_money(self) -> Money {
        let total = self.den.mul(&Nat::from_u128(self.whole)).add(&self.num);
        Money(Ratio::from_nats(total, self.den.mul(&Nat::from_u128(UNITS_PER_DONG))))
    }

    /// The sum in units, exact.
    pub(crate) fn into_units(self) -> Ratio {
        Ratio::from_nats(self.den.mul(&Nat::from_u128(self.whole)).add(&self.num), self.den)
    }
}

/// Money from a whole number of 1/200-đồng units.
pub(crate) fn money_from_units(units: u128) -> Money {
    Money(Ratio::new(units, UNITS_PER_DONG))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn nat(n: u128) -> Nat {
        Nat::from_u128(n)
    }

    #[test]
    fn money_rounds_half_up_to_the_dong() {
        assert_eq!(money_from_units(100).rounded_dong(), 1); // 0.5 đ
        assert_eq!(money_from_units(99).rounded_dong(), 0);
        assert_eq!(money_from_units(299).rounded_dong(), 1);
        assert_eq!(money_from_units(300).rounded_dong(), 2);
        assert_eq!(Money::from_dong(0).rounded_dong(), 0);
    }

    #[test]
    fn money_past_two_to_the_53_is_written_exactly() {
        let big = Money::from_dong(9_007_199_254_740_993);
        assert_eq!(serde_json::to_string(&big).unwrap(), "9007199254740993");
        let huge = Money::from_dong(u128::from(u64::MAX) + 7);
        assert_eq!(serde_json::to_string(&huge).unwrap(), "18446744073709551622");
        assert_eq!(serde_json::to_string(&money_from_units(300)).unwrap(), "2", "1.5 đ rounds up");
    }

    #[test]
    fn unit_sums_carry_fractions_exactly() {
        let mut s = UnitSum::default();
        s.add_fraction(5, 8); // 5/8
        s.add_fraction(1, 3); // + 1/3
        s.add_fraction(1, 24); // + 1/24 = 1
        assert_eq!(s.into_money(), money_from_units(1));
        let mut s = UnitSum::default();
        s.add_fraction(1, 2);
        s.add_fraction(1, 3);
        assert_eq!(s.into_money().as_ratio(), &Ratio::new(5, 6 * 200));
    }

    #[test]
    fn ratios_print_as_nearest_floats() {
        assert_eq!(Ratio::new(180, 2508).to_f64(), 180.0 / 2508.0);
        assert_eq!(Ratio::new(1, 3).neg().to_f64(), -1.0 / 3.0);
        assert_eq!(Ratio::zero().to_f64(), 0.0);
        let tiny = Ratio::from_nats(nat(1), nat(1).shl(300));
        assert_eq!(tiny.to_f64(), 2f64.powi(-300));
        // Just past halfway between 2⁵³ and 2⁵³ + 2: a remainder far below the quotient's bits still rounds up.
        let past_half = Ratio::from_nats(nat((1 << 53) + 1).shl(100).add(&nat(1)), nat(1).shl(100));
        assert_eq!(past_half.to_f64(), 9_007_199_254_740_994.0);
        assert_eq!(past_half.neg().to_f64(), -9_007_199_254_740_994.0);
        let exactly_half = Ratio::from_nats(nat((1 << 53) + 1).shl(100), nat(1).shl(100));
        assert_eq!(exactly_half.to_f64(), 9_007_199_254_740_992.0, "a tie rounds to even");
    }

    proptest! {
        #[test]
        fn nat_arithmetic_matches_u128(a in any::<u64>(), b in any::<u64>(), c in 1u64..) {
            let (a, b) = (u128::from(a), u128::from(b));
            prop_assert_eq!(nat(a).add(&nat(b)).to_u128(), Some(a + b));
            prop_assert_eq!(nat(a).mul(&nat(b)).to_u128(), Some(a * b));
            let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
            prop_assert_eq!(nat(hi).sub(&nat(lo)).to_u128(), Some(hi - lo));
            let (q, r) = nat(a * b).divmod(&nat(u128::from(c)));
            prop_assert_eq!((q.to_u128(), r.to_u128()), (Some(a * b / u128::from(c)), Some(a * b % u128::from(c))));
            prop_assert_eq!(nat(a).cmp(&nat(b)), a.cmp(&b));
        }

        #[test]
        fn big_division_inverts_multiplication(a in any::<u128>(), b in 1u128.., r in any::<u128>()) {
            // (a·b + r mod b) / b == a, remainder r mod b: operands past 128 bits.
            let r = r % b;
            let n = nat(a).mul(&nat(b)).add(&nat(r));
            let (q, rem) = n.divmod(&nat(b));
            prop_assert_eq!(q, nat(a));
            prop_assert_eq!(rem, nat(r));
        }

        #[test]
        fn ratio_order_matches_cross_multiplication(a in -1000i64..1000, b in 1i64..1000, c in -1000i64..1000, d in 1i64..1000) {
            let x = Ratio::from_int(i128::from(a)).div(&Ratio::from_int(i128::from(b))).unwrap();
            let y = Ratio::from_int(i128::from(c)).div(&Ratio::from_int(i128::from(d))).unwrap();
            prop_assert_eq!(x.cmp(&y), (i128::from(a) * i128::from(d)).cmp(&(i128::from(c) * i128::from(b))));
            let sum = x.add(&y);
            let expected = Ratio::from_int(i128::from(a * d + c * b)).div(&Ratio::from_int(i128::from(b * d))).unwrap();
            prop_assert_eq!(sum, expected);
        }

        #[test]
        fn unit_sums_equal_rational_sums(terms in proptest::collection::vec((0u128..1_000_000_000_000, 1u64..100_000), 0..40)) {
            let mut s = UnitSum::default();
            let mut exact = Ratio::zero();
            for &(n, d) in &terms {
                s.add_fraction(n, d);
                exact = exact.add(&Ratio::new(n, u128::from(d)));
            }
            let money = s.into_money();
            prop_assert_eq!(money.as_ratio(), &exact.mul(&Ratio::new(1, 200)));
        }

        #[test]
        fn half_up_rounding_is_floor_of_x_plus_a_half(n in 0u128..1_000_000_000, d in 1u128..10_000) {
            prop_assert_eq!(Ratio::new(n, d).round_half_up(), Some((2 * n + d) / (2 * d)));
        }
    }

    /// The arithmetic held against `num-rational`, an implementation written by others, on values of
    /// every size: the sign, the order, the four operations, rounding and the nearest `f64`.
    mod against_a_reference {
        use super::super::*;
        use num_bigint::{BigInt, BigUint};
        use num_rational::BigRational;
        use num_traits::{One, Signed, ToPrimitive, Zero};
        use proptest::prelude::*;

        fn nat_of(limbs: &[u64]) -> Nat {
            limbs.iter().rev().fold(Nat::zero(), |acc, &limb| acc.shl(64).add(&Nat::from_u128(u128::from(limb))))
        }

        fn big_of(n: &Nat) -> BigUint {
            let (mut n, mut digits) = (n.clone(), Vec::new());
            while !n.is_zero() {
                let (q, r) = n.divmod_u64(1 << 32);
                digits.push(r as u32);
                n = q;
            }
            BigUint::new(digits)
        }

        fn reference(r: &Ratio) -> BigRational {
            let (negative, num) = r.numerator();
            let num = BigInt::from(big_of(num));
            BigRational::new(if negative { -num } else { num }, BigInt::from(big_of(r.denominator())))
        }

        /// Naturals from 0 to 320 bits, small ones often, so that carries, equal values and zero turn up.
        fn limbs() -> impl Strategy<Value = Vec<u64>> {
            prop_oneof![
                (0u64..4).prop_map(|n| vec![n]),
                any::<u64>().prop_map(|n| vec![n]),
                proptest::collection::vec(any::<u64>(), 0..6),
                proptest::collection::vec(prop_oneof![Just(0), Just(u64::MAX), any::<u64>()], 1..6),
            ]
        }

        /// Ratios of any size and sign, often with a common factor to reduce.
        fn ratio() -> impl Strategy<Value = Ratio> {
            (any::<bool>(), limbs(), limbs(), prop_oneof![Just(vec![1]), limbs()]).prop_map(|(negative, n, d, k)| {
                let k = if k.iter().all(|&l| l == 0) { Nat::from_u128(1) } else { nat_of(&k) };
                let d = if d.iter().all(|&l| l == 0) { Nat::from_u128(1) } else { nat_of(&d) };
                let r = Ratio::from_nats(nat_of(&n).mul(&k), d.mul(&k));
                if negative { r.neg() } else { r }
            })
        }

        /// `w + (n mod d) / d`: a share as sums hold them, its whole part far inside `u128`.
        fn fraction(w: u128, n: &[u64], d: &[u64]) -> Ratio {
            let d = if d.iter().all(|&l| l == 0) { Nat::from_u128(1) } else { nat_of(d) };
            let (_, rest) = nat_of(n).divmod(&d);
            Ratio::from_nats(d.mul(&Nat::from_u128(w)).add(&rest), d)
        }

        fn non_negative() -> impl Strategy<Value = Ratio> {
            ratio().prop_map(|r| if r.is_negative() { r.neg() } else { r })
        }

        /// The exact value of a float.
        fn exact(f: f64) -> BigRational {
            BigRational::from_float(f).expect("a finite float")
        }

        fn floor_of(x: &BigRational) -> Option<u128> {
            (!x.is_negative()).then(|| x.floor().to_integer().to_u128()).flatten()
        }

        proptest! {
            #[test]
            fn nat_operations_equal_big_uint_ones(a in limbs(), b in limbs(), small in 1u64..) {
                let (x, y) = (nat_of(&a), nat_of(&b));
                let (bx, by) = (big_of(&x), big_of(&y));
                prop_assert_eq!(big_of(&x.add(&y)), &bx + &by);
                prop_assert_eq!(big_of(&x.mul(&y)), &bx * &by);
                prop_assert_eq!(x.cmp(&y), bx.cmp(&by));
                prop_assert_eq!(x.bits(), bx.bits());
                prop_assert_eq!(x.to_u128(), bx.to_u128());
                prop_assert_eq!(x.is_zero(), bx.is_zero());
                let (hi, lo) = if x >= y { (&x, &y) } else { (&y, &x) };
                prop_assert_eq!(big_of(&hi.sub(lo)), big_of(hi) - big_of(lo));
                if !y.is_zero() {
                    let (q, r) = x.divmod(&y);
                    prop_assert_eq!((big_of(&q), big_of(&r)), (&bx / &by, &bx % &by));
                }
                let (q, r) = x.divmod_u64(small);
                prop_assert_eq!((big_of(&q), BigUint::from(r)), (&bx / small, &bx % small));
                prop_assert_eq!(big_of(&x.mul_u64(small)), &bx * small);
                prop_assert_eq!(big_of(&x.shl(u64::from(small as u8))), &bx << u64::from(small as u8));
                prop_assert_eq!(x.to_f64(), bx.to_f64().unwrap());
            }

            #[test]
            fn ratio_operations_equal_big_rational_ones(x in ratio(), y in ratio()) {
                let (bx, by) = (reference(&x), reference(&y));
                prop_assert_eq!(reference(&x.add(&y)), &bx + &by);
                prop_assert_eq!(reference(&x.sub(&y)), &bx - &by);
                prop_assert_eq!(reference(&x.mul(&y)), &bx * &by);
                prop_assert_eq!(x.div(&y).map(|q| reference(&q)), (!by.is_zero()).then(|| &bx / &by));
                prop_assert_eq!(reference(&x.neg()), -&bx);
                prop_assert_eq!(reference(&x.one_minus()), BigRational::one() - &bx);
                prop_assert_eq!(x.cmp(&y), bx.cmp(&by));
                prop_assert_eq!(x == y, bx == by);
                prop_assert_eq!(x.is_zero(), bx.is_zero());
                prop_assert_eq!(x.is_negative(), bx.is_negative());
            }

            #[test]
            fn rounding_equals_the_floor_of_the_reference(x in ratio()) {
                let bx = reference(&x);
                prop_assert_eq!(x.floor_u128(), floor_of(&bx));
                let half = BigRational::new(BigInt::from(1), BigInt::from(2));
                // Negative values have no rounding, not even those that would round to 0.
                let rounded = if x.is_negative() { None } else { floor_of(&(&bx + half)) };
                prop_assert_eq!(x.round_half_up(), rounded);
            }

            #[test]
            fn ratios_become_the_nearest_float(x in ratio()) {
                let f = x.to_f64();
                let bx = reference(&x);
                prop_assert_eq!(f.is_sign_negative() && f != 0.0, x.is_negative());
                let error = (&bx - exact(f)).abs();
                for neighbour in [f.next_up(), f.next_down()] {
                    prop_assert!(error <= (&bx - exact(neighbour)).abs(), "{f} is not the float nearest {x:?}");
                }
                prop_assert_eq!(serde_json::to_string(&x).unwrap(), serde_json::to_string(&f).unwrap());
            }

            #[test]
            fn small_ratios_become_the_quotient_of_their_floats(n in 0u64..1 << 53, d in 1u64..1 << 53) {
                // Both parts exact as floats: IEEE division rounds the exact quotient to nearest.
                let r = Ratio::new(u128::from(n), u128::from(d));
                prop_assert_eq!(r.to_f64(), n as f64 / d as f64);
                prop_assert_eq!(r.neg().to_f64(), -(n as f64) / d as f64);
            }

            #[test]
            fn money_rounds_and_serialises_as_the_reference_does(x in non_negative(), y in non_negative(), num in any::<u64>(), den in 1u64..) {
                let (a, b) = (Money::from_ratio(x.clone()).unwrap(), Money::from_ratio(y.clone()).unwrap());
                prop_assert!(Money::from_ratio(x.neg()).is_none() || x.is_zero());
                let (bx, by) = (reference(&x), reference(&y));
                let half = BigRational::new(BigInt::from(1), BigInt::from(2));
                let dong = (&bx + &half).floor().to_integer();
                prop_assert_eq!(a.rounded_dong(), dong.to_u128().unwrap_or(u128::MAX));
                prop_assert_eq!(serde_json::to_string(&a).unwrap(), a.rounded_dong().to_string());
                prop_assert_eq!(reference(a.add(&b).as_ratio()), &bx + &by);
                let gap = if bx > by { &bx - &by } else { BigRational::zero() };
                prop_assert_eq!(reference(a.saturating_sub(&b).as_ratio()), gap);
                let scaled = &bx * BigRational::new(BigInt::from(num), BigInt::from(den));
                prop_assert_eq!(reference(a.scale(num, den).as_ratio()), scaled);
                prop_assert_eq!(a.cmp(&b), bx.cmp(&by));
            }

            #[test]
            fn unit_sums_equal_reference_sums(
                terms in proptest::collection::vec(
                    prop_oneof![
                        (0u128..1 << 100).prop_map(|n| (n, 0, None)),
                        (0u128..1 << 100, 1u64..).prop_map(|(n, d)| (n, d, None)),
                        (0u128..1_000_000_000, 1u64..100_000).prop_map(|(n, d)| (n, d, None)),
                        (0u128..1 << 100, limbs(), limbs()).prop_map(|(w, n, d)| (0, 0, Some(fraction(w, &n, &d)))),
                    ],
                    0..16,
                )
            ) {
                let mut s = UnitSum::default();
                let mut sum = BigRational::zero();
                for (n, d, r) in &terms {
                    match (d, r) {
                        (_, Some(r)) => {
                            s.add_ratio(r);
                            sum += reference(r);
                        }
                        (0, None) => {
                            s.add_units(*n);
                            sum += BigRational::from_integer(BigInt::from(*n));
                        }
                        (&d, None) => {
                            s.add_fraction(*n, d);
                            sum += BigRational::new(BigInt::from(*n), BigInt::from(d));
                        }
                    }
                }
                prop_assert_eq!(reference(&s.clone().into_units()), sum.clone());
                let per_dong = BigRational::from_integer(BigInt::from(UNITS_PER_DONG));
                prop_assert_eq!(reference(s.into_money().as_ratio()), sum / per_dong);
            }
        }
    }
}
