//! Exact numbers for the Standard Cost Model: signed rationals and money, on `num-bigint`'s `BigUint`.
//!
//! Sums of shares (a terminal's cost × a root's baseline volume / the terminal's total baseline volume)
//! have denominators that differ per terminal, so a group's exact total can outgrow `u128`. These types
//! keep every figure exact until the wire, where money is rounded half-up to the đồng and ratios become
//! the nearest `f64` (more than the 9 significant digits the SPEC asks for).
//!
//! Why `Ratio` is ours and not `num-rational`'s `BigRational`: `BigRational` reduces every result by a gcd
//! (num-bigint's is Stein's, bit by bit), and the shares' sums have denominators thousands of bits long.
//! Measured side by side on the 10 M-event data set (`p30 bench live-update`, 3 runs each, alternating,
//! medians), the live figures after one event took 6.95 ms at p50 (204 ms at p99) on `BigRational`, against
//! 0.113 ms (2.04 ms) on the hand-written limbs this replaced. So `Ratio` keeps their rule — reduce only
//! while both parts fit in `u128` — and only the limb arithmetic (and the long division, formerly bit by
//! bit) is num-bigint's: against the hand-written limbs, live-update p50 ×0.72, as-of p50 ×0.98, rebuild
//! ×1.01 (5, 11 and 2 runs each). The property tests below hold it against `num-rational`.

use std::cmp::Ordering;
use std::fmt;

use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::{One, ToPrimitive, Zero};
use serde::{Serialize, Serializer};

fn gcd_u128(mut a: u128, mut b: u128) -> u128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn gcd_u64(a: u64, b: u64) -> u64 {
    gcd_u128(u128::from(a), u128::from(b)) as u64
}

/// An exact rational number. Equality and order are by value (`1/2 == 2/4`).
///
/// Reduced to lowest terms only while both parts fit in `u128`: a gcd of big parts costs more than the
/// few operations that follow on them (see the note at the top).
#[derive(Clone)]
pub struct Ratio {
    negative: bool,
    num: BigUint,
    /// Always positive.
    den: BigUint,
}

impl Ratio {
    pub fn zero() -> Self {
        Self { negative: false, num: BigUint::zero(), den: BigUint::one() }
    }

    pub fn from_int(n: i128) -> Self {
        Self { negative: n < 0, num: BigUint::from(n.unsigned_abs()), den: BigUint::one() }
    }

    /// `num / den` (`den > 0`), reduced to lowest terms.
    pub fn new(num: u128, den: u128) -> Self {
        assert!(den > 0, "a ratio needs a positive denominator");
        let g = gcd_u128(num, den).max(1);
        Self { negative: false, num: BigUint::from(num / g), den: BigUint::from(den / g) }
    }

    /// `num / den` from naturals of any size (`den > 0`).
    pub(crate) fn from_naturals(num: BigUint, den: BigUint) -> Self {
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
                self.num = BigUint::from(n / g);
                self.den = BigUint::from(d / g);
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

    pub fn neg(&self) -> Ratio {
        Self { negative: !self.negative, ..self.clone() }.tidy()
    }

    pub fn add(&self, other: &Ratio) -> Ratio {
        let (a, b) = (&self.num * &other.den, &other.num * &self.den);
        let den = &self.den * &other.den;
        let (negative, num) = if self.negative == other.negative {
            (self.negative, a + b)
        } else if a >= b {
            (self.negative, a - b)
        } else {
            (other.negative, b - a)
        };
        Self { negative, num, den }.tidy()
    }

    pub fn sub(&self, other: &Ratio) -> Ratio {
        self.add(&other.neg())
    }

    pub fn mul(&self, other: &Ratio) -> Ratio {
        Self { negative: self.negative != other.negative, num: &self.num * &other.num, den: &self.den * &other.den }
            .tidy()
    }

    /// `self / other`, or `None` when `other` is zero.
    pub fn div(&self, other: &Ratio) -> Option<Ratio> {
        if other.is_zero() {
            return None;
        }
        let (num, den) = (&self.num * &other.den, &self.den * &other.num);
        Some(Self { negative: self.negative != other.negative, num, den }.tidy())
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
        (&self.num / &self.den).to_u128()
    }

    /// Rounds half-up to an integer (non-negative values only): `floor(x + 1/2)`.
    pub fn round_half_up(&self) -> Option<u128> {
        if self.is_negative() {
            return None;
        }
        (((&self.num << 1u8) + &self.den) / (&self.den << 1u8)).to_u128()
    }

    /// The nearest `f64` (ties to even): only for output.
    pub fn to_f64(&self) -> f64 {
        if self.num.is_zero() {
            return 0.0;
        }
        // Scale so that the integer quotient carries 66 or 67 significant bits, then scale back.
        let shift = 66 - (self.num.bits() as i64 - self.den.bits() as i64);
        let (q, r) = if shift >= 0 {
            (&self.num << shift as u64).div_rem(&self.den)
        } else {
            self.num.div_rem(&(&self.den << (-shift) as u64))
        };
        // A sticky bit keeps a remainder from rounding as if the quotient were exact.
        let q = q.to_u128().unwrap_or(u128::MAX) | u128::from(!r.is_zero());
        let magnitude = scale_by_power_of_two(q as f64, -shift);
        if self.negative { -magnitude } else { magnitude }
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
                let magnitude = (&self.num * &other.den).cmp(&(&other.num * &self.den));
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
        let part = |n: &BigUint| match n.to_u128() {
            Some(n) => n.to_string(),
            None => format!("({} bits)", n.bits()),
        };
        let sign = if self.is_negative() { "-" } else { "" };
        write!(f, "{sign}{}/{} (≈{})", part(&self.num), part(&self.den), self.to_f64())
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
        Self(Ratio { negative: false, num: BigUint::from(n), den: BigUint::one() })
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
    num: BigUint,
    den: BigUint,
}

/// Money is summed in 1/200 đồng: hours are hundredths, and the `both` tariff is a mean of two.
pub(crate) const UNITS_PER_DONG: u128 = 200;

impl Default for UnitSum {
    fn default() -> Self {
        Self { whole: 0, num: BigUint::zero(), den: BigUint::one() }
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
        let den_mod_d = (&self.den % d).to_u64().expect("a remainder below a u64");
        let g = gcd_u64(d, den_mod_d);
        let d_over_g = d / g;
        self.num = &self.num * d_over_g + (&self.den / g) * r;
        self.den *= d_over_g;
        if self.num >= self.den {
            self.num -= &self.den;
            self.whole += 1;
        }
    }

    /// The sum of the units of `sum` and the non-negative `fraction` of a unit (any size).
    pub(crate) fn add_ratio(&mut self, fraction: &Ratio) {
        if fraction.is_zero() {
            return;
        }
        let (fnum, fden) = (&fraction.num, &fraction.den);
        let (whole, rest) = fnum.div_rem(fden);
        self.whole += whole.to_u128().expect("a sum of shares far inside u128");
        // num/den + rest/fden over den × fden: exact, if not in lowest terms.
        self.num = &self.num * fden + rest * &self.den;
        self.den *= fden;
        if self.num >= self.den {
            self.num -= &self.den;
            self.whole += 1;
        }
    }

    pub(crate) fn into_money(self) -> Money {
        let total = &self.den * self.whole + self.num;
        Money(Ratio::from_naturals(total, self.den * UNITS_PER_DONG))
    }

    /// The sum in units, exact.
    pub(crate) fn into_units(self) -> Ratio {
        Ratio::from_naturals(&self.den * self.whole + self.num, self.den)
    }
}

/// Money from a whole number of 1/200-đồng units.
pub(crate) fn money_from_units(units: u128) -> Money {
    Money(Ratio::new(units, UNITS_PER_DONG))
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint::BigUint;
    use proptest::prelude::*;

    fn nat(n: u128) -> BigUint {
        BigUint::from(n)
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
        let tiny = Ratio::from_naturals(nat(1), nat(1) << 300);
        assert_eq!(tiny.to_f64(), 2f64.powi(-300));
        // Just past halfway between 2⁵³ and 2⁵³ + 2: a remainder far below the quotient's bits still rounds up.
        let past_half = Ratio::from_naturals((nat((1 << 53) + 1) << 100) + 1u8, nat(1) << 100);
        assert_eq!(past_half.to_f64(), 9_007_199_254_740_994.0);
        assert_eq!(past_half.neg().to_f64(), -9_007_199_254_740_994.0);
        let exactly_half = Ratio::from_naturals(nat((1 << 53) + 1) << 100, nat(1) << 100);
        assert_eq!(exactly_half.to_f64(), 9_007_199_254_740_992.0, "a tie rounds to even");
    }

    proptest! {
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

        fn nat_of(limbs: &[u64]) -> BigUint {
            limbs.iter().rev().fold(BigUint::zero(), |acc, &limb| (acc << 64u8) + limb)
        }

        fn reference(r: &Ratio) -> BigRational {
            let num = BigInt::from(r.num.clone());
            BigRational::new(if r.negative { -num } else { num }, BigInt::from(r.den.clone()))
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
                let k = if k.iter().all(|&l| l == 0) { BigUint::one() } else { nat_of(&k) };
                let d = if d.iter().all(|&l| l == 0) { BigUint::one() } else { nat_of(&d) };
                let r = Ratio::from_naturals(nat_of(&n) * &k, d * k);
                if negative { r.neg() } else { r }
            })
        }

        /// `w + (n mod d) / d`: a share as sums hold them, its whole part far inside `u128`.
        fn fraction(w: u128, n: &[u64], d: &[u64]) -> Ratio {
            let d = if d.iter().all(|&l| l == 0) { BigUint::one() } else { nat_of(d) };
            let rest = nat_of(n) % &d;
            Ratio::from_naturals(&d * w + rest, d)
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
