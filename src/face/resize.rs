//! Area resampling (each output pixel is the coverage-weighted mean of the input pixels under
//! it), the resampling the detector was trained with.

/// An image of `f32` channels, row-major, three channels per pixel.
#[derive(Debug, Clone)]
pub struct Planar {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `height * width * 3` values, RGB.
    pub data: Vec<f32>,
}

impl Planar {
    /// A black image.
    pub fn zeros(width: usize, height: usize) -> Self {
        Self {
            width,
            height,
            data: vec![0.0; width * height * 3],
        }
    }

    /// The value of channel `c` at (`x`, `y`).
    pub fn at(&self, x: usize, y: usize, c: usize) -> f32 {
        self.data[(y * self.width + x) * 3 + c]
    }

    /// From 8-bit RGB pixels.
    pub fn from_rgb(image: &image::RgbImage) -> Self {
        Self {
            width: image.width() as usize,
            height: image.height() as usize,
            data: image.as_raw().iter().map(|&v| f32::from(v)).collect(),
        }
    }
}

/// `image` shrunk by a whole `factor` in 8 bits, before any conversion to floats: each output
/// pixel is the rounded mean of a `factor` x `factor` block (a last, partial row or column of
/// blocks is dropped). A 4096 px photo shrunk by 3 this way costs 5 MB instead of the 200 MB
/// its float copy would.
pub fn box_shrink(image: &image::RgbImage, factor: u32) -> image::RgbImage {
    let factor = factor.clamp(1, image.width().min(image.height()).max(1));
    let (w, h) = (image.width() / factor, image.height() / factor);
    let area = factor * factor;
    image::RgbImage::from_fn(w.max(1), h.max(1), |x, y| {
        let mut sum = [0u32; 3];
        for dy in 0..factor {
            for dx in 0..factor {
                let p = image.get_pixel(x * factor + dx, y * factor + dy);
                for (s, v) in sum.iter_mut().zip(p.0) {
                    *s += u32::from(v);
                }
            }
        }
        image::Rgb(sum.map(|s| ((s + area / 2) / area) as u8))
    })
}

/// For each output index, the input indices it covers and their weights (summing to 1).
fn weights(input: usize, output: usize) -> Vec<Vec<(usize, f32)>> {
    let scale = input as f64 / output as f64;
    (0..output)
        .map(|o| {
            let start = o as f64 * scale;
            let end = ((o + 1) as f64 * scale).min(input as f64);
            let mut taps = Vec::new();
            let mut i = start.floor() as usize;
            while (i as f64) < end && i < input {
                let lo = start.max(i as f64);
                let hi = end.min((i + 1) as f64);
                if hi > lo {
                    taps.push((i, ((hi - lo) / (end - start)) as f32));
                }
                i += 1;
            }
            if taps.is_empty() {
                taps.push((input.saturating_sub(1).min(start as usize), 1.0));
            }
            taps
        })
        .collect()
}

/// Resizes to `width` x `height` by area.
pub fn resize_area(image: &Planar, width: usize, height: usize) -> Planar {
    let wx = weights(image.width, width);
    let wy = weights(image.height, height);
    // Horizontal pass.
    let mut rows = Planar::zeros(width, image.height);
    for y in 0..image.height {
        for (x, taps) in wx.iter().enumerate() {
            for c in 0..3 {
                let v: f32 = taps.iter().map(|&(i, w)| image.at(i, y, c) * w).sum();
                rows.data[(y * width + x) * 3 + c] = v;
            }
        }
    }
    // Vertical pass.
    let mut out = Planar::zeros(width, height);
    for (y, taps) in wy.iter().enumerate() {
        for x in 0..width {
            for c in 0..3 {
                let v: f32 = taps.iter().map(|&(i, w)| rows.at(x, i, c) * w).sum();
                out.data[(y * width + x) * 3 + c] = v;
            }
        }
    }
    out
}

/// Resizes 8-bit pixels to `width` x `height` by area, rounded to whole values, one output
/// row at a time: each row of the photo is resampled as it is needed, so nothing the size of
/// the photo is ever held as floats (a 1434 x 2333 photo would take 40 MB; this takes a row).
pub fn resize_area_u8(image: &image::RgbImage, width: usize, height: usize) -> image::RgbImage {
    let (in_w, in_h) = (image.width() as usize, image.height() as usize);
    let wx = weights(in_w, width);
    let wy = weights(in_h, height);
    let raw = image.as_raw();
    let mut out = vec![0u8; width * height * 3];
    let mut acc = vec![0f32; width * 3];
    for (y, taps_y) in wy.iter().enumerate() {
        acc.fill(0.0);
        for &(iy, wy) in taps_y {
            let row = &raw[iy * in_w * 3..(iy + 1) * in_w * 3];
            for (x, taps_x) in wx.iter().enumerate() {
                for c in 0..3 {
                    let v: f32 = taps_x
                        .iter()
                        .map(|&(ix, w)| f32::from(row[ix * 3 + c]) * w)
                        .sum();
                    acc[x * 3 + c] += v * wy;
                }
            }
        }
        for (o, v) in out[y * width * 3..(y + 1) * width * 3].iter_mut().zip(&acc) {
            *o = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    image::RgbImage::from_raw(width as u32, height as u32, out)
        .unwrap_or_else(|| image::RgbImage::new(width as u32, height as u32))
}

/// Resizes 8-bit pixels by area and rounds back to whole values, as the detector's own
/// pyramid does.
pub fn resize_area_rounded(image: &Planar, width: usize, height: usize) -> Planar {
    rounded(&resize_area(image, width, height))
}

/// `image` with every value rounded to a whole 8-bit value, as the detector's pyramid has them.
pub fn rounded(image: &Planar) -> Planar {
    let mut out = image.clone();
    for v in &mut out.data {
        *v = v.round().clamp(0.0, 255.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_box_shrink_averages_whole_blocks_in_8_bits() {
        let img =
            image::RgbImage::from_fn(5, 4, |x, y| image::Rgb([(x * 10) as u8, (y * 10) as u8, 7]));
        let small = box_shrink(&img, 2);
        assert_eq!(small.dimensions(), (2, 2), "the partial column is dropped");
        assert_eq!(small.get_pixel(0, 0).0, [5, 5, 7]);
        assert_eq!(small.get_pixel(1, 1).0, [25, 25, 7]);
    }

    #[test]
    fn a_large_photo_shrinks_for_detection_as_a_direct_area_resize_would() {
        let big = image::RgbImage::from_fn(4000, 3000, |x, y| {
            image::Rgb([(x / 16) as u8, (y / 12) as u8, ((x + y) / 28) as u8])
        });
        let (small, ratio) = crate::face::shrink_for_detection(&big);
        assert_eq!(small.dimensions(), (1280, 960));
        assert!((ratio - 0.32).abs() < 1e-6);
        let direct = resize_area_rounded(&Planar::from_rgb(&big), 1280, 960);
        let worst = small
            .as_raw()
            .iter()
            .zip(&direct.data)
            .map(|(&a, &b)| (f32::from(a) - b).abs())
            .fold(0.0, f32::max);
        assert!(worst <= 2.0, "largest difference {worst}");
    }

    #[test]
    fn the_row_by_row_resize_is_the_area_resize() {
        let photo = image::RgbImage::from_fn(1434, 2333, |x, y| {
            image::Rgb([
                (x % 251) as u8,
                (y % 241) as u8,
                ((x * 7 + y * 3) % 256) as u8,
            ])
        });
        let rows = resize_area_u8(&photo, 787, 1280);
        let whole = resize_area_rounded(&Planar::from_rgb(&photo), 787, 1280);
        let worst = rows
            .as_raw()
            .iter()
            .zip(&whole.data)
            .map(|(&a, &b)| (f32::from(a) - b).abs())
            .fold(0.0, f32::max);
        assert!(worst <= 1.0, "largest difference {worst}");
    }

    #[test]
    fn halving_averages_pairs_and_keeps_a_flat_image_flat() {
        let mut img = Planar::zeros(4, 2);
        for (i, v) in img.data.iter_mut().enumerate() {
            *v = ((i / 3) % 4 * 10) as f32;
        }
        let half = resize_area(&img, 2, 1);
        assert_eq!(half.at(0, 0, 0), 5.0);
        assert_eq!(half.at(1, 0, 2), 25.0);
        let flat = Planar {
            width: 7,
            height: 5,
            data: vec![100.0; 7 * 5 * 3],
        };
        let up = resize_area(&flat, 24, 24);
        assert!(up.data.iter().all(|v| (v - 100.0).abs() < 1e-3));
    }
}
