//! The face check: a student's selfie against the portal photo. Both are decoded (upright by
//! EXIF), faces found by MTCNN with five landmarks, each face cut into dlib's 150x150 chip, and
//! dlib's ResNet descriptor (128 numbers) computed; the two descriptors match when their
//! Euclidean distance is below the threshold.
//!
//! The networks run in process on ONNX Runtime (loaded from the models folder, see
//! `scripts/models`), on a bounded pool of blocking threads: never on the async workers. Photos
//! only ever live in memory here; nothing is written anywhere.

pub mod align;
pub mod decode;
pub mod mtcnn;
pub mod resize;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ort::session::Session;
use ort::value::Tensor;

use crate::domain::FailReason;
use crate::error::{Error, Result};
use decode::DecodeError;
use mtcnn::{Face, Networks, Proposals};
use resize::Planar;

/// Distance below which two faces are the same person (dlib's own threshold).
pub const DEFAULT_THRESHOLD: f32 = 0.6;
/// Longest side the detector looks at; larger photos are shrunk first (a selfie's face stays
/// far larger than the chip).
const DETECT_SIDE: u32 = 1280;
/// A second face counts when it is at least this confident...
const SECOND_FACE_SCORE: f32 = 0.95;
/// ...and at least this fraction of the main face's height.
const SECOND_FACE_SIZE: f32 = 0.4;

/// The files the face check needs, in the models folder.
pub const MODEL_FILES: [&str; 5] = [
    "pnet.onnx",
    "rnet.onnx",
    "onet.onnx",
    "face_recognition.onnx",
    RUNTIME_LIBRARY,
];
/// ONNX Runtime's shared library, as `scripts/models` puts it in the models folder.
pub const RUNTIME_LIBRARY: &str = "libonnxruntime.so.1.31.1";

/// The outcome of comparing a selfie with a reference photo.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaceOutcome {
    /// Same person.
    Match {
        /// Distance of the descriptors.
        distance: f32,
    },
    /// Not the same person.
    Mismatch {
        /// Distance of the descriptors.
        distance: f32,
    },
    /// No face in the selfie.
    NoFace,
    /// Several faces in the selfie.
    MoreThanOneFace,
    /// No usable face in the reference photo.
    ReferenceUnusable,
    /// The selfie is not an image, or too large.
    SelfieRejected(DecodeError),
}

impl FaceOutcome {
    /// The reason to store, or `None` for a match.
    pub fn reason(self) -> Option<FailReason> {
        match self {
            FaceOutcome::Match { .. } => None,
            FaceOutcome::Mismatch { .. } => Some(FailReason::FaceMismatch),
            FaceOutcome::NoFace => Some(FailReason::NoFaceFound),
            FaceOutcome::MoreThanOneFace => Some(FailReason::MoreThanOneFace),
            FaceOutcome::ReferenceUnusable => Some(FailReason::ReferenceImageNotFound),
            FaceOutcome::SelfieRejected(_) => {
                Some(FailReason::FaceVerificationRequiredButImageMissing)
            }
        }
    }

    /// The distance, when two faces were compared.
    pub fn distance(self) -> Option<f32> {
        match self {
            FaceOutcome::Match { distance } | FaceOutcome::Mismatch { distance } => Some(distance),
            _ => None,
        }
    }
}

/// A face check's outcome, with the selfie's descriptor when it showed one face (to compare
/// with the session's other selfies; it lives with the live session only).
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// What the comparison found.
    pub outcome: FaceOutcome,
    /// The selfie's descriptor, when it had exactly one face.
    pub selfie: Option<Vec<f32>>,
}

impl Checked {
    fn without_descriptor(outcome: FaceOutcome) -> Self {
        Self {
            outcome,
            selfie: None,
        }
    }
}

/// What one photo gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Described {
    /// Exactly one face (or one clearly main face), with its descriptor.
    One(Vec<f32>),
    /// No face.
    NoFace,
    /// Several faces of similar size.
    Several,
}

fn model_error(error: impl std::fmt::Display) -> Error {
    Error::FaceModel(error.to_string())
}

static RUNTIME: OnceLock<std::result::Result<(), String>> = OnceLock::new();

/// Loads ONNX Runtime from the models folder, once per process.
fn init_runtime(dir: &Path) -> Result<()> {
    RUNTIME
        .get_or_init(|| {
            let library = dir.join(RUNTIME_LIBRARY);
            ort::init_from(library.to_string_lossy().to_string())
                .with_name("attn")
                .commit()
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(Error::FaceModel)
}

/// One set of the four networks; one per worker thread.
pub struct FaceModels {
    pnet: Session,
    rnet: Session,
    onet: Session,
    recogniser: Session,
}

impl std::fmt::Debug for FaceModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FaceModels")
    }
}

fn session(path: PathBuf) -> Result<Session> {
    Session::builder()
        .and_then(|b| b.with_intra_threads(1))
        .and_then(|b| b.with_memory_pattern(false))
        .and_then(|b| b.commit_from_file(&path))
        .map_err(|e| Error::FaceModel(format!("{}: {e}", path.display())))
}

fn outputs_f32(outputs: &ort::session::SessionOutputs<'_>, name: &str) -> Result<Vec<f32>> {
    let value = outputs
        .get(name)
        .ok_or_else(|| Error::FaceModel(format!("output {name} missing")))?;
    let (_, data) = value.try_extract_tensor::<f32>().map_err(model_error)?;
    Ok(data.to_vec())
}

impl FaceModels {
    /// Loads the networks from `dir` (see `scripts/models`).
    pub fn load(dir: &Path) -> Result<Self> {
        for file in MODEL_FILES {
            if !dir.join(file).is_file() {
                return Err(Error::FaceModel(format!(
                    "{} missing (run scripts/models)",
                    dir.join(file).display()
                )));
            }
        }
        init_runtime(dir)?;
        Ok(Self {
            pnet: session(dir.join("pnet.onnx"))?,
            rnet: session(dir.join("rnet.onnx"))?,
            onet: session(dir.join("onet.onnx"))?,
            recogniser: session(dir.join("face_recognition.onnx"))?,
        })
    }

    /// Every face in the image, most confident first.
    pub fn faces(&mut self, image: &image::RgbImage) -> Result<Vec<Face>> {
        mtcnn::detect(self, &Planar::from_rgb(image))
    }

    /// The descriptor of the face with these landmarks.
    pub fn descriptor(
        &mut self,
        image: &image::RgbImage,
        landmarks: &[[f32; 2]; 5],
    ) -> Result<Vec<f32>> {
        let chip = align::chip(image, landmarks);
        let side = align::CHIP;
        let input = Tensor::from_array(([1usize, side, side, 3], chip)).map_err(model_error)?;
        let outputs = self
            .recogniser
            .run(ort::inputs!["input" => input])
            .map_err(model_error)?;
        outputs_f32(&outputs, "descriptor")
    }

    /// Finds the face in a photo and describes it.
    pub fn describe(&mut self, photo: &image::RgbImage) -> Result<Described> {
        let (image, ratio) = shrink_for_detection(photo);
        let mut faces = self.faces(&image)?;
        if faces.is_empty() {
            return Ok(Described::NoFace);
        }
        faces.sort_by(|a, b| b.height().total_cmp(&a.height()));
        let main = faces[0].clone();
        let others = faces[1..]
            .iter()
            .filter(|f| {
                f.score >= SECOND_FACE_SCORE && f.height() >= main.height() * SECOND_FACE_SIZE
            })
            .count();
        if others > 0 {
            return Ok(Described::Several);
        }
        let landmarks = main.landmarks.map(|[x, y]| [x / ratio, y / ratio]);
        Ok(Described::One(self.descriptor(photo, &landmarks)?))
    }

    /// Compares a selfie with a reference photo.
    pub fn compare(
        &mut self,
        reference: &[u8],
        selfie: &[u8],
        threshold: f32,
    ) -> Result<FaceOutcome> {
        Ok(self
            .compare_cached(reference, selfie, threshold, None)?
            .outcome)
    }

    /// As [`FaceModels::compare`], reusing the reference photo's descriptor from `cache` (and
    /// adding it there), so a student's portal photo is described once, not at every check.
    fn compare_cached(
        &mut self,
        reference: &[u8],
        selfie: &[u8],
        threshold: f32,
        cache: Option<&DescriptorCache>,
    ) -> Result<Checked> {
        let selfie = match decode::decode_upright(selfie) {
            Ok(image) => image,
            Err(e) => return Ok(Checked::without_descriptor(FaceOutcome::SelfieRejected(e))),
        };
        let mine = match self.describe(&selfie)? {
            Described::One(d) => d,
            Described::NoFace => return Ok(Checked::without_descriptor(FaceOutcome::NoFace)),
            Described::Several => {
                return Ok(Checked::without_descriptor(FaceOutcome::MoreThanOneFace));
            }
        };
        let key = cache.map(|_| DescriptorCache::key(reference));
        let known = cache.zip(key.as_ref()).and_then(|(c, k)| c.get(k));
        let theirs = match known {
            Some(d) => d,
            None => {
                let unusable = Checked {
                    outcome: FaceOutcome::ReferenceUnusable,
                    selfie: Some(mine.clone()),
                };
                let Ok(reference) = decode::decode_upright(reference) else {
                    return Ok(unusable);
                };
                let Described::One(d) = self.describe(&reference)? else {
                    return Ok(unusable);
                };
                if let (Some(cache), Some(key)) = (cache, key) {
                    cache.put(key, d.clone());
                }
                d
            }
        };
        let distance = distance(&mine, &theirs);
        let outcome = if distance < threshold {
            FaceOutcome::Match { distance }
        } else {
            FaceOutcome::Mismatch { distance }
        };
        Ok(Checked {
            outcome,
            selfie: Some(mine),
        })
    }
}

/// Descriptors of recent reference photos, in memory only, keyed by the photo's SHA-256; the
/// oldest go first when it is full.
#[derive(Default)]
struct DescriptorCache {
    entries: Mutex<Remembered>,
}

/// Descriptors by photo hash, and the hashes oldest first.
type Remembered = (HashMap<[u8; 32], Vec<f32>>, VecDeque<[u8; 32]>);

impl DescriptorCache {
    /// Most photos remembered (128 numbers each).
    const CAPACITY: usize = 2048;

    fn key(photo: &[u8]) -> [u8; 32] {
        use sha2::Digest;
        sha2::Sha256::digest(photo).into()
    }

    fn get(&self, key: &[u8; 32]) -> Option<Vec<f32>> {
        self.entries.lock().ok()?.0.get(key).cloned()
    }

    fn put(&self, key: [u8; 32], descriptor: Vec<f32>) {
        let Ok(mut guard) = self.entries.lock() else {
            return;
        };
        let (map, order) = &mut *guard;
        if map.insert(key, descriptor).is_none() {
            order.push_back(key);
        }
        while order.len() > Self::CAPACITY {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
    }

    fn len(&self) -> usize {
        self.entries.lock().map(|g| g.0.len()).unwrap_or(0)
    }
}

/// Euclidean distance of two descriptors.
pub fn distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f32>()
        .sqrt()
}

/// The photo shrunk so its longer side is at most [`DETECT_SIDE`], and the ratio applied.
pub fn shrink_for_detection(
    photo: &image::RgbImage,
) -> (std::borrow::Cow<'_, image::RgbImage>, f32) {
    let longest = photo.width().max(photo.height());
    if longest <= DETECT_SIDE {
        return (std::borrow::Cow::Borrowed(photo), 1.0);
    }
    let ratio = DETECT_SIDE as f32 / longest as f32;
    let (w, h) = (
        ((photo.width() as f32 * ratio).round() as usize).max(1),
        ((photo.height() as f32 * ratio).round() as usize).max(1),
    );
    // Most of the way by a whole factor, then by area, row by row, all in 8 bits.
    let boxed;
    let photo = match longest / DETECT_SIDE {
        0 | 1 => photo,
        factor => {
            boxed = resize::box_shrink(photo, factor);
            &boxed
        }
    };
    (
        std::borrow::Cow::Owned(resize::resize_area_u8(photo, w, h)),
        ratio,
    )
}

impl Networks for FaceModels {
    fn pnet(&mut self, input: Vec<f32>, width: usize, height: usize) -> Result<Proposals> {
        let tensor =
            Tensor::from_array(([1usize, width, height, 3], input)).map_err(model_error)?;
        let outputs = self
            .pnet
            .run(ort::inputs!["input_1" => tensor])
            .map_err(model_error)?;
        let (shape, probability) = {
            let value = outputs
                .get("softmax")
                .ok_or_else(|| Error::FaceModel("output softmax missing".into()))?;
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(model_error)?;
            (shape.to_vec(), data.to_vec())
        };
        let regression = outputs_f32(&outputs, "conv2d_4")?;
        let (ow, oh) = (shape[1] as usize, shape[2] as usize);
        Ok(Proposals {
            regression,
            probability: probability.chunks(2).map(|p| p[1]).collect(),
            width: ow,
            height: oh,
        })
    }

    fn rnet(&mut self, input: Vec<f32>, n: usize) -> Result<Vec<([f32; 4], f32)>> {
        let tensor = Tensor::from_array(([n, 24usize, 24, 3], input)).map_err(model_error)?;
        let outputs = self
            .rnet
            .run(ort::inputs!["input_2" => tensor])
            .map_err(model_error)?;
        let reg = outputs_f32(&outputs, "dense_2")?;
        let prob = outputs_f32(&outputs, "softmax_1")?;
        Ok((0..n)
            .map(|i| {
                (
                    [reg[i * 4], reg[i * 4 + 1], reg[i * 4 + 2], reg[i * 4 + 3]],
                    prob[i * 2 + 1],
                )
            })
            .collect())
    }

    fn onet(&mut self, input: Vec<f32>, n: usize) -> Result<Vec<mtcnn::Refined>> {
        let tensor = Tensor::from_array(([n, 48usize, 48, 3], input)).map_err(model_error)?;
        let outputs = self
            .onet
            .run(ort::inputs!["input_3" => tensor])
            .map_err(model_error)?;
        let reg = outputs_f32(&outputs, "dense_5")?;
        let points = outputs_f32(&outputs, "dense_6")?;
        let prob = outputs_f32(&outputs, "softmax_2")?;
        Ok((0..n)
            .map(|i| {
                let mut p = [0.0; 10];
                p.copy_from_slice(&points[i * 10..i * 10 + 10]);
                (
                    [reg[i * 4], reg[i * 4 + 1], reg[i * 4 + 2], reg[i * 4 + 3]],
                    p,
                    prob[i * 2 + 1],
                )
            })
            .collect())
    }
}

/// Counts a waiting check down when dropped.
struct Waited(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Waited {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The face check as the service uses it: one set of networks per worker, at most `workers`
/// checks at once, each on tokio's blocking threads.
#[derive(Clone)]
pub struct FaceChecker {
    models: Arc<Mutex<Vec<FaceModels>>>,
    references: Arc<DescriptorCache>,
    permits: Arc<tokio::sync::Semaphore>,
    waiting: Arc<std::sync::atomic::AtomicUsize>,
    workers: usize,
    threshold: f32,
}

impl std::fmt::Debug for FaceChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaceChecker")
            .field("workers", &self.permits.available_permits())
            .field("threshold", &self.threshold)
            .finish()
    }
}

impl FaceChecker {
    /// Loads `workers` sets of the networks from `dir`.
    pub fn load(dir: &Path, workers: usize, threshold: f32) -> Result<Self> {
        let workers = workers.max(1);
        let models = (0..workers)
            .map(|_| FaceModels::load(dir))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            models: Arc::new(Mutex::new(models)),
            references: Arc::default(),
            permits: Arc::new(tokio::sync::Semaphore::new(workers)),
            waiting: Arc::default(),
            workers,
            threshold,
        })
    }

    /// The distance under which faces match.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// How many reference photos' descriptors are remembered.
    pub fn remembered_references(&self) -> usize {
        self.references.len()
    }

    /// True when every worker is busy (a new check would wait).
    pub fn is_busy(&self) -> bool {
        self.permits.available_permits() == 0
    }

    /// How many checks run at once.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// How many checks wait for a free worker now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Takes one worker away until the guard is dropped (maintenance, and tests of the busy
    /// path).
    pub async fn reserve(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        self.permits.clone().acquire_owned().await.ok()
    }

    /// Compares `selfie` with `reference`, waiting for a free worker. The worker and its
    /// networks are given back when the check ends, even if the caller has gone or the check
    /// panicked.
    ///
    /// The check counts as waiting from the call on, before the future first runs, so a check
    /// handed to a task of its own is in [`FaceChecker::waiting`] at once.
    pub fn compare(
        &self,
        reference: Vec<u8>,
        selfie: Vec<u8>,
    ) -> impl std::future::Future<Output = Result<Checked>> + Send + 'static {
        self.waiting
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Counted down however the wait ends, even if the caller goes away meanwhile.
        let waited = Waited(self.waiting.clone());
        let permits = self.permits.clone();
        let pool = self.models.clone();
        let references = self.references.clone();
        let threshold = self.threshold;
        async move {
            let permit = permits
                .acquire_owned()
                .await
                .map_err(|_| Error::FaceModel("face check pool closed".into()))?;
            drop(waited);
            tokio::task::spawn_blocking(move || {
                let _permit = permit;
                let models = pool
                    .lock()
                    .map_err(|_| Error::FaceModel("face models poisoned".into()))?
                    .pop()
                    .ok_or_else(|| Error::FaceModel("no free face models".into()))?;
                let mut lent = Lent {
                    models: Some(models),
                    pool,
                };
                let Some(models) = lent.models.as_mut() else {
                    return Err(Error::FaceModel("no free face models".into()));
                };
                let checked =
                    models.compare_cached(&reference, &selfie, threshold, Some(&references));
                drop((reference, selfie));
                give_back_memory();
                checked
            })
            .await
            .map_err(model_error)?
        }
    }
}

/// Hands the memory a check freed back to the system. A check's large buffers (the decoded
/// photo, its float copy, the networks' activations) come and go; glibc would otherwise keep
/// them for the next one, per thread, and a server with two workers would hold twice its
/// largest check for good (docs/PERFORMANCE.md: 415 MiB against 288 MiB).
fn give_back_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory of glibc's heaps to the system; it touches
    // no memory in use.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// A set of networks taken from the pool, put back when dropped.
struct Lent {
    models: Option<FaceModels>,
    pool: Arc<Mutex<Vec<FaceModels>>>,
}

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(models) = self.models.take() {
            match self.pool.lock() {
                Ok(mut free) => free.push(models),
                Err(poisoned) => poisoned.into_inner().push(models),
            }
        }
    }
}
