//! The page's line charts (Autopilot's hit rates, the training losses) as SVG polyline points.

/// The `points` of an SVG polyline through `values`, spread evenly over x ∈ [`x0`, `x1`] and
/// mapped to y by `y`; non-finite values are left out (a gap, never a NaN in the markup).
pub fn polyline(values: &[f32], x0: f32, x1: f32, y: impl Fn(f32) -> f32) -> String {
    let last = values.len().max(2) - 1;
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .map(|(i, v)| format!("{:.1},{:.1}", x0 + (x1 - x0) * i as f32 / last as f32, y(*v)))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_are_spread_over_the_width_and_skip_non_finite_values() {
        assert_eq!(polyline(&[0.0, 0.5, 1.0], 10.0, 30.0, |v| 100.0 - 100.0 * v), "10.0,100.0 20.0,50.0 30.0,0.0");
        assert_eq!(polyline(&[1.0, f32::NAN, 3.0], 0.0, 2.0, |v| v), "0.0,1.0 2.0,3.0");
        assert_eq!(polyline(&[2.0], 0.0, 10.0, |v| v), "0.0,2.0");
        assert_eq!(polyline(&[], 0.0, 10.0, |v| v), "");
    }
}
