//! A 2-D principal-component projection of embedding rows, for the page's embedding map (the
//! paper's Figure 3, updated live). Power iteration with deflation: two components of a few
//! hundred 32–64-d rows take well under a millisecond, and no linear-algebra crate is needed.

/// Two principal axes and the mean they are centred on.
#[derive(Clone, Debug, PartialEq)]
pub struct Projection {
    pub mean: Vec<f32>,
    pub axes: [Vec<f32>; 2],
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalise(v: &mut [f32]) -> bool {
    let n = dot(v, v).sqrt();
    if !(n.is_finite() && n > 1e-12) {
        return false;
    }
    v.iter_mut().for_each(|x| *x /= n);
    true
}

impl Projection {
    /// Fits `rows` (each of length `d`). `previous` keeps the picture steady between updates:
    /// an axis that came out flipped relative to it is flipped back (its sign is arbitrary).
    /// `None` when there are fewer than two rows or no spread.
    pub fn fit(rows: &[&[f32]], previous: Option<&Projection>) -> Option<Self> {
        let d = rows.first()?.len();
        if rows.len() < 2 || d == 0 || rows.iter().any(|r| r.len() != d) {
            return None;
        }
        let mut mean = vec![0f32; d];
        for r in rows {
            mean.iter_mut().zip(*r).for_each(|(m, x)| *m += x / rows.len() as f32);
        }
        let centred: Vec<Vec<f32>> = rows.iter().map(|r| r.iter().zip(&mean).map(|(x, m)| x - m).collect()).collect();
        let mut axes: Vec<Vec<f32>> = Vec::new();
        for k in 0..2 {
            // A fixed, non-degenerate start keeps the result deterministic.
            let mut v: Vec<f32> = (0..d).map(|i| 1.0 + ((i * 7 + k * 3) % 5) as f32 * 0.1).collect();
            normalise(&mut v);
            for _ in 0..100 {
                let mut next = vec![0f32; d];
                for c in &centred {
                    let p = dot(c, &v);
                    next.iter_mut().zip(c).for_each(|(n, x)| *n += p * x);
                }
                for a in &axes {
                    let p = dot(&next, a);
                    next.iter_mut().zip(a).for_each(|(n, x)| *n -= p * x);
                }
                if !normalise(&mut next) {
                    return None;
                }
                let converged = (dot(&next, &v).abs() - 1.0).abs() < 1e-7;
                v = next;
                if converged {
                    break;
                }
            }
            if let Some(prev) = previous.and_then(|p| p.axes.get(k)).filter(|p| p.len() == d) {
                if dot(prev, &v) < 0.0 {
                    v.iter_mut().for_each(|x| *x = -*x);
                }
            }
            axes.push(v);
        }
        let second = axes.pop()?;
        let first = axes.pop()?;
        Some(Self { mean, axes: [first, second] })
    }

    pub fn project(&self, row: &[f32]) -> [f32; 2] {
        let c: Vec<f32> = row.iter().zip(&self.mean).map(|(x, m)| x - m).collect();
        [dot(&c, &self.axes[0]), dot(&c, &self.axes[1])]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_directions_of_largest_spread_in_order() {
        // Spread ±3 along (1, 1, 0)/√2 and ±1 along z, uncorrelated (each t with both z).
        let rows: Vec<Vec<f32>> = (0..40)
            .map(|i| {
                let t = ((i / 2) as f32 / 19.0 - 0.5) * 6.0;
                let z = if i % 2 == 0 { 1.0 } else { -1.0 };
                vec![t / 2f32.sqrt() + 3.0, t / 2f32.sqrt() - 1.0, z]
            })
            .collect();
        let refs: Vec<&[f32]> = rows.iter().map(|r| r.as_slice()).collect();
        let p = Projection::fit(&refs, None).expect("fits");
        assert!((p.axes[0][0].abs() - 0.7071).abs() < 1e-3 && (p.axes[0][1].abs() - 0.7071).abs() < 1e-3, "{:?}", p.axes);
        assert!((p.axes[1][2].abs() - 1.0).abs() < 1e-3, "{:?}", p.axes);
        assert!((p.mean[0] - 3.0).abs() < 1e-4 && (p.mean[1] + 1.0).abs() < 1e-4);
        // Projections keep the spread: the ends of the line land ±3 apart from the centre.
        let [x, _] = p.project(&rows[0]);
        assert!((x.abs() - 3.0).abs() < 1e-3, "{x}");
        // A refit against the previous axes never flips them.
        let flipped = Projection { mean: p.mean.clone(), axes: [p.axes[0].iter().map(|v| -v).collect(), p.axes[1].clone()] };
        let q = Projection::fit(&refs, Some(&flipped)).expect("fits");
        assert!(dot(&q.axes[0], &flipped.axes[0]) > 0.99);
    }

    #[test]
    fn degenerate_input_is_none_not_nan() {
        let same = [1.0f32, 2.0];
        assert!(Projection::fit(&[&same, &same, &same], None).is_none());
        assert!(Projection::fit(&[&same], None).is_none());
    }
}
