//! The MTCNN face detector's three stages around its networks: the image pyramid and P-Net
//! proposals, R-Net refinement, O-Net boxes with five landmarks, with the same box arithmetic
//! the networks were trained with (1-based crops, squared boxes, union and minimum overlaps).
//!
//! The networks take NHWC input with width and height swapped (`[N, x, y, c]`) and pixels
//! scaled as (v - 127.5) / 128; landmarks come out as x1..x5, y1..y5.

use super::resize::{Planar, resize_area, rounded};
use crate::error::Result;

/// The smallest face looked for, in pixels...
const MIN_FACE: f32 = 20.0;
/// ...or this fraction of the image's shorter side, if larger: a selfie or a portal photo is
/// mostly face, and skipping the finest pyramid levels makes detection several times faster.
const MIN_FACE_FRACTION: f32 = 0.08;
/// Pyramid step.
const FACTOR: f32 = 0.709;
/// Score needed at each stage.
const THRESHOLDS: [f32; 3] = [0.6, 0.7, 0.7];

/// A detected face: box corners, confidence, and the landmarks left eye, right eye, nose,
/// left and right mouth corner (left and right as seen in the image).
#[derive(Debug, Clone, PartialEq)]
pub struct Face {
    /// Left, top, right, bottom.
    pub bbox: [f32; 4],
    /// Confidence, 0 to 1.
    pub score: f32,
    /// Five points, (x, y).
    pub landmarks: [[f32; 2]; 5],
}

impl Face {
    /// Height of the box.
    pub fn height(&self) -> f32 {
        self.bbox[3] - self.bbox[1]
    }
}

/// P-Net's answer on one pyramid level.
pub struct Proposals {
    /// Box regression, `[x'][y'][4]` flattened (width first).
    pub regression: Vec<f32>,
    /// Face probability, `[x'][y']` flattened.
    pub probability: Vec<f32>,
    /// Output width.
    pub width: usize,
    /// Output height.
    pub height: usize,
}

/// O-Net's answer for one crop: box regression, landmarks (x1..x5, y1..y5), probability.
pub type Refined = ([f32; 4], [f32; 10], f32);

/// The three networks.
pub trait Networks {
    /// P-Net on one image given as `[1, width, height, 3]`.
    fn pnet(&mut self, input: Vec<f32>, width: usize, height: usize) -> Result<Proposals>;
    /// R-Net on `n` crops of 24x24: regression and probability per crop.
    fn rnet(&mut self, input: Vec<f32>, n: usize) -> Result<Vec<([f32; 4], f32)>>;
    /// O-Net on `n` crops of 48x48: regression, landmarks and probability per crop.
    fn onet(&mut self, input: Vec<f32>, n: usize) -> Result<Vec<Refined>>;
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    b: [f32; 4],
    score: f32,
    reg: [f32; 4],
}

/// Every face in `image`, most confident first.
pub fn detect(nets: &mut dyn Networks, image: &Planar) -> Result<Vec<Face>> {
    let (w, h) = (image.width as f32, image.height as f32);
    let min_face = MIN_FACE.max(w.min(h) * MIN_FACE_FRACTION);
    let mut m = 12.0 / min_face;
    let mut side = w.min(h) * m;
    let mut scales = Vec::new();
    while side >= 12.0 {
        scales.push(m);
        m *= FACTOR;
        side *= FACTOR;
    }

    // Stage 1: proposals on every pyramid level.
    let mut all = Vec::new();
    // Each level is made from the one before (unrounded), not from the photo: every level
    // from the photo would cost a pass over the whole photo; this way only the first does.
    let mut previous: Option<Planar> = None;
    for scale in scales {
        let sw = (w * scale).ceil() as usize;
        let sh = (h * scale).ceil() as usize;
        if sw < 12 || sh < 12 {
            continue;
        }
        let smooth = resize_area(previous.as_ref().unwrap_or(image), sw, sh);
        let level = rounded(&smooth);
        previous = Some(smooth);
        let out = nets.pnet(swap_normalised(&level), sw, sh)?;
        let mut found = Vec::new();
        for cx in 0..out.width {
            for cy in 0..out.height {
                let i = cx * out.height + cy;
                let p = out.probability[i];
                if p < THRESHOLDS[0] {
                    continue;
                }
                let reg = [
                    out.regression[i * 4],
                    out.regression[i * 4 + 1],
                    out.regression[i * 4 + 2],
                    out.regression[i * 4 + 3],
                ];
                let (x, y) = (cx as f32, cy as f32);
                found.push(Candidate {
                    b: [
                        ((2.0 * x + 1.0) / scale).trunc(),
                        ((2.0 * y + 1.0) / scale).trunc(),
                        ((2.0 * x + 12.0) / scale).trunc(),
                        ((2.0 * y + 12.0) / scale).trunc(),
                    ],
                    score: p,
                    reg,
                });
            }
        }
        all.extend(nms(found, 0.5, false));
    }
    let mut boxes: Vec<Candidate> = nms(all, 0.7, false)
        .into_iter()
        .map(|c| {
            let (bw, bh) = (c.b[2] - c.b[0], c.b[3] - c.b[1]);
            let b = [
                c.b[0] + c.reg[0] * bw,
                c.b[1] + c.reg[1] * bh,
                c.b[2] + c.reg[2] * bw,
                c.b[3] + c.reg[3] * bh,
            ];
            Candidate {
                b: square(b).map(f32::trunc),
                ..c
            }
        })
        .collect();
    if boxes.is_empty() {
        return Ok(Vec::new());
    }

    // Stage 2: refine.
    let mut halves = Halves::default();
    let input = crops(image, &mut halves, &boxes, 24);
    let answers = nets.rnet(input, boxes.len())?;
    let kept: Vec<Candidate> = boxes
        .iter()
        .zip(answers)
        .filter(|(_, (_, p))| *p > THRESHOLDS[1])
        .map(|(c, (reg, p))| Candidate {
            b: c.b,
            score: p,
            reg,
        })
        .collect();
    boxes = nms(kept, 0.7, false)
        .into_iter()
        .map(|c| Candidate {
            b: square(regress(c.b, c.reg)),
            ..c
        })
        .collect();
    if boxes.is_empty() {
        return Ok(Vec::new());
    }

    // Stage 3: boxes and landmarks.
    for c in &mut boxes {
        c.b = c.b.map(f32::trunc);
    }
    let input = crops(image, &mut halves, &boxes, 48);
    let answers = nets.onet(input, boxes.len())?;
    let mut faces: Vec<(Candidate, [[f32; 2]; 5])> = Vec::new();
    for (c, (reg, points, p)) in boxes.iter().zip(answers) {
        if p <= THRESHOLDS[2] {
            continue;
        }
        let (bw, bh) = (c.b[2] - c.b[0] + 1.0, c.b[3] - c.b[1] + 1.0);
        let mut landmarks = [[0.0; 2]; 5];
        for (k, point) in landmarks.iter_mut().enumerate() {
            *point = [
                bw * points[k] + c.b[0] - 1.0,
                bh * points[k + 5] + c.b[1] - 1.0,
            ];
        }
        faces.push((
            Candidate {
                b: regress(c.b, reg),
                score: p,
                reg,
            },
            landmarks,
        ));
    }
    let kept = nms_with(faces, 0.7, true);
    Ok(kept
        .into_iter()
        .map(|(c, landmarks)| Face {
            bbox: c.b,
            score: c.score,
            landmarks,
        })
        .collect())
}

/// Width-first, normalised input of one image.
fn swap_normalised(image: &Planar) -> Vec<f32> {
    let mut out = Vec::with_capacity(image.data.len());
    for x in 0..image.width {
        for y in 0..image.height {
            for c in 0..3 {
                out.push((image.at(x, y, c) - 127.5) * 0.0078125);
            }
        }
    }
    out
}

/// Crops every box (1-based, inclusive, zero outside the image), resizes each to `size`, and
/// lays them out as one width-first batch. A large box is cut from a copy of the image halved
/// as often as still leaves two of its pixels per pixel of the crop (`halves`): resampling a
/// 600 px face to 24 px from the photo itself would read every one of its pixels.
fn crops(image: &Planar, halves: &mut Halves, boxes: &[Candidate], size: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(boxes.len() * size * size * 3);
    for c in boxes {
        let side = (c.b[2] - c.b[0] + 1.0).min(c.b[3] - c.b[1] + 1.0);
        let mut k = 0;
        while side / f32::from(1u16 << (k + 1)) >= (2 * size) as f32 {
            k += 1;
        }
        let source = halves.level(image, k);
        let step = f32::from(1u16 << k);
        // The box in the halved image's pixels, still 1-based and inclusive.
        let x1 = ((c.b[0] - 1.0) / step).floor() as i64 + 1;
        let y1 = ((c.b[1] - 1.0) / step).floor() as i64 + 1;
        let x2 = ((c.b[2] - 1.0) / step).floor() as i64 + 1;
        let y2 = ((c.b[3] - 1.0) / step).floor() as i64 + 1;
        let cw = (x2 - x1 + 1).max(1) as usize;
        let ch = (y2 - y1 + 1).max(1) as usize;
        let mut crop = Planar::zeros(cw, ch);
        for yy in 0..ch {
            let sy = y1 - 1 + yy as i64;
            if sy < 0 || sy >= source.height as i64 {
                continue;
            }
            for xx in 0..cw {
                let sx = x1 - 1 + xx as i64;
                if sx < 0 || sx >= source.width as i64 {
                    continue;
                }
                for ch_i in 0..3 {
                    crop.data[(yy * cw + xx) * 3 + ch_i] =
                        source.at(sx as usize, sy as usize, ch_i);
                }
            }
        }
        let resized = resize_area(&crop, size, size);
        out.extend(swap_normalised(&resized));
    }
    out
}

/// The image halved once, twice, ..., each made from the one before when first needed.
#[derive(Default)]
struct Halves(Vec<Planar>);

impl Halves {
    /// The image halved `k` times (`k` = 0: the image itself).
    fn level<'a>(&'a mut self, image: &'a Planar, k: usize) -> &'a Planar {
        while self.0.len() < k {
            let from = self.0.last().unwrap_or(image);
            let half = halve(from);
            self.0.push(half);
        }
        match k {
            0 => image,
            k => &self.0[k - 1],
        }
    }
}

/// Each pixel the mean of a 2x2 block (a last odd row or column is dropped).
fn halve(image: &Planar) -> Planar {
    let (w, h) = ((image.width / 2).max(1), (image.height / 2).max(1));
    let mut out = Planar::zeros(w, h);
    for y in 0..h {
        for x in 0..w {
            let (x0, y0) = ((2 * x).min(image.width - 1), (2 * y).min(image.height - 1));
            let (x1, y1) = (
                (x0 + 1).min(image.width - 1),
                (y0 + 1).min(image.height - 1),
            );
            for c in 0..3 {
                out.data[(y * w + x) * 3 + c] = (image.at(x0, y0, c)
                    + image.at(x1, y0, c)
                    + image.at(x0, y1, c)
                    + image.at(x1, y1, c))
                    * 0.25;
            }
        }
    }
    out
}

fn regress(b: [f32; 4], reg: [f32; 4]) -> [f32; 4] {
    let (w, h) = (b[2] - b[0] + 1.0, b[3] - b[1] + 1.0);
    [
        b[0] + reg[0] * w,
        b[1] + reg[1] * h,
        b[2] + reg[2] * w,
        b[3] + reg[3] * h,
    ]
}

/// The square around the box's centre with the box's longer side.
fn square(b: [f32; 4]) -> [f32; 4] {
    let (w, h) = (b[2] - b[0], b[3] - b[1]);
    let l = w.max(h);
    let x1 = b[0] + w * 0.5 - l * 0.5;
    let y1 = b[1] + h * 0.5 - l * 0.5;
    [x1, y1, x1 + l, y1 + l]
}

fn nms(boxes: Vec<Candidate>, threshold: f32, min: bool) -> Vec<Candidate> {
    nms_with(boxes.into_iter().map(|c| (c, ())).collect(), threshold, min)
        .into_iter()
        .map(|(c, ())| c)
        .collect()
}

/// Non-maximum suppression: the best box wins, boxes overlapping it more than `threshold`
/// (by union, or by the smaller area with `min`) go.
fn nms_with<T>(mut boxes: Vec<(Candidate, T)>, threshold: f32, min: bool) -> Vec<(Candidate, T)> {
    boxes.sort_by(|a, b| b.0.score.total_cmp(&a.0.score));
    let area = |b: &[f32; 4]| (b[2] - b[0] + 1.0) * (b[3] - b[1] + 1.0);
    let mut kept: Vec<(Candidate, T)> = Vec::new();
    for (c, extra) in boxes {
        let overlaps = kept.iter().any(|(k, _)| {
            let iw = (c.b[2].min(k.b[2]) - c.b[0].max(k.b[0]) + 1.0).max(0.0);
            let ih = (c.b[3].min(k.b[3]) - c.b[1].max(k.b[1]) + 1.0).max(0.0);
            let inter = iw * ih;
            let o = if min {
                inter / area(&c.b).min(area(&k.b))
            } else {
                inter / (area(&c.b) + area(&k.b) - inter)
            };
            o > threshold
        });
        if !overlaps {
            kept.push((c, extra));
        }
    }
    kept
}
