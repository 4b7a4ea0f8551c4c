//! Cutting the 150x150 face chip the recogniser was trained on: a similarity transform from the
//! five detector landmarks onto dlib's mean face (padding 0.25), sampled bilinearly as dlib's
//! `extract_image_chip` does.

use image::RgbImage;

/// Side of the chip.
pub const CHIP: usize = 150;

/// Where the five landmarks (left eye, right eye, nose, left and right mouth corner) sit in
/// the chip: dlib's 68-point mean face (eye centres, nose tip, mouth corners) at padding 0.25.
const TEMPLATE: [[f64; 2]; 5] = [
    [47.5492, 46.5990],
    [100.4761, 46.5990],
    [74.0127, 76.5625],
    [50.4149, 103.0233],
    [97.6104, 103.0233],
];

/// The chip for a face with these landmarks, as RGB values 0..255 (row-major, 150x150x3).
pub fn chip(image: &RgbImage, landmarks: &[[f32; 2]; 5]) -> Vec<f32> {
    // Least-squares similarity from chip points to image points (no reflection).
    let n = TEMPLATE.len() as f64;
    let (mut msx, mut msy, mut mdx, mut mdy) = (0.0, 0.0, 0.0, 0.0);
    for (s, d) in TEMPLATE.iter().zip(landmarks) {
        msx += s[0] / n;
        msy += s[1] / n;
        mdx += f64::from(d[0]) / n;
        mdy += f64::from(d[1]) / n;
    }
    let (mut a, mut b, mut norm) = (0.0, 0.0, 0.0);
    for (s, d) in TEMPLATE.iter().zip(landmarks) {
        let (ax, ay) = (s[0] - msx, s[1] - msy);
        let (bx, by) = (f64::from(d[0]) - mdx, f64::from(d[1]) - mdy);
        a += ax * bx + ay * by;
        b += ax * by - ay * bx;
        norm += ax * ax + ay * ay;
    }
    let (m00, m10) = (a / norm, b / norm);
    let (tx, ty) = (mdx - (m00 * msx - m10 * msy), mdy - (m10 * msx + m00 * msy));
    let scale = m00.hypot(m10);
    let angle = m10.atan2(m00);
    let half = (CHIP as f64) / 2.0;
    let centre = (m00 * half - m10 * half + tx, m10 * half + m00 * half + ty);

    // A face much larger than the chip is first shrunk by halves, so each chip pixel still
    // averages the image pixels under it.
    let mut source = image.clone();
    let mut factor = 1.0;
    let mut s = scale;
    while s > 1.9933 && source.width() > 3 && source.height() > 3 {
        source = halve(&source);
        factor *= 0.5;
        s *= 0.5;
    }
    let to_source = |p: f64| (p + 0.5) * factor - 0.5;
    let (cx, cy) = (to_source(centre.0), to_source(centre.1));
    let k = (CHIP as f64 * s - 1.0) / (CHIP as f64 - 1.0);
    let (sin, cos) = angle.sin_cos();
    let mid = (CHIP as f64 - 1.0) / 2.0;
    let (w, h) = (i64::from(source.width()), i64::from(source.height()));
    let mut out = Vec::with_capacity(CHIP * CHIP * 3);
    for v in 0..CHIP {
        for u in 0..CHIP {
            let (du, dv) = ((u as f64 - mid) * k, (v as f64 - mid) * k);
            let x = cx + cos * du - sin * dv;
            let y = cy + sin * du + cos * dv;
            let (x0, y0) = (x.floor() as i64, y.floor() as i64);
            if x0 < 0 || y0 < 0 || x0 + 1 >= w || y0 + 1 >= h {
                out.extend([0.0; 3]);
                continue;
            }
            let (fx, fy) = (x - x0 as f64, y - y0 as f64);
            let p = |xx: i64, yy: i64| source.get_pixel(xx as u32, yy as u32).0;
            let (tl, tr, bl, br) = (p(x0, y0), p(x0 + 1, y0), p(x0, y0 + 1), p(x0 + 1, y0 + 1));
            for c in 0..3 {
                let top = f64::from(tl[c]) * (1.0 - fx) + f64::from(tr[c]) * fx;
                let bottom = f64::from(bl[c]) * (1.0 - fx) + f64::from(br[c]) * fx;
                out.push((top * (1.0 - fy) + bottom * fy).trunc() as f32);
            }
        }
    }
    out
}

/// Half the size, each pixel the mean of a 2x2 block.
fn halve(image: &RgbImage) -> RgbImage {
    let (w, h) = (image.width() / 2, image.height() / 2);
    RgbImage::from_fn(w, h, |x, y| {
        let mut sum = [0u32; 3];
        for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
            let p = image.get_pixel(2 * x + dx, 2 * y + dy).0;
            for c in 0..3 {
                sum[c] += u32::from(p[c]);
            }
        }
        image::Rgb(sum.map(|s| ((s + 2) / 4) as u8))
    })
}
