//! The distribution of a linear combination of independent χ² variables, by Davies' numerical
//! inversion of the characteristic function (Davies 1980, "Algorithm AS 155: The distribution of
//! a linear combination of χ² random variables", Applied Statistics 29:323–333), and the
//! moment-matching approximation of Liu, Tang & Zhang (2009, CSDA 53:853–856) as its fallback.
//!
//! Why Davies: mgcv's `summary.gam` computes the p-value of a smooth with a fractional reference
//! degrees of freedom from this very algorithm (`psum.chisq`, accuracy 2·10⁻⁵, at most 10⁵
//! integration terms), so the same algorithm with the same accuracy settings reproduces mgcv's
//! p-values to rounding rather than to the algorithm's error bound. Saddlepoint approximations
//! are more accurate far in the upper tail but would not match the reference users compare with.
//!
//! This is an independent Rust transcription of the published algorithm (integration of the
//! characteristic function with a convergence factor, truncation and integration-interval search
//! as in AS 155); the non-centralities are kept for completeness although the tests of
//! [`super`] use central variables only.

use std::f64::consts::PI;

/// ln 2 / 8, the constant of the convergence-factor error bound in AS 155.
const LOG28: f64 = 0.0866;

/// Why Davies' algorithm gave no reliable answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DaviesFault {
    /// The required accuracy was not reached within the term limit.
    Accuracy,
    /// Round-off error may be significant (the value is still returned).
    RoundOff,
    /// Invalid parameters (negative df or non-centrality, all weights zero).
    Invalid,
    /// The integration parameters could not be located within the term limit.
    Search,
}

struct State<'a> {
    lb: &'a [f64],
    nc: &'a [f64],
    n: &'a [u32],
    sigsq: f64,
    lmax: f64,
    lmin: f64,
    mean: f64,
    c: f64,
    intl: f64,
    ersm: f64,
    count: usize,
    lim: usize,
    th: Vec<usize>,
    sorted: bool,
    fail: bool,
}

/// Out of the term budget (AS 155's `longjmp`).
struct Exhausted;

/// ln(1 + x) when `first`, else ln(1 + x) − x, accurately for small x.
fn log1(x: f64, first: bool) -> f64 {
    if x.abs() > 0.1 {
        if first {
            (1.0 + x).ln()
        } else {
            (1.0 + x).ln() - x
        }
    } else {
        let mut y = x / (2.0 + x);
        let mut term = 2.0 * y * y * y;
        let mut k = 3.0;
        let mut s = if first { 2.0 } else { -x } * y;
        y *= y;
        let mut s1 = s + term / k;
        while s1 != s {
            k += 2.0;
            term *= y;
            s = s1;
            s1 = s + term / k;
        }
        s
    }
}

fn exp1(x: f64) -> f64 {
    if x < -50.0 {
        0.0
    } else {
        x.exp()
    }
}

impl State<'_> {
    fn counter(&mut self) -> Result<(), Exhausted> {
        self.count += 1;
        if self.count > self.lim {
            Err(Exhausted)
        } else {
            Ok(())
        }
    }

    /// Orders the weights by decreasing absolute value (insertion sort, as AS 155).
    fn order(&mut self) {
        let r = self.lb.len();
        let mut th = vec![0usize; r];
        for j in 0..r {
            let lj = self.lb[j].abs();
            let mut k = j as isize - 1;
            while k >= 0 {
                if lj > self.lb[th[k as usize]].abs() {
                    th[(k + 1) as usize] = th[k as usize];
                    k -= 1;
                } else {
                    break;
                }
            }
            th[(k + 1) as usize] = j;
        }
        self.th = th;
        self.sorted = true;
    }

    /// Bound on a tail probability from the moment generating function; the cut-off point in `cx`.
    fn errbd(&mut self, u: f64, cx: &mut f64) -> Result<f64, Exhausted> {
        self.counter()?;
        let mut xconst = u * self.sigsq;
        let mut sum1 = u * xconst;
        let u = 2.0 * u;
        for j in (0..self.lb.len()).rev() {
            let (nj, lj, ncj) = (f64::from(self.n[j]), self.lb[j], self.nc[j]);
            let x = u * lj;
            let y = 1.0 - x;
            xconst += lj * (ncj / y + nj) / y;
            sum1 += ncj * (x / y) * (x / y) + nj * (x * x / y + log1(-x, false));
        }
        *cx = xconst;
        Ok(exp1(-0.5 * sum1))
    }

    /// A cut-off c such that P(Q > c) < accx if `*upn` > 0, P(Q < c) < accx otherwise.
    fn ctff(&mut self, accx: f64, upn: &mut f64) -> Result<f64, Exhausted> {
        let mut u2 = *upn;
        let mut u1 = 0.0;
        let mut c1 = self.mean;
        let mut c2 = 0.0;
        let rb = 2.0 * if u2 > 0.0 { self.lmax } else { self.lmin };
        let mut u = u2 / (1.0 + u2 * rb);
        while self.errbd(u, &mut c2)? > accx {
            u1 = u2;
            c1 = c2;
            u2 *= 2.0;
            u = u2 / (1.0 + u2 * rb);
        }
        let mut u = (c1 - self.mean) / (c2 - self.mean);
        while u < 0.9 {
            u = (u1 + u2) / 2.0;
            let mut xconst = 0.0;
            if self.errbd(u / (1.0 + u * rb), &mut xconst)? > accx {
                u1 = u;
                c1 = xconst;
            } else {
                u2 = u;
                c2 = xconst;
            }
            u = (c1 - self.mean) / (c2 - self.mean);
        }
        *upn = u2;
        Ok(c2)
    }

    /// Bound on the integration error from truncating at u.
    fn truncation(&mut self, u: f64, tausq: f64) -> Result<f64, Exhausted> {
        self.counter()?;
        let (mut sum1, mut prod2, mut prod3, mut s) = (0.0, 0.0, 0.0, 0.0);
        let sum2 = (self.sigsq + tausq) * u * u;
        let mut prod1 = 2.0 * sum2;
        let u = 2.0 * u;
        for j in 0..self.lb.len() {
            let (lj, ncj, nj) = (self.lb[j], self.nc[j], f64::from(self.n[j]));
            let x = (u * lj) * (u * lj);
            sum1 += ncj * x / (1.0 + x);
            if x > 1.0 {
                prod2 += nj * x.ln();
                prod3 += nj * log1(x, true);
                s += nj;
            } else {
                prod1 += nj * log1(x, true);
            }
        }
        sum1 *= 0.5;
        prod2 += prod1;
        prod3 += prod1;
        let x = exp1(-sum1 - 0.25 * prod2) / PI;
        let y = exp1(-sum1 - 0.25 * prod3) / PI;
        let mut err1 = if s == 0.0 { 1.0 } else { x * 2.0 / s };
        let err2 = if prod3 > 1.0 { 2.5 * y } else { 1.0 };
        if err2 < err1 {
            err1 = err2;
        }
        let x = 0.5 * sum2;
        let err2 = if x <= y { 1.0 } else { y / x };
        Ok(if err1 < err2 { err1 } else { err2 })
    }

    /// u with truncation(u) < accx and truncation(u / 1.2) > accx.
    fn findu(&mut self, utx: &mut f64, accx: f64) -> Result<(), Exhausted> {
        const DIVIS: [f64; 4] = [2.0, 1.4, 1.2, 1.1];
        let mut ut = *utx;
        let mut u = ut / 4.0;
        if self.truncation(u, 0.0)? > accx {
            u = ut;
            while self.truncation(u, 0.0)? > accx {
                ut *= 4.0;
                u = ut;
            }
        } else {
            ut = u;
            u /= 4.0;
            while self.truncation(u, 0.0)? <= accx {
                ut = u;
                u /= 4.0;
            }
        }
        for d in DIVIS {
            let u = ut / d;
            if self.truncation(u, 0.0)? <= accx {
                ut = u;
            }
        }
        *utx = ut;
        Ok(())
    }

    /// Integration with `nterm` terms at step `interv`; unless `mainx`, the integrand is multiplied
    /// by 1 − exp(−τ²u²/2).
    fn integrate(&mut self, nterm: usize, interv: f64, tausq: f64, mainx: bool) {
        let inpi = interv / PI;
        for k in (0..=nterm).rev() {
            let u = (k as f64 + 0.5) * interv;
            let mut sum1 = -2.0 * u * self.c;
            let mut sum2 = sum1.abs();
            let mut sum3 = -0.5 * self.sigsq * u * u;
            for j in (0..self.lb.len()).rev() {
                let nj = f64::from(self.n[j]);
                let x = 2.0 * self.lb[j] * u;
                let y = x * x;
                sum3 -= 0.25 * nj * log1(y, true);
                let y = self.nc[j] * x / (1.0 + y);
                let z = nj * x.atan() + y;
                sum1 += z;
                sum2 += z.abs();
                sum3 -= 0.5 * x * y;
            }
            let mut x = inpi * exp1(sum3) / u;
            if !mainx {
                x *= 1.0 - exp1(-0.5 * tausq * u * u);
            }
            self.intl += (0.5 * sum1).sin() * x;
            self.ersm += 0.5 * sum2 * x;
        }
    }

    /// Coefficient of τ² in the error of the convergence factor exp(−τ²u²/2) at x.
    fn cfe(&mut self, x: f64) -> Result<f64, Exhausted> {
        self.counter()?;
        if !self.sorted {
            self.order();
        }
        let mut axl = x.abs();
        let sxl = if x > 0.0 { 1.0 } else { -1.0 };
        let mut sum1 = 0.0;
        for j in (0..self.lb.len()).rev() {
            let t = self.th[j];
            if self.lb[t] * sxl > 0.0 {
                let lj = self.lb[t].abs();
                let axl1 = axl - lj * (f64::from(self.n[t]) + self.nc[t]);
                let axl2 = lj / LOG28;
                if axl1 > axl2 {
                    axl = axl1;
                } else {
                    if axl > axl2 {
                        axl = axl2;
                    }
                    sum1 = (axl - axl1) / lj;
                    for k in (0..j).rev() {
                        let tk = self.th[k];
                        sum1 += f64::from(self.n[tk]) + self.nc[tk];
                    }
                    break;
                }
            }
        }
        if sum1 > 100.0 {
            self.fail = true;
            Ok(1.0)
        } else {
            Ok(2f64.powf(sum1 / 4.0) / (PI * axl * axl))
        }
    }
}

/// P(Σ lbⱼ χ²(nⱼ, ncⱼ) + σ Z < c), to absolute accuracy `acc` with at most `lim` integration
/// terms: the value and the fault, if any (with [`DaviesFault::RoundOff`] the value is returned
/// but may be inaccurate; with the others it is not meaningful).
pub(crate) fn davies(
    lb: &[f64],
    nc: &[f64],
    n: &[u32],
    sigma: f64,
    c: f64,
    lim: usize,
    acc: f64,
) -> (f64, Option<DaviesFault>) {
    let mut st = State {
        lb,
        nc,
        n,
        sigsq: sigma * sigma,
        lmax: 0.0,
        lmin: 0.0,
        mean: 0.0,
        c,
        intl: 0.0,
        ersm: 0.0,
        count: 0,
        lim,
        th: Vec::new(),
        sorted: false,
        fail: false,
    };
    match run(&mut st, sigma, acc) {
        Ok(v) => v,
        Err(Exhausted) => (-1.0, Some(DaviesFault::Search)),
    }
}

fn run(st: &mut State, sigma: f64, acc: f64) -> Result<(f64, Option<DaviesFault>), Exhausted> {
    let mut acc1 = acc;
    let mut xlim = st.lim as f64;
    let mut sd = st.sigsq;
    for j in 0..st.lb.len() {
        let (nj, lj, ncj) = (f64::from(st.n[j]), st.lb[j], st.nc[j]);
        if ncj < 0.0 {
            return Ok((-1.0, Some(DaviesFault::Invalid)));
        }
        sd += lj * lj * (2.0 * nj + 4.0 * ncj);
        st.mean += lj * (nj + ncj);
        if st.lmax < lj {
            st.lmax = lj;
        } else if st.lmin > lj {
            st.lmin = lj;
        }
    }
    if sd == 0.0 {
        return Ok((if st.c > 0.0 { 1.0 } else { 0.0 }, None));
    }
    if st.lmin == 0.0 && st.lmax == 0.0 && sigma == 0.0 {
        return Ok((-1.0, Some(DaviesFault::Invalid)));
    }
    let sd = sd.sqrt();
    let almx = if st.lmax < -st.lmin {
        -st.lmin
    } else {
        st.lmax
    };
    // Starting values for findu and ctff.
    let mut utx = 16.0 / sd;
    let mut up = 4.5 / sd;
    let mut un = -up;
    // Truncation point with no convergence factor.
    st.findu(&mut utx, 0.5 * acc1)?;
    // Does a convergence factor help?
    if st.c != 0.0 && almx > 0.07 * sd {
        let tausq = 0.25 * acc1 / st.cfe(st.c)?;
        if st.fail {
            st.fail = false;
        } else if st.truncation(utx, tausq)? < 0.2 * acc1 {
            st.sigsq += tausq;
            st.findu(&mut utx, 0.25 * acc1)?;
        }
    }
    acc1 *= 0.5;
    loop {
        // The range of the distribution; quit if c is outside it.
        let d1 = st.ctff(acc1, &mut up)? - st.c;
        if d1 < 0.0 {
            return Ok((1.0, None));
        }
        let d2 = st.c - st.ctff(acc1, &mut un)?;
        if d2 < 0.0 {
            return Ok((0.0, None));
        }
        // Integration interval and the number of terms of the main and auxiliary integrations.
        let intv = 2.0 * PI / if d1 > d2 { d1 } else { d2 };
        let xnt = utx / intv;
        let xntm = 3.0 / acc1.sqrt();
        if xnt > xntm * 1.5 {
            if xntm > xlim {
                return Ok((-1.0, Some(DaviesFault::Accuracy)));
            }
            let ntm = (xntm + 0.5).floor() as usize;
            let intv1 = utx / ntm as f64;
            let x = 2.0 * PI / intv1;
            if x > st.c.abs() {
                let tausq = 0.33 * acc1 / (1.1 * (st.cfe(st.c - x)? + st.cfe(st.c + x)?));
                if !st.fail {
                    acc1 *= 0.67;
                    // Auxiliary integration.
                    st.integrate(ntm, intv1, tausq, false);
                    xlim -= xntm;
                    st.sigsq += tausq;
                    // Truncation point with the new convergence factor.
                    st.findu(&mut utx, 0.25 * acc1)?;
                    acc1 *= 0.75;
                    continue;
                }
            }
        }
        // Main integration.
        if xnt > xlim {
            return Ok((-1.0, Some(DaviesFault::Accuracy)));
        }
        let nt = (xnt + 0.5).floor() as usize;
        st.integrate(nt, intv, 0.0, true);
        let qfval = 0.5 - st.intl;
        // Could round-off be significant? (AS 155 allows for radix 8 or 16 machines.)
        let upv = st.ersm;
        let x = upv + acc1 / 10.0;
        let fault = [1.0, 2.0, 4.0, 8.0]
            .iter()
            .any(|r| r * x == r * upv)
            .then_some(DaviesFault::RoundOff);
        return Ok((qfval, fault));
    }
}

/// Upper-tail probability of a χ² mixture by Liu, Tang & Zhang (2009): the mixture's first four
/// cumulants matched by a non-central χ² (mgcv's `liu2`, its fallback when Davies fails).
pub(crate) fn liu2(x: f64, lambda: &[f64], h: &[f64]) -> f64 {
    let (mut c1, mut c2, mut c3, mut c4) = (0.0, 0.0, 0.0, 0.0);
    for (&l, &hh) in lambda.iter().zip(h) {
        c1 += l * hh;
        c2 += l * l * hh;
        c3 += l * l * l * hh;
        c4 += l * l * l * l * hh;
    }
    if x <= 0.0 || c2 <= 0.0 {
        return 1.0;
    }
    let s1 = c3 / c2.powf(1.5);
    let s2 = c4 / (c2 * c2);
    let sig_q = (2.0 * c2).sqrt();
    let t = (x - c1) / sig_q;
    let (a, delta, l) = if s1 * s1 > s2 {
        let a = 1.0 / (s1 - (s1 * s1 - s2).sqrt());
        let delta = s1 * a * a * a - a * a;
        (a, delta, a * a - 2.0 * delta)
    } else {
        if c3 == 0.0 {
            return 1.0;
        }
        (1.0 / s1, 0.0, c2 * c2 * c2 / (c3 * c3))
    };
    let mu_x = l + delta;
    let sig_x = std::f64::consts::SQRT_2 * a;
    noncentral_chisq_sf(t * sig_x + mu_x, l, delta)
}

/// P(χ²(df, ncp) > x) as the Poisson mixture of central χ² tails.
fn noncentral_chisq_sf(x: f64, df: f64, ncp: f64) -> f64 {
    use statrs::distribution::{ChiSquared, ContinuousCDF};
    if x <= 0.0 {
        return 1.0;
    }
    let tail = |d: f64| ChiSquared::new(d).map(|c| c.sf(x)).unwrap_or(f64::NAN);
    if ncp <= 0.0 {
        return tail(df);
    }
    let half = ncp / 2.0;
    let mut weight = (-half).exp();
    let mut sum = 0.0;
    for j in 0..10_000 {
        if j > 0 {
            weight *= half / j as f64;
        }
        sum += weight * tail(df + 2.0 * j as f64);
        if j as f64 > half && weight < 1e-17 {
            break;
        }
    }
    sum
}

/// mgcv's `psum.chisq(q, lb, df)` upper tail, P(Σ lbⱼ χ²(dfⱼ) > q), with its settings (accuracy
/// 2·10⁻⁵, 10⁵ terms) and its fallbacks: the value despite a round-off warning, Liu et al. when
/// Davies fails.
pub(crate) fn psum_chisq_upper(q: f64, lb: &[f64], df: &[u32]) -> f64 {
    let nc = vec![0.0; lb.len()];
    match davies(lb, &nc, df, 0.0, q, 100_000, 2e-5) {
        (c, None) | (c, Some(DaviesFault::RoundOff)) => 1.0 - c,
        _ => {
            let h: Vec<f64> = df.iter().map(|&d| f64::from(d)).collect();
            liu2(q, lb, &h)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use statrs::distribution::{ChiSquared, ContinuousCDF};

    #[test]
    fn equal_weights_give_the_chi_square_tail() {
        // Σ of 3 unit-weight χ²₁ is χ²₃: Davies must agree to its accuracy.
        for q in [0.5, 2.0, 7.8, 15.0] {
            let p = psum_chisq_upper(q, &[1.0, 1.0, 1.0], &[1, 1, 1]);
            let want = ChiSquared::new(3.0).unwrap().sf(q);
            assert!((p - want).abs() < 2e-5, "q={q}: {p} vs {want}");
        }
    }

    #[test]
    fn a_negative_weight_gives_the_f_tail() {
        // P(χ²₂ − (2·F)/k0·χ²_{k0} > 0) = P(F(2, k0) > F): the form mgcv uses with estimated scale.
        use statrs::distribution::FisherSnedecor;
        let (f, k0) = (3.1, 40u32);
        let p = psum_chisq_upper(0.0, &[1.0, 1.0, -2.0 * f / f64::from(k0)], &[1, 1, k0]);
        let want = FisherSnedecor::new(2.0, f64::from(k0)).unwrap().sf(f);
        assert!((p - want).abs() < 2e-5, "{p} vs {want}");
    }

    #[test]
    fn liu_matches_chi_square_for_equal_weights() {
        let p = liu2(7.8, &[1.0, 1.0, 1.0], &[1.0, 1.0, 1.0]);
        let want = ChiSquared::new(3.0).unwrap().sf(7.8);
        assert!((p - want).abs() < 1e-10, "{p} vs {want}");
    }
}
